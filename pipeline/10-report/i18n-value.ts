import type { Lang } from './i18n.ts';

/** The report's words for the value per segment (07-map/value.ts), English and Chinese; `{name}` slots are filled by `valueSay`. */
const VALUE_WORDS = {
  section: { en: 'Value per segment', zh: '各分群价值' },
  cardTitle: { en: 'Value', zh: '价值' },
  lead: {
    en: 'Recurring revenue from the subscriptions table at {asOf}, in {currency}; churn, net revenue retention (NRR), expansion and contraction over the 12 months from {from}, as shares of the MRR of the customers paying then.',
    zh: '订阅表在 {asOf} 的经常性收入（{currency}）；流失、净收入留存（NRR）、扩展与收缩按 {from} 起 12 个月计算，以当时付费客户的 MRR 为基数。',
  },
  noCurrency: { en: 'the currency the rows do not state', zh: '未注明的币种' },
  leftOut: {
    en: '{customers} customers with {rows} subscription rows in other currencies are left out of the sums (there are no exchange rates offline).',
    zh: '{customers} 个客户的 {rows} 条其他币种订阅记录未计入合计（离线时没有汇率）。',
  },
  absent: { en: 'Value per segment: no subscriptions table in this export.', zh: '各分群价值：本次导出没有订阅表。' },
  absentLead: { en: 'No subscriptions table in this export, so no revenue, churn or retention per segment.', zh: '本次导出没有订阅表，因此没有各分群的收入、流失与留存。' },
  chart: { en: 'Share of customers against share of revenue (MRR)', zh: '客户占比与收入（MRR）占比' },
  chartCaption: { en: 'A segment above the diagonal holds more revenue than its share of customers.', zh: '位于对角线上方的分群，收入占比高于其客户占比。' },
  customerShare: { en: 'Share of customers', zh: '客户占比' },
  revenueShare: { en: 'Share of MRR', zh: 'MRR 占比' },
  segment: { en: 'Segment', zh: '分群' },
  all: { en: 'All customers', zh: '全部客户' },
  customers: { en: 'Customers', zh: '客户数' },
  paying: { en: 'Paying', zh: '付费客户' },
  mrr: { en: 'MRR', zh: 'MRR' },
  arr: { en: 'ARR', zh: 'ARR' },
  arpc: { en: 'MRR per paying customer', zh: '每付费客户 MRR' },
  seats: { en: 'Seats', zh: '席位' },
  grossChurn: { en: 'Gross MRR churn', zh: 'MRR 毛流失率' },
  logoChurn: { en: 'Logo churn', zh: '客户流失率' },
  nrr: { en: 'NRR', zh: 'NRR' },
  expansion: { en: 'Expansion', zh: '扩展' },
  contraction: { en: 'Contraction', zh: '收缩' },
  card: {
    en: '**Value.** MRR {mrr} ({share} of all), ARR {arr}; {paying} paying customers, {arpc} each; 12 months: gross MRR churn {churn}, logo churn {logo}, NRR {nrr}, expansion {expansion}.',
    zh: '**价值。** MRR {mrr}（占全部 {share}），ARR {arr}；付费客户 {paying} 个，每客户 {arpc}；12 个月：MRR 毛流失率 {churn}，客户流失率 {logo}，NRR {nrr}，扩展 {expansion}。',
  },
} as const satisfies Record<string, Record<Lang, string>>;

/** A key of the value words. */
export type ValueKey = keyof typeof VALUE_WORDS;

/** The value words of `key` in `lang`, with `{name}` slots filled from `vars`. */
export function valueSay(lang: Lang, key: ValueKey, vars: Record<string, string | number> = {}): string {
  return Object.entries(vars).reduce<string>((s, [k, v]) => s.replaceAll(`{${k}}`, String(v)), VALUE_WORDS[key][lang]);
}
