import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfig } from '../../pipeline/config/config.ts';
import { quietLogger } from '../../pipeline/core/log.ts';
import { defaultGenerateParams, generateDataset } from '../../pipeline/generate/generate.ts';
import { trainJob, type TrainOutcome } from '../../pipeline/jobs/train.ts';
import { loadModel } from '../../pipeline/model/load.ts';
import { modelReportInput } from '../../pipeline/model/report-input.ts';
import { writeReport } from '../../pipeline/10-report/report.ts';
import { VALUE_CSV_COLUMNS } from '../../pipeline/10-report/value-view.ts';

/**
 * Value per segment end to end: a generated export plus a hand-written subscriptions.csv whose
 * MRR at T and T−12m follows a pattern by customer position, so the totals are known by hand;
 * the same export without the file trains a bundle without any value block.
 *
 * Position i mod 5: 0 no subscription; 1 100 USD throughout; 2 200 USD cancelled 2026-03-01
 * (churned); 3 200 USD until 2026-01-01, then 300 with a blank currency (expanded by 100);
 * 4 50 from 2026-02-01 (new), in EUR for every other one (left out) and USD otherwise.
 */
const work = mkdtempSync(join(tmpdir(), 'finseg-value-'));
const plain = join(work, 'plain');
const withSubs = join(work, 'subs');
let valued: TrainOutcome;
let bare: TrainOutcome;
let ids: string[];

function subscriptionsCsv(customerIds: readonly string[]): string {
  const lines = ['customer_id,plan,seats,mrr,currency,start_date,end_date,status'];
  customerIds.forEach((c, i) => {
    const m = i % 5;
    if (m === 1) lines.push(`${c},basic,2,100,USD,2025-01-01,,active`);
    if (m === 2) lines.push(`${c},pro,5,200,USD,2025-01-01,2026-03-01,cancelled`);
    if (m === 3) lines.push(`${c},pro,5,200,USD,2025-01-01,2026-01-01,ended`, `${c},pro,8,300,,2026-01-01,,active`);
    if (m === 4) lines.push(`${c},basic,1,50,${i % 10 === 4 ? 'EUR' : 'USD'},2026-02-01,,active`);
  });
  return `${lines.join('\n')}\n`;
}

const train = (dataDir: string, name: string) =>
  trainJob({ dataDir, registry: join(work, `models-${name}`), config: defaultConfig(), configSource: 'defaults', quarantineRoot: join(work, `q-${name}`), logger: quietLogger, now: () => new Date('2026-11-27T08:00:00Z') });

beforeAll(async () => {
  await generateDataset(plain, { ...defaultGenerateParams, customers: 300, seed: 11 }, 'csv', quietLogger);
  // The generator writes a subscriptions table of its own; these trains use a hand-made one, or none.
  rmSync(join(plain, 'subscriptions.csv'));
  ids = readFileSync(join(plain, 'customers.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',')[0]!);
  cpSync(plain, withSubs, { recursive: true });
  writeFileSync(join(withSubs, 'subscriptions.csv'), subscriptionsCsv(ids));
  valued = await train(withSubs, 'subs');
  bare = await train(plain, 'plain');
  for (const o of [valued, bare]) await writeReport(o.bundleDir, modelReportInput(o.manifest, o.states));
}, 300_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** How many positions 0..n-1 satisfy `p`. */
const count = (p: (i: number) => boolean) => ids.filter((_, i) => p(i)).length;

describe('a train with a subscriptions table', () => {
  it('records the totals known by hand in the manifest metrics and segments.json', () => {
    const m = (i: number) => i % 5;
    const n1 = count((i) => m(i) === 1);
    const n2 = count((i) => m(i) === 2);
    const n3 = count((i) => m(i) === 3);
    const usd4 = count((i) => m(i) === 4 && i % 10 !== 4);
    const eur4 = count((i) => i % 10 === 4);
    const total = (valued.manifest.metrics as { value: { total: Record<string, number>; currency: string; leftOutCustomers: number } }).value;
    expect(total.currency).toBe('USD');
    expect(total.leftOutCustomers).toBe(eur4);
    const mrr = 100 * n1 + 300 * n3 + 50 * usd4;
    const startMrr = 100 * n1 + 200 * n2 + 200 * n3;
    expect(total.total).toMatchObject({ customers: ids.length, payingCustomers: n1 + n3 + usd4, mrr, arr: 12 * mrr, startMrr, churnedCustomers: n2, churnedMrr: 200 * n2, seats: 2 * n1 + 8 * n3 + 1 * (usd4 + eur4) });
    expect(total.total.nrr).toBeCloseTo((100 * n1 + 300 * n3) / startMrr, 12);
    expect(total.total.expansion).toBeCloseTo((100 * n3) / startMrr, 12);
    expect(total.total.grossMrrChurn).toBeCloseTo((200 * n2) / startMrr, 12);
    expect(valued.states['segments.json'].value).toEqual(total);
  });

  it('puts a value on every card; the cards sum to the total and their shares to 1', () => {
    const segments = loadModel(valued.bundleDir).states['segments.json'];
    const cards = segments.cards;
    expect(cards.every((c) => c.value)).toBe(true);
    const sum = (f: (c: (typeof cards)[number]) => number) => cards.reduce((s, c) => s + f(c), 0);
    expect(sum((c) => c.value!.mrr)).toBeCloseTo(segments.value!.total.mrr, 6);
    expect(sum((c) => c.value!.customers)).toBe(ids.length);
    expect(sum((c) => c.value!.mrrShare!)).toBeCloseTo(1, 12);
    expect(sum((c) => c.value!.customers)).toBe(sum((c) => c.size));
  });

  it('writes the value columns in segments.csv, the value in the segments.json export, a value section and card lines in the reports', () => {
    const report = join(valued.bundleDir, 'report');
    const exported = JSON.parse(readFileSync(join(report, 'segments.json'), 'utf8')) as { value: unknown; segments: { value: unknown }[] };
    expect(exported.value).toEqual(valued.states['segments.json'].value);
    expect(exported.segments.map((s) => s.value)).toEqual(valued.states['segments.json'].cards.map((c) => c.value));
    const [header, ...rows] = readFileSync(join(report, 'segments.csv'), 'utf8').trim().split('\n');
    expect(header!.split(',').slice(-VALUE_CSV_COLUMNS.length)).toEqual([...VALUE_CSV_COLUMNS]);
    const mrrColumn = header!.split(',').indexOf('mrr');
    // Names hold no commas in generated data, so the field position is the column's.
    const mrrs = rows.map((r) => Number(r.split(',').at(mrrColumn - header!.split(',').length)));
    expect(mrrs.reduce((s, x) => s + x, 0)).toBeCloseTo(valued.states['segments.json'].value!.total.mrr, 6);
    expect(readFileSync(join(report, 'report.md'), 'utf8')).toContain('## Value per segment');
    expect(readFileSync(join(report, 'report.zh.md'), 'utf8')).toContain('## 各分群价值');
    const html = readFileSync(join(report, 'index.html'), 'utf8');
    expect(html).toContain('id="chart-value"');
    expect(readFileSync(join(report, 'index.zh.html'), 'utf8')).toContain('客户占比与收入（MRR）占比');
  });
});

describe('a train without a subscriptions table', () => {
  it('has no value block anywhere, and the report says why', () => {
    expect(bare.states['segments.json'].value).toBeUndefined();
    expect(bare.states['segments.json'].cards.some((c) => c.value)).toBe(false);
    expect('value' in (bare.manifest.metrics as object)).toBe(false);
    const report = join(bare.bundleDir, 'report');
    const exported = JSON.parse(readFileSync(join(report, 'segments.json'), 'utf8')) as Record<string, unknown> & { segments: Record<string, unknown>[] };
    expect('value' in exported || exported.segments.some((s) => 'value' in s)).toBe(false);
    expect(readFileSync(join(report, 'segments.csv'), 'utf8').split('\n')[0]).not.toContain('mrr');
    expect(readFileSync(join(report, 'report.md'), 'utf8')).toContain('no subscriptions table in this export');
    expect(readFileSync(join(report, 'index.html'), 'utf8')).toContain('No subscriptions table in this export');
    expect(readFileSync(join(report, 'index.zh.html'), 'utf8')).toContain('本次导出没有订阅表');
  });
});
