import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../pipeline/config/config.ts';
import { quietLogger } from '../../pipeline/core/log.ts';
import { trainJob } from '../../pipeline/jobs/train.ts';
import { reportInputOf, writeReport, type ManifestView } from '../../pipeline/10-report/report.ts';

/**
 * `finseg train --config <x>.json` and its report, end to end on two real exports: the Online
 * Retail sample in the repository, and SaaS Sales from FINSEG_REAL_DATA (its licence keeps it out).
 */
const repo = join(import.meta.dirname, '../..');
const realData = process.env.FINSEG_REAL_DATA;
const root = mkdtempSync(join(tmpdir(), 'finseg-real-train-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function train(configPath: string, dataDir: string | null) {
  const config = loadConfig(join(repo, configPath));
  const outcome = await trainJob({
    dataDir: dataDir ?? config.ingest.dataDir!,
    registry: join(root, 'models'),
    config,
    configSource: join(repo, configPath),
    quarantineRoot: join(root, 'quarantine'),
    logger: quietLogger,
    now: () => new Date('2026-11-27T10:00:00Z'),
  });
  const report = await writeReport(outcome.bundleDir, reportInputOf(outcome.manifest as unknown as ManifestView, outcome.states), { lang: 'en' });
  return { outcome, report };
}

type Counts = Readonly<Record<'customers' | 'transactions', readonly [number, number, number]>>;

/** Trains through the config and checks the manifest's reconciliation (read, accepted, quarantined per table) and the report. */
async function trainsAndReports(configPath: string, dataDir: string | null, counts: Counts): Promise<void> {
  const { outcome, report } = await train(configPath, dataDir);
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
}

const what = 'trains a bundle whose manifest reconciles every table and lists the dropped usage features, and writes the report';

describe('finseg train --config examples/online-retail.json (the sample in test/fixtures/real)', () => {
  it(what, () => trainsAndReports('examples/online-retail.json', null, { customers: [3049, 3049, 0], transactions: [20000, 14922, 5078] }), 120_000);
});

describe.skipIf(!realData)('finseg train --config docs/configs/saas-sales.json (skipped unless FINSEG_REAL_DATA names the folder of real exports)', () => {
  it(what, () => trainsAndReports('docs/configs/saas-sales.json', join(realData!, 'saas-sales'), { customers: [99, 99, 0], transactions: [9994, 9994, 0] }), 120_000);
});
