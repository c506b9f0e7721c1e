import { describe, expect, it } from 'vitest';
import { renderSvg } from '../../pipeline/10-report/charts.ts';
import { segmentSizesSpec } from '../../pipeline/10-report/segment-charts.ts';
import { csvField, segmentsCsv } from '../../pipeline/10-report/exports.ts';
import { renderReportHtml, reportChartSpecs } from '../../pipeline/10-report/html.ts';
import { escapeHtml } from '../../pipeline/10-report/html-kit.ts';
import { parseLang, texts } from '../../pipeline/10-report/i18n.ts';
import { reportModel } from '../../pipeline/10-report/model.ts';
import { twoSegments } from './hand-model.ts';

/**
 * The HTML layer on a hand-built two-segment model: which charts and sections appear for which
 * data, that every data-derived string is escaped, and the locale's formats.
 */
const ALL = { segmentsJson: true, segmentsCsv: true, assignmentsCsv: true, assignmentsParquet: true, reportMd: true };

describe('report texts', () => {
  it('formats numbers and dates for each locale', () => {
    const en = texts('en');
    const zh = texts('zh');
    expect(en.fmt.integer(20000)).toBe('20,000');
    expect(zh.fmt.integer(20000)).toBe('20,000');
    expect(en.fmt.percent(0.1593)).toBe('15.9%');
    expect(en.fmt.signed(-1.234)).toBe('−1.23');
    expect(en.fmt.signed(2.5, 1)).toBe('+2.5');
    expect(en.fmt.date('2026-09-30')).toBe('September 30, 2026');
    expect(zh.fmt.date('2026-09-30')).toBe('2026年9月30日');
    expect(en.fmt.decimal(null)).toBe('–');
  });

  it('translates lens labels, features and modules, and passes unknown names through', () => {
    const en = texts('en');
    const zh = texts('zh');
    expect([en.lensLabel('industry', 'platform_economy'), zh.lensLabel('industry', 'platform_economy')]).toEqual(['Platform economy', '平台经济']);
    expect([en.lensLabel('size', 'mixed'), zh.lensLabel('size', 'mixed')]).toEqual(['Mixed', '混合']);
    expect([en.feature('share_multi_currency'), zh.feature('share_multi_currency')]).toEqual(['Multi-currency share', '多币种占比']);
    expect([en.module('receivables_payables'), zh.module('receivables_payables')]).toEqual(['Receivables & payables', '应收应付']);
    expect(en.feature('brand_new_feature')).toBe('brand_new_feature');
    expect(zh.ui('kCaption', { k: 7 })).toBe('实心点满足最小分群占比；虚线为最终选定的 k = 7。');
  });

  it('accepts only en and zh as --lang', () => {
    expect([parseLang('en'), parseLang('zh'), parseLang('fr')]).toEqual(['en', 'zh', null]);
  });
});

describe('escaping', () => {
  it('escapes the five HTML-significant characters', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });

  it('quotes CSV fields that hold commas, quotes or line breaks', () => {
    expect([csvField('a,b'), csvField('say "hi"'), csvField('x\ny'), csvField('plain'), csvField(Number.NaN), csvField(null)]).toEqual(['"a,b"', '"say ""hi"""', '"x\ny"', 'plain', '', '']);
  });
});

describe('charts', () => {
  it('renders SVG with every element id prefixed, so charts can share a page', async () => {
    const t = texts('en');
    const spec = segmentSizesSpec([{ id: 0, label: '#0 a', size: 3, share: 0.5 }, { id: 1, label: '#1 b', size: 3, share: 0.5 }], t).spec;
    const svg = await renderSvg(spec, 'chart-x');
    expect(svg.startsWith('<svg')).toBe(true);
    const ids = [...svg.matchAll(/ id="([^"]+)"/g)].map((m) => m[1]!);
    expect(ids.every((id) => id.startsWith('chart-x-'))).toBe(true);
    expect([...svg.matchAll(/url\(#([^)]+)\)/g)].every((m) => m[1]!.startsWith('chart-x-'))).toBe(true);
    // Rendering twice gives the same markup: no global counters leak into the page.
    expect(await renderSvg(spec, 'chart-x')).toBe(svg);
  });

  it('draws sizes, lenses and k selection from any bundle, and the profile charts only when the profile is stored', () => {
    const t = texts('en');
    const bare = twoSegments(false);
    expect(reportChartSpecs(reportModel(bare.manifest, bare.segments), t).map((c) => c.id)).toEqual(['sizes', 'lenses', 'k-selection']);
    const full = twoSegments(true);
    expect(reportChartSpecs(reportModel(full.manifest, full.segments), t).map((c) => c.id)).toEqual([
      'sizes',
      'projection',
      'profile',
      'lenses',
      'adoption',
      'abandonment',
      'feedback',
      'k-selection',
    ]);
  });
});

describe('the HTML page', () => {
  it('escapes every data-derived string: names, ids, paths, feature names, reasons', async () => {
    const { manifest, segments } = twoSegments(true);
    const page = await renderReportHtml(reportModel(manifest, segments), 'en', ALL);
    expect(page).not.toMatch(/<script/i);
    expect(page).not.toMatch(/<img/i);
    const escaped = '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39;';
    expect(page).toContain(`Retail ${escaped}`); // card name
    expect(page).toContain(`<code>${escaped}1</code>`); // example customer id
    expect(page).toContain(`/data/${escaped}`); // data folder
    expect(page).toContain(`dup${escaped} 1`); // quarantine reason
    expect(page).toContain(`x${escaped}`); // dropped feature
    // vega escapes the feature name inside the heatmap's SVG.
    expect(page).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });

  it('has one figure per chart and one card per segment, in both languages', async () => {
    const { manifest, segments } = twoSegments(true);
    const model = reportModel(manifest, segments);
    for (const lang of ['en', 'zh'] as const) {
      const page = await renderReportHtml(model, lang, ALL);
      expect(page.match(/<figure class="chart/g)).toHaveLength(8);
      expect(page.match(/<article class="segment-card"/g)).toHaveLength(2);
      expect(page).toContain(`<html lang="${lang === 'en' ? 'en-US' : 'zh-CN'}">`);
    }
    const zh = await renderReportHtml(model, 'zh', ALL);
    expect(zh).toContain('分群卡片');
    expect(zh).toContain(`零售 &lt;script&gt;`);
    expect(zh).toContain('企业主'); // the owner buyer role, translated
  });

  it('leaves out sections whose data the bundle lacks, and exports that are not there', async () => {
    const { manifest, segments } = twoSegments(false);
    const page = await renderReportHtml(reportModel(manifest, segments), 'en', { ...ALL, assignmentsCsv: false, assignmentsParquet: false });
    for (const id of ['modules', 'feedback', 'profiles', 'trends', 'drift']) expect(page).not.toContain(`<section id="${id}"`);
    for (const id of ['overview', 'lenses', 'k', 'segments', 'data', 'exports']) expect(page).toContain(`<section id="${id}"`);
    expect(page).not.toContain('assignments.csv');
    expect(page).toContain('<a href="segments.csv">');
  });

  it('makes no request of its own: no script, no external URL, a CSP that forbids loading', async () => {
    const { manifest, segments } = twoSegments(true);
    const page = await renderReportHtml(reportModel(manifest, segments), 'en', ALL);
    expect(page).toContain(`content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"`);
    // The only absolute URLs are the SVG namespaces, which are identifiers, not fetches.
    const urls = [...page.matchAll(/(?:src|href)="(https?:[^"]*)"/g)].map((m) => m[1]);
    expect(urls).toEqual([]);
    expect(page).not.toMatch(/@import|url\(http/);
  });
});

describe('segments.csv', () => {
  it('writes one row per segment with names, lenses and playbook, quoted where needed', () => {
    const { manifest, segments } = twoSegments(false);
    const csv = segmentsCsv(reportModel(manifest, segments).segments);
    const lines = csv.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^segment_id,name_en,name_zh,size,share,stability,size_dominant,/);
    expect(lines[1]).toContain(`"Retail <script>alert(""x"")</script>'"`);
    expect(lines[1]).toContain(',3,0.5,,micro,1,');
  });
});
