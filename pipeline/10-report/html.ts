import { LENS_LABELS, LENS_NAMES } from '../06-categorize/lenses.ts';
import {
  feedbackSpec,
  driftSpec,
  kSelectionSpec,
  lensCompositionSpec,
  migrationSpec,
  moduleHeatmapSpec,
  profileHeatmapSpec,
  projectionSpec,
  renderCharts,
  segmentColor,
  segmentLabel,
  segmentSizesSpec,
  trendsSpec,
  type ChartSpec,
  type RenderedChart,
  type SegmentKey,
} from './charts.ts';
import { texts, type Lang, type Texts } from './i18n.ts';
import { REPORT_CSS } from './style.ts';
import { lensMeasured, type ReportModel, type ReportRule, type ReportSegment } from './model.ts';

/**
 * The self-contained HTML report: inline CSS, inline SVG charts, no script, no font or image
 * from anywhere else. Every interpolated value is escaped unless it is markup this module
 * built itself (`Raw`), so a customer id or a path cannot inject anything.
 */

/** Markup that is already safe: built here or by vega's SVG writer, which escapes its text. */
class Raw {
  constructor(readonly html: string) {}
  toString(): string {
    return this.html;
  }
}

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function piece(v: unknown): string {
  if (v instanceof Raw) return v.html;
  if (Array.isArray(v)) return v.map(piece).join('');
  if (v === null || v === undefined || v === false) return '';
  return escapeHtml(String(v));
}

/** Template tag: interpolations are escaped unless they are Raw (or arrays of Raw). */
function html(strings: TemplateStringsArray, ...values: unknown[]): Raw {
  let out = strings[0]!;
  values.forEach((v, i) => (out += piece(v) + strings[i + 1]!));
  return new Raw(out);
}

/** Earlier users a module needs in a segment before its abandonment rate is shown: small counts give noisy rates. */
export const ABANDON_MIN_USERS = 20;

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

const otherLang = (lang: Lang): Lang => (lang === 'en' ? 'zh' : 'en');

function segmentKeys(model: ReportModel, lang: Lang): SegmentKey[] {
  return model.segments.map((s) => ({ id: s.id, label: segmentLabel(s.id, s.name[lang]) }));
}

/** Abandonment rate per segment and module, null where too few customers used the module before. */
function abandonmentRates(model: ReportModel): (number | null)[][] | null {
  const a = model.profile?.abandonment;
  if (!a) return null;
  return a.previousUsers.map((row, s) => row.map((users, j) => (users >= ABANDON_MIN_USERS ? a.abandoned[s]![j]! / users : null)));
}

/** A promotion gate's status in the report's language; an unknown status passes through. */
function gateStatus(status: string, t: Texts): string {
  const key = ({ pass: 'gatePass', fail: 'gateFail', waived: 'gateWaived', 'not-applicable': 'gateNotApplicable' } as const)[status as 'pass'];
  return key ? t.ui(key) : status;
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

function figure(chart: RenderedChart | undefined): Raw {
  if (!chart) return html``;
  return html`<figure class="chart${chart.wide ? ' wide' : ''}" id="chart-${chart.id}">
<figcaption><span class="chart-title">${chart.title}</span>${chart.caption ? html`<span class="chart-caption">${chart.caption}</span>` : ''}</figcaption>
<div class="chart-body">${new Raw(chart.svg)}</div>
</figure>`;
}

/** A raw feature value as readers expect it: shares as percentages, counts and money grouped, trends signed. */
function featureValue(feature: string, x: number | null, t: Texts): string {
  if (x === null || !Number.isFinite(x)) return '–';
  if (feature.endsWith('_share') || feature.startsWith('share_')) return t.fmt.percent(x, 0);
  if (feature.endsWith('_trend')) return t.fmt.signed(x, 2);
  const a = Math.abs(x);
  if (a >= 100) return t.fmt.integer(x);
  if (a >= 10) return t.fmt.decimal(x, 1);
  return t.fmt.decimal(x, 2);
}

function lensTable(model: ReportModel, s: ReportSegment, t: Texts): Raw {
  const rows = s.lenses.map((l) => {
    if (!lensMeasured(model, l.lens)) {
      return html`<tr class="not-measurable"><th scope="row">${t.lensName(l.lens)}</th><td colspan="3">${t.ui('notMeasurable', { needs: model.lensMeasurability![l.lens]!.needs })}</td></tr>`;
    }
    const mixed = l.dominant === 'mixed';
    const label = mixed ? `${t.lensLabel(l.lens, 'mixed')} (${t.lensLabel(l.lens, l.plurality)})` : t.lensLabel(l.lens, l.dominant);
    return html`<tr><th scope="row">${t.lensName(l.lens)}</th><td><span class="chip${mixed ? ' muted' : ''}">${label}</span></td><td class="num">${t.fmt.percent(l.dominantShare, 0)}</td><td class="num">${mixed ? '–' : `×${t.fmt.decimal(l.lift, 1)}`}</td></tr>`;
  });
  return html`<table class="lens-table"><thead><tr><th>${t.ui('lens')}</th><th>${t.ui('dominant')}</th><th class="num">${t.ui('share')}</th><th class="num">${t.ui('lift')}</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function distinguishingList(s: ReportSegment, t: Texts): Raw {
  // A perfect separation has no finite d: it takes the full half-bar and the others scale among themselves.
  const maxAbs = Math.max(1, ...s.distinguishing.filter((d) => !d.perfect).map((d) => Math.abs(d.standardisedDifference)));
  const items = s.distinguishing.map((d) => {
    const up = d.standardisedDifference >= 0;
    const width = d.perfect ? 50 : (Math.abs(d.standardisedDifference) / maxAbs) * 50;
    const style = up ? `left:50%;width:${width.toFixed(1)}%` : `left:${(50 - width).toFixed(1)}%;width:${width.toFixed(1)}%`;
    const segment = featureValue(d.feature, d.segmentMean, t);
    const rest = featureValue(d.feature, d.restMean, t);
    return html`<li${d.perfect ? ' class="perfect"' : ''}>
<div class="feat-head"><span class="feat-name">${up ? '▲' : '▼'} ${t.feature(d.feature)}</span><span class="feat-d ${up ? 'up' : 'down'}">${d.perfect ? t.ui('perfect') : t.fmt.signed(d.standardisedDifference, 2)}</span></div>
<div class="diverge"><span class="axis"></span><span class="bar ${up ? 'up' : 'down'}" style="${style}"></span></div>
<div class="feat-means">${d.perfect ? t.ui('separatesPerfectly', { segment, rest }) : `${t.ui('segmentMean')} ${segment} · ${t.ui('restMean')} ${rest}`}</div>
</li>`;
  });
  return html`<ul class="features">${items}</ul>`;
}

function playbookBlock(s: ReportSegment, t: Texts): Raw {
  const p = s.playbook;
  const zh = t.lang === 'zh';
  const edition = zh ? p.zh.edition : p.edition;
  const deployment = zh ? p.zh.deployment : t.deployment(p.deployment);
  return html`<div class="playbook">
<h4>${t.ui('playbook')}</h4>
<dl>
<dt>${t.ui('edition')}</dt><dd><strong>${edition}</strong></dd>
<dt>${t.ui('deployment')}</dt><dd>${deployment}</dd>
<dt>${t.ui('leadModules')}</dt><dd>${p.leadModules.map((m) => html`<span class="chip module">${t.module(m)}</span>`)}</dd>
${p.channels.length ? html`<dt>${t.ui('channels')}</dt><dd>${p.channels.map((c) => html`<span class="chip channel">${t.channel(c)}</span>`)}</dd>` : ''}
<dt>${t.ui('service')}</dt><dd>${zh ? p.zh.service : p.service}</dd>
</dl>
<blockquote>${zh ? p.zh.message : p.message}</blockquote>
</div>`;
}

/** The modules where a segment loses the most customers: ranked by how many stopped, shown with the rate among earlier users. */
function lostModules(model: ReportModel, s: ReportSegment, t: Texts): Raw {
  const a = model.profile?.abandonment;
  const row = a?.previousUsers[s.index];
  if (!a || !row) return html``;
  const lost = row
    .map((users, j) => ({ module: a.modules[j]!, users, stopped: a.abandoned[s.index]![j]! }))
    .filter((x) => x.users >= ABANDON_MIN_USERS && x.stopped > 0)
    .sort((x, y) => y.stopped - x.stopped || x.module.localeCompare(y.module))
    .slice(0, 3);
  if (!lost.length) return html``;
  return html`<div class="card-row"><h4>${t.ui('lostModules')}</h4><p>${lost.map(
    (x, i) =>
      html`${i ? ' · ' : ''}<span class="lost">${t.module(x.module)} <strong>${t.fmt.percent(x.stopped / x.users, 0)}</strong> <span class="of">(${t.fmt.integer(x.stopped)}/${t.fmt.integer(x.users)})</span></span>`,
  )}</p></div>`;
}

function feedbackRow(model: ReportModel, s: ReportSegment, t: Texts): Raw {
  const f = model.profile?.feedback;
  if (!f) return html``;
  const nps = f.nps[s.index];
  return html`<div class="card-row"><h4>${t.ui('feedback')}</h4><p>${t.ui('nps')} <strong>${nps === null || nps === undefined ? '–' : t.fmt.signed(nps, 0)}</strong> (${t.fmt.integer(f.respondents[s.index] ?? 0)} ${t.ui('respondents')}) · ${t.ui('tickets')} <strong>${t.fmt.decimal(f.ticketsPerCustomer[s.index] ?? 0, 2)}</strong></p></div>`;
}

/** The segment's fastest-rising modules: change per month and the next quarter's forecast with its interval. */
function risingRow(model: ReportModel, s: ReportSegment, t: Texts): Raw {
  const series = model.trends?.rising.get(s.index);
  if (!series?.length) return html``;
  return html`<div class="card-row"><h4>${t.ui('rising')}</h4><p>${series.map(
    (r, i) =>
      html`${i ? ' · ' : ''}<span class="rise">${t.module(r.module)} <strong>${t.fmt.signed(r.slopePerMonth * 100, Math.abs(r.slopePerMonth) < 0.001 ? 2 : 1)} ${t.ui('ppPerMonth')}</strong> → ${t.fmt.percent(r.forecast.mean, 0)} <span class="of">(${t.fmt.percent(r.forecast.low, 0)}–${t.fmt.percent(r.forecast.high, 0)})</span></span>`,
  )}</p></div>`;
}

/** A rule in the reader's words: translated feature names, values formatted like the cards' ("Mobile share > 35%"). */
function ruleText(rule: ReportRule, t: Texts): string {
  if (!rule.conditions) return rule.text;
  if (!rule.conditions.length) return t.ui('everyCustomer');
  return rule.conditions
    .map((c) => {
      const name = t.feature(c.feature);
      const v = (x: number) => featureValue(c.feature, x, t);
      const core = c.above !== null && c.atMost !== null ? `${v(c.above)} < ${name} ≤ ${v(c.atMost)}` : c.above !== null ? `${name} > ${v(c.above)}` : `${name} ≤ ${v(c.atMost!)}`;
      return c.missingIncluded ? `${core} ${t.ui('orMissing')}` : core;
    })
    .join(t.ui('and'));
}

function rulesBlock(s: ReportSegment, t: Texts): Raw {
  if (!s.rules.length) return html``;
  const quality = s.ruleRecall !== null && s.rulePrecision !== null ? html`<span class="rule-quality">${t.ui('recall')} ${t.fmt.percent(s.ruleRecall, 0)} · ${t.ui('precision')} ${t.fmt.percent(s.rulePrecision, 0)}</span>` : '';
  return html`<div class="card-row"><h4>${t.ui('rules')} ${quality}</h4><ul class="rules">${s.rules.map((r) => html`<li title="${r.text}">${ruleText(r, t)}</li>`)}</ul></div>`;
}

function stabilityBadge(s: ReportSegment, t: Texts): Raw {
  if (s.stability === null) return html``;
  const ok = s.unstable === null ? s.stability >= 0.6 : !s.unstable;
  return html`<span class="badge ${ok ? 'ok' : 'warn'}" title="${t.ui('jaccard')}">${t.ui('stability')} ${t.fmt.decimal(s.stability, 2)} · ${t.ui(ok ? 'stable' : 'unstable')}</span>`;
}

function segmentCard(model: ReportModel, s: ReportSegment, t: Texts): Raw {
  const other = otherLang(t.lang);
  return html`<article class="segment-card" id="segment-${s.id}" style="--seg:${segmentColor(s.id)}">
<header class="card-head">
<span class="seg-id">#${s.id}</span>
<div class="card-names"><h3>${s.name[t.lang]}</h3><p class="alt-name" lang="${other === 'zh' ? 'zh-CN' : 'en'}">${s.name[other]}</p></div>
<div class="card-size"><strong>${t.fmt.integer(s.size)}</strong> ${t.ui('customersUnit')}<br><span>${t.fmt.percent(s.share)} ${t.ui('ofBase')}</span></div>
</header>
<div class="sharebar"><span style="width:${Math.min(100, s.share * 100).toFixed(2)}%"></span></div>
${s.stability !== null ? html`<div class="badges">${stabilityBadge(s, t)}</div>` : ''}
<div class="card-cols">
<div><h4>${t.ui('fiveLenses')}</h4>${lensTable(model, s, t)}</div>
<div><h4>${t.ui('distinguishing')}</h4>${distinguishingList(s, t)}</div>
</div>
${rulesBlock(s, t)}
${playbookBlock(s, t)}
${lostModules(model, s, t)}
${risingRow(model, s, t)}
${feedbackRow(model, s, t)}
<p class="examples"><span>${t.ui('examples')}</span> ${s.exampleCustomerIds.map((id) => html`<code>${id}</code> `)}</p>
</article>`;
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

function kpi(label: string, value: string, note?: string): Raw {
  return html`<div class="kpi"><div class="kpi-value">${value}</div><div class="kpi-label">${label}</div>${note ? html`<div class="kpi-note">${note}</div>` : ''}</div>`;
}

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


/** The report page from its model and rendered charts (pure: no I/O, no clock). */
export function reportHtml(model: ReportModel, t: Texts, charts: readonly RenderedChart[], exportsPresent: ExportFiles, links: PageLinks = { markdown: 'report.md', otherLanguage: null }): string {
  const chart = (id: string) => charts.find((c) => c.id === id);
  const q = model.quality;
  const kpis = [
    kpi(t.ui('customers'), t.fmt.integer(model.customers)),
    kpi(t.ui('segments'), t.fmt.integer(model.k)),
    q.silhouette !== null ? kpi(t.ui('silhouette'), t.fmt.decimal(q.silhouette, 3)) : '',
    q.heldOutAccuracy !== null ? kpi(t.ui('classifierAgreement'), t.fmt.percent(q.heldOutAccuracy), q.nHeldOut !== null ? `${t.fmt.integer(q.nHeldOut)} ${t.ui('heldOut')}` : undefined) : '',
    q.plantedAri !== null ? kpi(t.ui('plantedAri'), t.fmt.decimal(q.plantedAri, 3)) : '',
    q.coldStart ? kpi(t.ui('coldStart'), t.fmt.percent(q.coldStart.heldOutAccuracy), q.coldStart.majorityBaseline !== null ? t.ui('baseline', { share: t.fmt.percent(q.coldStart.majorityBaseline) }) : undefined) : '',
    q.pcaComponents !== null ? kpi(t.ui('pcaComponents'), t.fmt.integer(q.pcaComponents), q.pcaExplainedVariance !== null ? `${t.fmt.percent(q.pcaExplainedVariance)} ${t.ui('varianceKept')}` : undefined) : '',
  ];

  const sections: { id: string; title: string; body: Raw }[] = [];
  sections.push({
    id: 'overview',
    title: t.ui('overview'),
    body: html`<p class="lead">${t.ui('overviewLead')}</p><div class="charts">${figure(chart('sizes'))}${figure(chart('projection'))}</div>`,
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
  if (chart('trends')) sections.push({ id: 'trends', title: t.ui('trendsSection'), body: html`<p class="lead">${t.ui('trendsLead')}</p><div class="charts">${figure(chart('trends'))}</div>` });
  const c = model.comparison;
  if (c) {
    const facts = [
      c.agreement !== null ? `ARI ${t.fmt.decimal(c.agreement, 3)}` : '',
      c.sameIdShare !== null ? t.ui('keptIds', { share: t.fmt.percent(c.sameIdShare) }) : '',
      c.decision ? `${t.ui('decision')}: ${t.ui(c.decision === 'promote' ? 'promote' : 'hold')}` : '',
    ].filter(Boolean);
    sections.push({
      id: 'drift',
      title: t.ui('driftSection'),
      body: html`<p class="lead">${t.ui('comparedWith')} <code>${c.production}</code>${facts.length ? ` · ${facts.join(' · ')}` : ''}</p>
${c.gates.length ? html`<ul class="gates">${c.gates.map((g) => html`<li><span class="gate ${g.status}">${gateStatus(g.status, t)}</span>${g.reason}</li>`)}</ul>` : ''}
<div class="charts">${figure(chart('drift'))}${figure(chart('migration'))}</div>`,
    });
  }
  if (chart('k-selection')) {
    sections.push({
      id: 'k',
      title: t.ui('kSection'),
      body: html`<div class="charts">${figure(chart('k-selection'))}</div>
${model.kSelection.rule ? html`<p class="rule"><b>${t.ui('rule')}:</b> ${model.kSelection.rule}</p>` : ''}
<div class="chart-body">${kTable(model, t)}</div>`,
    });
  }
  sections.push({
    id: 'segments',
    title: t.ui('cards'),
    body: html`<p class="lead">${t.ui('cardsLead')}${model.ruleFidelity !== null ? html` ${t.ui('rulesLead', { fidelity: t.fmt.percent(model.ruleFidelity) })}` : ''}</p><div class="cards">${model.segments.map((s) => segmentCard(model, s, t))}</div>`,
  });
  const inputRows = model.input.tables.map(
    (tb) => html`<tr><td><code>${tb.name}</code></td><td class="num">${t.fmt.integer(tb.read)}</td><td class="num">${t.fmt.integer(tb.accepted)}</td><td class="num">${t.fmt.integer(tb.quarantined)}</td><td>${Object.entries(tb.byReason)
      .map(([r, n]) => `${r} ${t.fmt.integer(n)}`)
      .join(', ')}</td></tr>`,
  );
  const absentRows = model.input.absent.map((name) => html`<tr><td><code>${name}</code></td><td colspan="4">${t.ui('absent')}</td></tr>`);
  sections.push({
    id: 'data',
    title: t.ui('dataSection'),
    body: html`<div class="two-col"><div class="chart-body"><table class="data-table"><thead><tr><th>${t.ui('table')}</th><th class="num">${t.ui('read')}</th><th class="num">${t.ui('accepted')}</th><th class="num">${t.ui('quarantined')}</th><th>${t.ui('reasons')}</th></tr></thead><tbody>${inputRows}${absentRows}</tbody></table></div>
<div><p>${t.ui('featuresUsed', { n: model.features.names.length })}</p>${droppedList(model, t)}
<p>${t.ui('data')}: <code>${model.dataDir}</code>${model.seed !== null ? html` · ${t.ui('seed')} ${model.seed}` : ''}</p></div></div>`,
  });
  const files: [keyof ExportFiles, string, Parameters<Texts['ui']>[0]][] = [
    ['segmentsJson', 'segments.json', 'segmentsJson'],
    ['segmentsCsv', 'segments.csv', 'segmentsCsv'],
    ['assignmentsCsv', 'assignments.csv', 'assignmentsCsv'],
    ['assignmentsParquet', 'assignments.parquet', 'assignmentsParquet'],
    ['reportMd', links.markdown, 'reportMd'],
  ];
  sections.push({
    id: 'exports',
    title: t.ui('exports'),
    body: html`<p class="lead">${t.ui('exportsLead')}</p><ul class="exports">${files
      .filter(([key]) => exportsPresent[key])
      .map(([, file, key]) => html`<li><a href="${file}">${file}</a><span>${t.ui(key)}</span></li>`)}</ul>`,
  });

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
<section class="kpis" aria-label="${t.ui('overview')}">${kpis}</section>
${sections.map((s) => html`<section id="${s.id}"><h2>${s.title}</h2>${s.body}</section>\n`)}
</main>
<footer><div class="wrap">${t.ui('generatedBy', { version: model.finsegVersion })} · ${model.version}</div></footer>
</body>
</html>
`;
  return page.html;
}
