/**
 * What `npm run bench` prints and records for one size: the per-stage table of each job, the
 * whole-job comparison (train and score totals against the reference's, from the same run), the
 * stages only finseg runs with their sum, and the scan floor with features ÷ floor. Every
 * function here is pure: the figures come in, lines and the results-JSON block go out.
 */
import type { FloorResult } from './floor.ts';

/** One bench job's timings as bench.ts reads them from the job's last stdout line. */
export interface JobResult {
  stages: Record<string, number>;
  totalSeconds: number;
  peakRssMiB: number;
  /** Spawn to exit of the job's process, measured by bench.ts: start-up and module loading included. */
  wallSeconds?: number;
  [key: string]: unknown;
}

type Job = 'train' | 'score';

/** Stages compared with the reference (the same work on both sides). */
const COMPARED: Record<Job, string[]> = {
  train: ['features', 'preprocess', 'cluster', 'classify'],
  score: ['features', 'preprocess', 'assign', 'classify', 'write'],
};

/** Stages both sides run but with different work (np.load of prepared columns vs Parquet decoding and contract checks). */
const NOT_COMPARABLE = ['ingest'];

/** The reference's stages of these names only pickle its model, so finseg's bundle work counts as its own. */
const PICKLE_ONLY = ['bundle', 'load'];

const fmt = (v: number | undefined): string => (v === undefined ? '—' : v.toFixed(2));
const ratio = (reference: number | undefined, ours: number | undefined): number | null =>
  reference === undefined || ours === undefined || ours === 0 ? null : reference / ours;
const times = (r: number | null): string => (r === null ? '—' : `${r.toFixed(2)}x`);

/** finseg's stages outside the comparison and outside ingest, in run order, with their sum. */
export function finsegOnly(job: Job, ours: JobResult): { stages: Record<string, number>; totalSeconds: number } {
  const stages: Record<string, number> = {};
  for (const [s, t] of Object.entries(ours.stages)) if (!COMPARED[job].includes(s) && !NOT_COMPARABLE.includes(s)) stages[s] = t;
  return { stages, totalSeconds: Object.values(stages).reduce((a, b) => a + b, 0) };
}

/** The per-stage table of one job: both times and reference / finseg (above 1 = finseg faster). */
export function stageTable(size: string, job: Job, ours: JobResult, reference: JobResult | null): string[] {
  const stages = [...new Set([...Object.keys(ours.stages), ...Object.keys(reference?.stages ?? {})])];
  const lines = [`${size} ${job}: stage | finseg s | reference s | reference / finseg`];
  for (const s of stages) {
    const a = ours.stages[s];
    const b = reference?.stages[s];
    let note = '';
    if (COMPARED[job].includes(s)) note = a !== undefined && b !== undefined ? times(ratio(b, a)) : '';
    else if (NOT_COMPARABLE.includes(s)) note = 'not comparable';
    else if (a !== undefined) note = PICKLE_ONLY.includes(s) && b !== undefined ? 'finseg only (reference: a pickle)' : 'finseg only';
    lines.push(`  ${s.padEnd(22)} ${fmt(a).padStart(9)} ${fmt(b).padStart(12)}   ${note}`);
  }
  lines.push(`  ${'total'.padEnd(22)} ${fmt(ours.totalSeconds).padStart(9)} ${fmt(reference?.totalSeconds).padStart(12)}   ${times(ratio(reference?.totalSeconds, ours.totalSeconds))}`);
  lines.push(`  ${'peak RSS MiB'.padEnd(22)} ${ours.peakRssMiB.toFixed(0).padStart(9)} ${(reference ? reference.peakRssMiB.toFixed(0) : '—').padStart(12)}`);
  return lines;
}

/** One job's totals on both sides, in the job and as process wall time, with reference / finseg. */
interface Totals {
  finsegSeconds: number;
  referenceSeconds: number | null;
  ratio: number | null;
  finsegWallSeconds: number | null;
  referenceWallSeconds: number | null;
  wallRatio: number | null;
}

/** The totals of one job from both sides' results. */
function totals(ours: JobResult, reference: JobResult | null): Totals {
  return {
    finsegSeconds: ours.totalSeconds,
    referenceSeconds: reference?.totalSeconds ?? null,
    ratio: ratio(reference?.totalSeconds, ours.totalSeconds),
    finsegWallSeconds: ours.wallSeconds ?? null,
    referenceWallSeconds: reference?.wallSeconds ?? null,
    wallRatio: ratio(reference?.wallSeconds, ours.wallSeconds),
  };
}

/** features ÷ floor of one job (how many floors the feature stage costs), or null without a features stage. */
function overFloor(ours: JobResult, floor: number): number | null {
  const features = ours.stages.features;
  return features === undefined || floor <= 0 ? null : features / floor;
}

/** The summary block of one size for the results JSON. */
export function summaryJson(train: JobResult, score: JobResult, refTrain: JobResult | null, refScore: JobResult | null, floor: FloorResult | null): Record<string, unknown> {
  return {
    ratio: 'reference / finseg: above 1 means finseg is faster',
    train: totals(train, refTrain),
    score: totals(score, refScore),
    finsegOnly: { train: finsegOnly('train', train), score: finsegOnly('score', score) },
    floor: floor && {
      file: floor.file,
      rows: floor.rows,
      customers: floor.customers,
      countSeconds: floor.stages.count,
      distinctSeconds: floor.stages.distinct,
      featuresOverFloor: { train: overFloor(train, floor.stages.count), score: overFloor(score, floor.stages.count) },
      featuresOverDistinct: { train: overFloor(train, floor.stages.distinct), score: overFloor(score, floor.stages.distinct) },
    },
  };
}

/** `parts` joined by commas into indented lines of at most about 100 characters, for a terminal. */
function wrap(parts: string[]): string[] {
  const lines: string[] = [];
  let line = '';
  for (const part of parts) {
    if (line && line.length + part.length > 96) {
      lines.push(`  ${line},`);
      line = '';
    }
    line = line ? `${line}, ${part}` : part;
  }
  if (line) lines.push(`  ${line}`);
  return lines;
}

/** The lines printed after the two stage tables: whole job, finseg-only stages, scan floor. */
export function summaryLines(size: string, train: JobResult, score: JobResult, refTrain: JobResult | null, refScore: JobResult | null, floor: FloorResult | null): string[] {
  const lines = [`${size} whole job: | finseg s | reference s | reference / finseg | finseg ÷ reference`];
  for (const [job, ours, ref] of [['train', train, refTrain], ['score', score, refScore]] as const) {
    const t = totals(ours, ref);
    const share = (r: number | null): string => (r === null ? '—' : (1 / r).toFixed(2));
    lines.push(`  ${`${job} total`.padEnd(22)} ${fmt(ours.totalSeconds).padStart(9)} ${fmt(ref?.totalSeconds).padStart(12)}   ${times(t.ratio).padStart(17)}   ${share(t.ratio)}`);
    lines.push(`  ${`${job} process wall`.padEnd(22)} ${fmt(ours.wallSeconds).padStart(9)} ${fmt(ref?.wallSeconds).padStart(12)}   ${times(t.wallRatio).padStart(17)}   ${share(t.wallRatio)}`);
  }
  lines.push('  (total: the job\'s own clock, as in the tables; process wall: spawn to exit, start-up included)');
  for (const job of ['train', 'score'] as const) {
    const only = finsegOnly(job, job === 'train' ? train : score);
    lines.push(`${size} finseg-only ${job} stages: ${only.totalSeconds.toFixed(2)} s in all`);
    lines.push(...wrap(Object.entries(only.stages).map(([s, t]) => `${s} ${t.toFixed(2)}`)));
  }
  if (floor) {
    const x = (r: number | null): string => (r === null ? '—' : `${r.toFixed(1)}x`);
    lines.push(
      `${size} scan floor: DuckDB over usage_events.parquet, ${floor.rows.toLocaleString('en')} rows, ${floor.customers.toLocaleString('en')} customers`,
      `  ${'count(*) by customer'.padEnd(46)} ${fmt(floor.stages.count).padStart(7)} s   (the floor)`,
      `  ${'+ count(DISTINCT module), count(DISTINCT day)'.padEnd(46)} ${fmt(floor.stages.distinct).padStart(7)} s   (for information)`,
      `  features ÷ floor: train ${x(overFloor(train, floor.stages.count))}, score ${x(overFloor(score, floor.stages.count))}` +
        `; features ÷ distinct query: train ${x(overFloor(train, floor.stages.distinct))}, score ${x(overFloor(score, floor.stages.distinct))}`,
    );
  }
  return lines;
}
