import type { DEPLOYMENTS, DEVICES, Module } from '../01-ingest/contract.ts';
import type { BuyerRoleLabel, IndustryLabel, LifecycleLabel, SizeLabel, TechnologyLabel } from '../06-categorize/lenses.ts';

/**
 * The product playbook of the seed's per-group strategies (DIGEST "Using the classes" and the
 * lens table), as data: one entry per lens label, combined by `playbookFor`. The table is the
 * config slice `playbooks` (defaults: PLAYBOOK_TABLE), so a vendor changes editions, modules
 * and messages in JSON; `playbookTableRule` (params.ts) validates it. `default` entries serve `mixed` and `unknown`.
 */

/** The id of an edition on the vendor's ladder (`playbooks.editions[].id`). */
export type EditionId = string;
/** A deployment of the data contract. */
export type Deployment = (typeof DEPLOYMENTS)[number];
/** A channel (device) of the data contract. */
export type Channel = (typeof DEVICES)[number];

/** A text in English and Simplified Chinese. */
export interface Bilingual {
  en: string;
  zh: string;
}

/** The playbook row of a size band: edition and modules it starts from. */
export interface SizeEntry {
  edition: EditionId;
  modules: Module[];
  service: Bilingual;
  why: Bilingual;
}

/** The playbook row of a lifecycle stage: how it moves the edition and which modules it adds. */
export interface LifecycleEntry {
  /** Steps up (+) or down (−) the edition ladder from the size's edition, clamped to the ladder. */
  editionShift: number;
  modules: Module[];
  /** Lead only with this entry's modules (decline: keep the running system, sell nothing new). */
  exclusiveModules: boolean;
  service: Bilingual;
  why: Bilingual;
}

/** The playbook row of a technology-acceptance level: deployment, channels and support style. */
export interface TechnologyEntry {
  deployment: Deployment;
  channels: Channel[];
  modules: Module[];
  service: Bilingual;
  why: Bilingual;
}

/** The playbook row of an industry: the modules and channels to lead with. */
export interface IndustryEntry {
  modules: Module[];
  channels: Channel[];
  why: Bilingual;
}

/** The playbook row of a buyer role: what to tell them. */
export interface BuyerRoleEntry {
  message: Bilingual;
}

type Keyed<L extends string, E> = Record<Exclude<L, 'unknown'> | 'default', E>;

/** One rung of the edition ladder: its id (what size entries name) and display names. */
export interface Edition extends Bilingual {
  id: EditionId;
}

/** The playbook table's shape: per-lens entries plus the edition ladder and limits. */
export interface PlaybookTable {
  kind: 'finseg.playbooks';
  version: 2;
  /** At most this many lead modules, in the order industry, lifecycle, size, technology. */
  maxLeadModules: number;
  /** The edition ladder, cheapest first: lifecycle `editionShift` moves along it. */
  editions: Edition[];
  deployments: Record<Deployment, Bilingual>;
  size: Keyed<SizeLabel, SizeEntry>;
  lifecycle: Keyed<LifecycleLabel, LifecycleEntry>;
  technology: Keyed<TechnologyLabel, TechnologyEntry>;
  industry: Keyed<IndustryLabel, IndustryEntry>;
  buyerRole: Keyed<BuyerRoleLabel, BuyerRoleEntry>;
}

/** The seed's strategies per group, as the default playbook table. */
export const PLAYBOOK_TABLE: PlaybookTable = {
  kind: 'finseg.playbooks',
  version: 2,
  maxLeadModules: 5,
  editions: [
    { id: 'basic_cloud', en: 'Basic (cloud subscription)', zh: '基础云版（订阅）' },
    { id: 'standard', en: 'Standard', zh: '标准版' },
    { id: 'professional', en: 'Professional', zh: '专业版' },
    { id: 'enterprise', en: 'Enterprise', zh: '企业版' },
  ],
  deployments: {
    cloud: { en: 'cloud', zh: '云端部署' },
    hybrid: { en: 'hybrid (cloud with on-premise components)', zh: '混合部署' },
    on_prem: { en: 'on-premise', zh: '本地部署' },
  },
  size: {
    micro: {
      edition: 'basic_cloud',
      modules: ['general_ledger', 'invoicing'],
      service: { en: 'self-service onboarding and online support', zh: '自助上手与在线支持' },
      why: { en: 'micro firms want a low price and a light product that is quick to deploy and learn', zh: '微型企业要价格低、产品轻、部署和上手快' },
    },
    small: {
      edition: 'standard',
      modules: ['general_ledger', 'invoicing', 'tax'],
      service: { en: 'friendly interface with online support', zh: '友好界面与在线支持' },
      why: { en: 'small firms want low price, light software and quick deployment, with a friendly UI and online support', zh: '小型企业要低价、轻量、快速部署，界面友好并有在线支持' },
    },
    medium: {
      edition: 'professional',
      modules: ['budgeting', 'project_costing', 'reporting'],
      service: { en: 'paid implementation service and report-efficiency consulting', zh: '付费实施服务与报表效率咨询' },
      why: {
        en: 'mid-size firms need complete, stable features, multi-department collaboration, project management, budgeting and cost control, and will pay for services',
        zh: '中型企业需要功能完整稳定、多部门协同、项目管理、预算与成本控制，并愿意为服务付费',
      },
    },
    large: {
      edition: 'enterprise',
      modules: ['consolidation', 'multi_currency', 'tax', 'api'],
      service: { en: 'dedicated account team for customisation, security review and ERP/CRM integration', zh: '专属客户团队负责定制、安全评审与ERP/CRM集成' },
      why: {
        en: 'large enterprises run multi-national business with multi-currency settlement and complex tax compliance, and need customisation, integration and high performance',
        zh: '大型企业跨国经营、多币种结算、税务合规复杂，需要高度定制、无缝集成与高性能',
      },
    },
    default: {
      edition: 'standard',
      modules: ['general_ledger', 'reporting'],
      service: { en: 'online support', zh: '在线支持' },
      why: { en: 'no dominant size, so the standard edition as the common entry point', zh: '不集中，以标准版作为通用入口' },
    },
  },
  lifecycle: {
    startup: {
      editionShift: -1,
      modules: ['general_ledger', 'invoicing'],
      exclusiveModules: false,
      service: { en: 'flexible monthly subscription with core features first', zh: '按月灵活订阅，先用核心功能' },
      why: { en: 'new firms need a simple, cheap entry product to set up basic financial management', zh: '初创企业需要简单、低价的入门产品来建立基础财务管理' },
    },
    growth: {
      editionShift: 1,
      modules: ['multi_currency', 'tax', 'budgeting'],
      exclusiveModules: false,
      service: { en: 'training on add-on modules and a scalability review', zh: '增购模块培训与扩展性评估' },
      why: {
        en: 'growing firms have more complex, diverse needs and adopt mid-size features early: multi-currency, cross-region tax, add-on modules, scalability',
        zh: '成长期企业需求更复杂多样，会提前采用中型企业功能：多币种、跨区域税务、增购模块与可扩展性',
      },
    },
    mature: {
      editionShift: 0,
      modules: ['reporting'],
      exclusiveModules: false,
      service: { en: 'efficiency review with smart reports and data-analysis workshops', zh: '效率评估，智能报表与数据分析工作坊' },
      why: { en: 'mature firms want efficiency, big-data analysis and smart reports', zh: '成熟期企业追求效率、大数据分析与智能报表' },
    },
    decline: {
      editionShift: 0,
      modules: ['general_ledger', 'receivables_payables'],
      exclusiveModules: true,
      service: { en: 'long-term support and maintenance contract with a flexible, low-cost upgrade path', zh: '长期支持与维护合同，提供灵活低成本的升级路径' },
      why: {
        en: 'declining firms control costs strictly and want the existing system kept running, flexible upgrade paths and long-term support',
        zh: '衰退期企业严格控制成本，希望现有系统持续运行，并有灵活升级路径与长期支持',
      },
    },
    default: {
      editionShift: 0,
      modules: [],
      exclusiveModules: false,
      service: { en: 'regular account review', zh: '定期客户回访' },
      why: { en: 'no dominant stage, so no edition change', zh: '不集中，不调整版本' },
    },
  },
  technology: {
    low: {
      deployment: 'on_prem',
      channels: ['desktop'],
      modules: [],
      service: { en: 'simple interface, detailed guides, tutorials and video help, on-site setup', zh: '简洁界面、详细指南、教程与视频帮助，上门部署' },
      why: { en: 'wants a simple UI and detailed guidance, prefers on-premise deployment', zh: '低，要界面简单、指导详细，偏好本地部署' },
    },
    medium: {
      deployment: 'cloud',
      channels: ['web', 'mobile'],
      modules: [],
      service: { en: 'guided cloud migration and web training', zh: '云迁移引导与网页端培训' },
      why: { en: 'ready for cloud with guided onboarding', zh: '中等，云端部署并提供引导' },
    },
    high: {
      deployment: 'cloud',
      channels: ['mobile', 'api'],
      modules: ['api'],
      service: { en: 'open API documentation and a developer sandbox for secondary development', zh: '开放API文档与开发者沙箱，支持二次开发' },
      why: { en: 'wants cloud and mobile access anywhere and an open API for secondary development', zh: '高，要云端与移动端随时访问，开放API支持二次开发' },
    },
    default: {
      deployment: 'cloud',
      channels: ['web'],
      modules: [],
      service: { en: 'video help alongside online documentation', zh: '在线文档配合视频帮助' },
      why: { en: 'no dominant level, so cloud as the default', zh: '不集中，默认云端部署' },
    },
  },
  industry: {
    manufacturing: {
      modules: ['inventory', 'project_costing'],
      channels: [],
      why: { en: 'manufacturing needs inventory and production-cost accounting', zh: '制造业需要存货管理与生产成本核算' },
    },
    retail: {
      modules: ['inventory', 'invoicing'],
      channels: ['mobile'],
      why: { en: 'retail needs real-time inventory and sales data, on mobile', zh: '零售业需要实时的库存与销售数据，并支持移动端' },
    },
    construction: {
      modules: ['contracts', 'project_costing'],
      channels: [],
      why: { en: 'construction needs contract management and cost allocation', zh: '建筑业需要合同管理与成本分摊' },
    },
    healthcare: {
      modules: ['compliance', 'payroll'],
      channels: [],
      why: { en: 'healthcare needs regulatory compliance, patient privacy and insurance reimbursement flows', zh: '医疗行业需要法规合规、患者隐私保护与医保报销流程' },
    },
    services: {
      modules: ['invoicing', 'general_ledger'],
      channels: [],
      why: { en: 'service firms need simple income and expense records', zh: '服务业需要简单的收支记录' },
    },
    platform_economy: {
      modules: ['api', 'receivables_payables'],
      channels: ['api'],
      why: { en: 'platforms handle huge numbers of small transactions and configurable revenue-sharing rules', zh: '平台经济要处理海量小额交易与可配置的分账规则' },
    },
    other: {
      modules: [],
      channels: [],
      why: { en: 'an industry the seed does not name, so no industry module', zh: '种子文档未涉及的行业，不附加行业模块' },
    },
    default: {
      modules: [],
      channels: [],
      why: { en: 'no dominant industry, so no industry module', zh: '不集中，不附加行业模块' },
    },
  },
  buyerRole: {
    finance: { message: { en: 'Professional, reliable accounting you can sign off on: accurate, auditable, always available', zh: '专业可靠：核算准确、可审计、稳定可用' } },
    it: { message: { en: 'A maintainable architecture with strong security: open APIs, clear upgrade paths, access control and audit logs', zh: '架构易维护、安全有保障：开放API、清晰的升级路径、权限控制与审计日志' } },
    executive: {
      message: { en: 'Return on investment and strategic value, shown with data and case studies from comparable firms', zh: '投资回报与战略价值，用数据和同类企业案例说话' },
    },
    owner: { message: { en: 'Simple to use and fairly priced: up and running in a day, pay only for what you use', zh: '简单好用、价格实在：一天上手，按需付费' } },
    other: { message: { en: 'Reliable financial software that fits how your team works', zh: '贴合团队工作方式的可靠财务软件' } },
    default: {
      message: { en: 'Reliable, secure financial software with a clear return on investment', zh: '可靠、安全、投资回报清晰的财务软件' },
    },
  },
};

/** The dominant label of each lens for one segment; `mixed` (no dominant label) and `unknown` use the default entries. */
export interface DominantLenses {
  size: SizeLabel | 'mixed';
  industry: IndustryLabel | 'mixed';
  lifecycle: LifecycleLabel | 'mixed';
  technology: TechnologyLabel | 'mixed';
  buyerRole: BuyerRoleLabel | 'mixed';
}

/** A segment's recommendation: what to sell, how to deploy and serve it, and what to tell the buyer. */
export interface Playbook {
  editionId: EditionId;
  /** Display name of the edition. */
  edition: string;
  deployment: Deployment;
  leadModules: Module[];
  /** Channels to put forward (mobile app, open API, desktop client, web). */
  channels: Channel[];
  service: string;
  message: string;
  rationale: string;
  zh: { edition: string; deployment: string; service: string; message: string; rationale: string };
  /** The motion from the segment's measured state (plays.ts); absent on lens-only playbooks and older bundles. */
  play?: 'win_back' | 'retain' | 'onboard' | 'expand' | 'deepen';
  /** The steps, each with its rule (docs/playbooks.md) and evidence; `service` is these as text. */
  actions?: { rule: string; en: string; zh: string; evidence: Bilingual[]; sells: boolean }[];
}

/** How rationale and service parts are labelled and joined in each language. */
const PROSE: Record<keyof Bilingual, { separator: string; lens: (lens: string, label: string) => string }> = {
  en: { separator: '; ', lens: (lens, label) => `${lens} ${label}: ` },
  zh: { separator: '；', lens: (lens) => `${({ size: '规模', lifecycle: '生命周期', technology: '技术接受度', industry: '行业' } as Record<string, string>)[lens]}：` },
};

function entry<E>(table: Record<string, E>, label: string): E {
  return table[label] ?? table.default!;
}

const unique = <T>(xs: readonly T[]): T[] => [...new Set(xs)];

/** The playbook for a segment from its dominant lens labels, by the rules of `table`. */
export function playbookFor(dominant: DominantLenses, table: PlaybookTable = PLAYBOOK_TABLE): Playbook {
  const size = entry<SizeEntry>(table.size, dominant.size);
  const life = entry<LifecycleEntry>(table.lifecycle, dominant.lifecycle);
  const tech = entry<TechnologyEntry>(table.technology, dominant.technology);
  const industry = entry<IndustryEntry>(table.industry, dominant.industry);
  const buyer = entry<BuyerRoleEntry>(table.buyerRole, dominant.buyerRole);

  const ladder = table.editions;
  const step = ladder.findIndex((e) => e.id === size.edition) + life.editionShift;
  const edition = ladder[Math.min(ladder.length - 1, Math.max(0, step))]!;
  const modules = life.exclusiveModules ? life.modules : [...industry.modules, ...life.modules, ...size.modules, ...tech.modules];
  const leadModules = unique(modules).slice(0, table.maxLeadModules);
  const channels = unique([...industry.channels, ...tech.channels]);

  const reasons = (lang: keyof Bilingual) => {
    const { separator, lens } = PROSE[lang];
    return [
      `${lens('size', dominant.size)}${size.why[lang]}`,
      `${lens('lifecycle', dominant.lifecycle)}${life.why[lang]}`,
      `${lens('technology', dominant.technology)}${tech.why[lang]}`,
      `${lens('industry', dominant.industry)}${industry.why[lang]}`,
    ].join(separator);
  };
  const services = (lang: keyof Bilingual) => unique([size.service[lang], life.service[lang], tech.service[lang]]).join(PROSE[lang].separator);

  return {
    editionId: edition.id,
    edition: edition.en,
    deployment: tech.deployment,
    leadModules,
    channels,
    service: services('en'),
    message: buyer.message.en,
    rationale: reasons('en'),
    zh: {
      edition: edition.zh,
      deployment: table.deployments[tech.deployment].zh,
      service: services('zh'),
      message: buyer.message.zh,
      rationale: reasons('zh'),
    },
  };
}
