/** Schemas of the value per segment (07-map/value.ts): a card's `value`, segments.json's and the manifest's `value`. */
import * as v from 'valibot';
import type { SegmentValue, ValueBasis } from '../07-map/value.ts';

const count = v.pipe(v.number(), v.integer('expected an integer'), v.minValue(0, 'expected an integer >= 0'));
const amount = v.pipe(v.number(), v.finite('expected a finite number'));
const rate = v.nullable(amount);

/** One segment's value (a card's `value`). */
export const segmentValueSchema = v.object({
  customers: count,
  activeCustomers: count,
  payingCustomers: count,
  mrr: amount,
  arr: amount,
  mrrShare: rate,
  customerShare: rate,
  arpc: rate,
  seats: rate,
  startCustomers: count,
  startMrr: amount,
  churnedCustomers: count,
  churnedMrr: amount,
  grossMrrChurn: rate,
  logoChurn: rate,
  nrr: rate,
  expansion: rate,
  contraction: rate,
}) satisfies v.GenericSchema<unknown, SegmentValue>;

/** What the values were measured on and all customers' value (segments.json and manifest metrics `value`). */
export const valueBasisSchema = v.object({
  asOf: v.string(),
  from: v.string(),
  currency: v.nullable(v.string()),
  leftOutCustomers: count,
  leftOutRows: count,
  total: segmentValueSchema,
}) satisfies v.GenericSchema<unknown, ValueBasis>;
