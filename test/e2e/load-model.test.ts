import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { main } from '../../pipeline/cli/main.ts';
import { defaultConfig } from '../../pipeline/config/config.ts';
import { InputError } from '../../pipeline/core/errors.ts';
import { quietLogger } from '../../pipeline/core/log.ts';
import { defaultGenerateParams, generateDataset } from '../../pipeline/generate/generate.ts';
import { trainJob } from '../../pipeline/jobs/train.ts';
import { showModel } from '../../pipeline/jobs/models.ts';
import { loadModel } from '../../pipeline/model/load.ts';
import { MANIFEST_CHECKSUM_FILE, sha256, STATE_FILES, type StateFile } from '../../pipeline/registry/bundle.ts';

/**
 * loadModel refuses a corrupted, foreign or older state file in every command that reads a
 * bundle (score, retrain, report, models show): exit code 2 and the file's name on stderr. One
 * small trained bundle serves every case; each case corrupts a copy of its registry and fixes
 * the checksums up, so only the schema, kind or version check can catch it.
 */
const work = mkdtempSync(join(tmpdir(), 'finseg-load-'));
const dataDir = join(work, 'data');
let registry: string;
let version: string;

beforeAll(async () => {
  await generateDataset(dataDir, { ...defaultGenerateParams, customers: 600, seed: 31 }, 'parquet', quietLogger);
  const outcome = await trainJob({ dataDir, registry: join(work, 'models'), config: defaultConfig(), configSource: 'defaults', quarantineRoot: join(work, 'quarantine'), logger: quietLogger, now: () => new Date('2026-11-27T08:00:00Z') });
  registry = dirname(outcome.bundleDir);
  version = basename(outcome.bundleDir);
  writeFileSync(join(registry, 'production'), `${version}\n`);
}, 300_000);

afterEach(() => {
  vi.restoreAllMocks();
});

let cases = 0;
/** A copy of the registry with `edit` applied to one file of its production bundle and the checksums fixed up to match. */
function corruptedCopy(file: StateFile, edit: (text: string) => string): string {
  const reg = join(work, `case-${++cases}`);
  cpSync(registry, reg, { recursive: true });
  const dir = join(reg, version);
  const text = edit(readFileSync(join(dir, file), 'utf8'));
  writeFileSync(join(dir, file), text);
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { files: Record<string, string> };
  manifest.files[file] = sha256(text);
  const manifestText = `${JSON.stringify(manifest, null, 2)}\n`;
  writeFileSync(join(dir, 'manifest.json'), manifestText);
  writeFileSync(join(dir, MANIFEST_CHECKSUM_FILE), `${sha256(manifestText)}\n`);
  return reg;
}

/** The third top-level key (after kind and version) of a state file, and the text with one byte of its name changed. */
function renameThirdKey(text: string): { key: string; text: string } {
  const keys = [...text.matchAll(/\n {2}"([A-Za-z]\w*)":/g)];
  const third = keys[2]!;
  const at = third.index! + 4;
  return { key: third[1]!, text: `${text.slice(0, at)}${text[at] === 'X' ? 'Y' : 'X'}${text.slice(at + 1)}` };
}

/** The four commands that read a bundle, each against the registry `reg`. */
const commands = (reg: string): [string, string[]][] => [
  ['score', ['score', '--model', reg, '--data', dataDir, '--out', join(reg, 'scores.csv'), '--quiet']],
  ['retrain', ['retrain', '--data', dataDir, '--registry', reg, '--quiet']],
  ['report', ['report', '--model', reg, '--quiet']],
  ['models show', ['models', 'show', 'production', '--registry', reg, '--quiet']],
];

/** Runs the CLI in-process; returns the exit code and what it wrote to stderr. */
async function run(argv: string[]): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  try {
    return { code: await main(argv), stderr };
  } finally {
    spy.mockRestore();
  }
}

const corruptions: [string, (file: StateFile, text: string) => { text: string; expect: RegExp }][] = [
  [
    'one byte of a key name (the schema fails, naming the key)',
    (_file, text) => {
      const renamed = renameThirdKey(text);
      return { text: renamed.text, expect: new RegExp(`: ${renamed.key}: missing`) };
    },
  ],
  ['the kind', (_file, text) => ({ text: text.replace(/"kind": "finseg\.[a-z-]+"/, '"kind": "finseg.other"'), expect: /kind "finseg\.other", expected "finseg\./ })],
  ['the format version (an older one)', (_file, text) => ({ text: text.replace(/\n {2}"version": (\d+)/, (_m, v: string) => `\n  "version": ${Number(v) - 1}`), expect: /format version \d+, this finseg reads version \d+/ })],
];

describe('a corrupted, foreign or older state file is refused by every command that reads the bundle', () => {
  for (const [what, corrupt] of corruptions) {
    it(`${what}: exit 2 from score, retrain, report and models show, naming the file`, async () => {
      for (const file of STATE_FILES) {
        let expected = /./;
        const reg = corruptedCopy(file, (text) => {
          const c = corrupt(file, text);
          expected = c.expect;
          return c.text;
        });
        for (const [name, argv] of commands(reg)) {
          const { code, stderr } = await run(argv);
          expect(code, `${name} / ${file}`).toBe(2);
          expect(stderr, `${name} / ${file}`).toContain(join(reg, version, file));
          expect(stderr, `${name} / ${file}`).toMatch(expected);
        }
      }
    }, 120_000);
  }

  it('says "retrain needed" for a state file of an older format', () => {
    const reg = corruptedCopy('cluster.json', (text) => text.replace('"version": 2', '"version": 1'));
    let error: unknown = null;
    try {
      loadModel(reg);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).message).toBe(`${join(reg, version, 'cluster.json')}: finseg.cluster format version 1, this finseg reads version 2`);
    expect((error as InputError).detail[0]).toMatch(/^retrain needed/);
  });

  it('names the key path of a wrong value inside a file', () => {
    const reg = corruptedCopy('cluster.json', (text) => {
      const json = JSON.parse(text) as { centroids: unknown[][] };
      json.centroids[1]![0] = 'x';
      return `${JSON.stringify(json, null, 2)}\n`;
    });
    expect(() => loadModel(reg)).toThrowError(`${join(reg, version, 'cluster.json')}: centroids[1][0]: expected number, got "x"`);
  });

  it('refuses states whose dimensions disagree across files', () => {
    const reg = corruptedCopy('segments.json', (text) => {
      const json = JSON.parse(text) as { cards: unknown[] };
      json.cards.pop();
      return `${JSON.stringify(json, null, 2)}\n`;
    });
    const k = loadModel(registry).states['cluster.json'].k;
    expect(() => loadModel(reg)).toThrowError(`${join(reg, version, 'segments.json')}: cards: ${k - 1} segments, cluster.json has k = ${k}`);
  });

  it('refuses through the real command line too (node bin/finseg.mjs), with exit code 2', () => {
    const reg = corruptedCopy('preprocess.json', (text) => renameThirdKey(text).text);
    for (const [name, argv] of commands(reg)) {
      const child = spawnSync(process.execPath, [resolve('bin/finseg.mjs'), ...argv], { encoding: 'utf8' });
      expect(child.status, `${name}: ${child.stderr}`).toBe(2);
      expect(child.stderr, name).toContain(`${join(reg, version, 'preprocess.json')}: featureNames: missing`);
    }
  }, 120_000);
});

describe('loadModel on a sound bundle', () => {
  it('reads back every state file and the manifest exactly as they were written', () => {
    const model = loadModel(registry);
    expect(model.dir).toBe(join(registry, version));
    for (const file of STATE_FILES) expect(`${JSON.stringify(model.states[file], null, 2)}\n`, file).toBe(readFileSync(join(registry, version, file), 'utf8'));
    expect(`${JSON.stringify(model.manifest, null, 2)}\n`).toBe(readFileSync(join(registry, version, 'manifest.json'), 'utf8'));
    expect(model.featureNames).toEqual(model.states['preprocess.json'].featureNames);
    expect(model.config).toEqual(defaultConfig());
  });

  it('answers models show with every file verified', () => {
    expect(showModel(registry, 'production', false).text).toMatch(/version {6}\S+ {2}\(production\) {2}\(latest\)\n[\s\S]*files {8}\d+ checksummed, all verified/);
  });
});
