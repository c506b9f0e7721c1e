import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lensMeasurability } from '../../pipeline/06-categorize/measurability.ts';
import type { CustomerLenses } from '../../pipeline/06-categorize/lenses.ts';
import { reportChartSpecs, reportHtml } from '../../pipeline/10-report/html.ts';
import { texts } from '../../pipeline/10-report/i18n.ts';
import { reportModel } from '../../pipeline/10-report/model.ts';
import { REPORT_PAGES, reportMarkdown, segmentsExport, writeReport } from '../../pipeline/10-report/report.ts';
import { twoSegments } from './hand-model.ts';

/**
 * What the report shows of a real export's shape, on the hand-built two-segment bundle: lenses
 * the export cannot measure, the features dropped before training and why, the vendor's own
 * module names; and where each language's page and Markdown go.
 */

const ALL = { segmentsJson: true, segmentsCsv: true, assignmentsCsv: true, assignmentsParquet: true, reportMd: true };

/** The hand-built bundle as a transactions-only export would leave it: industry and buyer role all unknown, three kinds of dropped feature, one vendor module. */
function exportShaped() {
  const { manifest, segments } = twoSegments(false);
  const six = (v: string) => Array.from({ length: 6 }, () => v);
  const lenses = { size: six('small'), industry: six('unknown'), lifecycle: six('mature'), technology: six('high'), buyerRole: six('unknown') } as CustomerLenses;
  (segments as unknown as { lensMeasurability: unknown }).lensMeasurability = lensMeasurability(lenses);
  const features = (manifest as unknown as { features: Record<string, unknown> }).features;
  features.names = ['device_mobile_share', 'share_vendor_bank_feeds', 'share_vendor_other'];
  features.dropped = [
    { feature: 'txn_count_all', reason: 'constant' },
    { feature: 'currencies_90', reason: 'constant' },
    { feature: 'foreign_share', reason: 'near-constant' },
    { feature: 'txn_volume_all', reason: 'duplicate of txn_volume_90' },
    { feature: 'events_90', reason: 'no usage_events table' },
  ];
  features.vendorModules = [{ name: 'Bank feeds', feature: 'share_vendor_bank_feeds' }];
  segments.cards[0]!.distinguishing[0]!.feature = 'share_vendor_bank_feeds';
  return { manifest, segments };
}

describe('lenses the export cannot measure', () => {
  const { manifest, segments } = exportShaped();
  const model = reportModel(manifest, segments);

  it('shows "not measurable from this export — needs <needs>" instead of the composition, in both languages', () => {
    const en = reportHtml(model, texts('en'), [], ALL);
    expect(en).toContain('<b>Industry</b>: not measurable from this export — needs customers.industry');
    expect(en).toContain('<tr class="not-measurable"><th scope="row">Buyer role</th><td colspan="3">not measurable from this export — needs customers.buyer_role</td></tr>');
    expect(en).toContain('<span class="pill muted">Industry · not measurable</span>');
    // Size stays a measured lens with its composition.
    expect(en).toContain('<th scope="row">Size</th><td><span class="chip">Micro</span>');
    const zh = reportHtml(model, texts('zh'), [], ALL);
    expect(zh).toContain('<b>行业</b>：无法从本次导出数据衡量——需要 customers.industry');
  });

  it('leaves the unmeasurable lenses out of the composition chart', () => {
    const spec = reportChartSpecs(model, texts('en')).find((s) => s.id === 'lenses')!;
    const titles = (spec.spec as { hconcat?: { title: string }[]; concat?: { title: string }[] }).hconcat ?? (spec.spec as { concat: { title: string }[] }).concat;
    expect(titles.map((p) => p.title)).toEqual(['Size', 'Lifecycle', 'Technology acceptance']);
  });

  it('says so in the Markdown and in segments.json', () => {
    const md = reportMarkdown(manifest, segments);
    expect(md).toContain('| Industry | not measurable from this export — needs customers.industry | | |');
    expect(md).toContain("| Industry | not measurable |");
    expect(reportMarkdown(manifest, segments, {}, 'zh')).toContain('| 行业 | 无法从本次导出数据衡量——需要 customers.industry | | |');
    const exported = segmentsExport(manifest, segments) as { lensMeasurability: Record<string, { measurable: boolean; needs: string }> };
    expect(exported.lensMeasurability.industry).toMatchObject({ measurable: false, needs: 'customers.industry' });
    expect(exported.lensMeasurability.size!.measurable).toBe(true);
  });

  it('treats every lens as measured in a bundle without lensMeasurability', () => {
    const plain = twoSegments(false);
    const en = reportHtml(reportModel(plain.manifest, plain.segments), texts('en'), [], ALL);
    expect(en).not.toContain('not measurable');
    expect(segmentsExport(plain.manifest, plain.segments)).toMatchObject({ lensMeasurability: null });
  });
});

describe('dropped features and vendor modules', () => {
  const { manifest, segments } = exportShaped();
  const model = reportModel(manifest, segments);

  it('lists dropped features grouped by a reason that reads as a sentence, in both languages', () => {
    const en = reportHtml(model, texts('en'), [], ALL);
    expect(en).toContain('<li>the same value for every customer: Transactions (all time) <code>txn_count_all</code>, Currencies <code>currencies_90</code></li>');
    expect(en).toContain('<li>almost every customer has the same value: Foreign-currency share <code>foreign_share</code></li>');
    expect(en).toContain('<li>duplicates Transaction volume: Transaction volume (all time) <code>txn_volume_all</code></li>');
    expect(en).toContain('<li>this export has no usage_events table: Events <code>events_90</code></li>');
    const zh = reportHtml(model, texts('zh'), [], ALL);
    expect(zh).toContain('<li>所有客户取值相同：交易笔数（全部） <code>txn_count_all</code>、币种数 <code>currencies_90</code></li>');
    expect(zh).toContain('<li>与 交易额 重复：交易额（全部） <code>txn_volume_all</code></li>');
    const md = reportMarkdown(manifest, segments);
    expect(md).toContain('- the same value for every customer: Transactions (all time) `txn_count_all`, Currencies `currencies_90`');
  });

  it('labels vendor-module share features with the vendor’s own module name', () => {
    const en = texts('en', model.features.vendorModules);
    expect(en.feature('share_vendor_bank_feeds')).toBe('Bank feeds share');
    expect(texts('zh', model.features.vendorModules).feature('share_vendor_bank_feeds')).toBe('Bank feeds 占比');
    expect(en.feature('share_vendor_other')).toBe('Other own modules share');
    // Without the bundle's list the feature keeps its name.
    expect(texts('en').feature('share_vendor_bank_feeds')).toBe('share_vendor_bank_feeds');
    expect(reportHtml(model, en, [], ALL)).toMatch(/[▲▼] Bank feeds share<\/span>/);
  });
});

describe('report files per language', () => {
  const work = mkdtempSync(join(tmpdir(), 'finseg-report-lang-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  const { manifest, segments } = exportShaped();

  it('writes English to index.html / report.md and Chinese to index.zh.html / report.zh.md, side by side, linked', async () => {
    const dir = join(work, 'a');
    const en = await writeReport(dir, { manifest, segments, states: {} }, { lang: 'en' });
    expect(en.html).toBe(join(dir, 'report', 'index.html'));
    expect(en.markdown).toBe(join(dir, 'report', 'report.md'));
    expect(existsSync(join(dir, 'report', 'index.zh.html'))).toBe(false);
    // English alone: no other language to link to yet.
    expect(readFileSync(en.html, 'utf8')).not.toContain('class="lang-switch"');
    const englishPage = readFileSync(en.html, 'utf8');
    const zh = await writeReport(dir, { manifest, segments, states: {} }, { lang: 'zh' });
    expect(zh.html).toBe(join(dir, 'report', REPORT_PAGES.zh.html));
    expect(zh.markdown).toBe(join(dir, 'report', REPORT_PAGES.zh.markdown));
    // The English files are left as they were.
    expect(readFileSync(en.html, 'utf8')).toBe(englishPage);
    const zhPage = readFileSync(zh.html, 'utf8');
    expect(zhPage).toContain('<html lang="zh-CN">');
    expect(zhPage).toContain('<a class="lang-switch" href="index.html" hreflang="en" lang="en">English</a>');
    expect(zhPage).toContain('<a href="report.zh.md">report.zh.md</a>');
    expect(readFileSync(zh.markdown, 'utf8')).toMatch(/^# finseg 客户分群 — 模型 .+\n\nEnglish: \[report\.md\]\(report\.md\)\n/);
  });

  it('writes both languages by default, each page linking to the other', async () => {
    const dir = join(work, 'b');
    const files = await writeReport(dir, { manifest, segments, states: {} });
    expect(Object.keys(files.pages)).toEqual(['en', 'zh']);
    expect(files.html).toBe(join(dir, 'report', 'index.html'));
    expect(readFileSync(files.pages.en!.html, 'utf8')).toContain('<a class="lang-switch" href="index.zh.html" hreflang="zh-CN" lang="zh-CN">中文版</a>');
    expect(readFileSync(files.pages.zh!.html, 'utf8')).toContain('<a class="lang-switch" href="index.html" hreflang="en" lang="en">English</a>');
    expect(readFileSync(files.pages.en!.markdown, 'utf8')).toContain('中文版: [report.zh.md](report.zh.md)');
  });
});
