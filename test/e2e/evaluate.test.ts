import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { defaultConfig } from '../../pipeline/config/config.ts';
import { quietLogger } from '../../pipeline/core/log.ts';
import { defaultGenerateParams, generateDataset } from '../../pipeline/generate/generate.ts';
import { trainJob } from '../../pipeline/jobs/train.ts';
import { evaluateJob } from '../../pipeline/jobs/evaluate.ts';
import { reportJob } from '../../pipeline/jobs/report.ts';
import type { Evaluation } from '../../pipeline/09-drift/evaluate.ts';
import { csvFields } from '../helpers/csv.ts';

// Generated data with planted campaigns (generate/actions.ts): the measured effects are checked
// against actions_truth.csv, which the generator wrote from what it planted.
const work = mkdtempSync(join(tmpdir(), 'finseg-evaluate-'));
const data = join(work, 'data');
let evaluation: Evaluation;
let bundleDir: string;
afterAll(() => rmSync(work, { recursive: true, force: true }));

const rowsOf = (file: string): Record<string, string>[] => {
  const [head, ...lines] = readFileSync(file, 'utf8').trim().split('\n');
  const names = csvFields(head!);
  return lines.map((l) => Object.fromEntries(csvFields(l).map((v, i) => [names[i]!, v])));
};

beforeAll(async () => {
  await generateDataset(data, { ...defaultGenerateParams, customers: 2500, seed: 11 }, 'csv', quietLogger);
  const outcome = await trainJob({ dataDir: data, registry: join(work, 'models'), config: defaultConfig(), configSource: 'defaults', quarantineRoot: join(work, 'q'), logger: quietLogger, now: () => new Date('2026-12-01T00:00:00Z') });
  bundleDir = outcome.bundleDir;
  ({ evaluation } = await evaluateJob({ modelPath: bundleDir, dataDir: data, actionsFile: null, scoresFile: null, outFile: null, config: null, quarantineDir: join(work, 'q'), logger: quietLogger }));
}, 600_000);

describe('finseg evaluate on generated data with planted effects', () => {
  it("each campaign's measured interval covers its planted effect, and the placebo's covers 0", () => {
    const truth = rowsOf(join(data, 'actions_truth.csv'));
    expect(truth.map((t) => t.action).sort()).toEqual(['budgeting_webinar', 'invoicing_upsell', 'newsletter']);
    for (const t of truth) {
      const overall = evaluation.comparisons.find((c) => c.action === t.action && c.variant === 'treatment' && c.segment === null)!;
      const adoption = Number(t.expected_adoption_effect);
      const nps = Number(t.expected_nps_effect);
      expect(overall.adoption!.low!, `${t.action} adoption`).toBeLessThanOrEqual(adoption);
      expect(overall.adoption!.high!, `${t.action} adoption`).toBeGreaterThanOrEqual(adoption);
      expect(overall.nps!.low!, `${t.action} nps`).toBeLessThanOrEqual(nps);
      expect(overall.nps!.high!, `${t.action} nps`).toBeGreaterThanOrEqual(nps);
      if (Number(t.adoption_uplift) > 0) expect(overall.adoption!.verdict).toBe('higher');
    }
    // The generator writes a subscriptions table, so churn is measured too; no campaign plants an effect on it.
    expect(evaluation.unavailable).toEqual({ adoption: null, churn: null, nps: null });
    const placebo = evaluation.comparisons.find((c) => c.action === 'newsletter' && c.variant === 'treatment' && c.segment === null)!;
    expect(placebo.churn!.low!).toBeLessThanOrEqual(0);
    expect(placebo.churn!.high!).toBeGreaterThanOrEqual(0);
    expect(evaluation.actions.find((a) => a.action === 'newsletter')!.module).toBeNull();
    expect(evaluation.actions.find((a) => a.action === 'invoicing_upsell')!.module).toBe('invoicing');
    // Every member of the training data has a segment from the train run.
    expect(evaluation.membersWithoutSegment).toBe(0);
  });

  it('the report shows the evaluation beside the bundle, in English and Chinese', async () => {
    const files = await reportJob(bundleDir);
    expect(readFileSync(files.pages.en!.markdown, 'utf8')).toContain('## Measured effect of actions');
    expect(readFileSync(files.pages.zh!.html, 'utf8')).toContain('行动效果评估');
  });

  it('feedback is consistent with the archetypes: NPS in 0..10, declining firms answer lower and open more tickets', () => {
    const archetype = new Map(rowsOf(join(data, 'truth.csv')).map((r) => [r.customer_id!, r.archetype!]));
    const fb = rowsOf(join(data, 'feedback.csv'));
    const answers = fb.filter((r) => r.nps !== '').map((r) => Number(r.nps));
    expect(answers.every((x) => Number.isInteger(x) && x >= 0 && x <= 10)).toBe(true);
    const meanOf = (pred: (a: string) => boolean) => {
      const xs = fb.filter((r) => r.nps !== '' && pred(archetype.get(r.customer_id!)!)).map((r) => Number(r.nps));
      return xs.reduce((s, x) => s + x, 0) / xs.length;
    };
    // Planted means: declining_firm 4.5, growing_sme 8.3, others 7 to 7.6 (generate/feedback.ts).
    expect(meanOf((a) => a === 'declining_firm')).toBeLessThan(meanOf((a) => a !== 'declining_firm') - 1.5);
    expect(meanOf((a) => a === 'growing_sme')).toBeGreaterThan(meanOf((a) => a === 'declining_firm') + 3);
    const ticketsPer = (pred: (a: string) => boolean) => {
      const ids = [...archetype].filter(([, a]) => pred(a)).map(([id]) => id);
      const set = new Set(ids);
      return fb.filter((r) => set.has(r.customer_id!) && r.tickets !== '').reduce((s, r) => s + Number(r.tickets), 0) / ids.length;
    };
    expect(ticketsPer((a) => a === 'declining_firm')).toBeGreaterThan(ticketsPer((a) => a !== 'declining_firm'));
  });

  it('exits 2 with a clear message without an actions table or without a control variant', () => {
    const cli = (dir: string) => spawnSync(process.execPath, [resolve('bin/finseg.mjs'), 'evaluate', '--model', bundleDir, '--data', dir, '--out', join(dir, 'e.json'), '--quiet'], { encoding: 'utf8' });
    const bare = join(work, 'bare');
    mkdirSync(bare);
    for (const f of ['customers.csv', 'transactions.csv']) copyFileSync(join(data, f), join(bare, f));
    const none = cli(bare);
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/no actions table in .*bare/);
    const treatedOnly = readFileSync(join(data, 'actions.csv'), 'utf8').split('\n').filter((l) => !l.endsWith(',control')).join('\n');
    writeFileSync(join(bare, 'actions.csv'), treatedOnly);
    const noControl = cli(bare);
    expect(noControl.status).toBe(2);
    expect(noControl.stderr).toContain('no action in the actions table has a control variant');
  });
});
