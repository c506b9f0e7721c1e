import { BUYER_ROLES, DEPLOYMENTS, DEVICES, MODULES, TRANSACTION_KINDS } from '../01-ingest/contract.ts';
import { deriveSeed, makeRng, type Rng } from '../core/random.ts';
import {
  ARCHETYPE_SPECS,
  EDITIONS,
  INDUSTRIES,
  INDUSTRY_CODES,
  REGIONS,
  weightsOver,
  type ArchetypeSpec,
} from './archetypes.ts';
import { cumulative, dirichletInto, lognormal, pick, uniform } from './sampling.ts';

/**
 * Customer-level draws: who each synthetic customer is (the customers table) and the
 * latent behaviour its events and transactions are drawn from. Columnar, one typed array per
 * attribute, because the demo draws 20,000 customers and a million events from it.
 */

/** Share of missing values per optional customers column: the seed names missing data as a real challenge. */
export const MISSING_RATES = {
  industry: 0.04,
  employees: 0.05,
  annual_revenue: 0.06,
  founded_year: 0.04,
  deployment: 0.03,
  buyer_role: 0.07,
} as const;

/** Share of customers whose module mix leans toward a second archetype, so segments overlap. */
const BLEND_PROBABILITY = 0.08;
/** How tightly a customer's module and device mixes scatter around the archetype profile (Dirichlet concentration). */
const MODULE_CONCENTRATION = 60;
const DEVICE_CONCENTRATION = 30;
/** Every module gets this floor weight before normalising, so any customer may touch any module. */
const MODULE_FLOOR = 0.006;

/** The inputs customer draws depend on (a slice of GenerateParams). */
export interface CustomerDrawParams {
  readonly seed: number;
  readonly customers: number;
  readonly eventsPerCustomer: number;
  /** The as-of date as days since 1970-01-01 (UTC); events end before its midnight. */
  readonly asOfDay: number;
  readonly historyDays: number;
  readonly idPrefix: string;
  /** Mean transaction rows per customer; absent or null keeps each archetype's own rate. */
  readonly transactionsPerCustomer?: number | null;
}

/**
 * All customers' draws. Arrays have length `n`, except `moduleCdf` (n x MODULES.length) and
 * `deviceCdf` (n x DEVICES.length), row-major. Categorical columns hold an index into their value
 * list, -1 for missing; numeric columns hold NaN for missing.
 */
export interface CustomerDraws {
  readonly n: number;
  readonly ids: string[];
  readonly archetype: Uint8Array;
  readonly signupDay: Int32Array;
  /** Index into INDUSTRY_CODES, -1 missing. */
  readonly industryCode: Int16Array;
  /** Head count as reported (NaN missing); `trueEmployees` keeps the value behaviour is drawn from. */
  readonly employees: Float64Array;
  readonly trueEmployees: Float64Array;
  /** Thousands of CNY, one decimal; NaN missing. */
  readonly annualRevenue: Float64Array;
  readonly foundedYear: Float64Array;
  readonly region: Int8Array;
  readonly deployment: Int8Array;
  readonly edition: Int8Array;
  readonly buyerRole: Int8Array;
  readonly users: Int32Array;
  /** First and one-past-last day (epoch days) with any activity. */
  readonly activeStart: Int32Array;
  readonly activeEnd: Int32Array;
  /** Expected event rows; already scaled so the population mean equals eventsPerCustomer. */
  readonly eventRows: Float64Array;
  readonly moduleCdf: Float64Array;
  readonly deviceCdf: Float64Array;
  /** Share of events at any hour of the day (machine traffic) rather than in office hours. */
  readonly offHoursShare: Float64Array;
  /** Yearly log-growth of the event and transaction rate. */
  readonly trend: Float64Array;
  readonly transactionRows: Float64Array;
  /** Typical |amount| in CNY for this customer. */
  readonly amountScale: Float64Array;
  readonly refundRate: Float64Array;
  readonly foreignShare: Float64Array;
}

/** Per-archetype distributions turned into cumulative arrays once, so the per-row loops only index. */
export interface CompiledArchetype {
  readonly spec: ArchetypeSpec;
  readonly industryCdf: Float64Array;
  readonly regionCdf: Float64Array;
  readonly deploymentCdf: Float64Array;
  readonly buyerRoleCdf: Float64Array;
  readonly editionCdf: Float64Array;
  /** Normalised module profile with the floor added, shape (MODULES.length). */
  readonly moduleProfile: Float64Array;
  readonly deviceProfile: Float64Array;
  readonly kindCdf: Float64Array;
  readonly currencyCdf: Float64Array;
}

/** Industry codes grouped by documented industry: the code indices and their cumulative weights. */
const CODES_BY_INDUSTRY = INDUSTRIES.map((industry) => {
  const indices = INDUSTRY_CODES.flatMap((c, i) => (c.industry === industry ? [i] : []));
  return { indices, cdf: cumulative(indices.map((i) => INDUSTRY_CODES[i]!.weight)) };
});

function normalised(weights: Float64Array, floor: number): Float64Array {
  let total = 0;
  for (const w of weights) total += w + floor;
  return weights.map((w) => (w + floor) / total);
}

/** Compiles one archetype's records of weights into the arrays the draws use. */
export function compileArchetype(spec: ArchetypeSpec): CompiledArchetype {
  return {
    spec,
    industryCdf: cumulative(weightsOver(INDUSTRIES, spec.industries)),
    regionCdf: cumulative(weightsOver(REGIONS, spec.regions)),
    deploymentCdf: cumulative(weightsOver(DEPLOYMENTS, spec.deployment)),
    buyerRoleCdf: cumulative(weightsOver(BUYER_ROLES, spec.buyerRole)),
    editionCdf: cumulative(weightsOver(EDITIONS, spec.edition)),
    moduleProfile: normalised(weightsOver(MODULES, spec.modules), MODULE_FLOOR),
    deviceProfile: normalised(weightsOver(DEVICES, spec.devices), 0.002),
    kindCdf: cumulative(weightsOver(TRANSACTION_KINDS, spec.kinds)),
    currencyCdf: cumulative(spec.foreign.currencies.map(() => 1)),
  };
}

/** ARCHETYPE_SPECS compiled, in the same order (archetype index = position). */
export const COMPILED_ARCHETYPES: readonly CompiledArchetype[] = ARCHETYPE_SPECS.map(compileArchetype);
const ARCHETYPE_CDF = cumulative(ARCHETYPE_SPECS.map((a) => a.weight));

/** Days since 1970-01-01 for a 'YYYY-MM-DD' date (UTC). */
export function epochDay(isoDate: string): number {
  return Math.round(Date.parse(`${isoDate}T00:00:00Z`) / 86_400_000);
}

/** The UTC calendar year of an epoch day. */
function yearOf(day: number): number {
  return new Date(day * 86_400_000).getUTCFullYear();
}

/** A categorical draw that comes out missing (-1) at the given rate. */
function pickOrMissing(rng: Rng, cdf: Float64Array, missingRate: number): number {
  const value = pick(rng, cdf);
  return rng.next() < missingRate ? -1 : value;
}

/** Empty columnar draws for n customers (the row writers' input shape). */
export function allocDraws(n: number): CustomerDraws {
  return {
    n,
    ids: new Array<string>(n),
    archetype: new Uint8Array(n),
    signupDay: new Int32Array(n),
    industryCode: new Int16Array(n),
    employees: new Float64Array(n),
    trueEmployees: new Float64Array(n),
    annualRevenue: new Float64Array(n),
    foundedYear: new Float64Array(n),
    region: new Int8Array(n),
    deployment: new Int8Array(n),
    edition: new Int8Array(n),
    buyerRole: new Int8Array(n),
    users: new Int32Array(n),
    activeStart: new Int32Array(n),
    activeEnd: new Int32Array(n),
    eventRows: new Float64Array(n),
    moduleCdf: new Float64Array(n * MODULES.length),
    deviceCdf: new Float64Array(n * DEVICES.length),
    offHoursShare: new Float64Array(n),
    trend: new Float64Array(n),
    transactionRows: new Float64Array(n),
    amountScale: new Float64Array(n),
    refundRate: new Float64Array(n),
    foreignShare: new Float64Array(n),
  };
}

/**
 * Draws every customer: archetype, firmographics (with missing values), tenure, and the latent
 * behaviour (module and device mixes, activity, trend, transaction profile). Customer i draws
 * from its own stream derived from the seed and the id prefix, so one customer's draws never
 * shift another's, and a score batch with another prefix holds new customers even under the same seed.
 */
export function drawCustomers(params: CustomerDrawParams): CustomerDraws {
  const n = params.customers;
  const width = Math.max(6, String(n).length);
  const draws = allocDraws(n);
  const historyStart = params.asOfDay - params.historyDays;
  const scratch: MixScratch = { mix: new Float64Array(MODULES.length), blended: new Float64Array(MODULES.length), deviceMix: new Float64Array(DEVICES.length) };
  let totalActivity = 0;
  for (let i = 0; i < n; i++) {
    const rng = makeRng(deriveSeed(params.seed, `${params.idPrefix}:customer:${i}`));
    const a = pick(rng, ARCHETYPE_CDF);
    const arch = COMPILED_ARCHETYPES[a]!;
    draws.ids[i] = `${params.idPrefix}${String(i + 1).padStart(width, '0')}`;
    draws.archetype[i] = a;
    const firm = drawFirmographics(draws, i, rng, arch, params.asOfDay);
    totalActivity += drawBehaviour(draws, i, rng, arch, firm, { asOfDay: params.asOfDay, historyStart }, scratch);
  }
  rescaleVolumes(draws, params, totalActivity);
  return draws;
}

/** Reused buffers of one customer's module mix, its blended profile, and its device mix. */
interface MixScratch {
  mix: Float64Array;
  blended: Float64Array;
  deviceMix: Float64Array;
}

/**
 * Customer i's firmographics (signup, founding year, industry, size, revenue, region, deployment,
 * edition, buyer role, users), with missing values at MISSING_RATES. Returns the two the behaviour
 * depends on: the signup day and the true head count.
 */
function drawFirmographics(draws: CustomerDraws, i: number, rng: Rng, arch: CompiledArchetype, asOfDay: number): { signupDay: number; employees: number } {
  const spec = arch.spec;
  const signupDay = asOfDay - Math.round(uniform(rng, spec.signupDaysAgo[0], spec.signupDaysAgo[1]));
  draws.signupDay[i] = signupDay;
  const founded = yearOf(signupDay) - Math.floor(uniform(rng, spec.ageAtSignupYears[0], spec.ageAtSignupYears[1] + 1));
  draws.foundedYear[i] = rng.next() < MISSING_RATES.founded_year ? Number.NaN : founded;

  const industry = pick(rng, arch.industryCdf);
  const codes = CODES_BY_INDUSTRY[industry]!;
  const code = codes.indices[pick(rng, codes.cdf)]!;
  draws.industryCode[i] = rng.next() < MISSING_RATES.industry ? -1 : code;

  const employees = Math.max(1, Math.round(lognormal(rng, spec.employees.median, spec.employees.sigma)));
  draws.trueEmployees[i] = employees;
  draws.employees[i] = rng.next() < MISSING_RATES.employees ? Number.NaN : employees;
  const revenue = Math.round(10 * employees * lognormal(rng, spec.revenuePerEmployee.median, spec.revenuePerEmployee.sigma)) / 10;
  draws.annualRevenue[i] = rng.next() < MISSING_RATES.annual_revenue ? Number.NaN : revenue;

  draws.region[i] = pick(rng, arch.regionCdf);
  draws.deployment[i] = pickOrMissing(rng, arch.deploymentCdf, MISSING_RATES.deployment);
  draws.edition[i] = pick(rng, arch.editionCdf);
  draws.buyerRole[i] = pickOrMissing(rng, arch.buyerRoleCdf, MISSING_RATES.buyer_role);
  draws.users[i] = Math.min(5000, Math.max(1, Math.round(lognormal(rng, spec.users.median, spec.users.sigma))));
  return { signupDay, employees };
}

/**
 * Customer i's latent behaviour: active window, activity, module and device mixes, trend and
 * transaction profile. Returns its unscaled activity (expected event rows before rescaling).
 */
function drawBehaviour(
  draws: CustomerDraws,
  i: number,
  rng: Rng,
  arch: CompiledArchetype,
  firm: { signupDay: number; employees: number },
  history: { asOfDay: number; historyStart: number },
  scratch: MixScratch,
): number {
  const spec = arch.spec;
  const M = MODULES.length;
  const D = DEVICES.length;
  const { mix, blended, deviceMix } = scratch;
  // Activity runs from signup (or the start of history) to the as-of date, unless the customer went quiet.
  const start = Math.max(firm.signupDay, history.historyStart);
  let end = history.asOfDay;
  if (rng.next() < spec.dropout.probability) {
    end -= Math.round(1 - spec.dropout.meanDays * Math.log(1 - rng.next()));
  }
  end = Math.max(end, start + 1);
  draws.activeStart[i] = start;
  draws.activeEnd[i] = end;
  const spanDays = end - start;

  const activity = lognormal(rng, spec.activity.median, spec.activity.sigma) * spanDays;
  draws.eventRows[i] = activity;

  // Module mix: Dirichlet around the profile, sometimes pulled toward another archetype's.
  let profile = arch.moduleProfile;
  if (rng.next() < BLEND_PROBABILITY) {
    const other = COMPILED_ARCHETYPES[rng.int(COMPILED_ARCHETYPES.length)]!.moduleProfile;
    const w = uniform(rng, 0.1, 0.35);
    for (let j = 0; j < M; j++) blended[j] = (1 - w) * profile[j]! + w * other[j]!;
    profile = blended;
  }
  dirichletInto(rng, profile, MODULE_CONCENTRATION, mix);
  draws.moduleCdf.set(cumulative(mix), i * M);
  dirichletInto(rng, arch.deviceProfile, DEVICE_CONCENTRATION, deviceMix);
  draws.deviceCdf.set(cumulative(deviceMix), i * D);
  draws.offHoursShare[i] = Math.min(0.9, deviceMix[DEVICES.indexOf('api')]! + 0.03);

  draws.trend[i] = spec.trend.mean + spec.trend.sd * rng.normal();
  draws.transactionRows[i] =
    (lognormal(rng, spec.transactionsPerYear.median, spec.transactionsPerYear.sigma) * spanDays) / 365;
  // Bigger firms book bigger amounts, so amounts correlate with head count within an archetype.
  const sizeFactor = Math.pow(firm.employees / spec.employees.median, 0.35);
  draws.amountScale[i] = spec.amount.median * sizeFactor * Math.exp(0.3 * rng.normal());
  draws.refundRate[i] = Math.min(0.5, spec.refundRate * Math.exp(0.4 * rng.normal()));
  draws.foreignShare[i] = Math.min(0.9, spec.foreign.share * Math.exp(0.5 * rng.normal()));
  return activity;
}

/** Rescales event rows to average exactly eventsPerCustomer, and transaction rows to transactionsPerCustomer when set. */
function rescaleVolumes(draws: CustomerDraws, params: CustomerDrawParams, totalActivity: number): void {
  const n = draws.n;
  const scale = totalActivity > 0 ? (params.eventsPerCustomer * n) / totalActivity : 0;
  for (let i = 0; i < n; i++) draws.eventRows[i] = draws.eventRows[i]! * scale;
  const tpc = params.transactionsPerCustomer;
  if (tpc !== undefined && tpc !== null) {
    // Same shape across customers and archetypes, rescaled to the asked mean (the benchmark sizes fix it).
    let totalTransactions = 0;
    for (let i = 0; i < n; i++) totalTransactions += draws.transactionRows[i]!;
    const txScale = totalTransactions > 0 ? (tpc * n) / totalTransactions : 0;
    for (let i = 0; i < n; i++) draws.transactionRows[i] = draws.transactionRows[i]! * txScale;
  }
}
