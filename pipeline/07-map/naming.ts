import { MODULES, type Module } from '../01-ingest/contract.ts';
import type { IndustryLabel, LifecycleLabel, SizeLabel } from '../06-categorize/lenses.ts';
import type { BehaviourFact } from './behaviour.ts';
import type { Bilingual } from './playbooks.ts';

/**
 * Readable segment names in English and Simplified Chinese, e.g. "Growth-stage small retailers
 * · mobile-first" / "成长期小型零售企业 · 移动优先", or, when the lenses cannot tell segments
 * apart, "Lapsed: no purchase in 90 days" / "流失：90天无购买": the dominant labels of the
 * measurable lenses when they differ between segments, then the segment's behaviour facts
 * (behaviour.ts: true of its measured values), then tags of its distinguishing features. Names
 * are deterministic and unique within a model in both languages.
 */

/** Naming settings. */
export interface NamingParams {
  /** A distinguishing feature names the behaviour only when |standardised difference| reaches this (Cohen's "medium" effect). */
  tagMinEffect: number;
}

/** Default naming settings. */
export const defaultNamingParams: NamingParams = { tagMinEffect: 0.5 };

/** What naming needs of one segment. */
export interface NamingInput {
  id: number;
  /** Dominant label per lens, or 'mixed'. */
  dominant: { size: string; industry: string; lifecycle: string };
  /** Distinguishing features, strongest first (sign = direction vs the rest of the base). */
  distinguishing: readonly { feature: string; standardisedDifference: number; perfect?: boolean; segmentMean?: number; restMean?: number }[];
  /** Behaviour facts of the segment, state first (behaviourFacts); they name it before any feature tag. */
  facts?: readonly BehaviourFact[];
}

/** Whether a segment sits above (high) or below (low) the rest of the base on a feature. */
export type Direction = 'high' | 'low';

/** Words for a lifecycle stage as an adjective. */
export const LIFECYCLE_WORDS: Record<Exclude<LifecycleLabel, 'unknown'>, Bilingual> = {
  startup: { en: 'early-stage', zh: '初创期' },
  growth: { en: 'growth-stage', zh: '成长期' },
  mature: { en: 'mature', zh: '成熟期' },
  decline: { en: 'declining', zh: '衰退期' },
};

/** Words for a size band as an adjective. */
export const SIZE_WORDS: Record<Exclude<SizeLabel, 'unknown'>, Bilingual> = {
  micro: { en: 'micro', zh: '微型' },
  small: { en: 'small', zh: '小型' },
  medium: { en: 'mid-size', zh: '中型' },
  large: { en: 'large', zh: '大型' },
};

/** Words for an industry as the noun of the name (plural in English). */
export const INDUSTRY_WORDS: Record<Exclude<IndustryLabel, 'unknown'>, Bilingual> = {
  manufacturing: { en: 'manufacturers', zh: '制造企业' },
  retail: { en: 'retailers', zh: '零售企业' },
  construction: { en: 'construction firms', zh: '建筑企业' },
  healthcare: { en: 'healthcare providers', zh: '医疗机构' },
  services: { en: 'service firms', zh: '服务企业' },
  platform_economy: { en: 'platform businesses', zh: '平台企业' },
  other: { en: 'other-industry firms', zh: '其他行业企业' },
};

/** The noun when no industry dominates, and the whole subject when nothing dominates. */
export const GENERIC_WORDS = {
  business: { en: 'businesses', zh: '企业' },
  mixedProfile: { en: 'mixed-profile businesses', zh: '混合型企业' },
  typicalUsage: { en: 'typical usage', zh: '常规使用' },
  separator: ' · ',
  segment: { en: (id: number) => `(segment ${id})`, zh: (id: number) => `（第${id}组）` },
} as const;

/** Module names as they appear inside behaviour tags. */
export const MODULE_WORDS: Record<Module, Bilingual> = {
  general_ledger: { en: 'general ledger', zh: '总账' },
  receivables_payables: { en: 'receivables & payables', zh: '应收应付' },
  invoicing: { en: 'invoicing', zh: '开票' },
  inventory: { en: 'inventory', zh: '存货' },
  payroll: { en: 'payroll', zh: '薪资' },
  tax: { en: 'tax', zh: '税务' },
  multi_currency: { en: 'multi-currency', zh: '多币种' },
  consolidation: { en: 'consolidation', zh: '合并报表' },
  project_costing: { en: 'project costing', zh: '项目成本' },
  contracts: { en: 'contracts', zh: '合同' },
  budgeting: { en: 'budgeting', zh: '预算' },
  reporting: { en: 'reporting', zh: '报表分析' },
  compliance: { en: 'compliance', zh: '合规' },
  api: { en: 'API', zh: 'API' },
};

/** Behaviour tags of the features that are not module shares, per direction. */
const BASE_TAGS: Record<string, Record<Direction, Bilingual>> = {
  active_days_90: { high: { en: 'active almost daily', zh: '几乎每日活跃' }, low: { en: 'occasional use', zh: '偶尔使用' } },
  events_90: { high: { en: 'heavy usage', zh: '高频使用' }, low: { en: 'light usage', zh: '轻度使用' } },
  users_90: { high: { en: 'many seats', zh: '多用户协同' }, low: { en: 'single-user', zh: '单人使用' } },
  events_per_user_90: { high: { en: 'power users', zh: '深度用户' }, low: { en: 'casual users', zh: '浅度用户' } },
  recency_days: { high: { en: 'gone quiet', zh: '近期沉寂' }, low: { en: 'recently active', zh: '近期活跃' } },
  tenure_days: { high: { en: 'long-standing customers', zh: '老客户' }, low: { en: 'newly signed', zh: '新签客户' } },
  module_breadth_90: { high: { en: 'broad suite adoption', zh: '多模块应用' }, low: { en: 'single-module use', zh: '单一模块使用' } },
  device_mobile_share: { high: { en: 'mobile-first', zh: '移动优先' }, low: { en: 'rarely on mobile', zh: '少用移动端' } },
  device_api_share: { high: { en: 'API-integrated', zh: 'API集成' }, low: { en: 'little API use', zh: '少用API' } },
  device_desktop_share: { high: { en: 'desktop-bound', zh: '桌面端为主' }, low: { en: 'off the desktop', zh: '少用桌面端' } },
  txn_count_90: { high: { en: 'frequent transactions', zh: '交易频繁' }, low: { en: 'few transactions', zh: '交易稀少' } },
  txn_volume_90: { high: { en: 'high transaction volume', zh: '交易额大' }, low: { en: 'low transaction volume', zh: '交易额小' } },
  txn_avg_size: { high: { en: 'large tickets', zh: '大额交易' }, low: { en: 'small tickets', zh: '小额交易' } },
  small_ticket_share: { high: { en: 'small-ticket sales', zh: '小额交易为主' }, low: { en: 'few small tickets', zh: '少有小额交易' } },
  currencies_90: { high: { en: 'multi-currency', zh: '多币种经营' }, low: { en: 'single currency', zh: '单一币种' } },
  foreign_share: { high: { en: 'cross-border', zh: '跨境业务' }, low: { en: 'domestic', zh: '国内业务为主' } },
  refund_share: { high: { en: 'refund-heavy', zh: '退款频繁' }, low: { en: 'few refunds', zh: '退款少' } },
  kind_sale_share: { high: { en: 'sales-driven', zh: '销售为主' }, low: { en: 'few sales', zh: '销售占比低' } },
  kind_purchase_share: { high: { en: 'purchase-heavy', zh: '采购为主' }, low: { en: 'few purchases', zh: '采购占比低' } },
  kind_payroll_share: { high: { en: 'payroll-heavy', zh: '薪资支出为主' }, low: { en: 'little payroll', zh: '薪资支出少' } },
  kind_transfer_share: { high: { en: 'transfer-heavy', zh: '转账分账频繁' }, low: { en: 'few transfers', zh: '转账少' } },
  txn_recency_days: { high: { en: 'no recent purchase', zh: '近期无交易' }, low: { en: 'recent purchase', zh: '近期有交易' } },
  txn_tenure_days: { high: { en: 'long-time buyers', zh: '长期交易客户' }, low: { en: 'new buyers', zh: '新近交易客户' } },
  txn_active_months: { high: { en: 'buys most months', zh: '多数月份有交易' }, low: { en: 'buys in few months', zh: '少数月份有交易' } },
  txn_count_all: { high: { en: 'many transactions overall', zh: '累计交易多' }, low: { en: 'few transactions overall', zh: '累计交易少' } },
  txn_volume_all: { high: { en: 'high lifetime spend', zh: '累计交易额高' }, low: { en: 'low lifetime spend', zh: '累计交易额低' } },
  txn_avg_basket: { high: { en: 'large baskets', zh: '单笔金额大' }, low: { en: 'small baskets', zh: '单笔金额小' } },
  share_vendor_other: { high: { en: 'vendor-module heavy', zh: '自定义模块为主' }, low: { en: 'little vendor-module use', zh: '少用自定义模块' } },
  usage_trend: { high: { en: 'growing usage', zh: '使用量上升' }, low: { en: 'shrinking usage', zh: '使用量下滑' } },
  volume_trend: { high: { en: 'growing volume', zh: '交易额上升' }, low: { en: 'shrinking volume', zh: '交易额下滑' } },
};

/** Behaviour tag per catalog feature and direction: every FEATURE_NAMES entry, both ways. */
export const BEHAVIOUR_TAGS: Readonly<Record<string, Record<Direction, Bilingual>>> = {
  ...BASE_TAGS,
  ...Object.fromEntries(
    MODULES.map((m) => [
      `share_${m}`,
      {
        high: { en: `${MODULE_WORDS[m].en}-heavy`, zh: `${MODULE_WORDS[m].zh}为主` },
        low: { en: `little ${MODULE_WORDS[m].en}`, zh: `少用${MODULE_WORDS[m].zh}` },
      },
    ]),
  ),
};

/** A tag earned by a pattern of features together; it applies when the top feature is one of them and the others are among the distinguishing ones. */
export interface ComboTag {
  when: readonly { feature: string; direction: Direction }[];
  tag: Bilingual;
}

/** Feature patterns with a tag of their own (the seed's archetypal behaviours). */
export const COMBO_TAGS: readonly ComboTag[] = [
  {
    when: [
      { feature: 'txn_count_90', direction: 'high' },
      { feature: 'small_ticket_share', direction: 'high' },
    ],
    tag: { en: 'micro-transaction flood', zh: '海量小额交易' },
  },
  {
    when: [
      { feature: 'usage_trend', direction: 'low' },
      { feature: 'volume_trend', direction: 'low' },
    ],
    tag: { en: 'shrinking usage and volume', zh: '使用与交易双降' },
  },
  ...['share_multi_currency', 'currencies_90', 'foreign_share'].map((partner) => ({
    when: [
      { feature: 'share_consolidation', direction: 'high' as const },
      { feature: partner, direction: 'high' as const },
    ],
    tag: { en: 'group consolidation across currencies', zh: '集团合并与多币种' },
  })),
  {
    when: [
      { feature: 'share_contracts', direction: 'high' },
      { feature: 'share_project_costing', direction: 'high' },
    ],
    tag: { en: 'contracts & project costing', zh: '合同与项目成本' },
  },
  {
    when: [
      { feature: 'share_compliance', direction: 'high' },
      { feature: 'share_payroll', direction: 'high' },
    ],
    tag: { en: 'compliance & payroll', zh: '合规与薪资' },
  },
];

const directionOf = (d: number): Direction => (d >= 0 ? 'high' : 'low');

/** The tag of one feature in one direction; a feature outside the catalog gets a generic "<feature> high/low". */
export function behaviourTag(feature: string, direction: Direction): Bilingual {
  const known = BEHAVIOUR_TAGS[feature]?.[direction];
  if (known) return known;
  // A profile table's category indicator (`Contract=Month-to-month`): its mean is the share with that value.
  const eq = feature.indexOf('=');
  if (eq > 0) {
    const [column, value] = [feature.slice(0, eq), feature.slice(eq + 1)];
    return direction === 'high' ? { en: `mostly ${column}: ${value}`, zh: `多为${column}：${value}` } : { en: `rarely ${column}: ${value}`, zh: `少有${column}：${value}` };
  }
  return direction === 'high' ? { en: `high ${feature}`, zh: `${feature}偏高` } : { en: `low ${feature}`, zh: `${feature}偏低` };
}

interface Tagged {
  tag: Bilingual;
  /** Features the tag stands for, so a second tag does not repeat them. */
  features: string[];
}

/** The behaviour tags of a segment in rank order: combos first where they apply, only features of at least `tagMinEffect`. */
function tagsOf(distinguishing: NamingInput['distinguishing'], params: NamingParams): Tagged[] {
  // A perfectly separating feature (no spread on either side) is the strongest, whatever number stands for it.
  const effect = (f: NamingInput['distinguishing'][number]) => (f.perfect && f.segmentMean !== undefined && f.restMean !== undefined && f.segmentMean !== f.restMean ? (f.segmentMean > f.restMean ? Infinity : -Infinity) : f.standardisedDifference);
  const strong = distinguishing.map((f) => ({ feature: f.feature, standardisedDifference: effect(f) })).filter((f) => !Number.isNaN(f.standardisedDifference) && Math.abs(f.standardisedDifference) >= params.tagMinEffect);
  const dir = new Map(strong.map((f) => [f.feature, directionOf(f.standardisedDifference)]));
  const used = new Set<string>();
  const out: Tagged[] = [];
  for (const f of strong) {
    if (used.has(f.feature)) continue;
    const d = dir.get(f.feature)!;
    const combo = COMBO_TAGS.find((c) => c.when.some((w) => w.feature === f.feature && w.direction === d) && c.when.every((w) => dir.get(w.feature) === w.direction && !used.has(w.feature)));
    const features = combo ? combo.when.map((w) => w.feature) : [f.feature];
    for (const x of features) used.add(x);
    out.push({ tag: combo ? combo.tag : behaviourTag(f.feature, d), features });
  }
  return out;
}

const capitalise = (s: string): string => (s.length === 0 ? s : s[0]!.toUpperCase() + s.slice(1));

/** The subject of a name from the dominant lifecycle, size and industry; mixed or unknown labels are left out. */
export function subjectOf(dominant: NamingInput['dominant']): Bilingual {
  const life = LIFECYCLE_WORDS[dominant.lifecycle as keyof typeof LIFECYCLE_WORDS];
  const size = SIZE_WORDS[dominant.size as keyof typeof SIZE_WORDS];
  const industry = INDUSTRY_WORDS[dominant.industry as keyof typeof INDUSTRY_WORDS];
  if (!life && !size && !industry) return { en: capitalise(GENERIC_WORDS.mixedProfile.en), zh: GENERIC_WORDS.mixedProfile.zh };
  const noun = industry ?? GENERIC_WORDS.business;
  const words = [life, size, noun].filter((w): w is Bilingual => w !== undefined);
  return { en: capitalise(words.map((w) => w.en).join(' ')), zh: words.map((w) => w.zh).join('') };
}

function join(subject: Bilingual, tags: readonly Bilingual[]): Bilingual {
  const sep = GENERIC_WORDS.separator;
  return { en: [subject.en, ...tags.map((t) => t.en)].join(sep), zh: [subject.zh, ...tags.map((t) => t.zh)].join(sep) };
}

/** Indices whose English or Chinese name occurs more than once. */
function duplicated(names: readonly Bilingual[]): Set<number> {
  const count = (key: 'en' | 'zh') => {
    const m = new Map<string, number>();
    for (const n of names) m.set(n[key], (m.get(n[key]) ?? 0) + 1);
    return m;
  };
  const en = count('en');
  const zh = count('zh');
  const out = new Set<number>();
  names.forEach((n, i) => {
    if (en.get(n.en)! > 1 || zh.get(n.zh)! > 1) out.add(i);
  });
  return out;
}

/** Trends are named only through a state fact (with its threshold): the sign of a mean trend alone can mislabel a lapsed segment "shrinking". */
const UNTAGGED = new Set(['usage_trend', 'volume_trend']);

/** A state the subject's lifecycle word already says ("Declining …" needs no "shrinking usage"). */
const SAID_BY_LIFECYCLE: Record<string, string> = { decline: 'declining', growth: 'growing', startup: 'new' };

/**
 * The tags of one segment in order: its facts (a seed combo such as "group consolidation across
 * currencies" standing for the facts it covers), then feature tags for what the facts leave unsaid.
 */
function tagList(segment: NamingInput, params: NamingParams, withSubject: boolean): Bilingual[] {
  const facts = segment.facts ?? [];
  const lapsed = facts.some((f) => f.kind === 'lapsed');
  const combos = tagsOf(segment.distinguishing, params).filter((t) => t.features.length > 1 && !t.features.some((f) => UNTAGGED.has(f)));
  const said = new Set<string>();
  const tags: Bilingual[] = [];
  for (const f of facts) {
    const repeat = f.features.some((x) => said.has(x)) || (withSubject && SAID_BY_LIFECYCLE[segment.dominant.lifecycle] === f.kind);
    const combo = f.features.length === 1 ? combos.find((c) => c.features.includes(f.features[0]!)) : undefined;
    if (!repeat) tags.push(combo ? combo.tag : f.tag);
    for (const x of [...f.features, ...(combo?.features ?? [])]) said.add(x);
  }
  // A lapsed segment's window features (counts, shares, channels of the last 90 days) only restate that it is lapsed.
  const skip = (f: string) => said.has(f) || UNTAGGED.has(f) || (lapsed && (f.endsWith('_90') || f.startsWith('share_') || f.startsWith('device_') || ['txn_avg_size', 'small_ticket_share', 'foreign_share', 'refund_share'].includes(f) || f.startsWith('kind_')));
  const rest = tagsOf(segment.distinguishing.filter((d) => !skip(d.feature)), params).filter((t) => !t.features.some(skip));
  return [...tags, ...rest.map((t) => t.tag)];
}

/** subject · tags, or the tags alone (first one capitalised) when the subject says nothing. */
function compose(subject: Bilingual | null, tags: readonly Bilingual[]): Bilingual {
  if (subject) return join(subject, tags);
  const [first, ...more] = tags;
  return join({ en: capitalise(first!.en), zh: first!.zh }, more);
}

/**
 * Names for all segments of a model, in input order. The subject (dominant lifecycle, size,
 * industry) is kept only when it differs between segments; a segment is then named by its
 * first tag, and segments that would share a name get one more tag at a time until they
 * differ, then their id.
 */
export function nameSegments(segments: readonly NamingInput[], params: NamingParams = defaultNamingParams): Bilingual[] {
  const generic = capitalise(GENERIC_WORDS.mixedProfile.en);
  const subjects = segments.map((s) => subjectOf(s.dominant));
  // One subject on every segment tells them nothing apart ("Early-stage businesses" three times).
  const informative = segments.length === 1 || new Set(subjects.map((s) => s.en)).size > 1;
  const keep = subjects.map((s) => informative && s.en !== generic);
  const tags = segments.map((s, i) => tagList(s, params, keep[i]!));
  const subjectOfSegment = subjects.map((s, i) => (keep[i] || (informative && tags[i]!.length === 0) ? s : null));
  const used = segments.map(() => 1);
  const nameOf = (i: number) => {
    const t = tags[i]!.length > 0 ? tags[i]!.slice(0, used[i]) : [GENERIC_WORDS.typicalUsage];
    return compose(subjectOfSegment[i]!, t);
  };
  const names = segments.map((_, i) => nameOf(i));
  for (let round = 0; round < 3; round++) {
    const dup = duplicated(names);
    if (dup.size === 0) break;
    for (const i of dup) {
      if (used[i]! < tags[i]!.length) {
        used[i]!++;
        names[i] = nameOf(i);
      }
    }
  }
  for (const i of duplicated(names)) {
    const id = segments[i]!.id;
    names[i] = { en: `${names[i]!.en} ${GENERIC_WORDS.segment.en(id)}`, zh: `${names[i]!.zh}${GENERIC_WORDS.segment.zh(id)}` };
  }
  return names;
}
