import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../pipeline/core/config.ts';
import { quietLogger } from '../../pipeline/core/log.ts';
import { trainJob, type SegmentsState } from '../../pipeline/jobs/train.ts';
import { writeReport } from '../../pipeline/10-report/report.ts';

/** `finseg train --config examples/<x>.json` and its report, end to end on both real exports. */
const examples = join(import.meta.dirname, '../../examples');
const root = mkdtempSync(join(tmpdir(), 'finseg-real-train-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function train(example: string) {
  const config = loadConfig(join(examples, example));
  const outcome = await trainJob({
    dataDir: config.ingest.dataDir!,
    registry: join(root, 'models'),
    config,
    configSource: join(examples, example),
    quarantineRoot: join(root, 'quarantine', example),
    logger: quietLogger,
    now: () => new Date('2026-11-27T10:00:00Z'),
  });
  const report = await writeReport(outcome.bundleDir, outcome.manifest, outcome.states['segments.json'] as SegmentsState, { lang: 'en' });
  return { outcome, report };
}

describe.each([
  ['saas-sales.json', { customers: [99, 99, 0], transactions: [9994, 9994, 0] }],
  ['online-retail.json', { customers: [3049, 3049, 0], transactions: [20000, 14922, 5078] }],
] as const)('finseg train --config examples/%s', (example, counts) => {
  it('trains a bundle whose manifest reconciles every table and lists the dropped usage features, and writes the report', async () => {
    const { outcome, report } = await train(example);
    const input = outcome.manifest.input as { tables: Record<string, { read: number; accepted: number; quarantined: number }>; absentTables: string[] };
    for (const [table, [read, accepted, quarantined]] of Object.entries(counts)) expect(input.tables[table]).toMatchObject({ read, accepted, quarantined });
    expect(input.absentTables).toContain('usage_events');
    const dropped = (outcome.manifest.features as { dropped: { feature: string; reason: string }[] }).dropped;
    expect(dropped).toContainEqual({ feature: 'events_90', reason: 'no usage_events table' });
    expect(outcome.features.X.rows).toBe(counts.customers[1]);
    expect(outcome.states['cluster.json'].k).toBeGreaterThanOrEqual(2);
    expect(existsSync(report.html)).toBe(true);
    const md = readFileSync(report.markdown, 'utf8');
    expect(md).toContain(`| transactions | ${counts.transactions[0]} | ${counts.transactions[1]} | ${counts.transactions[2]} |`);
  }, 120_000);
});
