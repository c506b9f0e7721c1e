import { existsSync, lstatSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

/**
 * `quarantine.json`, the record beside a quarantine folder's files: the runs that wrote or reused
 * the folder and each table's counts, so `finseg quarantine list` can say what a folder is and
 * `prune` which folders are newest without trusting file times. Also the folder's shape, which
 * prune checks before it deletes anything.
 */

/** The record's file name inside `<root>/<fingerprint>/`. */
export const QUARANTINE_META = 'quarantine.json';
/** The record's `kind`; a file of another kind is not read as one. */
export const QUARANTINE_META_KIND = 'finseg-quarantine';
/** Raised when the record's fields change meaning. */
export const QUARANTINE_META_FORMAT = 1;
/** Runs kept in the record: a daily job reusing one folder for years must not grow it without end. */
const MAX_RUNS = 20;

/** One run that wrote or reused the folder. */
export interface QuarantineRunRecord {
  /** ISO time of the run. */
  at: string;
  /** The finseg command (validate, train, score, features), null when the caller did not say. */
  command: string | null;
  /** The data folder read (absolute). */
  dataDir: string;
}

/** A table's counts in the run that wrote the folder: `read = accepted + quarantined`; `cells`, when ingest counts nulled cells. */
export interface QuarantineTableRecord {
  read: number;
  accepted: number;
  quarantined: number;
  cells?: number;
}

/** The content of `quarantine.json`. */
export interface QuarantineMeta {
  kind: typeof QUARANTINE_META_KIND;
  format: number;
  /** The input's full fingerprint (the folder is named by its first 16 hex digits). */
  fingerprint: string;
  /** Newest last, at most MAX_RUNS. */
  runs: QuarantineRunRecord[];
  tables: Record<string, QuarantineTableRecord>;
}

/** The folder name of an input: 16 lower-case hex digits (quarantine.ts, quarantineFolder). */
export const QUARANTINE_FOLDER_NAME = /^[0-9a-f]{16}$/;
/** Files finseg writes into a quarantine folder: `<table>.csv`, `<table>.cells.csv`, the record, and a write's temporary sibling. */
const QUARANTINE_FILE_NAMES = [/^[A-Za-z0-9_]+(\.cells)?\.csv$/, /^quarantine\.json$/, /^\.[A-Za-z0-9_.]+\.\d+\.tmp$/];

function finite(x: unknown): number | undefined {
  return typeof x === 'number' && Number.isFinite(x) ? x : undefined;
}

/** Reads `<dir>/quarantine.json`; null when absent, unreadable or not a quarantine record (unknown fields are ignored, missing counts left out). */
export function readQuarantineMeta(dir: string): QuarantineMeta | null {
  const path = join(dir, QUARANTINE_META);
  if (!existsSync(path)) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return null;
  }
  const r = raw as Partial<Record<keyof QuarantineMeta, unknown>> | null;
  if (!r || r.kind !== QUARANTINE_META_KIND || typeof r.format !== 'number' || r.format > QUARANTINE_META_FORMAT) return null;
  const runs = (Array.isArray(r.runs) ? r.runs : [])
    .filter((x): x is Record<string, unknown> => x !== null && typeof x === 'object' && typeof (x as { at?: unknown }).at === 'string' && !Number.isNaN(Date.parse((x as { at: string }).at)))
    .map((x) => ({ at: x.at as string, command: typeof x.command === 'string' ? x.command : null, dataDir: typeof x.dataDir === 'string' ? x.dataDir : '' }));
  const tables: Record<string, QuarantineTableRecord> = {};
  for (const [table, t] of Object.entries(r.tables && typeof r.tables === 'object' ? (r.tables as Record<string, Record<string, unknown>>) : {})) {
    if (!t || typeof t !== 'object') continue;
    const cells = finite(t.cells);
    tables[table] = { read: finite(t.read) ?? 0, accepted: finite(t.accepted) ?? 0, quarantined: finite(t.quarantined) ?? 0, ...(cells === undefined ? {} : { cells }) };
  }
  return { kind: QUARANTINE_META_KIND, format: r.format, fingerprint: typeof r.fingerprint === 'string' ? r.fingerprint : basename(dir), runs, tables };
}

/**
 * Adds `run` to `<dir>/quarantine.json`, creating it with `fingerprint` and `tables` when absent
 * (a folder written before the record existed gets one on its next run). Written to a temporary
 * sibling and renamed, like the quarantine files.
 */
export function recordQuarantineRun(dir: string, fingerprint: string, run: QuarantineRunRecord, tables: Record<string, QuarantineTableRecord>): void {
  const before = readQuarantineMeta(dir);
  const meta: QuarantineMeta = {
    kind: QUARANTINE_META_KIND,
    format: QUARANTINE_META_FORMAT,
    fingerprint: before?.fingerprint ?? fingerprint,
    runs: [...(before?.runs ?? []), run].slice(-MAX_RUNS),
    // The first run's counts describe the files: a later run on the same input reuses them unchanged.
    tables: before && Object.keys(before.tables).length ? before.tables : tables,
  };
  const tmp = join(dir, `.${QUARANTINE_META}.${process.pid}.tmp`);
  try {
    writeFileSync(tmp, `${JSON.stringify(meta, null, 2)}\n`);
    renameSync(tmp, join(dir, QUARANTINE_META));
  } finally {
    rmSync(tmp, { force: true });
  }
}

/**
 * True when `dir` has the shape of a quarantine folder: a real folder (not a link) named by 16
 * hex digits, holding only files finseg writes there and at least one quarantine file, and a
 * `quarantine.json`, when present, of the right kind. Prune deletes nothing else.
 */
export function isQuarantineFolder(dir: string): boolean {
  if (!QUARANTINE_FOLDER_NAME.test(basename(dir))) return false;
  const stat = lstatSync(dir, { throwIfNoEntry: false });
  if (!stat?.isDirectory()) return false;
  const entries = readdirSync(dir, { withFileTypes: true });
  if (!entries.every((e) => e.isFile() && QUARANTINE_FILE_NAMES.some((re) => re.test(e.name)))) return false;
  if (!entries.some((e) => e.name.endsWith('.csv'))) return false;
  return !entries.some((e) => e.name === QUARANTINE_META) || readQuarantineMeta(dir) !== null;
}
