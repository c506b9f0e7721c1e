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
  readonly doc: string;
}

export interface TableSpec {
  readonly name: TableName;
  readonly required: boolean;
  readonly columns: readonly ColumnSpec[];
  readonly doc: string;
}

export type TableName = 'customers' | 'usage_events' | 'transactions' | 'feedback';

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
      col('annual_revenue', 'number', 'annual revenue in the configured unit', { min: 0 }),
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
      col('module', 'string', `module catalog: ${MODULES.join(', ')}`, { required: true, mandatoryValue: true, allowed: MODULES }),
      col('device', 'string', 'web | desktop | mobile | api', { required: true, allowed: DEVICES }),
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
      col('amount', 'number', 'amount; negative = refund or credit', { required: true, mandatoryValue: true }),
      col('currency', 'string', 'ISO 4217 code'),
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
};

export const TABLE_NAMES: readonly TableName[] = ['customers', 'usage_events', 'transactions', 'feedback'];
