import { LENS_NAMES, type CustomerLenses, type LensName } from './lenses.ts';

/** Whether a lens says something about this export, and what would make it measurable. */
export interface LensMeasure {
  /** False when at least `maxUnknownShare` of the customers are 'unknown' on this lens. */
  measurable: boolean;
  /** Share of customers labelled 'unknown', in [0, 1]. */
  unknownShare: number;
  /** The contract column(s) whose presence would make the lens measurable, for the report. */
  needs: string;
}

/** Per lens, measurable or not: a lens that is unknown for most customers must not name or steer a segment. */
export type LensMeasurability = Record<LensName, LensMeasure>;

/** A lens unknown for this share of customers or more is "not measurable from this export" (issue 14). */
export const MAX_UNKNOWN_SHARE = 0.9;

/** The contract columns each lens is read from (docs/lenses.md), named when a lens cannot be measured. */
export const LENS_NEEDS: Readonly<Record<LensName, string>> = {
  size: 'customers.employees or customers.annual_revenue',
  industry: 'customers.industry',
  lifecycle: 'customers.founded_year, or usage_events / transactions history',
  technology: 'usage_events (module, device) or customers.deployment',
  buyerRole: 'customers.buyer_role',
};

/** Measures each lens over the customers: the share labelled 'unknown' against `maxUnknownShare`. */
export function lensMeasurability(lenses: CustomerLenses, maxUnknownShare = MAX_UNKNOWN_SHARE): LensMeasurability {
  const out = {} as LensMeasurability;
  for (const lens of LENS_NAMES) {
    const labels = lenses[lens] as readonly string[];
    let unknown = 0;
    for (const l of labels) if (l === 'unknown') unknown++;
    const unknownShare = labels.length ? unknown / labels.length : 1;
    out[lens] = { measurable: unknownShare < maxUnknownShare, unknownShare, needs: LENS_NEEDS[lens] };
  }
  return out;
}
