import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { MAX_CATEGORIES } from '../01-ingest/init-profile.ts';
import { closestNames } from '../01-ingest/names.ts';
import { formatOf } from '../01-ingest/sources.ts';
import { openDuck, queryRows, sqlIdent, sqlString } from '../core/duck.ts';
import { InputError } from '../core/errors.ts';
import { quietLogger } from '../core/log.ts';
import { AS_OF_COLUMN, ATTRIBUTE_SPECS, KEY_COLUMN } from './feature-columns.ts';
import { readFeatureFile } from './feature-file.ts';

import type { ProfileTableParams } from './params.ts';

/** Multiplier from `revenueUnit` to the contract's thousands. */
const TO_THOUSANDS = { units: 0.001, thousands: 1, millions: 1000 } as const;


/** Separator between a categorical column and its value in an indicator column's name. */
const INDICATOR = '=';

/** The name of the indicator column for `value` of categorical `column`. */
export function indicatorName(column: string, value: string): string {
  return `${column}${INDICATOR}${value}`;
}

/**
 * Writes the vendor's profile table as a feature table (Parquet) in `workDir` and returns its
 * path, for readFeatureFile. At training `indicators` is null and every value of a categorical
 * column gets its indicator; when scoring it is the model's feature names, and exactly the
 * indicators among them are written (a value unseen at training sets none of them).
 */
export async function writeProfileFeatureTable(
  conn: DuckDBConnection,
  dataDir: string,
  p: ProfileTableParams,
  workDir: string,
  modelFeatures: readonly string[] | null,
): Promise<string> {
  const path = resolve(dataDir, p.file!);
  const format = formatOf(path);
  if (!format || (format.format !== 'csv' && format.format !== 'parquet')) {
    throw new InputError(`profile table ${path}: read as CSV or Parquet, by the extension`, ['name a .csv, .tsv, .csv.gz or .parquet file in "profileTable.file"']);
  }
  const reader = format.format === 'parquet' ? `read_parquet(${sqlString(path)})` : `read_csv(${sqlString(path)}, header = true, all_varchar = true${format.tsv ? `, delim = '\t'` : ''})`;
  try {
    await conn.run(`CREATE OR REPLACE TEMP TABLE __pt_src AS SELECT * FROM ${reader}`);
  } catch (e) {
    throw new InputError(`cannot read profile table ${path}`, [String((e as Error).message).split('\n')[0]!]);
  }
  try {
    const columns = (await queryRows(conn, `DESCRIBE SELECT * FROM __pt_src`)).map((r) => String(r.column_name));
    for (const [setting, names] of [['key', [p.key!]], ['exclude', p.exclude], ['categorical', p.categorical], ['attributes', Object.values(p.attributes)]] as const) {
      for (const c of names) {
        if (!columns.includes(c)) throw new InputError(`${basename(path)}: column "${c}" (profileTable.${setting}) is missing`, [`closest: ${closestNames(c, columns).join(', ') || '(none)'}`]);
      }
    }
    const text = (c: string) => `nullif(trim(CAST(${sqlIdent(c)} AS VARCHAR)), '')`;
    const select = [`${text(p.key!)} AS ${KEY_COLUMN}`];
    const textAttribute = new Set<string>();
    for (const [attribute, c] of Object.entries(p.attributes)) {
      const spec = ATTRIBUTE_SPECS.find((s) => s.name === attribute)!;
      const numeric = spec.type === 'int' || spec.type === 'number';
      const scale = attribute === 'annual_revenue' ? ` * ${TO_THOUSANDS[p.revenueUnit]}` : '';
      select.push(numeric ? `try_cast(${text(c)} AS DOUBLE)${scale} AS ${sqlIdent(attribute)}` : `${text(c)} AS ${sqlIdent(attribute)}`);
      if (!numeric) textAttribute.add(c);
    }
    for (const c of columns) {
      // A column already named as its contract attribute is that attribute (a reserved name, not a feature).
      if (c === p.key || p.exclude.includes(c) || textAttribute.has(c) || p.attributes[c] === c) continue;
      if (!p.categorical.includes(c)) {
        select.push(`${sqlIdent(c)}`);
        continue;
      }
      for (const v of await indicatorValues(conn, c, text(c), basename(path), modelFeatures)) {
        select.push(`CASE WHEN ${text(c)} IS NULL THEN NULL WHEN ${text(c)} = ${sqlString(v)} THEN 1 ELSE 0 END AS ${sqlIdent(indicatorName(c, v))}`);
      }
    }
    select.push(`DATE ${sqlString(p.asOf!)} AS ${AS_OF_COLUMN}`);
    mkdirSync(workDir, { recursive: true });
    const out = join(workDir, 'profile-features.parquet');
    await conn.run(`COPY (SELECT ${select.join(', ')} FROM __pt_src) TO ${sqlString(out)} (FORMAT parquet)`);
    return out;
  } finally {
    await conn.run(`DROP TABLE IF EXISTS __pt_src`);
  }
}

/** The values of a categorical column that get an indicator: the model's, or (training) those seen, ordered by frequency then text. */
async function indicatorValues(conn: DuckDBConnection, column: string, expr: string, file: string, modelFeatures: readonly string[] | null): Promise<string[]> {
  if (modelFeatures) {
    const prefix = `${column}${INDICATOR}`;
    return modelFeatures.filter((f) => f.startsWith(prefix)).map((f) => f.slice(prefix.length));
  }
  const rows = await queryRows(conn, `SELECT ${expr} AS v, count(*) AS n FROM __pt_src WHERE ${expr} IS NOT NULL GROUP BY 1 ORDER BY n DESC, v`);
  if (rows.length > MAX_CATEGORIES) {
    throw new InputError(`${file}: column "${column}" has ${rows.length} distinct values, too many to be a category (at most ${MAX_CATEGORIES})`, [
      'move it to "profileTable.exclude" (a name or free text), or leave it out of "profileTable.categorical" if it holds numbers',
    ]);
  }
  const values = rows.map((r) => String(r.v));
  // Two values: one indicator says everything, and a pair of exact complements would only double its weight in the distance.
  return values.length === 2 ? [values[1]!] : values;
}

/** A profile table written as a feature table in a temporary folder, and how to remove it. */
export interface ProfileFeatureFile {
  path: string;
  /** The vendor's file, recorded in the manifest instead of the temporary one. */
  source: string;
  /** For readFeatureFile: quarantined rows name the vendor's file and line (a CSV's header is line 1). */
  readAs: { path: string; lineOffset: number };
  remove: () => void;
}

/** writeProfileFeatureTable into a fresh temporary folder (train and score read it with readFeatureFile, then remove it). */
export async function profileFeatureFile(conn: DuckDBConnection, dataDir: string, p: ProfileTableParams, modelFeatures: readonly string[] | null): Promise<ProfileFeatureFile> {
  const work = mkdtempSync(join(tmpdir(), 'finseg-profile-'));
  try {
    const path = await writeProfileFeatureTable(conn, dataDir, p, work, modelFeatures);
    const source = resolve(dataDir, p.file!);
    return { path, source, readAs: { path: source, lineOffset: formatOf(source)?.format === 'csv' ? 1 : 0 }, remove: () => rmSync(work, { recursive: true, force: true }) };
  } catch (e) {
    rmSync(work, { recursive: true, force: true });
    throw e;
  }
}

/**
 * `finseg validate` on a profile-table config: reads the table as train would (the feature-table
 * checks), reconciles `read = accepted + quarantined`, writes the quarantined rows once per input
 * under `quarantineRoot`, and exits 2 over `quarantineLimit`.
 */
export async function validateProfileTable(
  dataDir: string,
  p: ProfileTableParams,
  ingest: { missingValues: readonly string[]; quarantineLimit: number },
  quarantineRoot: string,
): Promise<{ text: string; exitCode: number }> {
  const conn = await openDuck();
  const profile = await profileFeatureFile(conn, dataDir, p, null).catch((e: unknown) => {
    conn.closeSync();
    throw e;
  });
  try {
    const { features, report } = await readFeatureFile(conn, profile.path, { asOf: null, requiredFeatures: null, partition: null, missingValues: ingest.missingValues, quarantineLimit: Number.POSITIVE_INFINITY, quarantineDir: quarantineRoot, logger: quietLogger, source: profile.readAs });
    const share = report.read ? report.quarantined / report.read : 0;
    const reasons = report.details.map((d) => `${d.reason}${d.column ? ` in ${d.column}` : ''}: ${d.count}`).join('; ');
    const indicators = features.featureNames.filter((f) => p.categorical.some((c) => f.startsWith(`${c}=`))).length;
    const lines = [
      `profile table ${profile.source}`,
      `  rows: read ${report.read}, accepted ${report.accepted}, quarantined ${report.quarantined}${reasons ? ` (${reasons})` : ''}${report.quarantineFile ? ` → ${report.quarantineFile}` : ''}`,
      `  features: ${features.featureNames.length - indicators} numeric, ${indicators} indicators from ${p.categorical.length} categorical columns; left out: ${p.exclude.join(', ') || 'none'}`,
      `  attributes: ${Object.entries(p.attributes).map(([a, c]) => `${a} ← ${c}`).join(', ') || 'none (the lenses read them as unknown)'}`,
    ];
    const over = share > ingest.quarantineLimit;
    lines.push('', over ? `result: ${(share * 100).toFixed(1)}% quarantined, over the limit of ${(ingest.quarantineLimit * 100).toFixed(1)}% (exit code 2)` : 'result: within the quarantine limit', '');
    return { text: lines.join('\n'), exitCode: over ? 2 : 0 };
  } finally {
    conn.closeSync();
    profile.remove();
  }
}
