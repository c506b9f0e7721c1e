/**
 * `finseg merge-scores --parts DIR --out FILE`: joins the files of a partitioned scoring run
 * (`score --partition i/n`, one file per partition, each with its drift summary beside it) into
 * the file one unpartitioned run writes. Before writing anything it checks that the parts are one
 * run: every partition 0 … n−1 present exactly once, the same n, model and columns in each, and
 * every customer in the partition its id hashes to (so a part scored twice, or a file from
 * another run, is refused rather than merged). A refusal is an InputError (exit 2) naming the
 * partition and the file.
 *
 * A CSV is merged as text: score writes in the id order of DuckDB's ORDER BY, which compares
 * UTF-8 bytes, so the parts' records sorted by the same byte order give the unpartitioned file
 * byte for byte. Parquet is merged by DuckDB with the same ORDER BY.
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync, mkdirSync, openSync, writeSync, closeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { InputError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { openDuck, queryRows, sqlString } from '../core/duck.ts';
import { partitionOf, partitionSql, parsePartition, type Partition } from '../core/partition.ts';
import { driftSummaryPath, SCORING_DRIFT_KIND } from '../09-drift/scoring.ts';

/** One part file of a partitioned run, as its drift summary describes it. */
export interface ScorePart {
  file: string;
  partition: Partition;
  model: string;
  drifted: boolean;
}

/** What merge-scores wrote. */
export interface MergeOutcome {
  outFile: string;
  parts: number;
  rows: number;
  /** Parts whose batch drifted over a drift.scoring limit (their drift summaries say which limit). */
  driftedParts: number[];
}

const SCORE_EXTENSIONS = ['.csv', '.parquet'] as const;

/** The part files in `dir` (CSV or Parquet, each with its `.drift.json`), sorted by partition; refuses a gap, an overlap or a mixed run. */
export function findParts(dir: string): ScorePart[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new InputError(`--parts ${dir}: not a folder`, ['give the folder the partitions of one `finseg score --partition` run were written to']);
  const files = readdirSync(dir)
    .filter((f) => SCORE_EXTENSIONS.some((e) => f.toLowerCase().endsWith(e)))
    .sort();
  if (files.length === 0) throw new InputError(`--parts ${dir}: no .csv or .parquet score files`);
  const exts = new Set(files.map((f) => f.slice(f.lastIndexOf('.')).toLowerCase()));
  if (exts.size > 1) throw new InputError(`--parts ${dir}: holds both CSV and Parquet score files; one run writes one format`);
  const parts = files.map((f) => readPart(join(dir, f)));
  checkComplete(parts);
  return parts.sort((a, b) => a.partition.index - b.partition.index);
}

function readPart(file: string): ScorePart {
  const summaryFile = driftSummaryPath(file);
  if (!existsSync(summaryFile)) throw new InputError(`${file}: no drift summary ${basename(summaryFile)} beside it`, ['score writes one beside every file; it names the partition the file holds']);
  let summary: { kind?: unknown; partition?: unknown; model?: unknown; drifted?: unknown };
  try {
    summary = JSON.parse(readFileSync(summaryFile, 'utf8'));
  } catch (e) {
    throw new InputError(`${summaryFile}: not JSON (${(e as Error).message})`);
  }
  if (summary.kind !== SCORING_DRIFT_KIND) throw new InputError(`${summaryFile}: kind: expected "${SCORING_DRIFT_KIND}", got ${JSON.stringify(summary.kind)}`);
  if (typeof summary.partition !== 'string') throw new InputError(`${file}: was not scored with --partition (its drift summary has no partition): a whole run needs no merge`);
  return { file, partition: parsePartition(summary.partition), model: String(summary.model), drifted: summary.drifted === true };
}

/** Every partition 0 … n−1 exactly once, one n, one model. */
function checkComplete(parts: readonly ScorePart[]): void {
  const first = parts[0]!;
  for (const p of parts) {
    if (p.partition.count !== first.partition.count)
      throw new InputError(`${basename(p.file)}: partition ${p.partition.index}/${p.partition.count}, but ${basename(first.file)} is ${first.partition.index}/${first.partition.count}: the parts come from runs with different partition counts`);
    if (p.model !== first.model) throw new InputError(`${basename(p.file)}: scored with model ${p.model}, but ${basename(first.file)} with ${first.model}: the parts come from different runs`);
  }
  const n = first.partition.count;
  const byIndex = new Map<number, ScorePart>();
  for (const p of parts) {
    const seen = byIndex.get(p.partition.index);
    if (seen) throw new InputError(`partition ${p.partition.index} of ${n} appears twice: ${basename(seen.file)} and ${basename(p.file)}`, ['remove the one that is not from this run, then merge again']);
    byIndex.set(p.partition.index, p);
  }
  const missing = Array.from({ length: n }, (_, i) => i).filter((i) => !byIndex.has(i));
  if (missing.length > 0)
    throw new InputError(`partition${missing.length > 1 ? 's' : ''} ${missing.join(', ')} of ${n} missing: no part file was scored with --partition ${missing[0]}/${n}`, ['score the missing partitions, then merge again']);
}

/** Merges the parts in `partsDir` into `outFile` (the format of the parts; the extension must match). */
export async function mergeScoresJob(partsDir: string, outFile: string, logger: Logger): Promise<MergeOutcome> {
  const parts = findParts(partsDir);
  const ext = parts[0]!.file.slice(parts[0]!.file.lastIndexOf('.')).toLowerCase();
  if (!outFile.toLowerCase().endsWith(ext)) throw new InputError(`--out ${outFile}: the parts are ${ext} files; name the merged file ${ext} too`);
  mkdirSync(dirname(outFile) || '.', { recursive: true });
  const rows = ext === '.csv' ? mergeCsv(parts, outFile) : await mergeParquet(parts, outFile);
  const outcome = { outFile, parts: parts.length, rows, driftedParts: parts.filter((p) => p.drifted).map((p) => p.partition.index) };
  writeFileSync(`${outFile}.merge.json`, `${JSON.stringify({ kind: 'finseg.merge-scores', version: 1, model: parts[0]!.model, rows, parts: parts.map((p) => ({ file: basename(p.file), partition: `${p.partition.index}/${p.partition.count}`, drifted: p.drifted, driftSummary: basename(driftSummaryPath(p.file)) })) }, null, 2)}\n`);
  logger.info(`merged ${parts.length} partitions (${rows} customers) into ${outFile}${outcome.driftedParts.length ? `; partitions ${outcome.driftedParts.join(', ')} drifted (see their drift summaries)` : ''}`);
  return outcome;
}

/** A CSV file's header and data records (a record may hold a quoted line break); the key is the first field, unquoted. */
function csvRecords(file: string): { header: string; records: { key: Buffer; text: string }[] } {
  const text = readFileSync(file, 'utf8');
  const records: { key: Buffer; text: string }[] = [];
  let header: string | null = null;
  let start = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) quoted = !quoted;
    else if (c === 10 && !quoted) {
      const record = text.slice(start, i);
      if (header === null) header = record;
      else records.push({ key: Buffer.from(firstField(record), 'utf8'), text: record });
      start = i + 1;
    }
  }
  if (start < text.length) throw new InputError(`${file}: the last line has no line end: the file was cut off while it was written`);
  if (header === null) throw new InputError(`${file}: empty, not even a header: the part was not written to the end`);
  return { header, records };
}

function firstField(record: string): string {
  if (!record.startsWith('"')) {
    const comma = record.indexOf(',');
    return comma < 0 ? record : record.slice(0, comma);
  }
  let out = '';
  for (let i = 1; i < record.length; i++) {
    if (record[i] === '"') {
      if (record[i + 1] === '"') {
        out += '"';
        i++;
      } else return out;
    } else out += record[i];
  }
  return out;
}

/** Checks each record's partition and writes the union in customer_id byte order; returns the rows written. */
function mergeCsv(parts: readonly ScorePart[], outFile: string): number {
  const read = parts.map((p) => ({ part: p, ...csvRecords(p.file) }));
  const header = read[0]!.header;
  for (const r of read) {
    if (r.header !== header) throw new InputError(`${basename(r.part.file)}: its columns differ from ${basename(read[0]!.part.file)}'s: the parts come from different runs or models`);
    checkMembership(r.part, r.records.map((x) => x.key.toString('utf8')));
  }
  // The parts hold disjoint ids, so their union in the byte order of the ids is the unpartitioned file.
  const records = read.flatMap((r) => r.records).sort((x, y) => Buffer.compare(x.key, y.key));
  const fd = openSync(outFile, 'w');
  try {
    writeSync(fd, `${header}\n`);
    for (let start = 0; start < records.length; start += 4096) writeSync(fd, `${records.slice(start, start + 4096).map((r) => r.text).join('\n')}\n`);
  } finally {
    closeSync(fd);
  }
  const rows = records.length;
  return rows;
}

/** Every id in a part hashes into its partition: otherwise the part overlaps another (or is not what its summary says). */
function checkMembership(part: ScorePart, ids: readonly string[]): void {
  const { index, count } = part.partition;
  for (const id of ids) {
    const home = partitionOf(id, count);
    if (home !== index)
      throw new InputError(`${basename(part.file)} (partition ${index}/${count}) holds customer ${JSON.stringify(id)}, which belongs to partition ${home}: the parts overlap or the file is not the partition its summary names`);
  }
}

/** Parquet parts: DuckDB checks membership with the same hash and writes the union ordered by customer_id. */
async function mergeParquet(parts: readonly ScorePart[], outFile: string): Promise<number> {
  const conn = await openDuck();
  try {
    const n = parts[0]!.partition.count;
    for (const p of parts) {
      const bad = await queryRows(conn, `SELECT customer_id, ${partitionSql('customer_id', n)} AS home FROM read_parquet(${sqlString(p.file)}) WHERE ${partitionSql('customer_id', n)} <> ${p.partition.index} LIMIT 1`);
      if (bad.length > 0)
        throw new InputError(`${basename(p.file)} (partition ${p.partition.index}/${n}) holds customer ${JSON.stringify(bad[0]!.customer_id)}, which belongs to partition ${bad[0]!.home}: the parts overlap or the file is not the partition its summary names`);
    }
    const list = `[${parts.map((p) => sqlString(p.file)).join(', ')}]`;
    const drifted = parts.some((p) => p.drifted);
    await conn.run(`COPY (SELECT * FROM read_parquet(${list}) ORDER BY customer_id) TO ${sqlString(outFile)} (FORMAT parquet, KV_METADATA {'finseg.drifted': '${drifted}'})`);
    const count = await queryRows(conn, `SELECT count(*)::BIGINT AS n FROM read_parquet(${sqlString(outFile)})`);
    return Number(count[0]!.n);
  } finally {
    conn.closeSync();
  }
}
