import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { LENS_NAMES, type CustomerLenses } from '../06-categorize/lenses.ts';
import { sqlString } from '../core/duck.ts';
import type { ReportSegment } from './model.ts';
import { VALUE_CSV_COLUMNS, valueCsvFields } from './value-view.ts';

/**
 * The flat exports beside a report: `segments.csv` (one row per segment, rewritten by every
 * report run) and `assignments.csv` / `assignments.parquet` (one row per training customer,
 * written once by train, because only train has the customers; `finseg report` keeps them).
 * Columns are documented in docs/report.md.
 */

/** A field of RFC 4180 CSV: quoted when it holds a comma, quote or line break; non-finite numbers empty; booleans as true / false. */
export function csvField(v: string | number | boolean | null | undefined): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  return /[",\n\r]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v;
}

const csvLine = (fields: readonly (string | number | null | undefined)[]): string => fields.map(csvField).join(',');

/** A lens name as a column prefix, snake case like every other column (`buyerRole` → `buyer_role`). */
export const lensColumn = (lens: string): string => lens.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** A distinguishing feature's value in segments.csv: the standardised difference, or `perfect+` / `perfect-` (segment above / below the rest) for a perfect separation, whose d has no finite value. */
export function distinguishingValue(d: { standardisedDifference: number; perfect?: boolean }): string {
  if (d.perfect) return d.standardisedDifference >= 0 ? 'perfect+' : 'perfect-';
  return d.standardisedDifference.toFixed(3);
}

/** `segments.csv`: one row per segment with names, size, dominant lenses, top features and playbook. */
export function segmentsCsv(segments: readonly ReportSegment[]): string {
  const withValue = segments.some((s) => s.value);
  const lensCols = LENS_NAMES.flatMap((l) => [`${lensColumn(l)}_dominant`, `${lensColumn(l)}_dominant_share`, `${lensColumn(l)}_lift`]);
  const header = [
    'segment_id',
    'name_en',
    'name_zh',
    'size',
    'share',
    'stability',
    ...lensCols,
    'distinguishing_features',
    'edition_id',
    'deployment',
    'lead_modules',
    'channels',
    'message_en',
    'message_zh',
    'example_customer_ids',
    // Only when the bundle has value per segment (a subscriptions table): the file is otherwise unchanged.
    ...(withValue ? VALUE_CSV_COLUMNS : []),
  ];
  const lines = [csvLine(header)];
  for (const s of segments) {
    const lensFields = LENS_NAMES.flatMap((lens) => {
      const l = s.lenses.find((x) => x.lens === lens);
      return [l?.dominant ?? null, l?.dominantShare ?? null, l?.lift ?? null];
    });
    lines.push(
      csvLine([
        s.id,
        s.name.en,
        s.name.zh,
        s.size,
        s.share,
        s.stability,
        ...lensFields,
        // feature:difference pairs, strongest first; ';' inside a field keeps the CSV one row per segment.
        s.distinguishing.map((d) => `${d.feature}:${distinguishingValue(d)}`).join(';'),
        s.playbook.editionId,
        s.playbook.deployment,
        s.playbook.leadModules.join(';'),
        s.playbook.channels.join(';'),
        s.playbook.message,
        s.playbook.zh.message,
        s.exampleCustomerIds.join(';'),
        ...(withValue ? valueCsvFields(s.value) : []),
      ]),
    );
  }
  return `${lines.join('\n')}\n`;
}

/** The k-means assignment of every training customer, columnar, each array of length n. */
export interface TrainingAssignments {
  customerIds: readonly string[];
  /** The segment id to export per customer (the public id, which after a retrain may differ from the cluster index), shape (n). */
  segment: Int32Array;
  /** Euclidean distance to the segment's centroid in PCA space. */
  distance: Float64Array;
  lenses: CustomerLenses;
}

/** The columns of assignments.csv/.parquet, in order (the same names as `finseg score` output). */
export const ASSIGNMENT_COLUMNS = ['customer_id', 'segment_id', 'segment_name', 'segment_name_zh', 'distance', ...LENS_NAMES.map(lensColumn)] as const;

/**
 * Writes `assignments.csv` and `assignments.parquet` (through DuckDB) into `dir`; returns their
 * paths. `names` is indexed by the segment id written (the public id after a retrain).
 */
export async function writeAssignments(
  conn: DuckDBConnection,
  dir: string,
  a: TrainingAssignments,
  names: readonly ({ en: string; zh: string } | undefined)[],
): Promise<{ csv: string; parquet: string }> {
  mkdirSync(dir, { recursive: true });
  const lines = [ASSIGNMENT_COLUMNS.join(',')];
  // Segment names and lens labels are a handful of values: each is escaped once, not once a row
  // (a million rows took 2.8 s field by field).
  const segmentFields = new Map<number, string>();
  const labelFields = LENS_NAMES.map(() => new Map<string | null, string>());
  const cached = <K>(cache: Map<K, string>, key: K, make: () => string): string => {
    let v = cache.get(key);
    if (v === undefined) cache.set(key, (v = make()));
    return v;
  };
  for (let i = 0; i < a.customerIds.length; i++) {
    const s = a.segment[i]!;
    // A negative segment is none (the segment rule left the customer unplaced): empty fields.
    const segment = cached(segmentFields, s, () => csvLine([s < 0 ? null : s, names[s]?.en ?? null, names[s]?.zh ?? null]));
    const labels = LENS_NAMES.map((l, j) => cached(labelFields[j]!, a.lenses[l][i] ?? null, () => csvField(a.lenses[l][i])));
    lines.push(`${csvField(a.customerIds[i]!)},${segment},${csvField(a.distance[i]!)},${labels.join(',')}`);
  }
  const csv = join(dir, 'assignments.csv');
  const parquet = join(dir, 'assignments.parquet');
  writeFileSync(csv, `${lines.join('\n')}\n`);
  // Explicit types: DuckDB's sniffer would read an all-digit customer id column as a number.
  const types = [`'customer_id': 'VARCHAR'`, `'segment_id': 'INTEGER'`, `'segment_name': 'VARCHAR'`, `'segment_name_zh': 'VARCHAR'`, `'distance': 'DOUBLE'`, ...LENS_NAMES.map((l) => `'${lensColumn(l)}': 'VARCHAR'`)];
  const tmp = `${parquet}.tmp`;
  try {
    await conn.run(`COPY (SELECT * FROM read_csv(${sqlString(csv)}, header = true, quote = '"', escape = '"', types = {${types.join(', ')}})) TO ${sqlString(tmp)} (FORMAT parquet)`);
    // Written under a temporary name first so a crash never leaves a truncated Parquet file under the real one.
    renameSync(tmp, parquet);
  } finally {
    rmSync(tmp, { force: true });
  }
  return { csv, parquet };
}
