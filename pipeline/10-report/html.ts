import { LENS_LABELS, LENS_NAMES } from '../06-categorize/lenses.ts';
import { churnSection } from './churn-view.ts';
import { ABANDON_MIN_USERS } from './cards.ts';
import { renderCharts, segmentLabel, type ChartSpec, type RenderedChart, type SegmentKey } from './charts.ts';
import { driftSpec, kSelectionSpec, migrationSpec, trendsSpec } from './evidence-charts.ts';
import { html, otherLang, Raw } from './html-kit.ts';
import { texts, type Lang, type Texts } from './i18n.ts';
import { lensMeasured, type ReportModel } from './model.ts';
import { nextModuleHtml } from './next-module-view.ts';
import { evaluationSection } from './evaluation-view.ts';
import { analysisSections, dataSection, driftSection, exportsSection, kpis, kSection, segmentsSection, type ExportFiles, type PageLinks, type Section } from './sections.ts';
import { valueSection, valueSharesSpec } from './value-view.ts';
import { feedbackSpec, lensCompositionSpec, moduleHeatmapSpec, profileHeatmapSpec, projectionSpec, segmentSizesSpec } from './segment-charts.ts';
import { REPORT_CSS } from './style.ts';

/**
 * The self-contained report page (html-kit.ts says how it stays safe): the chart specs in page
 * order, and the page around the sections (sections.ts) and the segment cards (cards.ts).
 */

function segmentKeys(model: ReportModel, lang: Lang): SegmentKey[] {
  return model.segments.map((s) => ({ id: s.id, label: segmentLabel(s.id, s.name[lang]) }));
}

/** Abandonment rate per segment and module, null where too few customers used the module before. */
function abandonmentRates(model: ReportModel): (number | null)[][] | null {
  const a = model.profile?.abandonment;
  if (!a) return null;
  return a.previousUsers.map((row, s) => row.map((users, j) => (users >= ABANDON_MIN_USERS ? a.abandoned[s]![j]! / users : null)));
}

/** A migration axis label: a segment id as on the cards, or the margins' words. */
function migrationLabel(id: string, t: Texts): string {
  if (id === 'new') return t.ui('newCustomers');
  if (id === 'gone') return t.ui('goneCustomers');
  return `#${id}`;
}

/** The chart specs of a report, in page order; sections without data contribute none. */
export function reportChartSpecs(model: ReportModel, t: Texts): ChartSpec[] {
  const keys = segmentKeys(model, t.lang);
  const specs: ChartSpec[] = [segmentSizesSpec(model.segments.map((s, i) => ({ ...keys[i]!, size: s.size, share: s.share })), t)];
  const profile = model.profile;
  if (profile) specs.push(projectionSpec(keys, profile.projection, t));
  if (profile) specs.push(profileHeatmapSpec(keys, profile.featureNames.map(t.feature), profile.standardisedMeans, t));
  // A lens the export could not measure is 'unknown' throughout: its panel would say nothing.
  const measured = LENS_NAMES.filter((lens) => lensMeasured(model, lens));
  if (measured.length) specs.push(
    lensCompositionSpec(
      keys,
      measured.map((lens) => ({
        lens,
        // Labels no segment has are left out of the legend.
        labels: LENS_LABELS[lens].filter((label) => model.segments.some((s) => (s.lenses.find((l) => l.lens === lens)?.shares[label] ?? 0) > 0)),
        shares: model.segments.map((s) => s.lenses.find((l) => l.lens === lens)?.shares),
      })),
      t,
    ),
  );
  if (profile?.moduleAdoption) {
    const moduleLabels = profile.modules.map(t.module);
    specs.push(moduleHeatmapSpec('adoption', t.ui('adoptionChart'), undefined, keys, moduleLabels, profile.moduleAdoption, 'blues', t));
    const rates = abandonmentRates(model);
    if (rates) specs.push(moduleHeatmapSpec('abandonment', t.ui('abandonmentChart'), t.ui('abandonmentCaption', { min: ABANDON_MIN_USERS }), keys, moduleLabels, rates, 'orangered', t));
  }
  const valued = model.segments.flatMap((s, i) => (s.value ? [{ ...keys[i]!, value: s.value }] : []));
  if (valued.length) specs.push(valueSharesSpec(valued, t));
  if (profile?.feedback) specs.push(feedbackSpec(keys, profile.feedback.nps, profile.feedback.ticketsPerCustomer, t));
  if (model.trends) {
    const trends = model.trends;
    const panels = model.segments.flatMap((s) => {
      const series = trends.rising.get(s.index);
      return series ? [{ segment: keys[s.index]!, series }] : [];
    });
    if (panels.length) specs.push(trendsSpec(panels, trends.months, t.module, t));
  }
  const c = model.comparison;
  // The 20 largest shifts: the rest sit near zero and would only stretch the chart.
  if (c?.drift.length) specs.push(driftSpec(c.drift.slice(0, 20).map((d) => ({ label: t.feature(d.name), psi: d.psi })), c.driftThreshold ?? 0.2, t));
  if (c?.migration.length) specs.push(migrationSpec(c.migration, c.fromOrder, c.toOrder, (id) => migrationLabel(id, t), t));
  if (model.kSelection.rows.length && model.kSelection.metrics.length) specs.push(kSelectionSpec(model.kSelection.rows, model.kSelection.metrics, model.k, t));
  return specs;
}

/** Renders the whole report page in one language. */
export async function renderReportHtml(model: ReportModel, lang: Lang, exportsPresent: ExportFiles, links: PageLinks = { markdown: 'report.md', otherLanguage: null }): Promise<string> {
  const t = texts(lang, model.features.vendorModules);
  const charts = await renderCharts(reportChartSpecs(model, t));
  return reportHtml(model, t, charts, exportsPresent, links);
}

/** The report page from its model and rendered charts (pure: no I/O, no clock). */
export function reportHtml(model: ReportModel, t: Texts, charts: readonly RenderedChart[], exportsPresent: ExportFiles, links: PageLinks = { markdown: 'report.md', otherLanguage: null }): string {
  const chart = (id: string) => charts.find((c) => c.id === id);
  const sections = [
    ...analysisSections(model, t, chart),
    valueSection(model.value, model.segments, t, chart('value')),
    model.nextModule !== undefined ? { id: 'next-module', ...nextModuleHtml(model.nextModule, model.segments.map((s) => s.name[t.lang]), t.lang) } : null,
    churnSection(model.churn, t, new Map(model.segments.map((s) => [s.id, s.name[t.lang]]))),
    driftSection(model, t, chart),
    model.evaluation ? evaluationSection(model.evaluation, t.lang) : null,
    kSection(model, t, chart),
    segmentsSection(model, t),
    dataSection(model, t),
    exportsSection(t, exportsPresent, links),
  ].filter((s): s is Section => s !== null);
  return pageHtml(model, t, kpis(model, t), sections, links);
}

/** The page around the sections: head with the inline CSS, masthead, table of contents, key figures, footer. */
function pageHtml(model: ReportModel, t: Texts, keyFigures: readonly (Raw | string)[], sections: readonly Section[], links: PageLinks): string {
  const page = html`<!DOCTYPE html>
<html lang="${t.locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="generator" content="finseg ${model.finsegVersion}">
<title>${t.ui('title')} · ${model.version}</title>
<style>${new Raw(REPORT_CSS)}</style>
</head>
<body>
<header class="masthead"><div class="wrap">
<div class="eyebrow">finseg</div>
<h1>${t.ui('title')}</h1>
<p class="meta"><span><b>${t.ui('model')}</b><code>${model.version}</code></span><span><b>${t.ui('trained')}</b>${t.fmt.dateTime(model.createdAt)}</span><span><b>${t.ui('asOf')}</b>${t.fmt.date(model.asOf)}</span>${
  links.otherLanguage ? html`<a class="lang-switch" href="${links.otherLanguage}" hreflang="${otherLang(t.lang) === 'zh' ? 'zh-CN' : 'en'}" lang="${otherLang(t.lang) === 'zh' ? 'zh-CN' : 'en'}">${t.ui('otherLanguage')}</a>` : ''
}</p>
</div></header>
<nav class="toc" aria-label="${t.ui('contents')}"><div class="wrap">${sections.map((s) => html`<a href="#${s.id}">${s.title}</a>`)}</div></nav>
<main class="wrap">
<section class="kpis" aria-label="${t.ui('overview')}">${keyFigures}</section>
${sections.map((s) => html`<section id="${s.id}"><h2>${s.title}</h2>${s.body}</section>\n`)}
</main>
<footer><div class="wrap">${t.ui('generatedBy', { version: model.finsegVersion })} · ${model.version}</div></footer>
</body>
</html>
`;
  return page.html;
}
