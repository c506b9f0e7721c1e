import { arr, num, obj, str } from './json-view.ts';

/**
 * The drift stage's parts of the report view: what a retrain recorded against production
 * (comparison.json) and the significant trends per segment (trends.json), each either well-formed
 * or null so the renderers never probe raw JSON.
 */

/** What a retrain recorded against the production model (comparison.json), when it compared with one. */
export interface ReportComparison {
  /** The production version compared with. */
  production: string;
  decision: string | null;
  reasons: string[];
  /** Adjusted Rand index between production's and this model's segments on today's customers. */
  agreement: number | null;
  /** PSI at or above which an input counts as drifted. */
  driftThreshold: number | null;
  /** Per input (feature or attribute), largest PSI first. */
  drift: { name: string; psi: number }[];
  /** Migration cells; labels are segment ids as text, or 'new' / 'gone' for the margins. */
  migration: { from: string; to: string; count: number; share: number }[];
  fromOrder: string[];
  toOrder: string[];
  /** Share of customers present in both models who kept their segment id. */
  sameIdShare: number | null;
  gates: { gate: string; status: string; reason: string }[];
  /** The one-step Markov forecast of the segment mix, per segment id (ids as numbers); empty when absent. */
  mixForecast: { id: number; now: number; next: number }[];
}

/** A module's monthly adoption in a segment and its next-quarter forecast. */
export interface ReportTrendSeries {
  module: string;
  /** Aligned with ReportTrends.months; null in a month with nobody active. */
  adoption: (number | null)[];
  slopePerMonth: number;
  latest: number | null;
  forecast: { months: string[]; mean: number; low: number; high: number };
  /** The backtest's chosen model, its MASE and the verdict (rising / falling). */
  model: string;
  mase: number | null;
  verdict: string;
}

/** The modules rising fastest per segment (trends.json), with their series. */
export interface ReportTrends {
  months: string[];
  intervalLevel: number | null;
  /** Per segment index (the position in `segments`): its significantly rising, then falling, modules. */
  rising: Map<number, ReportTrendSeries[]>;
  /** Per segment index: usage volume (events per active customer) last month and its forecast; absent without one. */
  volume: Map<number, { last: number | null; mean: number; low: number; high: number; model: string; mase: number | null; verdict: string }>;
  /** Months of history, held-out months, season length and whether seasonal models were candidates. */
  backtest: { months: number; holdout: number; period: number; seasonal: boolean } | null;
}

const migrationLabel = (x: unknown): string => String(x);

/** The comparison with production from comparison.json; null for a first model (nothing to compare with) or when there is no comparison. */
export function comparisonOf(json: unknown): ReportComparison | null {
  const c = obj(json);
  const production = str(c?.production);
  if (!c || c.kind !== 'finseg.comparison' || production === null) return null;
  const drift = obj(c.drift);
  const inputs = arr(drift?.inputs)
    .flatMap((d) => {
      const o = obj(d);
      const psi = num(o?.psi);
      return o && psi !== null ? [{ name: String(o.name), psi }] : [];
    })
    .sort((a, b) => b.psi - a.psi);
  const mm = obj(c.migration);
  const fromOrder = arr(mm?.from).map(migrationLabel);
  const toOrder = arr(mm?.to).map(migrationLabel);
  const counts = arr(mm?.counts);
  const shares = arr(mm?.shares);
  const migration: ReportComparison['migration'] = [];
  fromOrder.forEach((from, r) => {
    const row = arr(counts[r]);
    const total = row.reduce<number>((sum, x) => sum + (num(x) ?? 0), 0);
    toOrder.forEach((to, col) => {
      const count = num(row[col]) ?? 0;
      migration.push({ from, to, count, share: num(arr(shares[r])[col]) ?? (total ? count / total : 0) });
    });
  });
  const sameId = num(mm?.sameId);
  const inBoth = num(mm?.inBoth);
  return {
    production,
    decision: str(c.decision),
    reasons: arr(c.reasons).map(String),
    agreement: num(obj(c.agreement)?.ari),
    driftThreshold: num(drift?.threshold),
    drift: inputs,
    migration,
    fromOrder,
    toOrder,
    sameIdShare: sameId !== null && inBoth ? sameId / inBoth : null,
    gates: arr(c.gates).flatMap((g) => {
      const o = obj(g);
      return o ? [{ gate: String(o.gate), status: String(o.status), reason: String(o.reason ?? '') }] : [];
    }),
    mixForecast: mixOf(obj(c.mixForecast)),
  };
}

function mixOf(f: Record<string, unknown> | null): ReportComparison['mixForecast'] {
  const now = arr(f?.now);
  const next = arr(f?.next);
  return arr(f?.ids).flatMap((id, i) => {
    const a = num(now[i]);
    const b = num(next[i]);
    const n = num(id);
    return a !== null && b !== null && n !== null ? [{ id: n, now: a, next: b }] : [];
  });
}

/** The significantly rising and falling modules per segment from trends.json; null when absent or no segment has one. */
export function trendsOf(json: unknown): ReportTrends | null {
  const t = obj(json);
  if (!t || t.kind !== 'finseg.trends') return null;
  const months = arr(t.months).map(String);
  const rising = new Map<number, ReportTrendSeries[]>();
  const volume: ReportTrends['volume'] = new Map();
  for (const seg of arr(t.segments)) {
    const o = obj(seg);
    const index = num(o?.segmentIndex);
    if (!o || index === null) continue;
    const adoptionOf = new Map(arr(o.modules).map((m) => [String(obj(m)?.module), arr(obj(m)?.adoption).map((x) => num(x))]));
    const series = [...arr(o.rising), ...arr(o.falling)].flatMap((r) => {
      const q = obj(r);
      const f = obj(q?.forecast);
      const slope = num(q?.slopePerMonth);
      const mean = num(f?.mean);
      if (!q || !f || slope === null || mean === null) return [];
      const module = String(q.module);
      const forecast = { months: arr(f.months).map(String), mean, low: num(f.low) ?? mean, high: num(f.high) ?? mean };
      return [{ module, adoption: adoptionOf.get(module) ?? [], slopePerMonth: slope, latest: num(q.latest), forecast, model: String(f.model ?? ''), mase: num(f.mase), verdict: String(f.verdict ?? 'rising') }];
    });
    if (series.length) rising.set(index, series);
    const vol = obj(o.volume);
    const vf = obj(vol?.forecast);
    const vMean = num(vf?.mean);
    const perActive = arr(vol?.eventsPerActive);
    if (vf && vMean !== null) {
      volume.set(index, { last: num(perActive[perActive.length - 1]), mean: vMean, low: num(vf.low) ?? vMean, high: num(vf.high) ?? vMean, model: String(vf.model ?? ''), mase: num(vf.mase), verdict: String(vf.verdict ?? 'flat') });
    }
  }
  const b = obj(t.backtest);
  const backtest = b ? { months: months.length, holdout: num(b.holdoutMonths) ?? 0, period: num(b.seasonPeriod) ?? 0, seasonal: b.seasonal === true } : null;
  return rising.size ? { months, intervalLevel: num(t.intervalLevel), rising, volume, backtest } : null;
}
