import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { COMMANDS } from '../../pipeline/cli/commands.ts';
import { OPTIONS } from '../../pipeline/cli/flags.ts';
import { PARTITION_ENV, partitionFromEnv, partitionOutName } from '../../pipeline/core/partition.ts';

/**
 * deploy/ is documentation that runs elsewhere (no cluster here), so these checks keep it in step
 * with the CLI: every command and flag a manifest passes exists, the Indexed Job's completion
 * count is the one it hands to `--partition auto`, and each pod's `--out` names a distinct file.
 */
const read = (f: string) => readFileSync(`deploy/${f}`, 'utf8');

/** The finseg arguments of a manifest's container: the YAML list under `args:` (block or flow form). */
function args(yaml: string): string[] {
  const flow = /args:\s*\[(.*)\]/.exec(yaml);
  if (flow) return [...flow[1]!.matchAll(/"([^"]*)"/g)].map((m) => m[1]!);
  const block = /args:\n((?:\s+(?:- |#).*\n)+)/.exec(yaml);
  if (!block) throw new Error('no args in manifest');
  return block[1]!.split('\n').filter((l) => l.trim().startsWith('- ')).map((l) => l.trim().slice(2).replace(/\s+#.*$/, '').trim());
}

function checkCli(argv: string[]): void {
  expect(Object.keys(COMMANDS)).toContain(argv[0]);
  for (const a of argv.filter((x) => x.startsWith('--'))) expect(Object.keys(OPTIONS), a).toContain(a.slice(2));
}

describe('deploy/', () => {
  it('the Indexed Job scores with --partition auto, and JOB_COMPLETIONS equals spec.completions', () => {
    const job = read('k8s/score-indexed-job.yaml');
    expect(job).toMatch(/completionMode: Indexed/);
    const completions = Number(/completions: (\d+)/.exec(job)![1]);
    const env = Number(new RegExp(`name: ${PARTITION_ENV.count}\\n\\s+value: "(\\d+)"`).exec(job)![1]);
    expect(env).toBe(completions);
    const argv = args(job);
    checkCli(argv);
    expect(argv[0]).toBe('score');
    expect(argv[argv.indexOf('--partition') + 1]).toBe('auto');
    // Every pod's environment gives a distinct partition and a distinct file.
    const out = argv[argv.indexOf('--out') + 1]!;
    const files = new Set(Array.from({ length: completions }, (_, i) => partitionOutName(out, partitionFromEnv({ [PARTITION_ENV.index]: String(i), [PARTITION_ENV.count]: String(env) }))));
    expect(files.size).toBe(completions);
  });

  it('the merge Job reads the folder the parts are written to', () => {
    const merge = args(read('k8s/merge-scores-job.yaml'));
    checkCli(merge);
    expect(merge[0]).toBe('merge-scores');
    const score = args(read('k8s/score-indexed-job.yaml'));
    const partsDir = merge[merge.indexOf('--parts') + 1]!;
    expect(score[score.indexOf('--out') + 1]!.startsWith(`${partsDir}/`)).toBe(true);
  });

  it('the CronJob retrains; the image runs the CLI', () => {
    const argv = args(read('k8s/retrain-cronjob.yaml'));
    checkCli(argv);
    expect(argv[0]).toBe('retrain');
    expect(read('Dockerfile')).toMatch(/ENTRYPOINT \["node", "bin\/finseg\.mjs"\]/);
  });
});
