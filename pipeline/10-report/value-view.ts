import type { SegmentValue, ValueBasis } from '../07-map/value.ts';
import { segmentScale, withConfig, type ChartSpec, type RenderedChart, type SegmentKey } from './charts.ts';
import { figure, html, type Raw } from './html-kit.ts';
import type { Texts } from './i18n.ts';
import { valueSay } from './i18n-value.ts';

/**
 * The value per segment (07-map/value.ts) as the report shows it: segments.csv columns, a line
 * on each card, a section with a table and a chart of share of customers against share of MRR,
 * in Markdown and HTML. Absent value (no subscriptions table) shows as one sentence saying so.
 */

/** What the value renderers need of the report: the basis, the cards' values and the absent tables. */
export interface ValueView {
  basis: ValueBasis | null;
  /** Whether ingest listed `subscriptions` as absent (then the report says so). */
  subscriptionsAbsent: boolean;
}

/** segments.csv's value columns, in order (docs/report.md). */
export const VALUE_CSV_COLUMNS = [
  'customers_active',
  'customers_paying',
  'mrr',
  'arr',
  'mrr_share',
  'customer_share',
  'arpc',
  'seats',
  'start_customers_12m',
  'start_mrr_12m',
  'churned_customers_12m',
  'churned_mrr_12m',
  'gross_mrr_churn_12m',
  'logo_churn_12m',
  'nrr_12m',
  'expansion_12m',
  'contraction_12m',
] as const;

/** A segment's value as segments.csv fields, in VALUE_CSV_COLUMNS order. */
export function valueCsvFields(v: SegmentValue | undefined): (number | null)[] {
  if (!v) return VALUE_CSV_COLUMNS.map(() => null);
  return [
    v.activeCustomers,
    v.payingCustomers,
    v.mrr,
    v.arr,
    v.mrrShare,
    v.customerShare,
    v.arpc,
    v.seats,
    v.startCustomers,
    v.startMrr,
    v.churnedCustomers,
    v.churnedMrr,
    v.grossMrrChurn,
    v.logoChurn,
    v.nrr,
    v.expansion,
    v.contraction,
  ];
}

const money = (x: number | null, t: Texts) => (x === null ? '–' : Math.abs(x) >= 100 ? t.fmt.integer(x) : t.fmt.decimal(x, 2));
const rate = (x: number | null, t: Texts) => (x === null ? '–' : t.fmt.percent(x, 1));
const currencyOf = (basis: ValueBasis, t: Texts) => basis.currency ?? valueSay(t.lang, 'noCurrency');

/** The sentence on a card, from its value (Markdown emphasis on "Value."). */
export function valueCardText(v: SegmentValue, basis: ValueBasis, t: Texts): string {
  const unit = basis.currency ? ` ${basis.currency}` : '';
  return valueSay(t.lang, 'card', {
    mrr: `${money(v.mrr, t)}${unit}`,
    share: rate(v.mrrShare, t),
    arr: `${money(v.arr, t)}${unit}`,
    paying: t.fmt.integer(v.payingCustomers),
    arpc: `${money(v.arpc, t)}${unit}`,
    churn: rate(v.grossMrrChurn, t),
    logo: rate(v.logoChurn, t),
    nrr: rate(v.nrr, t),
    expansion: rate(v.expansion, t),
  });
}

/** The basis sentences: window, currency and what was left out. */
function basisText(basis: ValueBasis, t: Texts): string[] {
  const lead = valueSay(t.lang, 'lead', { asOf: basis.asOf, from: basis.from, currency: currencyOf(basis, t) });
  return basis.leftOutCustomers > 0 ? [lead, valueSay(t.lang, 'leftOut', { customers: t.fmt.integer(basis.leftOutCustomers), rows: t.fmt.integer(basis.leftOutRows) })] : [lead];
}

const TABLE_KEYS = ['customers', 'paying', 'mrr', 'arr', 'arpc', 'seats', 'grossChurn', 'logoChurn', 'nrr', 'expansion', 'contraction'] as const;

function tableCells(v: SegmentValue, t: Texts): string[] {
  return [
    t.fmt.integer(v.customers),
    t.fmt.integer(v.payingCustomers),
    `${money(v.mrr, t)} (${rate(v.mrrShare, t)})`,
    money(v.arr, t),
    money(v.arpc, t),
    v.seats === null ? '–' : t.fmt.integer(v.seats),
    rate(v.grossMrrChurn, t),
    rate(v.logoChurn, t),
    rate(v.nrr, t),
    rate(v.expansion, t),
    rate(v.contraction, t),
  ];
}

/** The Markdown section: the basis, one table row per segment and the total; one sentence when the export had no subscriptions table. */
export function valueMarkdown(view: ValueView, cards: readonly { id: number; name: { en: string; zh: string }; value?: SegmentValue }[], t: Texts): string[] {
  if (!view.basis) return view.subscriptionsAbsent ? [valueSay(t.lang, 'absent'), ''] : [];
  const cell = (s: string) => s.replaceAll('|', '\\|');
  const head = [valueSay(t.lang, 'segment'), ...TABLE_KEYS.map((k) => valueSay(t.lang, k))];
  const lines = [`## ${valueSay(t.lang, 'section')}`, '', ...basisText(view.basis, t), '', `| ${head.join(' | ')} |`, `|---|${TABLE_KEYS.map(() => '---:').join('|')}|`];
  for (const c of cards) if (c.value) lines.push(`| ${c.id} ${cell(c.name[t.lang])} | ${tableCells(c.value, t).join(' | ')} |`);
  lines.push(`| ${valueSay(t.lang, 'all')} | ${tableCells(view.basis.total, t).join(' | ')} |`, '');
  return lines;
}

/** Each segment's share of customers (x) against its share of MRR (y), with the diagonal where the two are equal. */
export function valueSharesSpec(segments: readonly (SegmentKey & { value: SegmentValue })[], t: Texts): ChartSpec {
  const values = segments.map((s) => ({ segment: s.label, tag: `#${s.id}`, customers: s.value.customerShare ?? 0, revenue: s.value.mrrShare ?? 0 }));
  const top = Math.min(1, Math.max(0.05, ...values.flatMap((v) => [v.customers, v.revenue])) * 1.1);
  const axis = (title: string) => ({ title, axis: { format: '.0%', tickCount: 5 }, scale: { domain: [0, top] } });
  return {
    id: 'value',
    title: valueSay(t.lang, 'chart'),
    caption: valueSay(t.lang, 'chartCaption'),
    wide: false,
    spec: withConfig(
      {
        width: 360,
        height: 300,
        layer: [
          { data: { values: [{ a: 0 }, { a: top }] }, mark: { type: 'line', color: '#9ca3af', strokeDash: [4, 4] }, encoding: { x: { field: 'a', type: 'quantitative', ...axis(valueSay(t.lang, 'customerShare')) }, y: { field: 'a', type: 'quantitative', ...axis(valueSay(t.lang, 'revenueShare')) } } },
          {
            data: { values },
            mark: { type: 'circle', size: 140, opacity: 0.85 },
            encoding: { x: { field: 'customers', type: 'quantitative' }, y: { field: 'revenue', type: 'quantitative' }, color: { field: 'segment', type: 'nominal', scale: segmentScale(segments), legend: null }, tooltip: [{ field: 'segment' }] },
          },
          { data: { values }, mark: { type: 'text', dx: 10, align: 'left', fontSize: 11, fontWeight: 700 }, encoding: { x: { field: 'customers', type: 'quantitative' }, y: { field: 'revenue', type: 'quantitative' }, text: { field: 'tag' } } },
        ],
      },
      valueSay(t.lang, 'chart'),
    ),
  };
}

/** The HTML section: basis, table and chart; the one sentence when the export had no subscriptions table; null otherwise. */
export function valueSection(view: ValueView, segments: readonly { id: number; name: { en: string; zh: string }; value?: SegmentValue }[], t: Texts, chart: RenderedChart | undefined): { id: string; title: string; body: Raw } | null {
  const title = valueSay(t.lang, 'section');
  if (!view.basis) return view.subscriptionsAbsent ? { id: 'value', title, body: html`<p class="lead">${valueSay(t.lang, 'absentLead')}</p>` } : null;
  const head = TABLE_KEYS.map((k) => html`<th class="num">${valueSay(t.lang, k)}</th>`);
  const row = (label: string, v: SegmentValue) => html`<tr><th scope="row">${label}</th>${tableCells(v, t).map((c) => html`<td class="num">${c}</td>`)}</tr>`;
  const rows = segments.flatMap((s) => (s.value ? [row(`#${s.id} ${s.name[t.lang]}`, s.value)] : []));
  return {
    id: 'value',
    title,
    body: html`${basisText(view.basis, t).map((p) => html`<p class="lead">${p}</p>`)}
<div class="chart-body"><table class="data-table"><thead><tr><th>${valueSay(t.lang, 'segment')}</th>${head}</tr></thead><tbody>${rows}${row(valueSay(t.lang, 'all'), view.basis.total)}</tbody></table></div>
<div class="charts">${figure(chart)}</div>`,
  };
}

/** The value row of an HTML card; empty without a value. */
export function valueCardRow(v: SegmentValue | undefined, basis: ValueBasis | null, t: Texts): Raw {
  if (!v || !basis) return html``;
  const text = valueCardText(v, basis, t).replace(/^\*\*[^*]+\*\*\s*/, '');
  return html`<div class="card-row"><h4>${valueSay(t.lang, 'cardTitle')}</h4><p>${text}</p></div>`;
}
