/**
 * The churn section of the report (HTML and Markdown, English and Chinese): the risk per segment
 * (mean, median, 90th percentile, share in the top decile), the backtest (ROC AUC, precision in the
 * top decile, Brier score) and the calibration table, read defensively from `churn.json`.
 */
import type { ChurnState } from '../05-classify/churn.ts';
import { html, type Raw } from './html-kit.ts';
import type { Lang, Texts } from './i18n.ts';

/** The churn state as the report reads it; null when the bundle has none or another kind. */
export type ChurnView = ChurnState;

/** The churn state, when `state` is one (bundles without a churn model have none). */
export function churnOf(state: unknown): ChurnView | null {
  const s = state as { kind?: unknown; version?: unknown } | null | undefined;
  return s && s.kind === 'finseg.churn' && s.version === 1 ? (state as ChurnView) : null;
}

type Words = { en: string; zh: string };

const TEXT = {
  title: { en: 'Churn risk', zh: '流失风险' },
  leadSubscriptions: {
    en: 'P(churn within {h} days), a logistic regression calibrated by Platt scaling, fitted on features as of {from} against churn in ({from}, {to}] from the subscriptions table. The backtest is {folds}-fold stratified cross-validation: a forward test, features before the outcome.',
    zh: '{h} 天内流失的概率：逻辑回归，经 Platt 校准；特征取自 {from}，标签为订阅表中 ({from}, {to}] 期间的流失。回测为 {folds} 折分层交叉验证，属于前瞻检验（特征早于结果）。',
  },
  leadProfile: {
    en: 'P(labelled churned) from the column "{column}" of the profile table, a logistic regression calibrated by Platt scaling. Features and label come from the same snapshot: this measures association at one time, not a forward prediction. Backtest: {folds}-fold stratified cross-validation.',
    zh: '基于档案表列“{column}”的流失概率：逻辑回归，经 Platt 校准。特征与标签来自同一快照：这衡量的是同一时点的关联，而非前瞻预测。回测：{folds} 折分层交叉验证。',
  },
  backtest: {
    en: 'ROC AUC {auc} · precision in the top decile {precision} (base rate {base}) · Brier score {brier} (base rate alone {brierBase}) · {n} customers',
    zh: 'ROC AUC {auc} · 风险最高 10% 的精确率 {precision}（基准流失率 {base}） · Brier 分数 {brier}（仅用基准率 {brierBase}） · {n} 位客户',
  },
  planted: { en: 'AUC against the planted churners of the generated data: {auc}', zh: '相对生成数据中预设流失客户的 AUC：{auc}' },
  perSegment: { en: 'Risk per segment (training customers as of {asOf})', zh: '各细分的风险（训练客户，截至 {asOf}）' },
  segment: { en: 'Segment', zh: '细分' },
  customers: { en: 'Customers', zh: '客户数' },
  mean: { en: 'Mean', zh: '均值' },
  topShare: { en: 'Share in top decile (≥ {threshold})', zh: '处于最高 10% 的占比（≥ {threshold}）' },
  calibration: { en: 'Calibration (out-of-fold)', zh: '校准（折外预测）' },
  bin: { en: 'Predicted', zh: '预测区间' },
  predicted: { en: 'Mean predicted', zh: '平均预测' },
  observed: { en: 'Observed churn', zh: '实际流失率' },
} satisfies Record<string, Words>;

/** A churn text in `lang` with `{name}` slots filled. */
function say(lang: Lang, key: keyof typeof TEXT, vars: Record<string, string | number> = {}): string {
  return TEXT[key][lang].replace(/\{(\w+)\}/g, (_, k: string) => String(vars[k] ?? `{${k}}`));
}

const pct = (x: number | null) => (x === null || Number.isNaN(x) ? '–' : `${(x * 100).toFixed(1)}%`);
const dec = (x: number | null, digits = 3) => (x === null || Number.isNaN(x) ? '–' : x.toFixed(digits));

/** The section's texts in one language, shared by the HTML and the Markdown. */
function parts(c: ChurnView, lang: Lang, names: ReadonlyMap<number, string>) {
  const b = c.backtest;
  const s = c.source;
  const lead = s.kind === 'subscriptions' ? say(lang, 'leadSubscriptions', { h: s.horizonDays, from: s.trainingAsOf, to: s.labelAsOf, folds: b.folds }) : say(lang, 'leadProfile', { column: s.column, folds: b.folds });
  const facts = say(lang, 'backtest', { auc: dec(b.auc), precision: pct(b.precisionTopDecile), base: pct(b.baseRate), brier: dec(b.brier, 4), brierBase: dec(b.brierBaseRate, 4), n: b.n });
  const asOf = s.kind === 'subscriptions' ? s.labelAsOf : s.asOf;
  const head = [say(lang, 'segment'), say(lang, 'customers'), say(lang, 'mean'), 'p50', 'p90', say(lang, 'topShare', { threshold: dec(c.topDecileThreshold) })];
  const rows = c.segments.map((g) => [names.get(g.segmentId) ?? String(g.segmentId), String(g.customers), pct(g.mean), pct(g.p50), pct(g.p90), pct(g.shareTopDecile)]);
  const calHead = [say(lang, 'bin'), say(lang, 'customers'), say(lang, 'predicted'), say(lang, 'observed')];
  const calRows = b.calibration.filter((x) => x.count > 0).map((x) => [`${x.lower.toFixed(1)}–${x.upper.toFixed(1)}`, String(x.count), pct(x.meanPredicted), pct(x.observedRate)]);
  return { lead, facts, planted: c.plantedAuc !== null ? say(lang, 'planted', { auc: dec(c.plantedAuc) }) : null, perSegment: say(lang, 'perSegment', { asOf }), head, rows, calHead, calRows };
}

/** The churn section as Markdown lines; names maps a segment id to its name in `lang`. */
export function churnMarkdown(c: ChurnView, names: ReadonlyMap<number, string>, lang: Lang): string[] {
  const p = parts(c, lang, names);
  const table = (head: string[], rows: string[][]) => [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)];
  return [`## ${say(lang, 'title')}`, '', p.lead, '', p.facts, ...(p.planted ? ['', p.planted] : []), '', `### ${p.perSegment}`, '', ...table(p.head, p.rows), '', `### ${say(lang, 'calibration')}`, '', ...table(p.calHead, p.calRows), ''];
}

/** The churn section of the HTML page (a sections.ts Section); null without a churn model. */
export function churnSection(c: ChurnView | null, t: Texts, names: ReadonlyMap<number, string>): { id: string; title: string; body: Raw } | null {
  if (!c) return null;
  const p = parts(c, t.lang, names);
  const table = (head: string[], rows: string[][]) => html`<table><thead><tr>${head.map((h) => html`<th>${h}</th>`)}</tr></thead><tbody>${rows.map((r) => html`<tr>${r.map((x) => html`<td>${x}</td>`)}</tr>`)}</tbody></table>`;
  return {
    id: 'churn',
    title: say(t.lang, 'title'),
    body: html`<p class="lead">${p.lead}</p><p>${p.facts}</p>${p.planted ? html`<p>${p.planted}</p>` : ''}<h3>${p.perSegment}</h3>${table(p.head, p.rows)}<h3>${say(t.lang, 'calibration')}</h3>${table(p.calHead, p.calRows)}`,
  };
}
