import { perValue } from '../core/memo.ts';
import { lifecycleOf, lifecycleRulesMarkdown, startupWindow, type LifecycleFit } from './lifecycle.ts';
import type { LensParams } from './params.ts';

export { fitLifecycle } from './lifecycle.ts';
export * from './labels.ts';
import { type BuyerRoleLabel, type CustomerLenses, type IndustryLabel, type LensInput, type SizeLabel, type TechnologyLabel, INDUSTRY_LABELS } from './labels.ts';

/**
 * The five documented lenses of the seed (size, industry, lifecycle, technology acceptance,
 * buyer role), assigned per customer by plain rules. Every threshold lives in `LensParams`
 * (config slice `lenses`), the rules are documented once in `LENS_RULES_MARKDOWN`, and a
 * missing input gives the label `unknown` rather than a guess.
 */

const BAND_ORDER: readonly SizeLabel[] = ['micro', 'small', 'medium', 'large'];

/** Industry code as matched: trimmed, lower case, single spaces, any dash as '-' without spaces around it. */
export function normaliseIndustryCode(code: string): string {
  return code
    .trim()
    .toLowerCase()
    .replace(/\s*[-‐‑‒–—]\s*/g, '-')
    .replace(/\s+/g, ' ');
}

/** Enum value as the ingest stage normalises it: trimmed, lower case, spaces and dashes as underscores. */
function normaliseEnum(value: string): string {
  return value.trim().toLowerCase().replace(/[\s-]+/g, '_');
}

const known = (x: number): boolean => Number.isFinite(x) && x >= 0;

function band(value: number, microMax: number, smallMax: number, mediumMax: number): number {
  if (value <= microMax) return 0;
  if (value <= smallMax) return 1;
  if (value <= mediumMax) return 2;
  return 3;
}

/** Size band: the larger of the head-count and revenue bands; the known one when one is missing. */
function sizeOf(employees: number, revenue: number, p: LensParams['size']): SizeLabel {
  const e = known(employees) ? band(employees, p.microMaxEmployees, p.smallMaxEmployees, p.mediumMaxEmployees) : -1;
  const r = known(revenue) ? band(revenue, p.microMaxRevenue, p.smallMaxRevenue, p.mediumMaxRevenue) : -1;
  const b = Math.max(e, r);
  return b < 0 ? 'unknown' : BAND_ORDER[b]!;
}

/** The lookup table of an industry map, keys normalised; later keys win, so user keys override defaults. */
function industryLookup(map: Record<string, IndustryLabel>): Map<string, IndustryLabel> {
  const lookup = new Map<string, IndustryLabel>();
  for (const [code, label] of Object.entries(map)) lookup.set(normaliseIndustryCode(code), label);
  return lookup;
}

const NAICS_DETAIL = /^\d{3,6}$/;
const NAICS_SECTOR_DIGITS = 2;

function industryOf(code: string | null, lookup: Map<string, IndustryLabel>, naicsFallback: boolean): IndustryLabel {
  if (code === null || code.trim() === '') return 'unknown';
  const key = normaliseIndustryCode(code);
  const direct = lookup.get(key);
  if (direct !== undefined) return direct;
  if (naicsFallback && NAICS_DETAIL.test(key)) return lookup.get(key.slice(0, NAICS_SECTOR_DIGITS)) ?? 'other';
  return 'other';
}

function vote(value: number, highMin: number, lowMax: number): number {
  if (value >= highMin) return 1;
  if (value <= lowMax) return -1;
  return 0;
}

/** Technology acceptance from a score of deployment, digital (mobile + API) share and module breadth. */
/** `d`: the deployment as normaliseEnum gives it ('' when missing). */
function technologyOf(d: string, mobileShare: number, apiShare: number, breadth: number, events90: number, p: LensParams['technology']): TechnologyLabel {
  let signals = 0;
  let score = 0;
  if (d === 'cloud' || d === 'hybrid' || d === 'on_prem') {
    signals++;
    score += p.deploymentPoints[d];
  }
  const usageKnown = !(events90 < p.minUsageEvents);
  if (usageKnown && (Number.isFinite(mobileShare) || Number.isFinite(apiShare))) {
    signals++;
    const digital = (Number.isFinite(mobileShare) ? mobileShare : 0) + (Number.isFinite(apiShare) ? apiShare : 0);
    score += vote(digital, p.highMinDigitalShare, p.lowMaxDigitalShare);
  }
  if (usageKnown && Number.isFinite(breadth)) {
    signals++;
    score += vote(breadth, p.highMinModuleBreadth, p.lowMaxModuleBreadth);
  }
  if (signals === 0) return 'unknown';
  if (score >= p.highMinPoints) return 'high';
  if (score <= p.lowMaxPoints) return 'low';
  return 'medium';
}

const BUYER_ROLES_KNOWN: ReadonlySet<string> = new Set(['finance', 'it', 'executive', 'owner', 'other']);

/** Buyer role as recorded (contract values); missing or unrecognised: unknown. */
function buyerRoleOf(role: string | null): BuyerRoleLabel {
  if (role === null) return 'unknown';
  const r = normaliseEnum(role);
  return BUYER_ROLES_KNOWN.has(r) ? (r as BuyerRoleLabel) : 'unknown';
}

function asOfYearOf(asOf: string): number {
  const m = /^(\d{4})-\d{2}-\d{2}$/.exec(asOf);
  if (!m) throw new Error(`categorize: asOf must be YYYY-MM-DD, got ${JSON.stringify(asOf)}`);
  return Number(m[1]);
}

/**
 * Assigns the five lenses to every customer; each output array has the input's length n.
 * `fit` is the lifecycle rule's training state (fitLifecycle): scoring passes the model's, so
 * its startup window is the training data's; without it the input's own span is used.
 */
export function categorize(input: LensInput, params: LensParams, fit?: LifecycleFit): CustomerLenses {
  const n = input.employees.length;
  const columns: Record<string, { length: number }> = {
    industry: input.industry,
    annualRevenue: input.annualRevenue,
    foundedYear: input.foundedYear,
    deployment: input.deployment,
    buyerRole: input.buyerRole,
    tenureDays: input.tenureDays,
    usageTrend: input.usageTrend,
    volumeTrend: input.volumeTrend,
    events90: input.events90,
    recencyDays: input.recencyDays,
    mobileShare: input.mobileShare,
    apiShare: input.apiShare,
    moduleBreadth: input.moduleBreadth,
  };
  for (const name of ['txnRecencyDays', 'txnCount90', 'txnVolume90', 'txnCountAll', 'firstSeenDays'] as const) if (input[name]) columns[name] = input[name];
  for (const [name, column] of Object.entries(columns)) {
    if (column.length !== n) throw new Error(`categorize: ${name} has ${column.length} values, employees has ${n}`);
  }
  const asOfYear = asOfYearOf(input.asOf);
  const lookup = industryLookup(params.industryMap);
  // The text attributes take a handful of values: each spelling is normalised and looked up once
  // (at 1M customers the per-row trims, regexes and lookups were most of the stage's 0.8 s).
  const industry = perValue((code: string | null) => industryOf(code, lookup, params.industryNaicsFallback));
  const deployment = perValue((d: string | null) => (d === null ? '' : normaliseEnum(d)));
  const buyerRole = perValue(buyerRoleOf);
  // Without the input's first-seen days the span means nothing to the rule: tenure decides then.
  const window = input.firstSeenDays ? startupWindow(fit ? fit.spanDays : input.spanDays, params.lifecycle) : undefined;
  const out: CustomerLenses = { size: new Array(n), industry: new Array(n), lifecycle: new Array(n), technology: new Array(n), buyerRole: new Array(n) };
  for (let i = 0; i < n; i++) {
    out.size[i] = sizeOf(input.employees[i]!, input.annualRevenue[i]!, params.size);
    out.industry[i] = industry(input.industry[i] ?? null);
    out.lifecycle[i] = lifecycleOf(input, i, asOfYear, window, params.lifecycle);
    out.technology[i] = technologyOf(deployment(input.deployment[i] ?? null), input.mobileShare[i]!, input.apiShare[i]!, input.moduleBreadth[i]!, input.events90[i]!, params.technology);
    out.buyerRole[i] = buyerRole(input.buyerRole[i] ?? null);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Documentation

const fmt = (x: number): string => x.toLocaleString('en-US');
const md = (s: string): string => s.replaceAll('|', '\\|');

/** The lens rules under `params` as Markdown (one table per lens), for the README and reports. */
export function LENS_RULES_MARKDOWN(params: LensParams): string {
  const s = params.size;
  const t = params.technology;
  const lines: string[] = ['## Lens rules', ''];

  lines.push('### Size', '');
  lines.push(
    `A customer's band is the larger of its head-count band and its annual-revenue band (revenue in ${md(s.revenueUnit)}); ` +
      'when one of the two is missing the other decides; when both are missing the size is `unknown`. Ceilings are inclusive.',
    '',
  );
  lines.push('| size | employees | annual revenue |', '|---|---|---|');
  lines.push(`| micro | ≤ ${fmt(s.microMaxEmployees)} | ≤ ${fmt(s.microMaxRevenue)} |`);
  lines.push(`| small | > ${fmt(s.microMaxEmployees)} and ≤ ${fmt(s.smallMaxEmployees)} | > ${fmt(s.microMaxRevenue)} and ≤ ${fmt(s.smallMaxRevenue)} |`);
  lines.push(`| medium | > ${fmt(s.smallMaxEmployees)} and ≤ ${fmt(s.mediumMaxEmployees)} | > ${fmt(s.smallMaxRevenue)} and ≤ ${fmt(s.mediumMaxRevenue)} |`);
  lines.push(`| large | > ${fmt(s.mediumMaxEmployees)} | > ${fmt(s.mediumMaxRevenue)} |`);
  lines.push('| unknown | missing | missing |', '');

  lines.push('### Industry', '');
  lines.push(
    'The raw `industry` code is looked up in `lenses.industryMap`, ignoring case, repeated spaces and the spacing around dashes. ' +
      (params.industryNaicsFallback ? 'An unmapped code of 3–6 digits (a detailed NAICS code) is looked up by its 2-digit sector. ' : '') +
      'A code not in the table is `other`; a missing code is `unknown`.',
    '',
  );
  lines.push('| industry | raw codes |', '|---|---|');
  for (const label of INDUSTRY_LABELS) {
    const codes = Object.entries(params.industryMap)
      .filter(([, v]) => v === label)
      .map(([k]) => `\`${md(k)}\``);
    const extra = label === 'other' ? ['any unmapped code'] : label === 'unknown' ? ['missing'] : [];
    lines.push(`| ${label} | ${[...codes, ...extra].join(', ')} |`);
  }
  lines.push('');

  lines.push(...lifecycleRulesMarkdown(params.lifecycle));

  lines.push('### Technology acceptance', '');
  lines.push(`Each known signal adds points to a score; a customer with no known signal is \`unknown\`. The two usage signals count only with at least ${t.minUsageEvents} usage events in the last 90 days.`, '');
  lines.push('| signal | points |', '|---|---|');
  lines.push(`| deployment | cloud ${t.deploymentPoints.cloud}, hybrid ${t.deploymentPoints.hybrid}, on_prem ${t.deploymentPoints.on_prem} |`);
  lines.push(`| mobile + API share of events (90 days) | +1 if ≥ ${t.highMinDigitalShare}, −1 if ≤ ${t.lowMaxDigitalShare}, else 0 |`);
  lines.push(`| distinct modules used (90 days) | +1 if ≥ ${t.highMinModuleBreadth}, −1 if ≤ ${t.lowMaxModuleBreadth}, else 0 |`, '');
  lines.push('| technology | score |', '|---|---|');
  lines.push(`| high | ≥ ${t.highMinPoints} |`, `| medium | between |`, `| low | ≤ ${t.lowMaxPoints} |`, '');

  lines.push('### Buyer role', '');
  lines.push('| buyer role | `buyer_role` value |', '|---|---|');
  for (const r of ['finance', 'it', 'executive', 'owner', 'other'] as const) lines.push(`| ${r} | \`${r}\` |`);
  lines.push('| unknown | missing or unrecognised |', '');
  return `${lines.join('\n')}\n`;
}
