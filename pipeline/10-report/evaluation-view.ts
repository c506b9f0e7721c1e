/**
 * The report's view of an action evaluation (evaluation.json from `finseg evaluate`): read
 * defensively (a file of another kind or version is left out), shown as a table per action in
 * the HTML page and in the Markdown, in English and Chinese.
 */
import { EVALUATION_KIND, EVALUATION_VERSION, type ActionComparison, type Effect, type Evaluation } from '../09-drift/evaluate.ts';
import { html, type Raw } from './html-kit.ts';
import type { Lang } from './i18n.ts';
import { sayEvaluate, unavailableReason } from './i18n-evaluate.ts';

/** The evaluation when `value` is one this report understands, else null. */
export function evaluationOf(value: unknown): Evaluation | null {
  const e = value as Partial<Evaluation> | null | undefined;
  if (!e || e.kind !== EVALUATION_KIND || e.formatVersion !== EVALUATION_VERSION || !Array.isArray(e.comparisons) || !Array.isArray(e.actions)) return null;
  return e as Evaluation;
}

const OUTCOMES = ['adoption', 'churn', 'nps'] as const;

const fmt = (x: number | null, outcome: (typeof OUTCOMES)[number]): string => {
  if (x === null) return '–';
  return outcome === 'nps' ? `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(2)}` : `${(x * 100).toFixed(1)}%`;
};
const fmtDiff = (x: number | null, outcome: (typeof OUTCOMES)[number]): string =>
  x === null ? '–' : outcome === 'nps' ? `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(2)}` : `${x >= 0 ? '+' : '−'}${Math.abs(x * 100).toFixed(1)} pp`;

/** The cells of one outcome row: arm values with n, the difference with its interval, the verdict. */
function effectCells(e: Effect, outcome: (typeof OUTCOMES)[number], lang: Lang): string[] {
  const verdict = e.difference === null ? sayEvaluate(lang, 'tooFew') : e.verdict ? sayEvaluate(lang, e.verdict) : sayEvaluate(lang, 'unclear');
  const ci = e.difference === null ? '–' : `${fmtDiff(e.difference, outcome)} [${fmtDiff(e.low, outcome)}, ${fmtDiff(e.high, outcome)}]`;
  return [`${fmt(e.treatment, outcome)} (n=${e.nTreatment})`, `${fmt(e.control, outcome)} (n=${e.nControl})`, ci, verdict];
}

/** The rows of an action's table: per comparison (overall first, then segments) and measured outcome. */
function rowsOf(ev: Evaluation, comparisons: readonly ActionComparison[], lang: Lang): string[][] {
  const names = new Map(ev.segments.map((s) => [s.id, s.name[lang]]));
  const rows: string[][] = [];
  for (const c of comparisons) {
    const who = c.segment === null ? sayEvaluate(lang, 'allCustomers') : `${c.segment} · ${names.get(c.segment) ?? ''}`;
    for (const o of OUTCOMES) {
      const e = c[o];
      if (e) rows.push([who, sayEvaluate(lang, o), ...effectCells(e, o, lang)]);
    }
  }
  return rows;
}

const headOf = (lang: Lang): string[] => ['segment', 'outcome', 'treatment', 'control', 'difference', 'verdict'].map((k) => sayEvaluate(lang, k as 'segment'));

/** Each action's heading: its name, variant and module. */
function actionHeading(ev: Evaluation, action: string, variant: string, lang: Lang): string {
  const a = ev.actions.find((x) => x.action === action);
  const module = a?.module ? `${sayEvaluate(lang, 'module')} ${a.module}` : sayEvaluate(lang, 'anyModule');
  return `${action} · ${variant} (${module}; ${a?.firstDate ?? ''}${a && a.lastDate !== a.firstDate ? ` – ${a.lastDate}` : ''})`;
}

/** The (action, variant) pairs in the order of the comparisons. */
function groups(ev: Evaluation): { action: string; variant: string; comparisons: ActionComparison[] }[] {
  const out: { action: string; variant: string; comparisons: ActionComparison[] }[] = [];
  for (const c of ev.comparisons) {
    const last = out[out.length - 1];
    if (last && last.action === c.action && last.variant === c.variant) last.comparisons.push(c);
    else out.push({ action: c.action, variant: c.variant, comparisons: [c] });
  }
  return out;
}

/** The notes under the lead: outcomes not measured, actions not compared. */
function notes(ev: Evaluation, lang: Lang): string[] {
  const out = OUTCOMES.flatMap((o) => (ev.unavailable[o] ? [sayEvaluate(lang, 'notMeasured', { outcome: sayEvaluate(lang, o), why: unavailableReason(lang, ev.unavailable[o]!) })] : []));
  if (ev.noControl.length) out.push(sayEvaluate(lang, 'noControl', { actions: ev.noControl.join(', ') }));
  return out;
}

/** The evaluation as Markdown lines in `lang`. */
export function evaluationMarkdown(ev: Evaluation, lang: Lang): string[] {
  const lines = [`## ${sayEvaluate(lang, 'title')}`, '', sayEvaluate(lang, 'lead', { source: ev.segmentSource }), '', sayEvaluate(lang, 'definitions', { window: ev.windowDays, churn: ev.churnDays }), ''];
  for (const n of notes(ev, lang)) lines.push(`- ${n}`);
  if (notes(ev, lang).length) lines.push('');
  for (const g of groups(ev)) {
    lines.push(`### ${actionHeading(ev, g.action, g.variant, lang)}`, '', `| ${headOf(lang).join(' | ')} |`, '|---|---|---:|---:|---:|---|');
    for (const r of rowsOf(ev, g.comparisons, lang)) lines.push(`| ${r.map((x) => x.replace(/\|/g, '\\|')).join(' | ')} |`);
    lines.push('');
  }
  return lines;
}

/** The page section of the evaluation. */
export function evaluationSection(ev: Evaluation, lang: Lang): { id: string; title: string; body: Raw } {
  const tables: Raw[] = groups(ev).map(
    (g) => html`<h3>${actionHeading(ev, g.action, g.variant, lang)}</h3>
<table class="data-table"><thead><tr>${headOf(lang).map((h) => html`<th>${h}</th>`)}</tr></thead><tbody>${rowsOf(ev, g.comparisons, lang).map((r) => html`<tr>${r.map((x, i) => (i >= 2 && i <= 4 ? html`<td class="num">${x}</td>` : html`<td>${x}</td>`))}</tr>`)}</tbody></table>`,
  );
  return {
    id: 'evaluation',
    title: sayEvaluate(lang, 'title'),
    body: html`<p class="lead">${sayEvaluate(lang, 'lead', { source: ev.segmentSource })}</p><p>${sayEvaluate(lang, 'definitions', { window: ev.windowDays, churn: ev.churnDays })}</p>${notes(ev, lang).map((n) => html`<p class="rule">${n}</p>`)}${tables}`,
  };
}
