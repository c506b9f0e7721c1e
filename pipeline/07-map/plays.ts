import { MODULES, type Module } from '../01-ingest/contract.ts';
import { STATE_KINDS as STATE, type BehaviourFact, type FactKind } from './behaviour.ts';
import type { FeatureSummary } from './summaries.ts';
import { PLAYBOOK_TABLE, playbookFor, type Bilingual, type Channel, type DominantLenses, type Playbook, type PlaybookTable } from './playbooks.ts';

/**
 * The evidence-based playbook of a segment (docs/playbooks.md): its motion (win back, retain,
 * onboard, expand, deepen) comes from its measured state, each action from a behaviour fact and
 * cites the fact's numbers, and the lens table (playbooks.ts) supplies the edition ladder,
 * deployment and industry modules. Lapsed and declining segments are sold nothing new; nobody is
 * offered the API or a developer sandbox unless their API use shows it.
 */

/** The motion of a playbook, from the segment's state. */
export type PlayKind = 'win_back' | 'retain' | 'onboard' | 'expand' | 'deepen';

/** One step of a playbook, with the rule it implements (docs/playbooks.md) and the numbers behind it. */
export interface PlaybookAction extends Bilingual {
  rule: string;
  evidence: Bilingual[];
  /** Whether it sells something new (never done for win_back and retain). */
  sells: boolean;
}

/** A lens's dominant label over a segment (measurable lenses only), for lens-based steps. */
export interface LensEvidence {
  dominant: string;
  dominantShare: number;
  lift: number;
}

/** What segmentPlaybook needs of one segment. */
export interface PlayInput {
  /** Dominant labels; a lens that is not measurable is given as 'unknown'. */
  dominant: DominantLenses;
  lifecycle: LensEvidence | null;
  size: LensEvidence | null;
  technology: LensEvidence | null;
  facts: readonly BehaviourFact[];
  stats: Readonly<Record<string, FeatureSummary>>;
  /** Every other segment's module-share means and breadth, for "the modules its peers use". */
  peers: readonly { stats: Readonly<Record<string, FeatureSummary>> }[];
  label: (feature: string) => Bilingual;
}

/** Thresholds of the plays. */
export interface PlayParams {
  /** A module is "used" by a group when its mean share of activity reaches this. */
  moduleUsedShare: number;
  /** The API is offered only when device_api_share or share_api averages at least this. */
  apiMinShare: number;
  /** At most this many modules the peers use are proposed for expansion. */
  maxExpansionModules: number;
}

/** Default play thresholds. */
export const defaultPlayParams: PlayParams = { moduleUsedShare: 0.05, apiMinShare: 0.2, maxExpansionModules: 3 };

const bi = (en: string, zh: string): Bilingual => ({ en, zh });
const pct = (x: number) => `${Math.round(x * 100)}%`;
const capitalise = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
const has = (facts: readonly BehaviourFact[], kind: FactKind) => facts.find((f) => f.kind === kind || f.with === kind);
const isModule = (m: string): m is Module => (MODULES as readonly string[]).includes(m);

/** The motion: measured state first, then a measurable lifecycle lens, else deepen. */
export function playOf(facts: readonly BehaviourFact[], lifecycle: LensEvidence | null): PlayKind {
  if (has(facts, 'lapsed')) return 'win_back';
  if (has(facts, 'declining')) return 'retain';
  if (has(facts, 'new')) return 'onboard';
  if (has(facts, 'growing')) return 'expand';
  const stage = lifecycle?.dominant;
  return stage === 'decline' ? 'retain' : stage === 'startup' ? 'onboard' : stage === 'growth' ? 'expand' : 'deepen';
}

/** Evidence of a lens-only state, e.g. "56% in the decline stage (4.1× the base)". */
function lensEvidence(l: LensEvidence, lens: 'lifecycle' | 'size' | 'technology' = 'lifecycle'): Bilingual {
  const zh = ({ decline: '衰退期', startup: '初创期', growth: '成长期', mature: '成熟期', micro: '微型', small: '小型', medium: '中型', large: '大型' } as Record<string, string>)[l.dominant] ?? l.dominant;
  const techZh = ({ low: '低', medium: '中', high: '高' } as Record<string, string>)[l.dominant] ?? l.dominant;
  const what =
    lens === 'lifecycle' ? bi(`in the ${l.dominant} lifecycle stage`, `处于${zh}`) : lens === 'size' ? bi(`${l.dominant} by size`, `为${zh}企业`) : bi(`at ${l.dominant} technology acceptance`, `技术接受度为${techZh}`);
  return bi(`${pct(l.dominantShare)} of customers ${what.en} (${l.lift.toFixed(1)}× the base)`, `${pct(l.dominantShare)}的客户${what.zh}（为全体的${l.lift.toFixed(1)}倍）`);
}

/** Whether the segment's API use justifies offering the API and a developer sandbox. */
export function usesApi(stats: Readonly<Record<string, FeatureSummary>>, p: PlayParams = defaultPlayParams): boolean {
  return (stats['device_api_share']?.mean ?? 0) >= p.apiMinShare || (stats['share_api']?.mean ?? 0) >= p.apiMinShare;
}

/**
 * Catalog and vendor modules the segment's more advanced peers use and it does not: peers are the
 * segments with a higher median module breadth (all others when breadth is unknown); a module
 * qualifies when their mean share reaches moduleUsedShare and is at least twice the segment's.
 */
export function peerModules(input: PlayInput, p: PlayParams = defaultPlayParams): { feature: string; peerShare: number; ownShare: number }[] {
  const breadth = (s: Readonly<Record<string, FeatureSummary>>) => s['module_breadth_90']?.median ?? Number.NaN;
  const own = breadth(input.stats);
  const advanced = input.peers.filter((q) => !Number.isFinite(own) || breadth(q.stats) > own);
  if (advanced.length === 0) return [];
  const features = Object.keys(input.stats).filter((f) => f.startsWith('share_'));
  return features
    .map((feature) => ({ feature, peerShare: advanced.reduce((s, q) => s + (q.stats[feature]?.mean ?? 0), 0) / advanced.length, ownShare: input.stats[feature]?.mean ?? 0 }))
    .filter((m) => m.peerShare >= p.moduleUsedShare && m.peerShare >= 2 * m.ownShare && (m.feature !== 'share_api' || usesApi(input.stats, p)))
    .sort((a, b) => b.peerShare - b.ownShare - (a.peerShare - a.ownShare) || a.feature.localeCompare(b.feature))
    .slice(0, p.maxExpansionModules);
}

/** Actions of the segment's motion (the first one or two of the playbook). */
function motionActions(play: PlayKind, input: PlayInput, table: PlaybookTable, p: PlayParams): PlaybookAction[] {
  const state = input.facts.find((f) => ['lapsed', 'declining', 'new', 'growing'].includes(f.kind));
  const why = state ? [state.evidence] : input.lifecycle ? [lensEvidence(input.lifecycle)] : [];
  const act = (rule: string, en: string, zh: string, evidence: Bilingual[], sells = false): PlaybookAction => ({ rule, en, zh, evidence, sells });
  switch (play) {
    case 'win_back': {
      const valued = [has(input.facts, 'high_spend'), has(input.facts, 'frequent'), has(input.facts, 'large_baskets')].find((f) => f !== undefined);
      return [
        act('lapsed.win_back', 'Win-back: contact them with a re-activation offer on what they used before, and ask why they stopped', '挽回：就其以往使用的功能提供重新激活优惠，并了解停用原因', why),
        act('lapsed.keep_cost_low', 'Keep the account at low cost: a lighter plan or a pause instead of cancelling; no new paid services', '低成本保留账户：提供更轻的套餐或暂停而非取消；不推销新的付费服务', why),
        ...(valued ? [act('lapsed.valuable', 'Call first: a personal call from the account manager, as these were valuable customers', '优先致电：由客户经理亲自联系，这些曾是高价值客户', [valued.evidence])] : []),
      ];
    }
    case 'retain':
      return [
        act('declining.retention', 'Retention review: find the cause of the drop with the finance owner and remove what blocks their use', '挽留评估：与财务负责人一起找出下滑原因，消除使用障碍', why),
        act('declining.cost_control', `Cost control: ${table.lifecycle.decline.service.en}; no paid implementation`, `成本控制：${table.lifecycle.decline.service.zh}；不推付费实施`, why),
      ];
    case 'onboard':
      return [act('new.onboarding', `Onboarding: ${table.lifecycle.startup.service.en}, with a check-in after the first month`, `新客户引导：${table.lifecycle.startup.service.zh}，首月后回访`, why)];
    case 'expand': {
      const peers = peerModules(input, p);
      if (peers.length === 0) return [act('growing.add_ons', `Expansion: ${table.lifecycle.growth.service.en}`, `扩展：${table.lifecycle.growth.service.zh}`, why, true)];
      const names = peers.map((m) => input.label(m.feature));
      return [
        act(
          'growing.peer_modules',
          `Expansion: propose ${names.map((n) => n.en).join(', ')}, which peers with broader use rely on`,
          `扩展：推荐${names.map((n) => n.zh).join('、')}，这是使用更全面的同类客户所依赖的模块`,
          [...why, ...peers.map((m, i) => bi(`${names[i]!.en}: ${pct(m.peerShare)} of peers' activity vs ${pct(m.ownShare)} here`, `${names[i]!.zh}：同类客户活动占比${pct(m.peerShare)}，本组${pct(m.ownShare)}`))],
          true,
        ),
      ];
    }
    case 'deepen':
      return [];
  }
}

/** The action a relative fact calls for (docs/playbooks.md), or none. */
function factAction(f: BehaviourFact, input: PlayInput, p: PlayParams): PlaybookAction | undefined {
  const act = (rule: string, en: string, zh: string, sells = false): PlaybookAction => ({ rule, en, zh, evidence: [f.evidence], sells });
  const kind = f.with === 'small_baskets' && f.kind === 'frequent' ? 'frequent_small' : f.kind;
  switch (kind) {
    case 'module': {
      const l = input.label(f.module!);
      return act('module.deepen', `Deepen ${l.en}: advanced features and a training session on the module they rely on`, `深化${l.zh}：针对其依赖的模块提供进阶功能与培训`);
    }
    case 'mobile': return act('mobile.app', 'Lead with the mobile app: invoices, approvals and reports on the phone', '主推移动端：在手机上开票、审批与查看报表');
    case 'api': return usesApi(input.stats, p) ? act('api.developer', 'Open API documentation and a developer sandbox for their integrations', '开放API文档与开发者沙箱，支持其系统集成') : undefined;
    case 'desktop': return act('desktop.support', 'Support the desktop client well; offer a guided move to the cloud only when they ask', '做好桌面端支持；仅在客户需要时引导上云');
    case 'frequent_small': return act('frequent.automation', 'Automate their many small transactions: batch invoicing, bank reconciliation and rules', '自动化处理海量小额交易：批量开票、银行对账与规则配置', true);
    case 'frequent': return act('frequent.automation', 'Automate their frequent transactions: batch invoicing and bank reconciliation', '自动化处理频繁交易：批量开票与银行对账', true);
    case 'large_baskets':
    case 'high_spend': return act('high_value.account', 'Account management: a named contact and a quarterly efficiency review', '客户经营：专属联系人与季度效率评估');
    case 'heavy_usage':
    case 'broad': return act('broad.efficiency', 'Efficiency review with smart reports across the modules they use', '效率评估：为其使用的各模块提供智能报表', true);
    case 'occasional':
    case 'small_baskets':
    case 'low_spend':
    case 'light_usage':
    case 'narrow': return act('light.adoption', 'Adoption: a short training on the features they have not tried, to get more from what they pay for', '提升使用：就未尝试的功能做简短培训，让其用足已付费的产品');
    case 'multi_currency': return act('multi_currency.tax', 'Multi-currency settlement and cross-region tax', '多币种结算与跨区域税务', true);
    case 'refunds': return act('refunds.review', 'Review refund handling: credit notes and reconciliation of returns', '梳理退款处理：红字发票与退货对账');
    case 'long_standing': return act('loyal.recognise', 'Recognise loyalty: long-term pricing and early access to new reports', '回馈老客户：长期价格与新报表抢先体验');
    default: return undefined;
  }
}

/** The modules each motion leads with: what they use (no new sale), the peers' modules, or the lens table's. */
function leadModulesOf(play: PlayKind, input: PlayInput, table: PlaybookTable, lensModules: Module[], p: PlayParams): Module[] {
  const used = Object.entries(input.stats)
    .filter(([f, s]) => f.startsWith('share_') && isModule(f.slice(6)) && s.mean >= p.moduleUsedShare)
    .sort((a, b) => b[1].mean - a[1].mean)
    .map(([f]) => f.slice(6) as Module);
  const api = usesApi(input.stats, p);
  const gate = (ms: readonly Module[]) => ms.filter((m) => m !== 'api' || api);
  const heavy = input.facts.filter((f) => f.kind === 'module' && isModule(f.module!.slice(6))).map((f) => f.module!.slice(6) as Module);
  let modules: Module[];
  if (play === 'win_back' || play === 'retain') modules = used.length > 0 ? used : table.lifecycle.decline.modules;
  else if (play === 'expand') modules = [...peerModules(input, p).map((m) => m.feature.slice(6)).filter(isModule), ...lensModules];
  else modules = [...heavy, ...lensModules];
  return [...new Set(gate(modules))].slice(0, table.maxLeadModules);
}

/**
 * The playbook of one segment from its evidence. Edition and deployment follow the lens table
 * (a lapsed or declining segment never moves up the ladder); service lists the actions with their
 * numbers; message is the motion's headline (deepen: its top fact's), plus the buyer role's when
 * that lens dominates.
 */
export function segmentPlaybook(input: PlayInput, table: PlaybookTable = PLAYBOOK_TABLE, p: PlayParams = defaultPlayParams): Playbook {
  const play = playOf(input.facts, input.lifecycle);
  const lifecycle: DominantLenses['lifecycle'] = play === 'retain' ? 'decline' : play === 'onboard' ? 'startup' : play === 'expand' ? 'growth' : play === 'win_back' ? 'decline' : input.dominant.lifecycle === 'mature' ? 'mature' : 'mixed';
  const noSale = play === 'win_back' || play === 'retain';
  const lens = noSale ? noHigherThanSize(playbookFor({ ...input.dominant, lifecycle }, table), input.dominant, table) : playbookFor({ ...input.dominant, lifecycle }, table);
  const factActions = input.facts.flatMap((f) => factAction(f, input, p) ?? []);
  const size = input.size && input.dominant.size !== 'mixed' && input.dominant.size !== 'unknown' ? table.size[input.dominant.size] : null;
  // The seed's per-size service (mid-size firms pay for implementation) only where something is sold at all.
  const sizeAction: PlaybookAction[] = size && input.size ? [{ rule: 'size.service', ...size.service, evidence: [lensEvidence(input.size, 'size')], sells: true }] : [];
  const tech = input.technology && input.dominant.technology !== 'mixed' && input.dominant.technology !== 'unknown' ? table.technology[input.dominant.technology] : null;
  // The support style of the technology level; one that offers the API only where API use shows it.
  const offersApi = tech !== null && (tech.modules.includes('api') || tech.channels.includes('api'));
  const techAction: PlaybookAction[] = tech && input.technology && (!offersApi || usesApi(input.stats, p)) ? [{ rule: 'technology.service', ...tech.service, evidence: [lensEvidence(input.technology, 'technology')], sells: false }] : [];
  // The seed's mature-stage service, when the lifecycle lens says mature and behaviour gives no motion.
  const matureAction: PlaybookAction[] =
    play === 'deepen' && input.lifecycle?.dominant === 'mature' ? [{ rule: 'mature.efficiency', ...table.lifecycle.mature.service, evidence: [lensEvidence(input.lifecycle)], sells: true }] : [];
  const allowed = (a: PlaybookAction) => !(noSale && a.sells);
  // Behaviour first; the lens entries (the same on every segment with that label) only fill up, at most two.
  const behaviour = dedupe([...motionActions(play, input, table, p), ...factActions]).filter(allowed).slice(0, 4);
  const lensActions = [...sizeAction, ...techAction, ...matureAction].filter(allowed).slice(0, Math.min(2, 4 - behaviour.length));
  const actions = [...behaviour, ...lensActions];
  if (actions.length === 0) actions.push({ rule: 'steady.review', en: 'Regular account review', zh: '定期客户回访', evidence: [bi('no measured behaviour sets this segment apart from the base', '没有可测行为使本组区别于全体')], sells: false });
  const api = usesApi(input.stats, p);
  const channels: Channel[] = lens.channels.filter((c) => c !== 'api' || api);
  const texts = (lang: 'en' | 'zh') => actions.map((a) => `${capitalise(a[lang])} (${a.evidence.map((e) => e[lang]).join(lang === 'en' ? '; ' : '；')})`).join(lang === 'en' ? '. ' : '。');
  const head = headline(play, input.facts, input.label);
  const buyer = input.dominant.buyerRole !== 'mixed' && input.dominant.buyerRole !== 'unknown' ? table.buyerRole[input.dominant.buyerRole].message : null;
  const message = (lang: 'en' | 'zh') => (buyer ? `${head[lang]}${lang === 'en' ? '. ' : '。'}${buyer[lang]}` : head[lang]);
  const why = (lang: 'en' | 'zh') => [...new Set(actions.flatMap((a) => a.evidence.map((e) => e[lang])))].join(lang === 'en' ? '; ' : '；');
  return {
    ...lens,
    leadModules: leadModulesOf(play, input, table, lens.leadModules, p),
    channels,
    service: texts('en'),
    message: message('en'),
    rationale: `${why('en')}. ${lens.rationale}`,
    zh: { ...lens.zh, service: texts('zh'), message: message('zh'), rationale: `${why('zh')}。${lens.zh.rationale}` },
    play,
    actions,
  };
}

/** The playbook with its edition no higher than its size's own (a configured upward shift for decline does not apply to a segment sold nothing). */
function noHigherThanSize(p: Playbook, dominant: DominantLenses, table: PlaybookTable): Playbook {
  const own = (table.size as Record<string, { edition: string }>)[dominant.size]?.edition ?? table.size.default.edition;
  const rank = (id: string) => table.editions.findIndex((e) => e.id === id);
  if (rank(p.editionId) <= rank(own)) return p;
  const e = table.editions[rank(own)]!;
  return { ...p, editionId: e.id, edition: e.en, zh: { ...p.zh, edition: e.zh } };
}

const dedupe = (actions: PlaybookAction[]) => actions.filter((a, i) => actions.findIndex((b) => b.rule === a.rule) === i);

/** What to tell a steady segment's buyer, from its strongest fact. */
function pitch(f: BehaviourFact, label: (f: string) => Bilingual): Bilingual {
  const kind = f.with === 'small_baskets' && f.kind === 'frequent' ? 'frequent_small' : f.kind;
  switch (kind) {
    case 'module': {
      const l = label(f.module!);
      return bi(`Get more from ${l.en}: advanced features and training for the module you rely on`, `用好${l.zh}：为您依赖的模块提供进阶功能与培训`);
    }
    case 'mobile': return bi('Run your finances from your phone: invoices, approvals and reports wherever you are', '用手机管好财务：随时随地开票、审批、看报表');
    case 'api': return bi('Build on our open API: documented, stable and with a sandbox to test in', '基于开放API构建：文档完善、稳定可靠，并有沙箱可供测试');
    case 'desktop': return bi('Keep working the way you do on the desktop, fully supported', '继续使用熟悉的桌面端，获得全面支持');
    case 'frequent_small':
    case 'frequent': return bi('Let the software carry your transaction volume: batch invoicing and automatic reconciliation', '让软件承担交易量：批量开票与自动对账');
    case 'large_baskets':
    case 'high_spend': return bi('A named contact and a regular efficiency review for an account of your size', '为您这样规模的客户配备专属联系人与定期效率评估');
    case 'heavy_usage':
    case 'broad': return bi('One suite, one set of numbers: smart reports across every module you use', '一套系统、一套数据：覆盖您所用全部模块的智能报表');
    case 'multi_currency': return bi('Settle and report in every currency you trade in', '以您经营的每一种货币结算与出报表');
    case 'refunds': return bi('Returns and credit notes, reconciled without manual work', '退货与红字发票，自动对账无需手工');
    case 'long_standing': return bi('Thank you for staying with us: long-term pricing and early access to what is new', '感谢长期支持：长期价格与新功能抢先体验');
    default: return bi('Get more from what you already pay for: a short training on the features you have not tried', '用足已付费的产品：就尚未尝试的功能做简短培训');
  }
}

/** What to tell the buyer: the motion's headline, or for a steady segment its strongest fact's. */
function headline(play: PlayKind, facts: readonly BehaviourFact[], label: (f: string) => Bilingual): Bilingual {
  switch (play) {
    case 'win_back': return bi('Your books are still here: come back on a lighter plan, at a lower cost', '您的账套仍在：以更轻、更省的套餐回来继续使用');
    case 'retain': return bi('Keep what works running, at a predictable cost, with long-term support', '让现有系统稳定运行，成本可控，并有长期支持');
    case 'onboard': return bi('Start simple: core accounting on a monthly plan, up and running in a day', '从简单开始：按月订阅核心账务，一天上手');
    case 'expand': return bi('Ready for the next step: the modules businesses like yours add as they grow', '迈向下一步：与您相似的企业在成长中增加的模块');
    case 'deepen': {
      const top = facts[0];
      return top ? pitch(top, label) : bi('Reliable, secure financial software with a clear return on investment', '可靠、安全、投资回报清晰的财务软件');
    }
  }
}

/**
 * Playbooks whose messages differ wherever the segments' facts do: a message shared with another
 * segment gets the segment's next fact appended, round by round, as names are made unique.
 */
export function distinctMessages(playbooks: Playbook[], facts: readonly (readonly BehaviourFact[])[], fallback: readonly (Bilingual | null)[] = []): Playbook[] {
  const out = playbooks.map((p) => ({ ...p, zh: { ...p.zh } }));
  for (let round = 0; round < 3; round++) {
    const seen = new Map<string, number>();
    for (const p of out) seen.set(p.message, (seen.get(p.message) ?? 0) + 1);
    const dup = out.map((p, i) => (seen.get(p.message)! > 1 ? i : -1)).filter((i) => i >= 0);
    if (dup.length === 0) break;
    for (const i of dup) {
      // The headline already speaks for the state, so the next relative fact tells the segments apart.
      // Without a behaviour fact (a profile table's own columns), the segment's strongest distinguishing feature.
      const tag = facts[i]!.find((x) => !STATE.includes(x.kind) && !out[i]!.message.includes(x.tag.en))?.tag ?? (fallback[i] && !out[i]!.message.includes(fallback[i]!.en) ? fallback[i]! : null);
      if (!tag) continue;
      out[i]!.message = `${out[i]!.message} (${tag.en})`;
      out[i]!.zh.message = `${out[i]!.zh.message}（${tag.zh}）`;
    }
  }
  return out;
}
