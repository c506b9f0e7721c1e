import { WINDOW_DAYS } from '../02-features/catalog.ts';
import type { FeatureSummary } from './summaries.ts';
import type { Bilingual } from './playbooks.ts';

/**
 * What a segment measurably does, as facts that are true of its customers' values: the median
 * customer is lapsed, shrinking, growing or new; the segment buys more often, in smaller baskets,
 * leans on a module or a channel. Names and playbooks are built from these facts only, so a
 * name or an action never claims what the numbers do not show. Every fact carries its evidence.
 */

const isModuleShare = (f: string) => f.startsWith('share_');

/** Thresholds of the behaviour facts (map config `behaviour`); documented in docs/playbooks.md. */
export interface BehaviourParams {
  /** The median customer with at least this many days since its last activity / purchase is lapsed. */
  lapseDays: number;
  /** Lapsed names round the median down to the largest of these (days), at least lapseDays. */
  lapseSteps: number[];
  /** The median window-over-window change at or below this (−0.2 = −20%) is declining. */
  declineChange: number;
  /** The median window-over-window change at or above this (+0.25 = +25%) is growing. */
  growthChange: number;
  /** The median customer with less tenure than this many days is new (two windows: until then its trend compares against a window before it joined). */
  newDays: number;
  /** A relative fact (frequent, small baskets, mobile-first …) needs |standardised difference| ≥ this. */
  minEffect: number;
  /** A module is a segment's habit when it takes at least this share of its activity … */
  moduleMinShare: number;
  /** … and at least this many times its share across the rest of the base. */
  moduleMinLift: number;
  /** A channel leads a segment when it carries at least this mean share of its events. */
  channelMinShare: number;
}

/** Default behaviour thresholds. */
export const defaultBehaviourParams: BehaviourParams = {
  lapseDays: WINDOW_DAYS,
  lapseSteps: [90, 180, 365],
  declineChange: -0.2,
  growthChange: 0.25,
  newDays: 2 * WINDOW_DAYS,
  minEffect: 0.5,
  moduleMinShare: 0.15,
  moduleMinLift: 1.5,
  channelMinShare: 0.4,
};

/** The kinds of facts; the first five are states (at most one per segment). */
export type FactKind =
  | 'lapsed' | 'declining' | 'growing' | 'new'
  | 'frequent' | 'occasional' | 'large_baskets' | 'small_baskets' | 'high_spend' | 'low_spend'
  | 'heavy_usage' | 'light_usage' | 'module' | 'mobile' | 'api' | 'desktop' | 'broad' | 'narrow'
  | 'multi_currency' | 'refunds' | 'long_standing';

/** A state outranks every relative fact; the largest finite number, so the card's JSON keeps it (JSON has no Infinity). */
const STATE_STRENGTH = Number.MAX_VALUE;

/** Kinds that say where a segment is heading (the playbook's motion), not what it looks like. */
export const STATE_KINDS: readonly FactKind[] = ['lapsed', 'declining', 'growing', 'new'];

/** A true statement about a segment, with its wording and the numbers behind it. */
export interface BehaviourFact {
  kind: FactKind;
  /** The feature(s) the fact reads. */
  features: string[];
  /** The phrase a name uses, lower-case first (the name capitalises it when it leads). */
  tag: Bilingual;
  /** The measured numbers, e.g. "median 214 days since last purchase (base median 35)". */
  evidence: Bilingual;
  /** |standardised difference| of the fact's main feature; states rank above every other fact. */
  strength: number;
  /** For `module` facts, the module share feature (share_<module> or share_vendor_<slug>). */
  module?: string;
  /** For a combined fact ("frequent small baskets"), the kind of its second half. */
  with?: FactKind;
}

/** What behaviourFacts needs besides the summaries. */
export interface FactContext {
  /** Display name of a feature (vendor modules: the vendor's own text), both languages. */
  label: (feature: string) => Bilingual;
  /** Whether the export has usage events (activity wording) or only transactions (purchase wording). */
  hasUsage: boolean;
}

const pct = (x: number) => `${Math.round(x * 100)}%`;
// Above +200% the ratio says more than the percentage (a previous window near zero inflates it).
const signedPct = (x: number) => (x > 2 ? `×${(x + 1).toFixed(x + 1 >= 10 ? 0 : 1)}` : `${x >= 0 ? '+' : '−'}${Math.abs(Math.round(x * 100))}%`);
const num = (x: number) => (Math.abs(x) >= 100 ? Math.round(x).toLocaleString('en-US') : Math.abs(x) >= 10 ? x.toFixed(0) : Number(x.toPrecision(2)).toString());
const usable = (s: FeatureSummary | undefined): s is FeatureSummary => s !== undefined && Number.isFinite(s.median);

/** The first feature of `names` the segment has a summary for. */
function pick(stats: Record<string, FeatureSummary>, names: readonly string[]): [string, FeatureSummary] | undefined {
  for (const f of names) if (usable(stats[f])) return [f, stats[f]];
  return undefined;
}

/** The state of a segment: lapsed, else declining, else new, else growing; undefined when steady. */
function stateFact(stats: Record<string, FeatureSummary>, ctx: FactContext, p: BehaviourParams): BehaviourFact | undefined {
  const what = ctx.hasUsage ? { en: 'activity', zh: '活动', since: { en: 'since last activity', zh: '天无任何活动' } } : { en: 'purchase', zh: '购买', since: { en: 'since last purchase', zh: '天未购买' } };
  const txnRecency = stats['txn_recency_days'];
  const anyRecency = stats['recency_days'];
  // The usage-wide recency speaks for "no activity"; without usage, either recency is a purchase recency.
  const recency = usable(anyRecency) && anyRecency.median >= p.lapseDays ? { f: 'recency_days', s: anyRecency, w: what } : usable(txnRecency) && txnRecency.median >= p.lapseDays ? { f: 'txn_recency_days', s: txnRecency, w: { en: 'purchase', zh: '购买', since: { en: 'since last purchase', zh: '天未购买' } } } : undefined;
  if (recency) {
    const days = Math.max(p.lapseDays, ...p.lapseSteps.filter((d) => d <= recency.s.median));
    return {
      kind: 'lapsed',
      features: [recency.f],
      tag: { en: `lapsed: no ${recency.w.en} in ${days} days`, zh: `流失：${days}天无${recency.w.zh}` },
      evidence: {
        en: `median ${num(recency.s.median)} days ${recency.w.since.en} (base median ${num(recency.s.baseMedian)}); ${pct(recency.s.lapsedShare)} of customers over ${p.lapseDays} days`,
        zh: `中位数${num(recency.s.median)}${recency.w.since.zh}（全体中位数${num(recency.s.baseMedian)}）；${pct(recency.s.lapsedShare)}的客户超过${p.lapseDays}天`,
      },
      strength: STATE_STRENGTH,
    };
  }
  // Without any recency feature, an empty purchase window is the lapse signal.
  const window = stats['txn_count_90'];
  if (!usable(txnRecency) && !usable(anyRecency) && usable(window) && window.median === 0 && window.baseMean > 0) {
    return {
      kind: 'lapsed',
      features: ['txn_count_90'],
      tag: { en: `lapsed: no purchase in ${WINDOW_DAYS} days`, zh: `流失：${WINDOW_DAYS}天无购买` },
      evidence: { en: `${pct(window.zeroShare)} of customers with no purchase in the last ${WINDOW_DAYS} days`, zh: `${pct(window.zeroShare)}的客户近${WINDOW_DAYS}天无购买` },
      strength: STATE_STRENGTH,
    };
  }
  const tenure = pick(stats, ['txn_tenure_days', 'tenure_days']);
  // New must also set the segment apart: in a one-year export every customer is "new" by the clock alone.
  if (tenure && tenure[1].median < p.newDays && tenure[1].standardisedDifference <= -p.minEffect) {
    const txn = tenure[0] === 'txn_tenure_days';
    const since = txn ? bi('since first purchase', '天前首次购买') : bi('since signup', '天前签约');
    return {
      kind: 'new',
      features: [tenure[0]],
      tag: bi(`new: ${txn ? 'first purchase' : 'signed up'} within ${p.newDays} days`, `新客户：${p.newDays}天内${txn ? '首购' : '签约'}`),
      evidence: bi(`median ${num(tenure[1].median)} days ${since.en} (base median ${num(tenure[1].baseMedian)})`, `中位数${num(tenure[1].median)}${since.zh}（全体中位数${num(tenure[1].baseMedian)}）`),
      strength: STATE_STRENGTH,
    };
  }
  return trendFact(stats, p);
}

/** Declining or growing from the median window-over-window trends (ln((this + 1) / (previous + 1))). */
function trendFact(stats: Record<string, FeatureSummary>, p: BehaviourParams): BehaviourFact | undefined {
  const words: Record<string, Bilingual> = { usage_trend: { en: 'usage', zh: '使用量' }, volume_trend: { en: 'purchase volume', zh: '交易额' } };
  const trends = (['usage_trend', 'volume_trend'] as const).filter((f) => usable(stats[f])).map((f) => ({ f, change: Math.exp(stats[f]!.median) - 1, s: stats[f]! }));
  for (const [kind, hit] of [['declining', (c: number) => c <= p.declineChange], ['growing', (c: number) => c >= p.growthChange]] as const) {
    const hits = trends.filter((t) => hit(t.change));
    // Opposite trends on usage and volume are no clear direction.
    if (hits.length === 0 || trends.some((t) => !hits.includes(t) && (kind === 'declining' ? t.change >= p.growthChange : t.change <= p.declineChange))) continue;
    const subject = hits.map((t) => words[t.f]!);
    const evidence = hits.map((t) => ({
      en: `${words[t.f]!.en} ${signedPct(t.change)} vs the previous ${WINDOW_DAYS} days (median customer; base ${signedPct(Math.exp(t.s.baseMedian) - 1)})`,
      zh: `${words[t.f]!.zh}较前${WINDOW_DAYS}天${signedPct(t.change)}（中位客户；全体${signedPct(Math.exp(t.s.baseMedian) - 1)}）`,
    }));
    const down = kind === 'declining';
    return {
      kind,
      features: hits.map((t) => t.f),
      tag: { en: `${down ? 'shrinking' : 'growing'} ${subject.map((w) => w.en).join(' and ')}`, zh: `${subject.map((w) => w.zh).join('与')}${down ? '下滑' : '上升'}` },
      evidence: { en: evidence.map((e) => e.en).join('; '), zh: evidence.map((e) => e.zh).join('；') },
      strength: STATE_STRENGTH,
    };
  }
  return undefined;
}

/** A relative fact: the segment sits above (hi) or below (lo) the base on one feature. */
interface RelativeSpec {
  features: readonly string[];
  hi?: { kind: FactKind; tag: Bilingual };
  lo?: { kind: FactKind; tag: Bilingual };
  /** Means for shares (a median share is often 0), medians for counts and amounts. */
  by: 'median' | 'mean';
  /** Extra truth condition on the segment's value, e.g. at least two currencies. */
  also?: (s: FeatureSummary, dir: 'hi' | 'lo', p: BehaviourParams) => boolean;
  /** Whether the feature only sees the last window (meaningless for a lapsed segment). */
  windowed: (feature: string) => boolean;
  evidence: (feature: string, s: FeatureSummary) => Bilingual;
}

const bi = (en: string, zh: string): Bilingual => ({ en, zh });
const windowedName = (f: string) => f.endsWith('_90') || f === 'txn_avg_size';
const always = () => true;
const medianEvidence = (en: (v: string) => string, zh: (v: string) => string) => (_f: string, s: FeatureSummary) => bi(`${en(num(s.median))} (base median ${num(s.baseMedian)})`, `${zh(num(s.median))}（全体中位数${num(s.baseMedian)}）`);
const shareEvidence = (what: Bilingual) => (_f: string, s: FeatureSummary) => bi(`${what.en} ${pct(s.mean)} of events (base ${pct(s.baseMean)})`, `${what.zh}占事件的${pct(s.mean)}（全体${pct(s.baseMean)}）`);

const RELATIVE: readonly RelativeSpec[] = [
  {
    features: ['txn_count_all', 'txn_active_months', 'txn_count_90'],
    hi: { kind: 'frequent', tag: bi('frequent purchases', '购买频繁') },
    lo: { kind: 'occasional', tag: bi('occasional purchases', '偶尔购买') },
    by: 'median',
    windowed: windowedName,
    evidence: (f, s) => (f === 'txn_active_months' ? medianEvidence((v) => `median ${v} months with a purchase`, (v) => `中位数${v}个月有购买`) : f === 'txn_count_90' ? medianEvidence((v) => `median ${v} purchases in ${WINDOW_DAYS} days`, (v) => `${WINDOW_DAYS}天内购买中位数${v}次`) : medianEvidence((v) => `median ${v} purchases`, (v) => `购买次数中位数${v}`))(f, s),
  },
  {
    features: ['txn_avg_basket', 'txn_avg_size'],
    hi: { kind: 'large_baskets', tag: bi('large baskets', '大额订单') },
    lo: { kind: 'small_baskets', tag: bi('small baskets', '小额订单') },
    by: 'median',
    windowed: windowedName,
    evidence: medianEvidence((v) => `median basket ${v}`, (v) => `客单价中位数${v}`),
  },
  {
    features: ['txn_volume_all', 'txn_volume_90'],
    hi: { kind: 'high_spend', tag: bi('high spend', '消费额高') },
    lo: { kind: 'low_spend', tag: bi('low spend', '消费额低') },
    by: 'median',
    windowed: windowedName,
    evidence: medianEvidence((v) => `median spend ${v}`, (v) => `消费额中位数${v}`),
  },
  {
    features: ['events_90'],
    hi: { kind: 'heavy_usage', tag: bi('heavy usage', '高频使用') },
    lo: { kind: 'light_usage', tag: bi('light usage', '轻度使用') },
    by: 'median',
    windowed: always,
    evidence: medianEvidence((v) => `median ${v} events in ${WINDOW_DAYS} days`, (v) => `${WINDOW_DAYS}天事件数中位数${v}`),
  },
  {
    features: ['module_breadth_90'],
    hi: { kind: 'broad', tag: bi('broad module use', '多模块应用') },
    lo: { kind: 'narrow', tag: bi('few modules', '使用模块少') },
    by: 'median',
    windowed: always,
    evidence: medianEvidence((v) => `median ${v} modules used in ${WINDOW_DAYS} days`, (v) => `${WINDOW_DAYS}天使用模块数中位数${v}`),
  },
  { features: ['device_mobile_share'], hi: { kind: 'mobile', tag: bi('mobile-first', '移动优先') }, by: 'mean', also: (s, _d, p) => s.mean >= p.channelMinShare, windowed: always, evidence: shareEvidence(bi('mobile carries', '移动端')) },
  { features: ['device_api_share'], hi: { kind: 'api', tag: bi('API-integrated', 'API集成') }, by: 'mean', also: (s, _d, p) => s.mean >= p.channelMinShare, windowed: always, evidence: shareEvidence(bi('the API carries', 'API')) },
  { features: ['device_desktop_share'], hi: { kind: 'desktop', tag: bi('desktop-bound', '桌面端为主') }, by: 'mean', also: (s, _d, p) => s.mean >= p.channelMinShare, windowed: always, evidence: shareEvidence(bi('the desktop client carries', '桌面端')) },
  {
    features: ['currencies_90'],
    hi: { kind: 'multi_currency', tag: bi('multi-currency', '多币种经营') },
    by: 'median',
    also: (s) => s.median >= 2,
    windowed: always,
    evidence: medianEvidence((v) => `median ${v} currencies in ${WINDOW_DAYS} days`, (v) => `${WINDOW_DAYS}天币种数中位数${v}`),
  },
  {
    features: ['refund_share'],
    hi: { kind: 'refunds', tag: bi('refund-heavy', '退款频繁') },
    by: 'mean',
    windowed: always,
    evidence: (_f, s) => bi(`${pct(s.mean)} of transactions are refunds (base ${pct(s.baseMean)})`, `退款占交易的${pct(s.mean)}（全体${pct(s.baseMean)}）`),
  },
  {
    features: ['tenure_days', 'txn_tenure_days'],
    hi: { kind: 'long_standing', tag: bi('long-standing customers', '老客户') },
    by: 'median',
    also: (s) => s.median >= 730,
    windowed: () => false,
    evidence: (_f, s) => bi(`median ${(s.median / 365).toFixed(1)} years as a customer (base ${(s.baseMedian / 365).toFixed(1)})`, `客户年限中位数${(s.median / 365).toFixed(1)}年（全体${(s.baseMedian / 365).toFixed(1)}年）`),
  },
];

/** Whether the segment's value sits on the `dir` side of the base, by the spec's statistic, with a large enough effect. */
function holds(s: FeatureSummary, dir: 'hi' | 'lo', by: 'median' | 'mean', p: BehaviourParams): boolean {
  const d = s.standardisedDifference;
  if (Number.isNaN(d) || Math.abs(d) < p.minEffect || (d > 0) !== (dir === 'hi')) return false;
  const [own, base] = by === 'median' ? [s.median, s.baseMedian] : [s.mean, s.baseMean];
  return dir === 'hi' ? own > base : own < base;
}

/** The relative facts of a segment, strongest first; window-only features are left out for a lapsed one. */
function relativeFacts(stats: Record<string, FeatureSummary>, ctx: FactContext, p: BehaviourParams, lapsed: boolean): BehaviourFact[] {
  const out: BehaviourFact[] = [];
  for (const spec of RELATIVE) {
    const found = pick(stats, spec.features.filter((f) => !(lapsed && spec.windowed(f))));
    if (!found) continue;
    const [f, s] = found;
    for (const dir of ['hi', 'lo'] as const) {
      const side = spec[dir];
      if (side && holds(s, dir, spec.by, p) && (spec.also?.(s, dir, p) ?? true)) {
        out.push({ kind: side.kind, features: [f], tag: side.tag, evidence: spec.evidence(f, s), strength: Math.abs(s.standardisedDifference) });
      }
    }
  }
  if (!lapsed) {
    for (const [f, s] of Object.entries(stats)) {
      if (!isModuleShare(f) || !Number.isFinite(s.mean) || !holds(s, 'hi', 'mean', p) || s.mean < p.moduleMinShare || s.mean < p.moduleMinLift * s.baseMean) continue;
      const label = ctx.label(f);
      out.push({
        kind: 'module',
        features: [f],
        module: f,
        tag: bi(`heavy users of ${label.en}`, `重度使用${label.zh}`),
        evidence: bi(`${label.en} takes ${pct(s.mean)} of activity (base ${pct(s.baseMean)})`, `${label.zh}占活动的${pct(s.mean)}（全体${pct(s.baseMean)}）`),
        strength: Math.abs(s.standardisedDifference),
      });
    }
  }
  out.sort((a, b) => b.strength - a.strength);
  return combineBaskets(out);
}

const COMBOS: Record<string, Bilingual> = {
  'frequent+small_baskets': bi('frequent small baskets', '高频小额购买'),
  'frequent+large_baskets': bi('frequent large baskets', '高频大额购买'),
  'occasional+small_baskets': bi('occasional small baskets', '低频小额购买'),
  'occasional+large_baskets': bi('occasional large baskets', '低频大额购买'),
};

/** Frequency and basket size read best as one phrase ("frequent small baskets"), at the rank of the stronger. */
function combineBaskets(facts: BehaviourFact[]): BehaviourFact[] {
  const freq = facts.find((f) => f.kind === 'frequent' || f.kind === 'occasional');
  const basket = facts.find((f) => f.kind === 'small_baskets' || f.kind === 'large_baskets');
  if (!freq || !basket) return facts;
  const first = facts.indexOf(freq) < facts.indexOf(basket) ? freq : basket;
  const combined: BehaviourFact = {
    kind: freq.kind,
    features: [...freq.features, ...basket.features],
    tag: COMBOS[`${freq.kind}+${basket.kind}`]!,
    evidence: bi(`${freq.evidence.en}; ${basket.evidence.en}`, `${freq.evidence.zh}；${basket.evidence.zh}`),
    strength: first.strength,
    with: basket.kind,
  };
  return facts.flatMap((f) => (f === first ? [combined] : f === freq || f === basket ? [] : [f]));
}

/** Every fact true of a segment: its state first (when it has one), then the relative facts, strongest first. */
export function behaviourFacts(stats: Record<string, FeatureSummary>, ctx: FactContext, params: BehaviourParams = defaultBehaviourParams): BehaviourFact[] {
  const state = stateFact(stats, ctx, params);
  return [...(state ? [state] : []), ...relativeFacts(stats, ctx, params, state?.kind === 'lapsed')];
}
