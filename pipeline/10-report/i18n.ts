import { MODULE_WORDS } from '../07-map/naming.ts';

/**
 * Every word the HTML report shows, in English and Simplified Chinese, and the locale's number
 * and date formatting. Data-derived strings (ids, paths, unknown feature names) pass through
 * untranslated and are escaped by the HTML layer, never here.
 */

/** A report language. */
export type Lang = 'en' | 'zh';

/** The report languages, for `--lang` validation. */
export const LANGS: readonly Lang[] = ['en', 'zh'];

/** The BCP 47 locale of each language: number and date formats, and `<html lang>`. */
export const LOCALES: Record<Lang, string> = { en: 'en-US', zh: 'zh-CN' };

type Words = Record<Lang, string>;

const UI = {
  title: { en: 'Customer segments', zh: '客户分群报告' },
  model: { en: 'Model', zh: '模型版本' },
  trained: { en: 'Trained', zh: '训练时间' },
  asOf: { en: 'Features as of', zh: '特征截止日' },
  data: { en: 'Training data', zh: '训练数据' },
  seed: { en: 'Seed', zh: '随机种子' },
  contents: { en: 'Contents', zh: '目录' },
  customers: { en: 'Customers', zh: '客户数' },
  segments: { en: 'Segments', zh: '分群数' },
  silhouette: { en: 'Silhouette', zh: '轮廓系数' },
  classifierAgreement: { en: 'Classifier agreement', zh: '分类器一致率' },
  plantedAri: { en: 'ARI vs planted archetypes', zh: '与预设原型的ARI' },
  coldStart: { en: 'Cold-start agreement', zh: '冷启动一致率' },
  baseline: { en: 'majority baseline {share}', zh: '多数类基线 {share}' },
  pcaComponents: { en: 'PCA components', zh: '主成分数' },
  varianceKept: { en: 'variance kept', zh: '保留方差' },
  heldOut: { en: 'held-out customers', zh: '留出客户' },
  overview: { en: 'Overview', zh: '概览' },
  overviewLead: {
    en: 'How large each segment is, and where its customers sit in the space the segments were found in.',
    zh: '各分群的规模，以及客户在聚类空间中的分布。',
  },
  sizesChart: { en: 'Segment sizes', zh: '分群规模' },
  projectionChart: { en: 'Customers on the first two principal components', zh: '客户在前两个主成分上的分布' },
  projectionCaption: {
    en: 'A seeded sample of {n} customers; crosses mark the segment centres.',
    zh: '按固定种子抽取的 {n} 位客户样本；十字标记为分群中心。',
  },
  profiles: { en: 'Behavioural profiles', zh: '行为画像' },
  profilesLead: {
    en: 'Mean of each standardised feature per segment: 0 is the customer base average, ±1 one standard deviation above or below it.',
    zh: '各分群每个标准化特征的均值：0 为全体客户平均，±1 表示高于或低于平均一个标准差。',
  },
  heatmapChart: { en: 'Profile heatmap (standardised means)', zh: '画像热力图（标准化均值）' },
  lensesSection: { en: 'Segments and the five lenses', zh: '分群与五个维度' },
  lensesLead: {
    en: "The mix of each documented lens inside every segment. Cramér's V says how strongly the segmentation tracks the lens (0 unrelated, 1 identical).",
    zh: '每个分群内部五个维度的构成。克莱姆V系数表示分群与该维度的关联强度（0 为无关，1 为完全一致）。',
  },
  cramersV: { en: "Cramér's V", zh: '克莱姆V系数' },
  fiveLenses: { en: 'Five lenses', zh: '五个维度' },
  lens: { en: 'Lens', zh: '维度' },
  modulesSection: { en: 'Modules', zh: '功能模块' },
  modulesLead: {
    en: 'Share of each segment that used a module in the last {days} days, and where customers are lost: of the customers who used a module in the {days} days before, the share who stopped while still active.',
    zh: '各分群在最近 {days} 天内使用各模块的客户占比；以及客户流失点：在此前 {days} 天使用过某模块的客户中，仍然活跃却停用该模块的比例。',
  },
  adoptionChart: { en: 'Module adoption', zh: '模块采用率' },
  abandonmentChart: { en: 'Tried, then abandoned', zh: '试用后放弃' },
  abandonmentCaption: {
    en: 'Cells with fewer than {min} earlier users are left blank.',
    zh: '此前使用客户少于 {min} 位的单元格留空。',
  },
  feedbackSection: { en: 'Customer feedback', zh: '客户反馈' },
  feedbackLead: {
    en: "Net promoter score from each customer's latest answer, and support tickets per customer, from the feedback table.",
    zh: '基于每位客户最近一次回答的净推荐值（NPS），以及每位客户的工单数，来自反馈数据表。',
  },
  npsChart: { en: 'NPS and support tickets', zh: 'NPS 与工单' },
  nps: { en: 'NPS', zh: '净推荐值' },
  tickets: { en: 'Tickets per customer', zh: '人均工单数' },
  respondents: { en: 'respondents', zh: '位受访者' },
  kSection: { en: 'Choosing the number of segments', zh: '分群数的选择' },
  kChart: { en: 'Selection curves over k', zh: '各 k 值的评估曲线' },
  kCaption: {
    en: 'Filled points meet the minimum segment share; the dashed line marks the chosen k = {k}.',
    zh: '实心点满足最小分群占比；虚线为最终选定的 k = {k}。',
  },
  rule: { en: 'Decision rule', zh: '决策规则' },
  noClearStructure: {
    en: 'No clear segment structure: no k tried has a silhouette clearly above what the same customers give with each feature shuffled on its own. The segments divide the customers, but they are not distinct groups in the data.',
    zh: '无明显分群结构：所有尝试的 k 的轮廓系数都没有明显高于将每个特征各自打乱后的同一批客户。这些分群只是对客户的划分，并非数据中真实存在的不同群体。',
  },
  minShare: { en: 'Smallest segment', zh: '最小分群占比' },
  k: { en: 'Number of segments k', zh: '分群数 k' },
  inertia: { en: 'Inertia', zh: '簇内平方和' },
  calinskiHarabasz: { en: 'Calinski-Harabasz', zh: 'Calinski-Harabasz 指数' },
  daviesBouldin: { en: 'Davies-Bouldin', zh: 'Davies-Bouldin 指数' },
  stability: { en: 'Stability', zh: '稳定性' },
  higherBetter: { en: 'higher is better', zh: '越高越好' },
  lowerBetter: { en: 'lower is better', zh: '越低越好' },
  trendsSection: { en: 'Trends and forecasts', zh: '趋势与预测' },
  trendsLead: {
    en: "Each segment's modules whose adoption changes significantly: the monthly share of its active customers using them, and the next quarter forecast by the model that did best on the last three months.",
    zh: '各分群中采用率显著变化的模块：每月使用该模块的活跃客户占比，以及由最近三个月回测表现最好的模型给出的下季度预测。',
  },
  trendsChart: { en: 'Monthly module adoption with next-quarter forecast', zh: '月度模块采用率与下季度预测' },
  trendsCaption: { en: 'Solid: observed; dashed: forecast, with its 95% interval shaded.', zh: '实线为实际值；虚线为预测值，阴影为 95% 预测区间。' },
  rising: { en: 'Significant changes', zh: '显著变化' },
  ppPerMonth: { en: 'pp/month', zh: '个百分点/月' },
  driftSection: { en: 'Changes since the previous model', zh: '与上一版本模型的变化' },
  comparedWith: { en: 'Compared with production model', zh: '对比的生产模型' },
  keptIds: { en: '{share} of customers kept their segment id', zh: '{share} 的客户分群编号不变' },
  decision: { en: 'Decision', zh: '结论' },
  promote: { en: 'promote', zh: '上线' },
  gatePass: { en: 'pass', zh: '通过' },
  gateFail: { en: 'fail', zh: '未通过' },
  gateWaived: { en: 'waived', zh: '豁免' },
  gateNotApplicable: { en: 'n/a', zh: '不适用' },
  hold: { en: 'hold', zh: '暂缓' },
  driftChart: { en: 'Input drift (population stability index)', zh: '输入漂移（群体稳定性指数 PSI）' },
  driftCaption: { en: 'The 20 largest shifts; the dashed line is the drift threshold ({threshold}).', zh: '变化最大的 20 项；虚线为漂移阈值（{threshold}）。' },
  migrationChart: { en: 'Migration between versions', zh: '版本间客户迁移' },
  migrationCaption: { en: 'Customers per cell; shading is the share of the row.', zh: '单元格为客户数；颜色深浅表示占该行的比例。' },
  previousSegment: { en: 'Previous segment', zh: '原分群' },
  newSegment: { en: 'New segment', zh: '新分群' },
  newCustomers: { en: 'new', zh: '新客户' },
  goneCustomers: { en: 'gone', zh: '已离开' },
  cards: { en: 'Segment cards', zh: '分群卡片' },
  cardsLead: {
    en: 'One card per segment: who they are, what sets them apart, and how to sell to them.',
    zh: '每个分群一张卡片：他们是谁、有何不同、如何销售。',
  },
  segment: { en: 'Segment', zh: '分群' },
  ofBase: { en: 'of the base', zh: '占全体' },
  dominant: { en: 'Dominant', zh: '主导类别' },
  share: { en: 'Share', zh: '占比' },
  lift: { en: 'Lift', zh: '提升度' },
  mixed: { en: 'mixed', zh: '混合' },
  distinguishing: { en: 'What sets it apart', zh: '显著特征' },
  stdDiff: { en: 'std. diff.', zh: '标准化差异' },
  segmentMean: { en: 'segment', zh: '本群' },
  restMean: { en: 'rest', zh: '其他' },
  rules: { en: 'Rules', zh: '规则' },
  fidelity: { en: 'fidelity', zh: '保真度' },
  recall: { en: 'recall', zh: '召回率' },
  precision: { en: 'precision', zh: '精确率' },
  everyCustomer: { en: 'every customer', zh: '全部客户' },
  orMissing: { en: '(or missing)', zh: '（或缺失）' },
  and: { en: ' and ', zh: ' 且 ' },
  rulesLead: {
    en: 'Rules come from a threshold tree that agrees with the segments on {fidelity} of customers.',
    zh: '规则来自一棵阈值决策树，它与分群结果在 {fidelity} 的客户上一致。',
  },
  stable: { en: 'stable', zh: '稳定' },
  unstable: { en: 'unstable', zh: '不稳定' },
  jaccard: { en: 'mean Jaccard over bootstrap resamples', zh: '自助重抽样的平均 Jaccard 系数' },
  playbook: { en: 'Playbook', zh: '销售策略' },
  edition: { en: 'Edition', zh: '版本' },
  deployment: { en: 'Deployment', zh: '部署方式' },
  leadModules: { en: 'Lead with', zh: '主推模块' },
  channels: { en: 'Channels', zh: '渠道' },
  service: { en: 'Service', zh: '服务' },
  message: { en: 'Message', zh: '核心信息' },
  lostModules: { en: 'Where customers are lost', zh: '客户流失点' },
  feedback: { en: 'Feedback', zh: '反馈' },
  examples: { en: 'Example customers', zh: '示例客户' },
  dataSection: { en: 'Data and model', zh: '数据与模型' },
  table: { en: 'Table', zh: '数据表' },
  read: { en: 'Read', zh: '读取' },
  accepted: { en: 'Accepted', zh: '接受' },
  quarantined: { en: 'Quarantined', zh: '隔离' },
  reasons: { en: 'Reasons', zh: '原因' },
  absent: { en: 'absent', zh: '缺失' },
  featuresUsed: { en: '{n} features used.', zh: '共使用 {n} 个特征。' },
  featuresDropped: { en: 'Dropped', zh: '已剔除' },
  exports: { en: 'Exports', zh: '导出文件' },
  exportsLead: { en: 'Files beside this report, for CRMs, BI tools and spreadsheets.', zh: '与本报告同目录的文件，可用于 CRM、BI 工具和电子表格。' },
  segmentsJson: { en: 'every segment with lenses, features and playbook (documented schema)', zh: '全部分群：维度、特征与策略（有文档说明的结构）' },
  segmentsCsv: { en: 'one row per segment', zh: '每个分群一行' },
  assignmentsCsv: { en: 'the segment and lenses of every training customer', zh: '每位训练客户的分群与维度' },
  assignmentsParquet: { en: 'the same, as Parquet', zh: '同上，Parquet 格式' },
  reportMd: { en: 'this report as Markdown', zh: '本报告的 Markdown 版本' },
  generatedBy: { en: 'Generated by finseg {version}', zh: '由 finseg {version} 生成' },
  customersUnit: { en: 'customers', zh: '位客户' },
  otherLanguage: { en: '中文版', zh: 'English' },
  colon: { en: ': ', zh: '：' },
  perfect: { en: 'perfect', zh: '完全区分' },
  separatesPerfectly: { en: 'separates perfectly (segment {segment} vs rest {rest})', zh: '完全区分（本群 {segment}，其他 {rest}）' },
  notMeasurable: { en: 'not measurable from this export — needs {needs}', zh: '无法从本次导出数据衡量——需要 {needs}' },
  notMeasurableShort: { en: 'not measurable', zh: '无法衡量' },
  droppedConstant: { en: 'the same value for every customer', zh: '所有客户取值相同' },
  droppedNearConstant: { en: 'almost every customer has the same value', zh: '几乎所有客户取值相同' },
  droppedDuplicate: { en: 'duplicates {feature}', zh: '与 {feature} 重复' },
  droppedNoTable: { en: 'this export has no {table} table', zh: '本次导出没有 {table} 数据表' },
  droppedNoValues: { en: 'no customer has a value', zh: '没有客户有取值' },
  droppedNotInModel: { en: 'not in the model', zh: '不在模型中' },
  droppedNotInFile: { en: 'not in {file}', zh: '{file} 中没有此列' },
} as const satisfies Record<string, Words>;

/** A key of the report's interface text. */
export type UiKey = keyof typeof UI;

const LENS_NAMES_TEXT: Record<string, Words> = {
  size: { en: 'Size', zh: '规模' },
  industry: { en: 'Industry', zh: '行业' },
  lifecycle: { en: 'Lifecycle', zh: '生命周期' },
  technology: { en: 'Technology acceptance', zh: '技术接受度' },
  buyerRole: { en: 'Buyer role', zh: '采购角色' },
};

const LENS_LABEL_TEXT: Record<string, Record<string, Words>> = {
  size: {
    micro: { en: 'Micro', zh: '微型' },
    small: { en: 'Small', zh: '小型' },
    medium: { en: 'Medium', zh: '中型' },
    large: { en: 'Large', zh: '大型' },
  },
  industry: {
    manufacturing: { en: 'Manufacturing', zh: '制造业' },
    retail: { en: 'Retail', zh: '零售业' },
    construction: { en: 'Construction', zh: '建筑业' },
    healthcare: { en: 'Healthcare', zh: '医疗卫生' },
    services: { en: 'Services', zh: '服务业' },
    platform_economy: { en: 'Platform economy', zh: '平台经济' },
    other: { en: 'Other', zh: '其他' },
  },
  lifecycle: {
    startup: { en: 'Startup', zh: '初创期' },
    growth: { en: 'Growth', zh: '成长期' },
    mature: { en: 'Mature', zh: '成熟期' },
    decline: { en: 'Decline', zh: '衰退期' },
  },
  technology: {
    low: { en: 'Low', zh: '低' },
    medium: { en: 'Medium', zh: '中' },
    high: { en: 'High', zh: '高' },
  },
  buyerRole: {
    finance: { en: 'Finance', zh: '财务' },
    it: { en: 'IT', zh: 'IT' },
    executive: { en: 'Executive', zh: '高管' },
    owner: { en: 'Owner', zh: '企业主' },
    other: { en: 'Other', zh: '其他' },
  },
};

const COMMON_LABELS: Record<string, Words> = {
  unknown: { en: 'Unknown', zh: '未知' },
  mixed: { en: 'Mixed', zh: '混合' },
};

const FEATURE_TEXT: Record<string, Words> = {
  active_days_90: { en: 'Active days', zh: '活跃天数' },
  events_90: { en: 'Events', zh: '事件数' },
  users_90: { en: 'Active users', zh: '活跃用户数' },
  events_per_user_90: { en: 'Events per user', zh: '人均事件数' },
  recency_days: { en: 'Days since last activity', zh: '距上次活动天数' },
  tenure_days: { en: 'Tenure (days)', zh: '客户时长（天）' },
  module_breadth_90: { en: 'Modules used', zh: '使用模块数' },
  device_mobile_share: { en: 'Mobile share', zh: '移动端占比' },
  device_api_share: { en: 'API-call share', zh: 'API 调用占比' },
  device_desktop_share: { en: 'Desktop share', zh: '桌面端占比' },
  txn_count_90: { en: 'Transactions', zh: '交易笔数' },
  txn_volume_90: { en: 'Transaction volume', zh: '交易额' },
  txn_avg_size: { en: 'Average ticket', zh: '平均交易额' },
  txn_recency_days: { en: 'Days since last transaction', zh: '距上次交易天数' },
  txn_tenure_days: { en: 'Days since first transaction', zh: '距首次交易天数' },
  txn_active_months: { en: 'Months with a transaction', zh: '有交易的月数' },
  txn_count_all: { en: 'Transactions (all time)', zh: '交易笔数（全部）' },
  txn_volume_all: { en: 'Transaction volume (all time)', zh: '交易额（全部）' },
  txn_avg_basket: { en: 'Average basket', zh: '平均客单价' },
  small_ticket_share: { en: 'Small-ticket share', zh: '小额交易占比' },
  currencies_90: { en: 'Currencies', zh: '币种数' },
  foreign_share: { en: 'Foreign-currency share', zh: '外币交易占比' },
  refund_share: { en: 'Refund share', zh: '退款占比' },
  kind_sale_share: { en: 'Sales share', zh: '销售占比' },
  kind_purchase_share: { en: 'Purchases share', zh: '采购占比' },
  kind_payroll_share: { en: 'Payroll share', zh: '薪资支出占比' },
  kind_transfer_share: { en: 'Transfers share', zh: '转账占比' },
  usage_trend: { en: 'Usage trend', zh: '使用趋势' },
  volume_trend: { en: 'Volume trend', zh: '交易额趋势' },
};

/** Customer attributes as drift inputs name them (the customers table's columns). */
const ATTRIBUTE_TEXT: Record<string, Words> = {
  employees: { en: 'Employees', zh: '员工人数' },
  annual_revenue: { en: 'Annual revenue', zh: '年营业收入' },
  founded_year: { en: 'Founded year', zh: '成立年份' },
  industry: { en: 'Industry code', zh: '行业代码' },
  region: { en: 'Region', zh: '地区' },
  edition: { en: 'Edition', zh: '版本' },
  deployment: { en: 'Deployment', zh: '部署方式' },
  buyer_role: { en: 'Buyer role (as given)', zh: '采购角色（原始）' },
};

const CHANNEL_TEXT: Record<string, Words> = {
  web: { en: 'Web', zh: '网页端' },
  desktop: { en: 'Desktop client', zh: '桌面客户端' },
  mobile: { en: 'Mobile app', zh: '移动应用' },
  api: { en: 'Open API', zh: '开放API' },
};

const DEPLOYMENT_TEXT: Record<string, Words> = {
  cloud: { en: 'Cloud', zh: '云端部署' },
  hybrid: { en: 'Hybrid', zh: '混合部署' },
  on_prem: { en: 'On-premise', zh: '本地部署' },
};

const METRIC_TEXT: Record<string, Words> = {
  silhouette: UI.silhouette,
  calinskiHarabasz: UI.calinskiHarabasz,
  daviesBouldin: UI.daviesBouldin,
  inertia: UI.inertia,
  stability: UI.stability,
};

/** Locale-aware formatting of the numbers and dates the report shows. */
export interface Formats {
  integer(x: number): string;
  decimal(x: number | null | undefined, digits?: number): string;
  percent(x: number | null | undefined, digits?: number): string;
  /** A signed decimal, for differences (+1.2, −0.4). */
  signed(x: number, digits?: number): string;
  /** An ISO date or timestamp as a long local date. */
  date(iso: string): string;
  /** An ISO timestamp as a local date and time in UTC (the trainer's clock is UTC). */
  dateTime(iso: string): string;
}

/** The translator and formats of one report language. */
export interface Texts {
  lang: Lang;
  locale: string;
  /** Interface text, with `{name}` slots filled from `vars`. */
  ui(key: UiKey, vars?: Record<string, string | number>): string;
  lensName(lens: string): string;
  /** A lens label (`micro`, `platform_economy`, `mixed`, …); an unknown label passes through. */
  lensLabel(lens: string, label: string): string;
  /** A catalog feature's (or drift input's) display name; module shares read "<module> share"; an unknown name passes through. */
  feature(name: string): string;
  /** A catalog module's display name; a vendor's own module name (and any unknown one) passes through. */
  module(name: string): string;
  /** Why a feature was dropped before training (manifest.features.dropped), in the reader's words; an unknown reason passes through. */
  droppedReason(reason: string): string;
  channel(name: string): string;
  deployment(name: string): string;
  metric(name: string): string;
  fmt: Formats;
}

const MISSING = '–';

/** A vendor module the features stage gave a share feature of its own (the bundle's `vendorModules`). */
export interface VendorModule {
  /** The vendor's own text, e.g. "Bank feeds". */
  name: string;
  /** Its share feature, e.g. `share_vendor_bank_feeds`. */
  feature: string;
}

/** The pooled share of the vendor modules beyond the named ones. */
const VENDOR_OTHER: Words = { en: 'Other own modules share', zh: '其他自有模块占比' };

/** The texts and formats of a report language; `vendorModules` label the vendor-module share features. */
export function texts(lang: Lang, vendorModules: readonly VendorModule[] = []): Texts {
  const locale = LOCALES[lang];
  const nf = (digits: number) => new Intl.NumberFormat(locale, { minimumFractionDigits: digits, maximumFractionDigits: digits });
  const pf = (digits: number) => new Intl.NumberFormat(locale, { style: 'percent', minimumFractionDigits: digits, maximumFractionDigits: digits });
  const fmt: Formats = {
    integer: (x) => (Number.isFinite(x) ? new Intl.NumberFormat(locale, { maximumFractionDigits: 0 }).format(x) : MISSING),
    decimal: (x, digits = 3) => (x === null || x === undefined || !Number.isFinite(x) ? MISSING : nf(digits).format(x)),
    percent: (x, digits = 1) => (x === null || x === undefined || !Number.isFinite(x) ? MISSING : pf(digits).format(x)),
    signed: (x, digits = 2) =>
      Number.isFinite(x) ? new Intl.NumberFormat(locale, { minimumFractionDigits: digits, maximumFractionDigits: digits, signDisplay: 'exceptZero' }).format(x).replace('-', '−') : MISSING,
    date: (iso) => {
      const d = new Date(iso.length === 10 ? `${iso}T00:00:00Z` : iso);
      return Number.isNaN(d.getTime()) ? iso : new Intl.DateTimeFormat(locale, { dateStyle: 'long', timeZone: 'UTC' }).format(d);
    },
    dateTime: (iso) => {
      const d = new Date(iso);
      return Number.isNaN(d.getTime()) ? iso : `${new Intl.DateTimeFormat(locale, { dateStyle: 'long', timeStyle: 'short', timeZone: 'UTC' }).format(d)} UTC`;
    },
  };
  const pick = (w: Words | undefined, fallback: string) => (w ? w[lang] : fallback);
  const moduleName = (m: string) => {
    const w = (MODULE_WORDS as Record<string, Words>)[m];
    if (!w) return m;
    // MODULE_WORDS are phrased for use inside names ("receivables & payables"); a label starts upper case.
    return lang === 'en' ? w.en.charAt(0).toUpperCase() + w.en.slice(1) : w.zh;
  };
  const t: Texts = {
    lang,
    locale,
    ui: (key, vars) => {
      let s: string = UI[key][lang];
      for (const [name, value] of Object.entries(vars ?? {})) s = s.replaceAll(`{${name}}`, String(value));
      return s;
    },
    lensName: (lens) => pick(LENS_NAMES_TEXT[lens], lens),
    lensLabel: (lens, label) => pick(LENS_LABEL_TEXT[lens]?.[label] ?? COMMON_LABELS[label], label),
    feature: (name) => {
      if (FEATURE_TEXT[name]) return FEATURE_TEXT[name][lang];
      if (ATTRIBUTE_TEXT[name]) return ATTRIBUTE_TEXT[name][lang];
      const lens = /^lens:(.+)$/.exec(name);
      if (lens && LENS_NAMES_TEXT[lens[1]!]) return lang === 'en' ? `${LENS_NAMES_TEXT[lens[1]!]!.en} lens` : `${LENS_NAMES_TEXT[lens[1]!]!.zh}维度`;
      const share = /^share_(.+)$/.exec(name);
      if (share && (MODULE_WORDS as Record<string, Words>)[share[1]!]) return lang === 'en' ? `${moduleName(share[1]!)} share` : `${moduleName(share[1]!)}占比`;
      const vendor = vendorModules.find((v) => v.feature === name);
      if (vendor) return lang === 'en' ? `${vendor.name} share` : `${vendor.name} 占比`;
      if (name === 'share_vendor_other') return VENDOR_OTHER[lang];
      return name;
    },
    module: moduleName,
    droppedReason: (reason) => droppedReason(reason, lang, (name) => t.feature(name)),
    channel: (c) => pick(CHANNEL_TEXT[c], c),
    deployment: (d) => pick(DEPLOYMENT_TEXT[d], d),
    metric: (m) => pick(METRIC_TEXT[m], m),
    fmt,
  };
  return t;
}

/** A dropped feature's reason as the features stage records it, in words; the reasons it does not know pass through. */
function droppedReason(reason: string, lang: Lang, featureName: (name: string) => string): string {
  const say = (key: UiKey, vars: Record<string, string> = {}) => Object.entries(vars).reduce<string>((s, [k, v]) => s.replaceAll(`{${k}}`, v), UI[key][lang]);
  if (reason === 'constant') return say('droppedConstant');
  if (reason === 'near-constant') return say('droppedNearConstant');
  if (reason === 'no values') return say('droppedNoValues');
  if (reason === 'not in the model') return say('droppedNotInModel');
  const duplicate = /^duplicate of (.+)$/.exec(reason);
  if (duplicate) return say('droppedDuplicate', { feature: featureName(duplicate[1]!) });
  const table = /^no (\w+) table$/.exec(reason);
  if (table) return say('droppedNoTable', { table: table[1]! });
  const file = /^not in (.+)$/.exec(reason);
  if (file) return say('droppedNotInFile', { file: file[1]! });
  return reason;
}

/** Parses a `--lang` value; null when it is not a report language. */
export function parseLang(value: string): Lang | null {
  return (LANGS as readonly string[]).includes(value) ? (value as Lang) : null;
}
