import type { BUYER_ROLES, DEPLOYMENTS, DEVICES, Module, TRANSACTION_KINDS } from '../01-ingest/contract.ts';

/**
 * The customer archetypes the synthetic data generator draws from (DESIGN §8). Each one is a
 * group the seed names (size, industry, technology acceptance, buyer role, lifecycle) turned
 * into distributions over the data contract's columns. The archetype is the generator's
 * ground truth: written to truth.csv, never to the input tables.
 */

/** The documented industries (seed, industry lens) that raw industry codes map to. */
export const INDUSTRIES = ['manufacturing', 'retail', 'construction', 'healthcare', 'services', 'platform_economy', 'other'] as const;
export type Industry = (typeof INDUSTRIES)[number];

export type Device = (typeof DEVICES)[number];
export type Deployment = (typeof DEPLOYMENTS)[number];
export type BuyerRole = (typeof BUYER_ROLES)[number];
export type TransactionKind = (typeof TRANSACTION_KINDS)[number];

export interface IndustryCode {
  /** The raw value written to customers.industry, as a customer's CRM export would hold it. */
  readonly code: string;
  /** The documented industry a mapping table should send it to. */
  readonly industry: Industry;
  /** Relative frequency of this spelling among the codes of its industry. */
  readonly weight: number;
}

/**
 * Every raw industry code the generator emits, with the documented industry it maps to.
 * Exports mix plain names and NAICS sector codes, so the config's mapping table has to cover both.
 */
export const INDUSTRY_CODES: readonly IndustryCode[] = [
  { code: 'Manufacturing', industry: 'manufacturing', weight: 0.6 },
  { code: '31-33', industry: 'manufacturing', weight: 0.3 },
  { code: 'Industrial manufacturing', industry: 'manufacturing', weight: 0.1 },
  { code: 'Retail', industry: 'retail', weight: 0.6 },
  { code: '44-45', industry: 'retail', weight: 0.3 },
  { code: 'Retail trade', industry: 'retail', weight: 0.1 },
  { code: 'Construction', industry: 'construction', weight: 0.7 },
  { code: '23', industry: 'construction', weight: 0.3 },
  { code: 'Healthcare', industry: 'healthcare', weight: 0.6 },
  { code: '62', industry: 'healthcare', weight: 0.25 },
  { code: 'Health care and social assistance', industry: 'healthcare', weight: 0.15 },
  { code: 'Professional services', industry: 'services', weight: 0.5 },
  { code: '54', industry: 'services', weight: 0.25 },
  { code: 'Consulting', industry: 'services', weight: 0.15 },
  { code: 'Services', industry: 'services', weight: 0.1 },
  { code: 'Platform', industry: 'platform_economy', weight: 0.5 },
  { code: 'Online marketplace', industry: 'platform_economy', weight: 0.3 },
  { code: 'Sharing economy', industry: 'platform_economy', weight: 0.2 },
  { code: 'Wholesale', industry: 'other', weight: 0.45 },
  { code: '42', industry: 'other', weight: 0.2 },
  { code: 'Logistics', industry: 'other', weight: 0.15 },
  { code: '48-49', industry: 'other', weight: 0.1 },
  { code: 'Other', industry: 'other', weight: 0.1 },
];

/** The home currency of the vendor's market; every other ISO code counts as foreign. */
export const HOME_CURRENCY = 'CNY';

/** Rough units of CNY per unit of each currency, so foreign amounts sit on a plausible scale. */
export const CNY_PER_UNIT: Readonly<Record<string, number>> = {
  CNY: 1,
  USD: 7.1,
  EUR: 7.8,
  HKD: 0.91,
  JPY: 0.048,
  SGD: 5.3,
  GBP: 9.0,
};

export const REGIONS = [
  'East China',
  'South China',
  'North China',
  'Central China',
  'Southwest China',
  'Northwest China',
  'Northeast China',
  'Hong Kong',
  'Overseas',
] as const;
export type Region = (typeof REGIONS)[number];

export const EDITIONS = ['Starter', 'Standard', 'Professional', 'Enterprise'] as const;
export type Edition = (typeof EDITIONS)[number];

/** Regional spread of the domestic customer base; groups override it with Hong Kong and overseas seats. */
const DOMESTIC_REGIONS: Partial<Record<Region, number>> = {
  'East China': 0.32,
  'South China': 0.22,
  'North China': 0.18,
  'Central China': 0.1,
  'Southwest China': 0.08,
  'Northwest China': 0.04,
  'Northeast China': 0.06,
};

export const ARCHETYPE_NAMES = [
  'new_micro_services',
  'small_retail_mobile',
  'midsize_manufacturer',
  'multinational_group',
  'clinic',
  'construction_contractor',
  'platform_business',
  'growing_sme',
  'declining_firm',
] as const;
export type ArchetypeName = (typeof ARCHETYPE_NAMES)[number];

/** A lognormal given by its median and log-scale sigma. */
export interface LogNormalSpec {
  readonly median: number;
  readonly sigma: number;
}

/** Every distribution that defines one archetype. Weights in records need not sum to 1. */
export interface ArchetypeSpec {
  readonly name: ArchetypeName;
  readonly description: string;
  /** Share of the customer population. */
  readonly weight: number;
  readonly employees: LogNormalSpec;
  /** Annual revenue per employee in thousands of CNY; revenue = employees x this, so the two correlate. */
  readonly revenuePerEmployee: LogNormalSpec;
  readonly industries: Partial<Record<Industry, number>>;
  /** Company age in years at signup, uniform in [min, max]. */
  readonly ageAtSignupYears: readonly [number, number];
  /** Days between signup and the as-of date, uniform in [min, max], so tenure varies within the archetype. */
  readonly signupDaysAgo: readonly [number, number];
  readonly regions: Partial<Record<Region, number>>;
  readonly deployment: Partial<Record<Deployment, number>>;
  readonly buyerRole: Partial<Record<BuyerRole, number>>;
  readonly edition: Partial<Record<Edition, number>>;
  /** Named users on the account. */
  readonly users: LogNormalSpec;
  /** Event rows per active day relative to the population (the generator rescales to eventsPerCustomer). */
  readonly activity: LogNormalSpec;
  /** Mean share of event rows per module; each customer's mix is a Dirichlet draw around it. */
  readonly modules: Partial<Record<Module, number>>;
  readonly devices: Partial<Record<Device, number>>;
  /** Probability that a weekend day is kept when drawn (retail and platforms work weekends). */
  readonly weekendActivity: number;
  /** Transactions per year of active history. */
  readonly transactionsPerYear: LogNormalSpec;
  /** Typical |amount| in CNY; `sigma` is the spread between transactions of one customer. */
  readonly amount: LogNormalSpec;
  readonly kinds: Partial<Record<TransactionKind, number>>;
  /** Probability that a sale or purchase is a refund or credit (negative amount). */
  readonly refundRate: number;
  /** Mean share of transactions booked in a foreign currency, and which currencies. */
  readonly foreign: { readonly share: number; readonly currencies: readonly string[] };
  /** Yearly log-growth of the event and transaction rate: the rate at time t (years before as-of) is exp(-trend * t). */
  readonly trend: { readonly mean: number; readonly sd: number };
  /** Probability that the customer went quiet before the as-of date, and the mean days since then. */
  readonly dropout: { readonly probability: number; readonly meanDays: number };
}

/** The archetypes of the embedded synthetic data set (DESIGN §8), grounded in the seed's groups. */
export const ARCHETYPE_SPECS: readonly ArchetypeSpec[] = [
  {
    name: 'new_micro_services',
    description:
      'New micro service firm (exploration stage): signed up in the last six months, a handful of staff, owner buys; invoicing and general ledger on web and mobile; few small sales.',
    weight: 0.14,
    employees: { median: 3, sigma: 0.5 },
    revenuePerEmployee: { median: 250, sigma: 0.5 },
    industries: { services: 0.75, retail: 0.08, other: 0.07, platform_economy: 0.04, construction: 0.03, healthcare: 0.03 },
    ageAtSignupYears: [0, 2],
    signupDaysAgo: [5, 180],
    regions: DOMESTIC_REGIONS,
    deployment: { cloud: 0.9, hybrid: 0.05, on_prem: 0.05 },
    buyerRole: { owner: 0.7, finance: 0.15, executive: 0.1, other: 0.05 },
    edition: { Starter: 0.8, Standard: 0.2 },
    users: { median: 1.6, sigma: 0.4 },
    activity: { median: 0.9, sigma: 0.6 },
    modules: { invoicing: 0.38, general_ledger: 0.32, receivables_payables: 0.1, tax: 0.08, reporting: 0.05 },
    devices: { web: 0.5, mobile: 0.45, desktop: 0.05 },
    weekendActivity: 0.35,
    transactionsPerYear: { median: 14, sigma: 0.6 },
    amount: { median: 500, sigma: 1.0 },
    kinds: { sale: 0.6, expense: 0.32, purchase: 0.04, other: 0.04 },
    refundRate: 0.02,
    foreign: { share: 0.01, currencies: ['USD', 'HKD'] },
    trend: { mean: 0.5, sd: 0.5 },
    dropout: { probability: 0.05, meanDays: 20 },
  },
  {
    name: 'small_retail_mobile',
    description:
      'Small retailer: mobile-first, works weekends, inventory and invoicing with real-time sales; many small sales and some refunds.',
    weight: 0.16,
    employees: { median: 8, sigma: 0.6 },
    revenuePerEmployee: { median: 400, sigma: 0.5 },
    industries: { retail: 0.85, other: 0.06, services: 0.04, platform_economy: 0.03, manufacturing: 0.02 },
    ageAtSignupYears: [0, 10],
    signupDaysAgo: [90, 2200],
    regions: DOMESTIC_REGIONS,
    deployment: { cloud: 0.8, hybrid: 0.12, on_prem: 0.08 },
    buyerRole: { owner: 0.65, finance: 0.2, executive: 0.08, other: 0.07 },
    edition: { Starter: 0.45, Standard: 0.5, Professional: 0.05 },
    users: { median: 3, sigma: 0.5 },
    activity: { median: 1.3, sigma: 0.6 },
    modules: { inventory: 0.36, invoicing: 0.3, receivables_payables: 0.1, general_ledger: 0.08, reporting: 0.07, tax: 0.05 },
    devices: { mobile: 0.7, web: 0.24, desktop: 0.06 },
    weekendActivity: 0.95,
    transactionsPerYear: { median: 40, sigma: 0.6 },
    amount: { median: 45, sigma: 0.9 },
    kinds: { sale: 0.8, purchase: 0.12, expense: 0.05, payroll: 0.02, other: 0.01 },
    refundRate: 0.06,
    foreign: { share: 0.005, currencies: ['USD'] },
    trend: { mean: 0, sd: 0.3 },
    dropout: { probability: 0.03, meanDays: 30 },
  },
  {
    name: 'midsize_manufacturer',
    description:
      'Mid-size manufacturer: inventory, production-cost accounting, payroll and budgeting on desktop; finance director buys; large purchases.',
    weight: 0.13,
    employees: { median: 180, sigma: 0.6 },
    revenuePerEmployee: { median: 600, sigma: 0.5 },
    industries: { manufacturing: 0.85, other: 0.07, construction: 0.03, retail: 0.03, services: 0.02 },
    ageAtSignupYears: [5, 30],
    signupDaysAgo: [365, 3600],
    regions: DOMESTIC_REGIONS,
    deployment: { on_prem: 0.45, hybrid: 0.35, cloud: 0.2 },
    buyerRole: { finance: 0.6, executive: 0.15, it: 0.15, owner: 0.05, other: 0.05 },
    edition: { Standard: 0.3, Professional: 0.6, Enterprise: 0.1 },
    users: { median: 12, sigma: 0.5 },
    activity: { median: 1.1, sigma: 0.5 },
    modules: {
      inventory: 0.36,
      payroll: 0.13,
      budgeting: 0.13,
      project_costing: 0.1,
      general_ledger: 0.1,
      receivables_payables: 0.07,
      reporting: 0.07,
      tax: 0.04,
    },
    devices: { desktop: 0.74, web: 0.23, mobile: 0.03 },
    weekendActivity: 0.2,
    transactionsPerYear: { median: 24, sigma: 0.6 },
    amount: { median: 25000, sigma: 1.0 },
    kinds: { purchase: 0.48, sale: 0.28, payroll: 0.12, expense: 0.07, transfer: 0.03, other: 0.02 },
    refundRate: 0.015,
    foreign: { share: 0.04, currencies: ['USD', 'EUR', 'JPY'] },
    trend: { mean: 0, sd: 0.3 },
    dropout: { probability: 0.02, meanDays: 30 },
  },
  {
    name: 'multinational_group',
    description:
      'Large multinational group: consolidation, multi-currency and API integration with ERP/CRM, many users, IT involved in buying; large amounts in foreign currencies.',
    weight: 0.06,
    employees: { median: 2500, sigma: 0.8 },
    revenuePerEmployee: { median: 1200, sigma: 0.5 },
    industries: { manufacturing: 0.4, other: 0.3, services: 0.2, retail: 0.05, platform_economy: 0.05 },
    ageAtSignupYears: [10, 50],
    signupDaysAgo: [365, 4000],
    regions: { ...DOMESTIC_REGIONS, 'Hong Kong': 0.15, Overseas: 0.15 },
    deployment: { hybrid: 0.45, cloud: 0.35, on_prem: 0.2 },
    buyerRole: { it: 0.4, finance: 0.35, executive: 0.2, other: 0.05 },
    edition: { Enterprise: 0.85, Professional: 0.15 },
    users: { median: 60, sigma: 0.7 },
    activity: { median: 2.2, sigma: 0.5 },
    modules: {
      consolidation: 0.24,
      multi_currency: 0.22,
      api: 0.14,
      reporting: 0.12,
      general_ledger: 0.08,
      tax: 0.08,
      budgeting: 0.06,
      compliance: 0.06,
    },
    devices: { web: 0.42, api: 0.4, desktop: 0.15, mobile: 0.03 },
    weekendActivity: 0.4,
    transactionsPerYear: { median: 36, sigma: 0.6 },
    amount: { median: 60000, sigma: 1.2 },
    kinds: { transfer: 0.35, sale: 0.25, purchase: 0.2, payroll: 0.1, expense: 0.07, other: 0.03 },
    refundRate: 0.01,
    foreign: { share: 0.45, currencies: ['USD', 'EUR', 'HKD', 'JPY', 'SGD', 'GBP'] },
    trend: { mean: 0.2, sd: 0.3 },
    dropout: { probability: 0.01, meanDays: 30 },
  },
  {
    name: 'clinic',
    description:
      'Clinic or small healthcare provider: regulatory compliance, payroll and tax, insurance reimbursement flows; web and desktop.',
    weight: 0.08,
    employees: { median: 25, sigma: 0.6 },
    revenuePerEmployee: { median: 300, sigma: 0.5 },
    industries: { healthcare: 0.9, services: 0.06, other: 0.04 },
    ageAtSignupYears: [2, 25],
    signupDaysAgo: [180, 2500],
    regions: DOMESTIC_REGIONS,
    deployment: { cloud: 0.5, hybrid: 0.25, on_prem: 0.25 },
    buyerRole: { finance: 0.45, owner: 0.3, executive: 0.15, other: 0.1 },
    edition: { Standard: 0.55, Professional: 0.35, Starter: 0.1 },
    users: { median: 6, sigma: 0.5 },
    activity: { median: 1.0, sigma: 0.5 },
    modules: {
      compliance: 0.3,
      payroll: 0.24,
      tax: 0.16,
      invoicing: 0.1,
      receivables_payables: 0.1,
      general_ledger: 0.07,
      reporting: 0.03,
    },
    devices: { web: 0.62, desktop: 0.28, mobile: 0.1 },
    weekendActivity: 0.6,
    transactionsPerYear: { median: 20, sigma: 0.6 },
    amount: { median: 600, sigma: 0.9 },
    kinds: { sale: 0.42, payroll: 0.24, expense: 0.2, purchase: 0.1, other: 0.04 },
    refundRate: 0.03,
    foreign: { share: 0.005, currencies: ['USD'] },
    trend: { mean: 0.1, sd: 0.3 },
    dropout: { probability: 0.02, meanDays: 30 },
  },
  {
    name: 'construction_contractor',
    description:
      'Construction contractor: contract management and project cost allocation, crews on mobile; large, irregular amounts and transfers.',
    weight: 0.09,
    employees: { median: 60, sigma: 0.7 },
    revenuePerEmployee: { median: 700, sigma: 0.6 },
    industries: { construction: 0.88, manufacturing: 0.04, services: 0.04, other: 0.04 },
    ageAtSignupYears: [3, 30],
    signupDaysAgo: [200, 3000],
    regions: DOMESTIC_REGIONS,
    deployment: { on_prem: 0.35, hybrid: 0.35, cloud: 0.3 },
    buyerRole: { finance: 0.5, executive: 0.25, owner: 0.15, it: 0.05, other: 0.05 },
    edition: { Standard: 0.4, Professional: 0.5, Enterprise: 0.1 },
    users: { median: 8, sigma: 0.6 },
    activity: { median: 0.8, sigma: 0.7 },
    modules: {
      contracts: 0.36,
      project_costing: 0.28,
      payroll: 0.1,
      budgeting: 0.08,
      receivables_payables: 0.08,
      general_ledger: 0.07,
      reporting: 0.05,
    },
    devices: { mobile: 0.45, web: 0.33, desktop: 0.22 },
    weekendActivity: 0.45,
    transactionsPerYear: { median: 12, sigma: 0.7 },
    amount: { median: 40000, sigma: 1.5 },
    kinds: { transfer: 0.32, purchase: 0.28, payroll: 0.2, sale: 0.12, expense: 0.06, other: 0.02 },
    refundRate: 0.01,
    foreign: { share: 0.01, currencies: ['USD'] },
    trend: { mean: 0, sd: 0.5 },
    dropout: { probability: 0.03, meanDays: 40 },
  },
  {
    name: 'platform_business',
    description:
      'Platform or sharing-economy business: API-driven, floods of tiny transactions around the clock, transfers for revenue sharing; IT buys.',
    weight: 0.07,
    employees: { median: 40, sigma: 0.9 },
    revenuePerEmployee: { median: 900, sigma: 0.7 },
    industries: { platform_economy: 0.88, retail: 0.05, services: 0.05, other: 0.02 },
    ageAtSignupYears: [0, 8],
    signupDaysAgo: [150, 1800],
    regions: DOMESTIC_REGIONS,
    deployment: { cloud: 0.95, hybrid: 0.05 },
    buyerRole: { it: 0.45, executive: 0.25, finance: 0.2, owner: 0.05, other: 0.05 },
    edition: { Professional: 0.5, Enterprise: 0.3, Standard: 0.2 },
    users: { median: 10, sigma: 0.7 },
    activity: { median: 2.5, sigma: 0.6 },
    modules: {
      api: 0.36,
      receivables_payables: 0.2,
      invoicing: 0.12,
      reporting: 0.1,
      general_ledger: 0.08,
      tax: 0.06,
      multi_currency: 0.03,
    },
    devices: { api: 0.55, web: 0.35, mobile: 0.08, desktop: 0.02 },
    weekendActivity: 1,
    transactionsPerYear: { median: 90, sigma: 0.7 },
    amount: { median: 12, sigma: 1.0 },
    kinds: { sale: 0.58, transfer: 0.36, expense: 0.03, other: 0.03 },
    refundRate: 0.08,
    foreign: { share: 0.04, currencies: ['USD', 'HKD'] },
    trend: { mean: 0.4, sd: 0.4 },
    dropout: { probability: 0.02, meanDays: 30 },
  },
  {
    name: 'growing_sme',
    description:
      'Fast-growing SME in services or wholesale: adopts mid-size features early (multi-currency, cross-region tax, reporting, budgeting); usage and volume rising.',
    weight: 0.15,
    employees: { median: 45, sigma: 0.6 },
    revenuePerEmployee: { median: 500, sigma: 0.5 },
    industries: { services: 0.5, other: 0.3, retail: 0.08, manufacturing: 0.08, platform_economy: 0.04 },
    ageAtSignupYears: [2, 12],
    signupDaysAgo: [180, 1100],
    regions: DOMESTIC_REGIONS,
    deployment: { cloud: 0.7, hybrid: 0.2, on_prem: 0.1 },
    buyerRole: { finance: 0.45, executive: 0.25, owner: 0.2, it: 0.05, other: 0.05 },
    edition: { Standard: 0.5, Professional: 0.4, Starter: 0.1 },
    users: { median: 6, sigma: 0.5 },
    activity: { median: 1.2, sigma: 0.5 },
    modules: {
      multi_currency: 0.18,
      tax: 0.18,
      reporting: 0.17,
      budgeting: 0.17,
      general_ledger: 0.1,
      invoicing: 0.08,
      receivables_payables: 0.07,
      payroll: 0.05,
    },
    devices: { web: 0.6, mobile: 0.26, desktop: 0.14 },
    weekendActivity: 0.3,
    transactionsPerYear: { median: 20, sigma: 0.6 },
    amount: { median: 3000, sigma: 1.0 },
    kinds: { sale: 0.45, purchase: 0.2, expense: 0.14, payroll: 0.1, transfer: 0.09, other: 0.02 },
    refundRate: 0.02,
    foreign: { share: 0.18, currencies: ['USD', 'EUR', 'HKD'] },
    trend: { mean: 2.2, sd: 0.5 },
    dropout: { probability: 0.01, meanDays: 30 },
  },
  {
    name: 'declining_firm',
    description:
      'Declining firm: old, on-premise and desktop, basic ledger and payables only; usage and volume shrinking, many already quiet for weeks.',
    weight: 0.12,
    employees: { median: 120, sigma: 0.8 },
    revenuePerEmployee: { median: 350, sigma: 0.6 },
    industries: { manufacturing: 0.35, retail: 0.25, other: 0.25, services: 0.1, construction: 0.05 },
    ageAtSignupYears: [15, 45],
    signupDaysAgo: [1500, 5000],
    regions: DOMESTIC_REGIONS,
    deployment: { on_prem: 0.75, hybrid: 0.15, cloud: 0.1 },
    buyerRole: { finance: 0.6, owner: 0.15, executive: 0.1, it: 0.1, other: 0.05 },
    edition: { Standard: 0.6, Professional: 0.3, Starter: 0.1 },
    users: { median: 5, sigma: 0.5 },
    activity: { median: 1.4, sigma: 0.5 },
    modules: { general_ledger: 0.4, receivables_payables: 0.3, tax: 0.1, payroll: 0.1, reporting: 0.05, invoicing: 0.05 },
    devices: { desktop: 0.86, web: 0.13, mobile: 0.01 },
    weekendActivity: 0.15,
    transactionsPerYear: { median: 15, sigma: 0.6 },
    amount: { median: 2500, sigma: 1.0 },
    kinds: { expense: 0.3, purchase: 0.26, sale: 0.25, payroll: 0.15, other: 0.04 },
    refundRate: 0.02,
    foreign: { share: 0.01, currencies: ['USD'] },
    trend: { mean: -2.2, sd: 0.5 },
    dropout: { probability: 0.3, meanDays: 20 },
  },
];

/** Archetype names and descriptions, for reports that name the generator's ground truth. */
export const ARCHETYPES: readonly { readonly name: ArchetypeName; readonly description: string; readonly weight: number }[] =
  ARCHETYPE_SPECS.map(({ name, description, weight }) => ({ name, description, weight }));

/** A record of weights as a dense array over `keys` (missing keys weigh 0). */
export function weightsOver<K extends string>(keys: readonly K[], weights: Partial<Record<K, number>>): Float64Array {
  return Float64Array.from(keys, (k) => weights[k] ?? 0);
}
