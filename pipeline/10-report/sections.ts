import { LENS_NAMES } from '../06-categorize/lenses.ts';
import { forecastModelName, forecastText } from './i18n-forecast.ts';
import { segmentCard } from './cards.ts';
import type { RenderedChart } from './charts.ts';
import { figure, html, type Raw } from './html-kit.ts';
import type { Texts } from './i18n.ts';
import { lensMeasured, type ReportModel } from './model.ts';

/** The sections of the report page, each a pure function of the report model, the language's texts and the rendered charts. */

/** Which export files sit beside the report, for the exports list. */
export interface ExportFiles {
  segmentsJson: boolean;
  segmentsCsv: boolean;
  assignmentsCsv: boolean;
  assignmentsParquet: boolean;
  reportMd: boolean;
}

/** The files a page links to that depend on its language. */
export interface PageLinks {
  /** This report as Markdown in the page's language. */
  markdown: string;
  /** The page in the other language, when it exists beside this one. */
  otherLanguage: string | null;
}

/** A section of the page: its anchor, its heading in the table of contents and its body. */
export interface Section {
  id: string;
  title: string;
  body: Raw;
}

/** A rendered chart by id; undefined when the bundle had no data for it. */
type ChartLookup = (id: string) => RenderedChart | undefined;

/** A promotion gate's status in the report's language; an unknown status passes through. */
function gateStatus(status: string, t: Texts): string {
  const key = ({ pass: 'gatePass', fail: 'gateFail', waived: 'gateWaived', 'not-applicable': 'gateNotApplicable' } as const)[status as 'pass'];
  return key ? t.ui(key) : status;
}

/** The lenses this export could not measure, each with the column(s) that would make it measurable. */
function notMeasurableList(model: ReportModel, t: Texts): Raw {
  const lenses = LENS_NAMES.filter((lens) => !lensMeasured(model, lens));
  if (!lenses.length) return html``;
  return html`<ul class="not-measurable">${lenses.map((lens) => html`<li><b>${t.lensName(lens)}</b>${t.ui('colon')}${t.ui('notMeasurable', { needs: model.lensMeasurability![lens]!.needs })}</li>`)}</ul>`;
}

/** The features dropped before training, grouped by reason (in the reader's words), each feature by its display name and id. */
function droppedList(model: ReportModel, t: Texts): Raw {
  const byReason = new Map<string, string[]>();
  for (const d of model.features.dropped) byReason.set(d.reason, [...(byReason.get(d.reason) ?? []), d.feature]);
  if (!byReason.size) return html``;
  const name = (f: string) => (t.feature(f) === f ? html`<code>${f}</code>` : html`${t.feature(f)} <code>${f}</code>`);
  return html`<p>${t.ui('featuresDropped')}${t.ui('colon').trimEnd()}</p><ul class="dropped">${[...byReason].map(
    ([reason, features]) => html`<li>${t.droppedReason(reason)}${t.ui('colon')}${features.map((f, i) => html`${i ? (t.lang === 'zh' ? '、' : ', ') : ''}${name(f)}`)}</li>`,
  )}</ul>`;
}

/** One key figure of the header, with an optional note under it. */
function kpi(label: string, value: string, note?: string): Raw {
  return html`<div class="kpi"><div class="kpi-value">${value}</div><div class="kpi-label">${label}</div>${note ? html`<div class="kpi-note">${note}</div>` : ''}</div>`;
}

/** The k-selection table: one row per k tried, the chosen one marked, the ineligible ones muted. */
function kTable(model: ReportModel, t: Texts): Raw {
  const ms = model.kSelection.metrics;
  const head = html`<tr><th class="num">k</th>${ms.map((m) => html`<th class="num">${t.metric(m.key)}</th>`)}<th class="num">${t.ui('minShare')}</th></tr>`;
  const rows = model.kSelection.rows.map(
    (r) => html`<tr class="${r.k === model.k ? 'chosen' : ''}${r.eligible ? '' : ' ineligible'}"><td class="num">${r.k}</td>${ms.map((m) => {
      const v = r.metrics[m.key];
      const digits = m.key === 'inertia' || m.key === 'calinskiHarabasz' ? 0 : 3;
      return html`<td class="num">${v === null || v === undefined ? '–' : digits ? t.fmt.decimal(v, digits) : t.fmt.integer(v)}</td>`;
    })}<td class="num">${t.fmt.percent(r.minShare)}</td></tr>`,
  );
  return html`<table class="data-table k-table"><thead>${head}</thead><tbody>${rows}</tbody></table>`;
}

/** The header's key figures: customers and segments always, each quality figure when the bundle recorded it. */
export function kpis(model: ReportModel, t: Texts): (Raw | string)[] {
  const q = model.quality;
  return [
    kpi(t.ui('customers'), t.fmt.integer(model.customers)),
    kpi(t.ui('segments'), t.fmt.integer(model.k)),
    q.silhouette !== null ? kpi(t.ui('silhouette'), t.fmt.decimal(q.silhouette, 3)) : '',
    q.heldOutAccuracy !== null ? kpi(t.ui('classifierAgreement'), t.fmt.percent(q.heldOutAccuracy), q.nHeldOut !== null ? `${t.fmt.integer(q.nHeldOut)} ${t.ui('heldOut')}` : undefined) : '',
    q.plantedAri !== null ? kpi(t.ui('plantedAri'), t.fmt.decimal(q.plantedAri, 3)) : '',
    q.coldStart ? kpi(t.ui('coldStart'), t.fmt.percent(q.coldStart.heldOutAccuracy), q.coldStart.majorityBaseline !== null ? t.ui('baseline', { share: t.fmt.percent(q.coldStart.majorityBaseline) }) : undefined) : '',
    q.pcaComponents !== null ? kpi(t.ui('pcaComponents'), t.fmt.integer(q.pcaComponents), q.pcaExplainedVariance !== null ? `${t.fmt.percent(q.pcaExplainedVariance)} ${t.ui('varianceKept')}` : undefined) : '',
  ];
}

/** The analysis sections in page order: overview and lenses always; profiles, modules, feedback and trends when their chart was drawn. */
export function analysisSections(model: ReportModel, t: Texts, chart: ChartLookup): Section[] {
  const sections: Section[] = [];
  sections.push({
    id: 'overview',
    title: t.ui('overview'),
    body: html`<p class="lead">${t.ui('overviewLead')}</p>${model.noClearStructure ? html`<p class="rule"><b>${t.ui('noClearStructure')}</b></p>` : ''}<div class="charts">${figure(chart('sizes'))}${figure(chart('projection'))}</div>`,
  });
  if (chart('profile')) sections.push({ id: 'profiles', title: t.ui('profiles'), body: html`<p class="lead">${t.ui('profilesLead')}</p><div class="charts">${figure(chart('profile'))}</div>` });
  sections.push({
    id: 'lenses',
    title: t.ui('lensesSection'),
    body: html`<p class="lead">${t.ui('lensesLead')}</p>
<div class="pills">${Object.entries(model.cramersV).map(([lens, v]) =>
      lensMeasured(model, lens)
        ? html`<span class="pill">${t.lensName(lens)} · ${t.ui('cramersV')} <b>${t.fmt.decimal(v, 2)}</b></span>`
        : html`<span class="pill muted">${t.lensName(lens)} · ${t.ui('notMeasurableShort')}</span>`,
    )}</div>
${notMeasurableList(model, t)}
<div class="charts">${figure(chart('lenses'))}</div>`,
  });
  if (chart('adoption')) {
    const days = model.profile?.abandonment?.windowDays ?? 90;
    sections.push({ id: 'modules', title: t.ui('modulesSection'), body: html`<p class="lead">${t.ui('modulesLead', { days })}</p><div class="charts">${figure(chart('adoption'))}${figure(chart('abandonment'))}</div>` });
  }
  if (chart('feedback')) sections.push({ id: 'feedback', title: t.ui('feedbackSection'), body: html`<p class="lead">${t.ui('feedbackLead')}</p><div class="charts">${figure(chart('feedback'))}</div>` });
  if (chart('trends')) sections.push({ id: 'trends', title: t.ui('trendsSection'), body: html`<p class="lead">${t.ui('trendsLead')}</p>${seasonLine(model, t)}<div class="charts">${figure(chart('trends'))}</div>${volumeTable(model, t)}` });
  return sections;
}

/** The comparison with the production model, when the bundle is a retrain's candidate. */
export function driftSection(model: ReportModel, t: Texts, chart: ChartLookup): Section | null {
  const c = model.comparison;
  if (!c) return null;
  const facts = [
    c.agreement !== null ? `ARI ${t.fmt.decimal(c.agreement, 3)}` : '',
    c.sameIdShare !== null ? t.ui('keptIds', { share: t.fmt.percent(c.sameIdShare) }) : '',
    c.decision ? `${t.ui('decision')}: ${t.ui(c.decision === 'promote' ? 'promote' : 'hold')}` : '',
  ].filter(Boolean);
  return {
    id: 'drift',
    title: t.ui('driftSection'),
    body: html`<p class="lead">${t.ui('comparedWith')} <code>${c.production}</code>${facts.length ? ` · ${facts.join(' · ')}` : ''}</p>
${c.gates.length ? html`<ul class="gates">${c.gates.map((g) => html`<li><span class="gate ${g.status}">${gateStatus(g.status, t)}</span>${g.reason}</li>`)}</ul>` : ''}
<div class="charts">${figure(chart('drift'))}${figure(chart('migration'))}</div>
${mixForecastTable(model, t)}`,
  };
}

/** The one-step Markov forecast of the segment mix (comparison.json), as a small table. */
function mixForecastTable(model: ReportModel, t: Texts): Raw | string {
  const mix = model.comparison?.mixForecast ?? [];
  if (!mix.length) return '';
  const name = new Map(model.segments.map((s) => [s.id, s.name[t.lang]]));
  return html`<h3>${forecastText(t.lang, 'mixTitle').replace(/^#+ /, '')}</h3><p class="lead">${forecastText(t.lang, 'mixLead')}</p><div class="chart-body"><table class="data-table"><thead><tr>${forecastText(t.lang, 'mixHead')
    .split('|')
    .map((h) => h.trim())
    .filter(Boolean)
    .map((h, i) => html`<th${i ? html` class="num"` : ''}>${h}</th>`)}</tr></thead><tbody>${mix.map(
    (m) => html`<tr><td>#${m.id} ${name.get(m.id) ?? ''}</td><td class="num">${t.fmt.percent(m.now, 1)}</td><td class="num">${t.fmt.percent(m.next, 1)}</td><td class="num">${t.fmt.signed((m.next - m.now) * 100, 1)} pp</td></tr>`,
  )}</tbody></table></div>`;
}

/** The k-selection evidence (chart, rule, table), when the bundle recorded the k search. */
export function kSection(model: ReportModel, t: Texts, chart: ChartLookup): Section | null {
  if (!chart('k-selection')) return null;
  return {
    id: 'k',
    title: t.ui('kSection'),
    body: html`<div class="charts">${figure(chart('k-selection'))}</div>
${model.kSelection.rule ? html`<p class="rule"><b>${t.ui('rule')}:</b> ${model.kSelection.rule}</p>` : ''}
<div class="chart-body">${kTable(model, t)}</div>`,
  };
}

/** One card per segment, with the rules' fidelity when the bundle has rules. */
export function segmentsSection(model: ReportModel, t: Texts): Section {
  return {
    id: 'segments',
    title: t.ui('cards'),
    body: html`<p class="lead">${t.ui('cardsLead')}${model.ruleFidelity !== null ? html` ${t.ui('rulesLead', { fidelity: t.fmt.percent(model.ruleFidelity) })}` : ''}</p><div class="cards">${model.segments.map((s) => segmentCard(model, s, t))}</div>`,
  };
}

/** The input tables (read, accepted, quarantined), the features used and dropped, the data folder and the seed. */
export function dataSection(model: ReportModel, t: Texts): Section {
  const inputRows = model.input.tables.map(
    (tb) => html`<tr><td><code>${tb.name}</code></td><td class="num">${t.fmt.integer(tb.read)}</td><td class="num">${t.fmt.integer(tb.accepted)}</td><td class="num">${t.fmt.integer(tb.quarantined)}</td><td>${Object.entries(tb.byReason)
      .map(([r, n]) => `${r} ${t.fmt.integer(n)}`)
      .join(', ')}</td></tr>`,
  );
  const absentRows = model.input.absent.map((name) => html`<tr><td><code>${name}</code></td><td colspan="4">${t.ui('absent')}</td></tr>`);
  return {
    id: 'data',
    title: t.ui('dataSection'),
    body: html`<div class="two-col"><div class="chart-body"><table class="data-table"><thead><tr><th>${t.ui('table')}</th><th class="num">${t.ui('read')}</th><th class="num">${t.ui('accepted')}</th><th class="num">${t.ui('quarantined')}</th><th>${t.ui('reasons')}</th></tr></thead><tbody>${inputRows}${absentRows}</tbody></table></div>
<div><p>${t.ui('featuresUsed', { n: model.features.names.length })}</p>${droppedList(model, t)}
<p>${t.ui('data')}: <code>${model.dataDir}</code>${model.seed !== null ? html` · ${t.ui('seed')} ${model.seed}` : ''}</p></div></div>`,
  };
}

/** Links to the export files beside the page. */
export function exportsSection(t: Texts, exportsPresent: ExportFiles, links: PageLinks): Section {
  const files: [keyof ExportFiles, string, Parameters<Texts['ui']>[0]][] = [
    ['segmentsJson', 'segments.json', 'segmentsJson'],
    ['segmentsCsv', 'segments.csv', 'segmentsCsv'],
    ['assignmentsCsv', 'assignments.csv', 'assignmentsCsv'],
    ['assignmentsParquet', 'assignments.parquet', 'assignmentsParquet'],
    ['reportMd', links.markdown, 'reportMd'],
  ];
  return {
    id: 'exports',
    title: t.ui('exports'),
    body: html`<p class="lead">${t.ui('exportsLead')}</p><ul class="exports">${files
      .filter(([key]) => exportsPresent[key])
      .map(([, file, key]) => html`<li><a href="${file}">${file}</a><span>${t.ui(key)}</span></li>`)}</ul>`,
  };
}

/** Whether the seasonal models could be candidates, in words. */
function seasonLine(model: ReportModel, t: Texts): Raw | string {
  const b = model.trends?.backtest;
  if (!b) return '';
  const note = forecastText(t.lang, b.seasonal ? 'seasonYes' : 'seasonNo', { months: b.months, period: b.period, holdout: b.holdout });
  return html`<p class="rule">${forecastText(t.lang, 'season', { note })}</p>`;
}

/** Usage volume per segment: events per active customer last month, the next quarter's forecast, its model, MASE and verdict. */
function volumeTable(model: ReportModel, t: Texts): Raw | string {
  const volume = model.trends?.volume;
  if (!volume?.size) return '';
  const head = forecastText(t.lang, 'volumeHead')
    .split('|')
    .map((h) => h.trim())
    .filter(Boolean);
  const rows = model.segments.flatMap((s) => {
    const v = volume.get(s.index);
    if (!v) return [];
    return [
      html`<tr><td>#${s.id} ${s.name[t.lang]}</td><td class="num">${t.fmt.decimal(v.last, 1)}</td><td>${forecastModelName(t.lang, v.model)}</td><td class="num">${t.fmt.decimal(v.mase, 2)}</td><td class="num">${t.fmt.decimal(v.mean, 1)} (${t.fmt.decimal(v.low, 1)}–${t.fmt.decimal(v.high, 1)})</td><td>${forecastText(t.lang, v.verdict === 'rising' ? 'rising' : v.verdict === 'falling' ? 'falling' : 'flat')}</td></tr>`,
    ];
  });
  return html`<h3>${forecastText(t.lang, 'volume')}</h3><div class="chart-body"><table class="data-table"><thead><tr>${head.map((h) => html`<th>${h}</th>`)}</tr></thead><tbody>${rows}</tbody></table></div>`;
}
