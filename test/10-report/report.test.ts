import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MODULES } from '../../pipeline/01-ingest/contract.ts';
import { main } from '../../pipeline/cli/main.ts';
import { openDuck, queryRows, sqlString } from '../../pipeline/core/duck.ts';
import type { SegmentsState } from '../../pipeline/model/types.ts';
import { loadBundle } from '../../pipeline/registry/bundle.ts';
import { reportInputOf, writeReport, type ManifestView, type ReportBundleStates, type ReportFiles } from '../../pipeline/10-report/report.ts';
import { HOSTILE_ID_PREFIX, trainHostileBundle, type HostileBundle } from './fixture.ts';

/**
 * The report of a real (small) trained bundle whose customer ids and data folder carry markup
 * and quotes: every export is written, the page escapes the data, the stored profile agrees
 * with the data it was computed from, and `finseg report` works with the data gone.
 */
const work = mkdtempSync(join(tmpdir(), 'finseg-report-'));
let fixture: HostileBundle;
let files: ReportFiles;
let segments: SegmentsState;
let k: number;
const ESCAPED_PREFIX = '&lt;script&gt;alert(&quot;id&quot;)&lt;/script&gt;&#39;';

beforeAll(async () => {
  fixture = await trainHostileBundle(work);
  const bundle = loadBundle(fixture.outcome.bundleDir);
  segments = bundle.states['segments.json'] as SegmentsState;
  k = segments.cards.length;
  files = await writeReport(bundle.dir, bundleInput(bundle));
}, 180_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The report's input as `finseg report` builds it from the verified bundle (a trained bundle has no comparison). */
const bundleInput = (bundle: ReturnType<typeof loadBundle>) => reportInputOf(bundle.manifest as unknown as ManifestView, bundle.states as unknown as ReportBundleStates);

async function query(sql: string): Promise<Record<string, unknown>[]> {
  const conn = await openDuck();
  try {
    return await queryRows(conn, sql);
  } finally {
    conn.closeSync();
  }
}

describe('report folder of a trained bundle', () => {
  it('holds the page and every export, the page and Markdown in both languages', () => {
    expect(files.assignmentsCsv).not.toBeNull();
    expect(files.pages.zh).toEqual({ html: join(fixture.outcome.bundleDir, 'report', 'index.zh.html'), markdown: join(fixture.outcome.bundleDir, 'report', 'report.zh.md') });
    for (const f of Object.values(files.pages).flatMap((p) => [p.html, p.markdown])) expect(existsSync(f)).toBe(true);
    expect(files.assignmentsParquet).not.toBeNull();
    for (const f of [files.html, files.markdown, files.json, files.csv, files.assignmentsCsv!, files.assignmentsParquet!]) expect(existsSync(f)).toBe(true);
  });

  it('renders every chart the bundle has data for and one card per segment', () => {
    const page = readFileSync(files.html, 'utf8');
    const charts = [...page.matchAll(/<figure class="chart[^"]*" id="chart-([^"]+)"/g)].map((m) => m[1]);
    expect(charts).toEqual(['sizes', 'projection', 'profile', 'lenses', 'adoption', 'abandonment', 'feedback', 'trends', 'k-selection']);
    expect(page.match(/<article class="segment-card"/g)).toHaveLength(k);
    expect(k).toBeGreaterThanOrEqual(3);
    // The header's figures come from the manifest, the cold-start classifier's included.
    const coldStart = (fixture.outcome.manifest.metrics as { coldStart: { heldOutAccuracy: number } }).coldStart;
    expect(page).toContain(`<div class="kpi-value">${(coldStart.heldOutAccuracy * 100).toFixed(1)}%</div><div class="kpi-label">Cold-start agreement</div>`);
  });

  it('escapes the markup in customer ids and in the data folder name', () => {
    const page = readFileSync(files.html, 'utf8');
    expect(page).not.toMatch(/<script/i);
    expect(page).toContain(`<code>${ESCAPED_PREFIX}C`);
    expect(page).toContain('data&lt;script&gt;alert(&quot;dir&quot;)&lt;/script&gt;&#39;q');
  });

  it('exports the training assignments exactly, hostile ids included, as CSV and Parquet', async () => {
    // The exported segment is the one score gives (the segment rule's), not always the k-means one; none is empty.
    const { customerIds, reported: labels } = fixture.outcome;
    for (const file of [files.assignmentsParquet!, files.assignmentsCsv!]) {
      const reader = file.endsWith('.csv') ? `read_csv(${sqlString(file)}, header = true, all_varchar = true)` : `read_parquet(${sqlString(file)})`;
      const rows = await query(`SELECT customer_id, CAST(segment_id AS INTEGER) AS segment_id, segment_name, size, buyer_role FROM ${reader}`);
      expect(rows.map((r) => r.customer_id)).toEqual(customerIds);
      expect(rows.map((r) => r.segment_id)).toEqual(Array.from(labels, (l) => (l < 0 ? null : l)));
      expect(rows[0]!.segment_name).toBe(segments.cards[labels[0]!]!.name.en);
      expect(String(rows[0]!.customer_id).startsWith(HOSTILE_ID_PREFIX)).toBe(true);
    }
  });

  it('writes segments.csv with one row per segment that a CSV reader parses back', async () => {
    const rows = await query(`SELECT segment_id, name_zh, size FROM read_csv(${sqlString(files.csv)}, header = true) ORDER BY segment_id`);
    expect(rows.map((r) => Number(r.size))).toEqual(segments.cards.map((c) => c.size));
    expect(rows.map((r) => r.name_zh)).toEqual(segments.cards.map((c) => c.name.zh));
  });

  /** The k-means segment id per training customer as SQL rows: the profile describes the k-means segments. */
  const kmeansSegments = () =>
    `SELECT * FROM (VALUES ${fixture.outcome.customerIds.map((id, i) => `(${sqlString(id)}, ${segments.cards[fixture.outcome.labels[i]!]!.id})`).join(', ')}) t(customer_id, segment_id)`;

  it('stores module adoption that matches the usage events of the last 90 days', async () => {
    const asOf = (fixture.outcome.manifest.input as { asOf: string }).asOf;
    const rows = await query(`
      WITH used AS (
        SELECT DISTINCT customer_id, module FROM read_parquet(${sqlString(join(fixture.dataDir, 'usage_events.parquet'))})
         WHERE ts >= DATE ${sqlString(asOf)} + INTERVAL 1 DAY - INTERVAL 90 DAY AND ts < DATE ${sqlString(asOf)} + INTERVAL 1 DAY),
      a AS (${kmeansSegments()})
      SELECT a.segment_id, u.module, count(*)::INTEGER AS users FROM used u JOIN a USING (customer_id) GROUP BY ALL`);
    const expected = segments.cards.map((c) => MODULES.map((m) => {
      const r = rows.find((x) => x.segment_id === c.id && x.module === m);
      return Math.round(((r ? Number(r.users) : 0) / c.size) * 1e4) / 1e4;
    }));
    expect(segments.profile!.moduleAdoption).toEqual(expected);
  });

  it('stores per-segment NPS from each customer’s latest answer in the feedback table', async () => {
    const rows = await query(`
      WITH latest AS (SELECT customer_id, arg_max(nps, ts) AS nps FROM read_csv(${sqlString(join(fixture.dataDir, 'feedback.csv'))}, header = true) GROUP BY customer_id)
      SELECT a.segment_id, count(*)::INTEGER AS n, (100.0 * (count(*) FILTER (WHERE nps >= 9) - count(*) FILTER (WHERE nps <= 6)) / count(*)) AS nps
        FROM latest JOIN (${kmeansSegments()}) a USING (customer_id) GROUP BY ALL ORDER BY 1`);
    const fb = segments.profile!.feedback!;
    expect(rows.map((r) => Number(r.n))).toEqual(fb.respondents);
    rows.forEach((r, s) => expect(fb.nps[s]).toBeCloseTo(Number(r.nps), 2));
  });

  it('rewrites the same report from the bundle alone, in Chinese, with the training data gone', async () => {
    const before = readFileSync(files.html, 'utf8');
    const moved = `${fixture.dataDir}-moved`;
    renameSync(fixture.dataDir, moved);
    try {
      const bundle = loadBundle(fixture.outcome.bundleDir);
      await writeReport(bundle.dir, bundleInput(bundle));
      expect(readFileSync(files.html, 'utf8')).toBe(before);
      const zh = await writeReport(bundle.dir, bundleInput(bundle), { lang: 'zh' });
      // Beside the English page, not over it.
      expect(zh.html).toBe(join(fixture.outcome.bundleDir, 'report', 'index.zh.html'));
      expect(zh.markdown).toBe(join(fixture.outcome.bundleDir, 'report', 'report.zh.md'));
      expect(readFileSync(files.html, 'utf8')).toBe(before);
      const page = readFileSync(zh.html, 'utf8');
      expect(page).toContain('<html lang="zh-CN">');
      expect(page).toContain('<h1>客户分群报告</h1>');
      for (const c of segments.cards) expect(page).toContain(`<h3>${c.name.zh}</h3>`);
      expect(page.match(/<article class="segment-card"/g)).toHaveLength(k);
    } finally {
      renameSync(moved, fixture.dataDir);
    }
  });

  it('prints the page as a file URL for `finseg report --open`, and refuses an unknown --lang', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((s) => (err.push(String(s)), true));
    try {
      expect(await main(['report', '--model', fixture.outcome.bundleDir, '--open', '--quiet'])).toBe(0);
      expect(await main(['report', '--model', fixture.outcome.bundleDir, '--lang', 'fr'])).toBe(2);
    } finally {
      stdout.mockRestore();
      stderr.mockRestore();
    }
    expect(out.join('')).toBe(`${pathToFileURL(files.html).href}\n`);
    expect(err.join('')).toContain('--lang must be one of en, zh');
  });
});
