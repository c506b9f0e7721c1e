import type { LensInput, LifecycleLabel } from './labels.ts';

/**
 * The lifecycle lens: a company's stage from its founded year when the export has one, else
 * from what the export shows of it (when it first appears, its trends, how long it has been
 * quiet). Usage events decide where they exist; a transactions-only export has rules of its
 * own, because invoice volume swings far more than event counts.
 */

/** Thresholds of the lifecycle rule: the config slice `lenses.lifecycle`. */
export interface LifecycleParams {
  /** A company this many years old or younger is a startup (age = as-of year − founded year). */
  startupMaxAgeYears: number;
  /**
   * Without a founded year, a customer first seen in the most recent this share of the data's
   * span (and after the rest of it without activity) is a startup. 0.25 of a one-year export is
   * one 90-day trend window: the customers that had no earlier window to compare with.
   */
  startupMaxSpanShare: number;
  /**
   * The span rule needs at least this many days of data: with less, "first seen" cannot tell a
   * new customer from one that was active before the export begins. 180 = two trend windows.
   */
  startupMinSpanDays: number;
  /**
   * A usage trend (usage_trend: ln of the last 90 days' events over the 90 before, +1 smoothed)
   * at or above this is growth; 0.35 ≈ usage up 40%. Stable firms scatter about ±0.35 over 90
   * days, so a lower threshold mostly catches noise.
   */
  growthMinTrend: number;
  /** A usage trend at or below this is decline; −0.65 ≈ usage halved. */
  declineMaxTrend: number;
  /**
   * Growth needs at least this many usage events in the two 90-day windows together: below it
   * a handful of events more or less swings the trend past any threshold.
   */
  growthMinEvents: number;
  /**
   * A volume trend moving against the usage trend by more than this overrules it (growth with
   * volume_trend < −veto, decline with volume_trend > +veto). Volume is only a veto, not a vote:
   * a few large invoices swing it far more than usage.
   */
  volumeVeto: number;
  /** No activity for this many days (recency_days) is decline, whatever the trend: the customer has gone quiet. */
  quietDays: number;
  /** When founded_year is missing and the data's span is unknown, use the customer's tenure as the company's age (a lower bound of it). */
  ageFromTenureWhenFoundedMissing: boolean;
  /**
   * Without usage data: a volume trend (volume_trend, ln of the last 90 days' |amount| over the
   * 90 before, +1 smoothed) at or above this is growth; 0.7 ≈ volume doubled. Twice the usage
   * bar, because one large invoice more or less moves a quarter's volume by ±0.6 to ±1.5.
   */
  txnGrowthMinTrend: number;
  /**
   * Without usage data: a volume trend at or below this is decline; −1 ≈ volume down to a third
   * (the veto's e¹). Halving is within a stable firm's quarter-to-quarter swing of invoices: on
   * generated transactions alone, −0.7 called decline with precision 0.29, −1 with 0.35, at
   * recall 0.55 and 0.53 (docs/lenses.md).
   */
  txnDeclineMaxTrend: number;
  /**
   * Without usage data, growth and decline need at least this many transactions in the two
   * windows together: with 1–3, one invoice more or less doubles or halves the volume.
   */
  txnMinCount: number;
  /**
   * Without usage data: no transaction for this many days (txn_recency_days) is decline. 90 =
   * one trend window: transactions are rarer than usage events, so 30 days of none is normal.
   */
  txnQuietDays: number;
}

/** The default lifecycle thresholds; each one's reason is on its field. */
export const defaultLifecycleParams: LifecycleParams = {
  startupMaxAgeYears: 3,
  startupMaxSpanShare: 0.25,
  startupMinSpanDays: 180,
  growthMinTrend: 0.35,
  declineMaxTrend: -0.65,
  growthMinEvents: 20,
  volumeVeto: 1,
  quietDays: 30,
  ageFromTenureWhenFoundedMissing: true,
  txnGrowthMinTrend: 0.7,
  txnDeclineMaxTrend: -1,
  txnMinCount: 4,
  txnQuietDays: 90,
};

/** What the lifecycle rule was fitted with, stored with the model so scoring applies the same startup window. */
export interface LifecycleFit {
  /** Days from the earliest activity in the training data to the end of the as-of date; null when unknown. */
  spanDays: number | null;
}

/** Calendar length used to turn days into years. */
export const DAYS_PER_YEAR = 365.25;

/**
 * The startup window of the span rule: first seen at most `withinDays` ago, with at least
 * `leadInDays` of data before it. `null` = the span is too short for the rule (no startup from
 * behaviour); `undefined` = no span known (the tenure rule applies instead).
 */
export type StartupWindow = { withinDays: number; leadInDays: number } | null | undefined;

/** The startup window for a reference span (the training data's): the last `startupMaxSpanShare` of it, at most `startupMaxAgeYears`. */
export function startupWindow(spanDays: number | null | undefined, p: LifecycleParams): StartupWindow {
  if (spanDays === undefined || spanDays === null || !Number.isFinite(spanDays)) return undefined;
  if (spanDays < p.startupMinSpanDays) return null;
  const withinDays = Math.min(p.startupMaxSpanShare * spanDays, p.startupMaxAgeYears * DAYS_PER_YEAR);
  return { withinDays, leadInDays: spanDays - withinDays };
}

/** The inputs of the startup decision for one customer; NaN = unknown. */
export interface StartupFacts {
  /** As-of year − founded year; NaN without a usable founded year. */
  foundedAge: number;
  tenureDays: number;
  /** Days since the customer's first usage event or transaction; NaN when none. */
  firstSeenDays: number;
  /** The span of the data being categorised (not the reference one); NaN when unknown. */
  spanDays: number;
}

/**
 * Startup: by founded year when known; else first seen (the earlier of signup and first activity)
 * within the startup window, after a lead-in without activity as long as the training data had;
 * else, with no span known, by tenure.
 */
export function isStartup(f: StartupFacts, window: StartupWindow, p: LifecycleParams): boolean {
  if (Number.isFinite(f.foundedAge)) return f.foundedAge <= p.startupMaxAgeYears;
  if (window === null) return false;
  if (window === undefined) return p.ageFromTenureWhenFoundedMissing && f.tenureDays >= 0 && f.tenureDays / DAYS_PER_YEAR <= p.startupMaxAgeYears;
  const seen = Math.max(Number.isFinite(f.firstSeenDays) ? f.firstSeenDays : -Infinity, f.tenureDays >= 0 ? f.tenureDays : -Infinity);
  if (seen === -Infinity) return false;
  // In training the lead-in test is the window test again; scoring a shorter export, it keeps a
  // customer seen from the export's first day (active before it, for all we know) from being new.
  return seen <= window.withinDays && f.spanDays - seen >= window.leadInDays;
}

/** The behavioural inputs of the lifecycle rule for one customer; NaN = unknown. */
export interface Activity {
  usageTrend: number;
  volumeTrend: number;
  events90: number;
  /** Days since the last activity of any kind, from signup when none (recency_days). */
  recencyDays: number;
  tenureDays: number;
  /** Days since the last transaction, from signup when none (txn_recency_days). */
  txnRecencyDays: number;
  txnCount90: number;
  /** Sum of |amount| in the window (txn_volume_90). */
  txnVolume90: number;
  /** Transactions in all history (txn_count_all). */
  txnCountAll: number;
  /** Days since the first usage event or transaction; NaN when none, or when unknown (`firstSeenKnown` false). */
  firstSeenDays: number;
  firstSeenKnown: boolean;
}

/**
 * Never active: no activity at all when first-seen dates are known; else the catalog's sign of
 * it, recency counted back to signup with nothing in the window (which also holds a customer
 * whose only activity was on its signup day, so it is the fallback, not the rule).
 */
function neverActive(a: Activity, inWindow: number, recency: number): boolean {
  if (a.firstSeenKnown) return !Number.isFinite(a.firstSeenDays);
  return inWindow === 0 && Number.isFinite(recency) && Number.isFinite(a.tenureDays) && recency >= a.tenureDays;
}

/** Stage from behaviour, for a customer that is not a startup: usage decides where known, else transactions. */
export function stageFromActivity(a: Activity, p: LifecycleParams): LifecycleLabel {
  if (Number.isFinite(a.usageTrend)) return stageFromUsage(a, p);
  if (Number.isFinite(a.volumeTrend)) return stageFromTransactions(a, p);
  return 'unknown';
}

function stageFromUsage(a: Activity, p: LifecycleParams): LifecycleLabel {
  // Never used: no trend exists.
  if (neverActive(a, a.events90, a.recencyDays)) return 'unknown';
  if (Number.isFinite(a.recencyDays) && a.recencyDays >= p.quietDays) return 'decline';
  // Either recency: a customer that stopped transacting has gone quiet even while it still logs in
  // (one that never transacted has no transaction recency to speak of).
  if (a.txnRecencyDays >= p.txnQuietDays && a.txnCountAll !== 0) return 'decline';
  const veto = Number.isFinite(a.volumeTrend) ? a.volumeTrend : 0;
  if (a.usageTrend <= p.declineMaxTrend && veto <= p.volumeVeto) return 'decline';
  if (a.usageTrend >= p.growthMinTrend && veto >= -p.volumeVeto && eventsInBothWindows(a) >= p.growthMinEvents) return 'growth';
  return 'mature';
}

/** Usage events in the last two 90-day windows, recovered from events_90 and usage_trend = ln((e90 + 1) / (ePrev + 1)). */
function eventsInBothWindows(a: Activity): number {
  const e90 = Number.isFinite(a.events90) ? a.events90 : 0;
  const ePrev = Math.max(0, Math.round((e90 + 1) / Math.exp(a.usageTrend) - 1));
  return e90 + ePrev;
}

function stageFromTransactions(a: Activity, p: LifecycleParams): LifecycleLabel {
  const recency = Number.isFinite(a.txnRecencyDays) ? a.txnRecencyDays : a.recencyDays;
  const n90 = a.txnCount90;
  if (Number.isFinite(a.txnCountAll) ? a.txnCountAll === 0 : neverActive(a, n90, recency)) return 'unknown';
  // Without a recency feature, no transaction in the window is the quiet test (at the default 90 days it is the same).
  const quiet = Number.isFinite(recency) ? recency >= p.txnQuietDays : n90 === 0;
  if (quiet) return 'decline';
  const prev = previousWindowTransactions(a);
  // An empty last window after a busy one needs no count: it is decline on its face.
  const enough = n90 === 0 || !Number.isFinite(prev) || n90 + prev >= p.txnMinCount;
  if (a.volumeTrend <= p.txnDeclineMaxTrend && enough) return 'decline';
  // A purchase after an empty previous window is a return or a first order, not a trend.
  const hadPrevious = !Number.isFinite(prev) || prev >= 0.5;
  if (a.volumeTrend >= p.txnGrowthMinTrend && enough && hadPrevious) return 'growth';
  return 'mature';
}

/**
 * Transactions in the previous window, estimated as its volume (recovered from volume_trend =
 * ln((v90 + 1) / (vPrev + 1))) over the window's mean |amount|; NaN when counts are unknown.
 */
function previousWindowTransactions(a: Activity): number {
  if (!Number.isFinite(a.txnCount90) || !Number.isFinite(a.txnVolume90) || a.txnCount90 <= 0) return Number.NaN;
  const vPrev = Math.max(0, (a.txnVolume90 + 1) / Math.exp(a.volumeTrend) - 1);
  if (a.txnVolume90 <= 0) return vPrev > 0 ? Infinity : 0;
  return (vPrev * a.txnCount90) / a.txnVolume90;
}

/** As-of year − founded year; NaN without a founded year or with one after the as-of year. */
function foundedAge(foundedYear: number, asOfYear: number): number {
  return Number.isFinite(foundedYear) && foundedYear <= asOfYear ? asOfYear - foundedYear : Number.NaN;
}

/** The lifecycle of customer i: startup first, else its stage from behaviour. */
export function lifecycleOf(input: LensInput, i: number, asOfYear: number, window: StartupWindow, p: LifecycleParams): LifecycleLabel {
  const at = (column: Float64Array | undefined): number => (column ? column[i]! : Number.NaN);
  const tenureDays = input.tenureDays[i]!;
  const startup = isStartup({ foundedAge: foundedAge(input.foundedYear[i]!, asOfYear), tenureDays, firstSeenDays: at(input.firstSeenDays), spanDays: input.spanDays ?? Number.NaN }, window, p);
  if (startup) return 'startup';
  return stageFromActivity(
    {
      usageTrend: input.usageTrend[i]!,
      volumeTrend: input.volumeTrend[i]!,
      events90: input.events90[i]!,
      recencyDays: input.recencyDays[i]!,
      tenureDays,
      txnRecencyDays: at(input.txnRecencyDays),
      txnCount90: at(input.txnCount90),
      txnVolume90: at(input.txnVolume90),
      txnCountAll: at(input.txnCountAll),
      firstSeenDays: at(input.firstSeenDays),
      firstSeenKnown: input.firstSeenDays !== undefined,
    },
    p,
  );
}

/** The lifecycle rule's training state: the span of the training data (null when unknown). */
export function fitLifecycle(input: LensInput): LifecycleFit {
  return { spanDays: input.firstSeenDays && input.spanDays !== undefined && Number.isFinite(input.spanDays) ? input.spanDays : null };
}

/** The lifecycle section of the lens rules (Markdown) under `l`. */
export function lifecycleRulesMarkdown(l: LifecycleParams): string[] {
  const lines: string[] = ['### Lifecycle', ''];
  lines.push(
    'Age is the as-of year minus `founded_year`. Without a founded year the stage comes from behaviour: a customer is a startup when it was ' +
      `first seen (the earlier of signup and its first usage event or transaction) within the last ${l.startupMaxSpanShare} of the data's span ` +
      `(at most ${l.startupMaxAgeYears} years), and only when the data spans at least ${l.startupMinSpanDays} days. ` +
      'The span is the training data’s, recorded in the model, so scoring calls the same customers new; there, a customer also needs as long a stretch of data before its first activity as training had. ' +
      (l.ageFromTenureWhenFoundedMissing ? 'A feature table without activity dates (no span) falls back to tenure in years as the age. ' : '') +
      '`usage_trend` and `volume_trend` are ln of the last 90 days over the 90 before (+1 smoothed). ' +
      'With usage data the usage trend decides and the volume trend only vetoes a call it contradicts strongly, because a few large invoices swing it far more than usage. ' +
      'Without usage data (a transactions-only export) the transaction rows apply. The first matching row wins.',
    '',
  );
  lines.push('| order | lifecycle | rule |', '|---:|---|---|');
  lines.push(`| 1 | startup | age ≤ ${l.startupMaxAgeYears} years; without a founded year: first seen within the last ${l.startupMaxSpanShare} of the span (span ≥ ${l.startupMinSpanDays} days) |`);
  lines.push('| 2 | unknown | no trend known, or never active (no usage event or transaction; without activity dates: no usage event since signup) |');
  lines.push(`| 3 | decline | gone quiet: no activity for ≥ ${l.quietDays} days (\`recency_days\`), or no transaction for ≥ ${l.txnQuietDays} days (\`txn_recency_days\`) after earlier ones |`);
  lines.push(`| 4 | decline | usage trend ≤ ${l.declineMaxTrend}, unless volume trend > ${l.volumeVeto} |`);
  lines.push(`| 5 | growth | usage trend ≥ ${l.growthMinTrend} on ≥ ${l.growthMinEvents} usage events in the two windows together, unless volume trend < ${-l.volumeVeto} |`);
  lines.push('| 6 | mature | otherwise |', '');
  lines.push('Without usage data:', '');
  lines.push('| order | lifecycle | rule |', '|---:|---|---|');
  lines.push('| 1 | startup | as above |');
  lines.push('| 2 | unknown | never transacted, or no transactions table |');
  lines.push(`| 3 | decline | gone quiet: no transaction for ≥ ${l.txnQuietDays} days (\`txn_recency_days\`; without that feature: none in the last 90 days) |`);
  lines.push(`| 4 | decline | volume trend ≤ ${l.txnDeclineMaxTrend} on ≥ ${l.txnMinCount} transactions in the two windows together, or none in the last window after some in the one before |`);
  lines.push(`| 5 | growth | volume trend ≥ ${l.txnGrowthMinTrend} on ≥ ${l.txnMinCount} transactions in the two windows together, at least one of them in the earlier window |`);
  lines.push('| 6 | mature | otherwise |', '');
  lines.push(
    'Transactions in the earlier window are estimated as its volume (from `volume_trend` and `txn_volume_90`) over the last window’s mean amount. ' +
      'A lens that is `unknown` for at least 90% of the customers is reported as not measurable from the export (docs/lenses.md).',
    '',
  );
  return lines;
}
