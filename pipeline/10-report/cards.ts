import { segmentColor } from './charts.ts';
import { forecastModelName, forecastText } from './i18n-forecast.ts';
import { html, otherLang, type Raw } from './html-kit.ts';
import type { Texts } from './i18n.ts';
import { lensMeasured, type ReportModel, type ReportRule, type ReportSegment } from './model.ts';
import { valueCardRow } from './value-view.ts';

/** The segment cards of the page: names and size, the five lenses, what sets the segment apart, its rules, playbook and the optional rows. */

/** Earlier users a module needs in a segment before its abandonment rate is shown: small counts give noisy rates. */
export const ABANDON_MIN_USERS = 20;

/** A raw feature value as readers expect it: shares as percentages, counts and money grouped, trends signed. */
export function featureValue(feature: string, x: number | null, t: Texts): string {
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

/** The segment's significantly rising or falling modules: verdict, change per month, the next quarter's forecast with its interval, the model and its MASE. */
function risingRow(model: ReportModel, s: ReportSegment, t: Texts): Raw {
  const series = model.trends?.rising.get(s.index);
  if (!series?.length) return html``;
  return html`<div class="card-row"><h4>${t.ui('rising')}</h4><p>${series.map(
    (r, i) =>
      html`${i ? ' · ' : ''}<span class="rise">${t.module(r.module)} ${forecastText(t.lang, r.verdict === 'falling' ? 'falling' : 'rising')} <strong>${t.fmt.signed(r.slopePerMonth * 100, Math.abs(r.slopePerMonth) < 0.001 ? 2 : 1)} ${t.ui('ppPerMonth')}</strong> → ${t.fmt.percent(r.forecast.mean, 0)} <span class="of">(${t.fmt.percent(r.forecast.low, 0)}–${t.fmt.percent(r.forecast.high, 0)}; ${forecastText(t.lang, 'modelMase', { model: forecastModelName(t.lang, r.model), mase: t.fmt.decimal(r.mase, 2) })})</span></span>`,
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

/** One segment's card. */
export function segmentCard(model: ReportModel, s: ReportSegment, t: Texts): Raw {
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
${playbookBlock(s, t)}${valueCardRow(s.value, model.value.basis, t)}
${lostModules(model, s, t)}
${risingRow(model, s, t)}
${feedbackRow(model, s, t)}
<p class="examples"><span>${t.ui('examples')}</span> ${s.exampleCustomerIds.map((id) => html`<code>${id}</code> `)}</p>
</article>`;
}
