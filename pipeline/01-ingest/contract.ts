/**
 * The input data contract (DESIGN §3), declared once. Ingestion, the generator, validation,
 * the README's input table and the tests all read this declaration.
 */

export type ColumnType = 'string' | 'date' | 'timestamp' | 'int' | 'number';

export interface ColumnSpec {
  readonly name: string;
  readonly type: ColumnType;
  /** The column must exist in the file. */
  readonly required: boolean;
  /** Every row must have a value (a missing value quarantines the row). */
  readonly mandatoryValue: boolean;
  readonly min?: number;
  readonly max?: number;
  readonly allowed?: readonly string[];
  /**
   * Known values of an open vocabulary: a value that is one of these after value mapping is
   * stored as that id; any other non-blank value is kept as the vendor wrote it (trimmed), never
   * quarantined. Vendors name their own modules, so the catalog cannot be a closed list.
   */
  readonly catalog?: readonly string[];
  /** A regular expression the (normalised) value must match; a mismatch is a `bad_enum`. */
  readonly pattern?: string;
  /** How a text value is normalised before checks: enums are lower_snake, codes upper case. */
  readonly normalise?: 'upper';
  /** The unit, for documentation (and for `ingest.units` conversions). */
  readonly unit?: string;
  /** A short note for the README's table (what a sign or a value means). */
  readonly note?: string;
  /** A date that may lie after the as-of date (a scheduled end); other dates after it are `after_as_of`. */
  readonly mayFollowAsOf?: boolean;
  /** A column of the same row this date must not be before (`end_before_start`). */
  readonly notBefore?: string;
  /**
   * A bad value quarantines the row although the column is optional: a nulled end date would
   * read as a subscription that never ended.
   */
  readonly rowLevel?: boolean;
  readonly doc: string;
}

export interface TableSpec {
  readonly name: TableName;
  readonly required: boolean;
  readonly columns: readonly ColumnSpec[];
  readonly doc: string;
}

export type TableName = 'customers' | 'usage_events' | 'transactions' | 'feedback' | 'subscriptions' | 'actions';

/** The module catalog (DESIGN §3): usage events name one of these after value mapping. */
export const MODULES = [
  'general_ledger',
  'receivables_payables',
  'invoicing',
  'inventory',
  'payroll',
  'tax',
  'multi_currency',
  'consolidation',
  'project_costing',
  'contracts',
  'budgeting',
  'reporting',
  'compliance',
  'api',
] as const;
export type Module = (typeof MODULES)[number];

export const DEVICES = ['web', 'desktop', 'mobile', 'api'] as const;
export const DEPLOYMENTS = ['cloud', 'on_prem', 'hybrid'] as const;
export const BUYER_ROLES = ['finance', 'it', 'executive', 'owner', 'other'] as const;
export const TRANSACTION_KINDS = ['sale', 'purchase', 'expense', 'payroll', 'transfer', 'other'] as const;
export const SUBSCRIPTION_STATUSES = ['active', 'trialing', 'paused', 'cancelled', 'ended'] as const;

const col = (
  name: string,
  type: ColumnType,
  doc: string,
  opts: Partial<Omit<ColumnSpec, 'name' | 'type' | 'doc'>> = {},
): ColumnSpec => ({ name, type, doc, required: false, mandatoryValue: false, ...opts });

export const CONTRACT: Readonly<Record<TableName, TableSpec>> = {
  customers: {
    name: 'customers',
    required: true,
    doc: 'one row per customer',
    columns: [
      col('customer_id', 'string', 'unique customer key', { required: true, mandatoryValue: true }),
      col('signup_date', 'date', 'date the customer signed up', { required: true, mandatoryValue: true }),
      col('industry', 'string', 'free industry code, mapped to the documented industries by config'),
      col('employees', 'int', 'head count', { min: 0 }),
      col('annual_revenue', 'number', 'annual revenue; `ingest.units.annualRevenue` converts the file\'s unit to thousands', { min: 0, unit: 'thousands' }),
      col('founded_year', 'int', 'year the company was founded', { min: 1800, max: 2100 }),
      col('region', 'string', 'sales region'),
      col('deployment', 'string', 'cloud | on_prem | hybrid', { allowed: DEPLOYMENTS }),
      col('edition', 'string', 'product edition currently licensed'),
      col('buyer_role', 'string', 'finance | it | executive | owner | other', { allowed: BUYER_ROLES }),
    ],
  },
  usage_events: {
    name: 'usage_events',
    required: true,
    doc: 'one row per product usage event (or per user, module, device and time bucket with a count)',
    columns: [
      col('customer_id', 'string', 'customer key', { required: true, mandatoryValue: true }),
      col('ts', 'timestamp', 'when the event happened', { required: true, mandatoryValue: true }),
      col('module', 'string', `a catalog module (${MODULES.join(', ')}) after value mapping; any other name is kept as the vendor's own module (trimmed text)`, { required: true, mandatoryValue: true, catalog: MODULES }),
      col('device', 'string', 'web | desktop | mobile | api; absent or blank = unknown device', { allowed: DEVICES }),
      col('user_id', 'string', 'the acting user'),
      col('count', 'number', 'number of actions this row stands for (default 1)', { min: 0 }),
    ],
  },
  transactions: {
    name: 'transactions',
    required: true,
    doc: 'one row per booked transaction',
    columns: [
      col('customer_id', 'string', 'customer key', { required: true, mandatoryValue: true }),
      col('ts', 'timestamp', 'booking time', { required: true, mandatoryValue: true }),
      col('amount', 'number', 'amount; negative = refund or credit', { required: true, mandatoryValue: true, note: 'negative = refund' }),
      col('currency', 'string', 'ISO 4217 code (three letters); `ingest.units.currency` fills a missing one', { pattern: '^[A-Z]{3}$', normalise: 'upper' }),
      col('kind', 'string', 'sale | purchase | expense | payroll | transfer | other', { allowed: TRANSACTION_KINDS }),
    ],
  },
  feedback: {
    name: 'feedback',
    required: false,
    doc: 'optional survey and support feedback',
    columns: [
      col('customer_id', 'string', 'customer key', { required: true, mandatoryValue: true }),
      col('ts', 'timestamp', 'when the feedback was given', { required: true }),
      col('nps', 'int', 'net promoter score answer 0..10', { min: 0, max: 10 }),
      col('tickets', 'int', 'support tickets opened', { min: 0 }),
    ],
  },
  subscriptions: {
    name: 'subscriptions',
    required: false,
    doc: 'one row per subscription period (a change of plan or seats ends one row and starts the next)',
    columns: [
      col('customer_id', 'string', 'customer key', { required: true, mandatoryValue: true }),
      col('plan', 'string', "the plan or edition, as the vendor names it; with `ingest.plans` set, a plan outside that list is a `bad_enum` (written as listed, compared ignoring case)", { required: true, mandatoryValue: true }),
      col('seats', 'int', 'licensed seats or users', { min: 0 }),
      col('mrr', 'number', 'monthly recurring revenue of this period', { required: true, mandatoryValue: true, min: 0 }),
      col('currency', 'string', 'ISO 4217 code of mrr (three letters); `ingest.units.currency` fills a missing one', { pattern: '^[A-Z]{3}$', normalise: 'upper' }),
      col('start_date', 'date', 'first day of the period', { required: true, mandatoryValue: true }),
      col('end_date', 'date', 'day the period ended or was cancelled (not active from that day); blank while active; may be after the as-of date (a scheduled end)', {
        mayFollowAsOf: true,
        notBefore: 'start_date',
        rowLevel: true,
        note: 'blank = active',
      }),
      col('status', 'string', 'active | trialing | paused | cancelled | ended', { allowed: SUBSCRIPTION_STATUSES }),
    ],
  },
  actions: {
    name: 'actions',
    required: false,
    doc: 'optional playbook actions: who was treated (or held out) by which campaign, when (finseg evaluate)',
    columns: [
      col('customer_id', 'string', 'customer key', { required: true, mandatoryValue: true }),
      col('action', 'string', 'campaign or play name (free text)', { required: true, mandatoryValue: true }),
      col('date', 'date', 'day the customer was treated or held out', { required: true, mandatoryValue: true }),
      col('variant', 'string', 'arm of the campaign; `evaluate.controlVariants` (default `control`) name the held-out arm', { required: true, mandatoryValue: true }),
    ],
  },
};

export const TABLE_NAMES: readonly TableName[] = ['customers', 'usage_events', 'transactions', 'feedback', 'subscriptions', 'actions'];

/**
 * Why a row was quarantined, or an optional column's value nulled (cells.ts): each code with what
 * it means, in the order the checks run (a row or cell gets the first that applies).
 */
export const QUARANTINE_REASONS = [
  { code: 'malformed', doc: 'the row cannot be read as a row: wrong number of fields, a quote that never closes, bytes that are not valid text in the file\'s encoding, a JSON line that is not an object' },
  { code: 'missing_key', doc: 'a column that must have a value is blank (or holds a missing-value token such as NA): customer_id, signup_date, ts, module, amount; a subscription\'s plan, mrr, start_date; an action\'s action, date and variant' },
  { code: 'unparseable', doc: 'a value cannot be read as its type: a date, timestamp, integer or number that does not parse (an int with a fraction, an infinite date)' },
  { code: 'bad_enum', doc: 'a value outside its allowed set after value mapping (device, deployment, buyer_role, kind, status) or not in its format (currency: three letters); a subscription plan outside `ingest.plans` when that list is set; a module outside the catalog is the vendor\'s own module, not a bad value' },
  { code: 'out_of_range', doc: 'a number outside its range (employees < 0, founded_year outside 1800..2100, count < 0, nps outside 0..10, seats < 0, mrr < 0)' },
  { code: 'after_as_of', doc: 'a timestamp, signup date, subscription start date or action date after the end of the as-of day (a subscription end date may be later: a scheduled end)' },
  { code: 'end_before_start', doc: 'a subscription whose end (cancel) date is before its start date (an end on the start day is accepted)' },
  { code: 'duplicate_id', doc: 'a second customers row with a customer id already accepted (the first row in file order wins)' },
  { code: 'customer_quarantined', doc: 'an event, transaction, feedback, subscription or action row of a customer whose customers row was quarantined (for a bad required value: a bad optional value never takes the customer out)' },
  { code: 'unknown_customer', doc: 'an event, transaction, feedback, subscription or action row whose customer id is not in the customers table at all' },
] as const;

/** The closed or open value list of an enum column, or undefined for free text. */
export function enumValues(spec: ColumnSpec): readonly string[] | undefined {
  return spec.allowed ?? spec.catalog;
}

/** A quarantine reason code. */
export type QuarantineReason = (typeof QUARANTINE_REASONS)[number]['code'];

/**
 * Values that mean "missing" in exports (R writes NA, SQL dumps write NULL, spreadsheets #N/A),
 * compared case-insensitively after trimming. `ingest.missingValues` replaces the list.
 */
export const DEFAULT_MISSING_VALUES: readonly string[] = ['NA', 'N/A', '#N/A', 'NULL', 'NaN', 'None', '-'];

/**
 * Built-in spellings of the enum columns, applied before the user's `ingest.values` (which win).
 * Keys are compared as normalised enums (trimmed, lower case, spaces and dashes as `_`).
 * They cover common English and Chinese names so a vendor's export works without a map.
 */
export const BUILTIN_VALUE_MAPS: Readonly<Partial<Record<TableName, Readonly<Record<string, Readonly<Record<string, string>>>>>>> = {
  usage_events: {
    module: {
      gl: 'general_ledger', ledger: 'general_ledger', accounting: 'general_ledger', 总账: 'general_ledger',
      ar: 'receivables_payables', ap: 'receivables_payables', 'ar/ap': 'receivables_payables', receivables: 'receivables_payables', payables: 'receivables_payables',
      accounts_receivable: 'receivables_payables', accounts_payable: 'receivables_payables', 应收应付: 'receivables_payables', 应收: 'receivables_payables', 应付: 'receivables_payables',
      invoice: 'invoicing', invoices: 'invoicing', e_invoice: 'invoicing', billing: 'invoicing', 发票: 'invoicing', 开票: 'invoicing',
      stock: 'inventory', warehouse: 'inventory', 库存: 'inventory', 进销存: 'inventory',
      hr: 'payroll', salary: 'payroll', wages: 'payroll', 工资: 'payroll', 薪资: 'payroll', 薪酬: 'payroll',
      vat: 'tax', taxes: 'tax', 税务: 'tax',
      fx: 'multi_currency', multicurrency: 'multi_currency', foreign_currency: 'multi_currency', 多币种: 'multi_currency', 外币: 'multi_currency',
      group_consolidation: 'consolidation', 合并报表: 'consolidation', 合并: 'consolidation',
      project: 'project_costing', projects: 'project_costing', job_costing: 'project_costing', 项目: 'project_costing', 项目成本: 'project_costing',
      contract: 'contracts', contract_management: 'contracts', 合同: 'contracts',
      budget: 'budgeting', budgets: 'budgeting', planning: 'budgeting', 预算: 'budgeting',
      reports: 'reporting', analytics: 'reporting', bi: 'reporting', dashboards: 'reporting', 报表: 'reporting', 分析: 'reporting',
      audit: 'compliance', 合规: 'compliance', 审计: 'compliance',
      integration: 'api', integrations: 'api', open_api: 'api', openapi: 'api', 接口: 'api',
    },
    device: {
      browser: 'web', online: 'web', 网页: 'web', 浏览器: 'web',
      pc: 'desktop', windows: 'desktop', mac: 'desktop', macos: 'desktop', client: 'desktop', 桌面: 'desktop', 客户端: 'desktop',
      app: 'mobile', ios: 'mobile', android: 'mobile', phone: 'mobile', tablet: 'mobile', 手机: 'mobile', 移动: 'mobile', 移动端: 'mobile',
      integration: 'api', openapi: 'api', 接口: 'api',
    },
  },
  customers: {
    deployment: {
      saas: 'cloud', public_cloud: 'cloud', online: 'cloud', 云: 'cloud', 云端: 'cloud', 公有云: 'cloud',
      onprem: 'on_prem', on_premise: 'on_prem', on_premises: 'on_prem', local: 'on_prem', self_hosted: 'on_prem', 本地: 'on_prem', 本地部署: 'on_prem', 私有化: 'on_prem',
      mixed: 'hybrid', 混合: 'hybrid', 混合云: 'hybrid',
    },
    buyer_role: {
      cfo: 'finance', accountant: 'finance', accounting: 'finance', controller: 'finance', finance_manager: 'finance', 财务: 'finance', 会计: 'finance', 财务经理: 'finance',
      cio: 'it', cto: 'it', it_manager: 'it', 信息部: 'it', 技术: 'it',
      ceo: 'executive', gm: 'executive', general_manager: 'executive', director: 'executive', 总经理: 'executive', 高管: 'executive',
      founder: 'owner', proprietor: 'owner', 老板: 'owner', 创始人: 'owner', 业主: 'owner',
    },
  },
  transactions: {
    kind: {
      sales: 'sale', revenue: 'sale', 销售: 'sale',
      purchases: 'purchase', procurement: 'purchase', 采购: 'purchase',
      expenses: 'expense', cost: 'expense', 费用: 'expense', 报销: 'expense',
      salary: 'payroll', wages: 'payroll', 工资: 'payroll',
      transfers: 'transfer', 转账: 'transfer',
      misc: 'other', 其他: 'other',
    },
  },
  subscriptions: {
    status: {
      live: 'active', current: 'active', paid: 'active', renewed: 'active', 活跃: 'active', 有效: 'active', 生效: 'active', 正常: 'active', 在用: 'active',
      trial: 'trialing', in_trial: 'trialing', free_trial: 'trialing', 试用: 'trialing', 试用中: 'trialing',
      pause: 'paused', suspended: 'paused', on_hold: 'paused', frozen: 'paused', 暂停: 'paused', 冻结: 'paused',
      canceled: 'cancelled', cancel: 'cancelled', churned: 'cancelled', terminated: 'cancelled', lost: 'cancelled', 取消: 'cancelled', 已取消: 'cancelled', 流失: 'cancelled', 退订: 'cancelled', 终止: 'cancelled',
      expired: 'ended', end: 'ended', finished: 'ended', closed: 'ended', replaced: 'ended', upgraded: 'ended', downgraded: 'ended', inactive: 'ended', 到期: 'ended', 已到期: 'ended', 结束: 'ended', 已结束: 'ended',
    },
  },
};
