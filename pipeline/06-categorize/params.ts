/**
 * The lens rules' settings (config slice `lenses`): band ceilings, the industry code table, the
 * lifecycle and technology thresholds. Each band's or level's thresholds must ascend, or a band
 * between them would be empty.
 */
import * as v from 'valibot';
import { boolean, crossCheck, number, oneOf, parseSettings, settingsOf, text, userMap, type Problem, type Rule } from '../core/settings.ts';
import { DEFAULT_INDUSTRY_MAP } from './industries.ts';
import { INDUSTRY_LABELS, type IndustryLabel } from './labels.ts';
import { defaultLifecycleParams, type LifecycleParams } from './lifecycle.ts';

/** Rule thresholds of the five lenses: the config slice `lenses`, recorded in every bundle's manifest. */
export interface LensParams {
  size: {
    /** Head-count ceilings of the bands, inclusive (EU SME definition: < 10, < 50, < 250). */
    microMaxEmployees: number;
    smallMaxEmployees: number;
    mediumMaxEmployees: number;
    /** Annual-revenue ceilings of the bands, inclusive, in `revenueUnit`. */
    microMaxRevenue: number;
    smallMaxRevenue: number;
    mediumMaxRevenue: number;
    /** The unit of `customers.annual_revenue` the revenue ceilings are in; documentation only. */
    revenueUnit: string;
  };
  /** Raw industry code → industry. Keys match case-insensitively, with spaces and dashes normalised. */
  industryMap: Record<string, IndustryLabel>;
  /** An unmapped all-digit code of 3–6 digits (a detailed NAICS code) falls back to its 2-digit sector. */
  industryNaicsFallback: boolean;
  /** The lifecycle rule's thresholds (lifecycle.ts, where each default's reason is given). */
  lifecycle: LifecycleParams;
  technology: {
    /** Points a deployment adds to the technology score (an unknown deployment adds nothing). */
    deploymentPoints: { cloud: number; hybrid: number; on_prem: number };
    /** Mobile + API share of events at or above this: +1; at or below `lowMaxDigitalShare`: −1. */
    highMinDigitalShare: number;
    lowMaxDigitalShare: number;
    /** Distinct modules used in the window at or above this: +1; at or below `lowMaxModuleBreadth`: −1. */
    highMinModuleBreadth: number;
    lowMaxModuleBreadth: number;
    /** Score at or above this: high; at or below `lowMaxPoints`: low; in between: medium. */
    highMinPoints: number;
    lowMaxPoints: number;
    /**
     * The usage signals (digital share, module breadth) count only with at least this many usage
     * events in the window: the channel and module mix of two events is noise, and a customer
     * without usage has breadth 0 for want of data, not of interest. Unknown event counts do not block them.
     */
    minUsageEvents: number;
  };
}

/**
 * The default lens rules. Revenue ceilings are the EU SME turnover ceilings (EUR 2 M, 10 M,
 * 50 M) converted at about 7.8 CNY per EUR and rounded, in thousands of CNY: the unit of the
 * vendor's home market and of the synthetic data. Set them (and `revenueUnit`) for other data.
 */
export const defaultLensParams: LensParams = {
  size: {
    microMaxEmployees: 9,
    smallMaxEmployees: 49,
    mediumMaxEmployees: 249,
    microMaxRevenue: 15_000,
    smallMaxRevenue: 80_000,
    mediumMaxRevenue: 400_000,
    revenueUnit: 'thousand CNY',
  },
  industryMap: DEFAULT_INDUSTRY_MAP,
  industryNaicsFallback: true,
  lifecycle: defaultLifecycleParams,
  technology: {
    deploymentPoints: { cloud: 1, hybrid: 0, on_prem: -1 },
    highMinDigitalShare: 0.4,
    lowMaxDigitalShare: 0.1,
    highMinModuleBreadth: 7,
    lowMaxModuleBreadth: 2,
    highMinPoints: 2,
    lowMaxPoints: -1,
    minUsageEvents: 5,
  },
};

const atLeast = (min: number) => number({ min });
const anyNumber = () => number();

/** Each key of `keys` must be greater than the one before it in `obj` (at `path`). */
function ascending<T>(obj: T, path: string, keys: readonly (keyof T & string)[]): Problem[] {
  const out: Problem[] = [];
  for (let i = 1; i < keys.length; i++) {
    const lo = obj[keys[i - 1]!] as number;
    const hi = obj[keys[i]!] as number;
    if (!(hi > lo)) out.push({ path: [path, keys[i]!], message: `expected more than ${keys[i - 1]} (${lo}), got ${hi}` });
  }
  return out;
}

/** The `lenses` slice. */
export const lensParamsRule: Rule<LensParams> = v.pipe(
  settingsOf(defaultLensParams, {
    size: settingsOf(defaultLensParams.size, {
      microMaxEmployees: atLeast(0),
      smallMaxEmployees: atLeast(0),
      mediumMaxEmployees: atLeast(0),
      microMaxRevenue: atLeast(0),
      smallMaxRevenue: atLeast(0),
      mediumMaxRevenue: atLeast(0),
      revenueUnit: text(),
    }),
    industryMap: userMap<IndustryLabel>(oneOf(INDUSTRY_LABELS), { defaults: DEFAULT_INDUSTRY_MAP }),
    industryNaicsFallback: boolean(),
    lifecycle: settingsOf<LifecycleParams>(defaultLifecycleParams, {
      startupMaxAgeYears: atLeast(0),
      startupMaxSpanShare: number({ min: 0, max: 1 }),
      startupMinSpanDays: atLeast(0),
      growthMinTrend: anyNumber(),
      declineMaxTrend: anyNumber(),
      growthMinEvents: atLeast(0),
      volumeVeto: atLeast(0),
      quietDays: atLeast(1),
      ageFromTenureWhenFoundedMissing: boolean(),
      txnGrowthMinTrend: anyNumber(),
      txnDeclineMaxTrend: anyNumber(),
      txnMinCount: atLeast(0),
      txnQuietDays: atLeast(1),
    }),
    technology: settingsOf(defaultLensParams.technology, {
      deploymentPoints: settingsOf(defaultLensParams.technology.deploymentPoints, { cloud: anyNumber(), hybrid: anyNumber(), on_prem: anyNumber() }),
      highMinDigitalShare: number({ min: 0, max: 1 }),
      lowMaxDigitalShare: number({ min: 0, max: 1 }),
      highMinModuleBreadth: atLeast(0),
      lowMaxModuleBreadth: atLeast(0),
      highMinPoints: anyNumber(),
      lowMaxPoints: anyNumber(),
      minUsageEvents: atLeast(0),
    }),
  }),
  crossCheck((p: LensParams) => [
    ...ascending(p.size, 'size', ['microMaxEmployees', 'smallMaxEmployees', 'mediumMaxEmployees']),
    ...ascending(p.size, 'size', ['microMaxRevenue', 'smallMaxRevenue', 'mediumMaxRevenue']),
    ...ascending(p.lifecycle, 'lifecycle', ['declineMaxTrend', 'growthMinTrend']),
    ...ascending(p.lifecycle, 'lifecycle', ['txnDeclineMaxTrend', 'txnGrowthMinTrend']),
    ...ascending(p.technology, 'technology', ['lowMaxDigitalShare', 'highMinDigitalShare']),
    ...ascending(p.technology, 'technology', ['lowMaxModuleBreadth', 'highMinModuleBreadth']),
    ...ascending(p.technology, 'technology', ['lowMaxPoints', 'highMinPoints']),
  ]),
);

/** Untrusted JSON (the `lenses` slice, or undefined) as LensParams; errors name `lenses.<key path>`. */
export function parseLensParams(json: unknown, source = 'config'): LensParams {
  return parseSettings(lensParamsRule, json ?? {}, source, 'lenses');
}
