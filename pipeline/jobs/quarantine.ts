/**
 * `finseg quarantine list | prune`: the quarantine folders under a root (`<root>/<fingerprint>/`,
 * 01-ingest/quarantine.ts) with what their record (`quarantine.json`, quarantine-meta.ts) says,
 * and the removal of all but the newest. Nothing that does not have a quarantine folder's shape is
 * ever removed.
 */
import { createReadStream, existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isQuarantineFolder, readQuarantineMeta, type QuarantineRunRecord } from '../01-ingest/quarantine-meta.ts';
import { InputError } from '../core/errors.ts';

/** One table's quarantined rows, and nulled cells when the folder has a cells file or the record counts them (else null). */
export interface QuarantineTableEntry {
  table: string;
  rows: number;
  cells: number | null;
}

/** One quarantine folder as `list` shows it. */
export interface QuarantineFolderEntry {
  /** The folder name: the first 16 hex digits of the input fingerprint. */
  fingerprint: string;
  path: string;
  /** Newest of the recorded runs, or the newest file time when the folder has no record. */
  lastWritten: string;
  lastWrittenFrom: 'record' | 'mtime';
  /** The recorded runs, oldest first (empty without a record). */
  runs: QuarantineRunRecord[];
  tables: QuarantineTableEntry[];
  rows: number;
  cells: number | null;
  bytes: number;
}

/** `list`'s result: the folders newest first, and the root's other entries, which prune leaves alone. */
export interface QuarantineListing {
  root: string;
  folders: QuarantineFolderEntry[];
  ignored: string[];
}

/** Records in a CSV file after its header: line ends outside double quotes (DuckDB's COPY quotes a value holding one). */
async function countCsvRecords(path: string): Promise<number> {
  let records = 0;
  let quoted = false;
  let last = -1;
  for await (const chunk of createReadStream(path)) {
    const buf = chunk as Buffer;
    for (let i = 0; i < buf.length; i++) {
      const b = buf[i]!;
      if (b === 0x22) quoted = !quoted;
      else if (b === 0x0a && !quoted) records++;
    }
    if (buf.length) last = buf[buf.length - 1]!;
  }
  if (last !== -1 && last !== 0x0a) records++;
  return Math.max(0, records - 1);
}

/** The tables of a folder: rows from the record when it has them, else counted in `<table>.csv`; cells likewise from `<table>.cells.csv`. */
async function folderTables(dir: string, files: readonly string[], recorded: Record<string, { quarantined: number; cells?: number }>): Promise<QuarantineTableEntry[]> {
  const names = new Set(files.filter((f) => f.endsWith('.csv')).map((f) => f.replace(/(\.cells)?\.csv$/, '')));
  const out: QuarantineTableEntry[] = [];
  for (const table of [...names].sort()) {
    const rec = recorded[table];
    const rowsFile = files.includes(`${table}.csv`);
    const cellsFile = files.includes(`${table}.cells.csv`);
    const rows = rowsFile ? (rec?.quarantined ?? (await countCsvRecords(join(dir, `${table}.csv`)))) : 0;
    const cells = rec?.cells ?? (cellsFile ? await countCsvRecords(join(dir, `${table}.cells.csv`)) : null);
    out.push({ table, rows, cells });
  }
  return out;
}

async function folderEntry(dir: string, name: string): Promise<QuarantineFolderEntry> {
  const files = readdirSync(dir).filter((f) => !f.startsWith('.'));
  const meta = readQuarantineMeta(dir);
  const stats = files.map((f) => statSync(join(dir, f)));
  const bytes = stats.reduce((s, st) => s + st.size, 0);
  const runs = meta ? [...meta.runs].sort((a, b) => Date.parse(a.at) - Date.parse(b.at)) : [];
  const newestRun = runs.at(-1);
  const mtime = new Date(Math.max(...stats.map((st) => st.mtimeMs))).toISOString();
  const tables = await folderTables(dir, files, meta?.tables ?? {});
  const counted = tables.filter((t) => t.cells !== null);
  return {
    fingerprint: name,
    path: dir,
    lastWritten: newestRun ? new Date(Date.parse(newestRun.at)).toISOString() : mtime,
    lastWrittenFrom: newestRun ? 'record' : 'mtime',
    runs,
    tables,
    rows: tables.reduce((s, t) => s + t.rows, 0),
    cells: counted.length ? counted.reduce((s, t) => s + t.cells!, 0) : null,
    bytes,
  };
}

/** The quarantine folders under `root`, newest first (ties by name); an InputError when `root` is not a folder. */
export async function listQuarantine(root: string): Promise<QuarantineListing> {
  const abs = resolve(root);
  if (!existsSync(abs) || !statSync(abs).isDirectory()) {
    throw new InputError(`quarantine folder ${root} does not exist or is not a folder`, ['finseg validate, train, score and features write to data/quarantine under the folder they run in', 'name another with --quarantine DIR']);
  }
  const folders: QuarantineFolderEntry[] = [];
  const ignored: string[] = [];
  for (const name of readdirSync(abs).sort()) {
    const dir = join(abs, name);
    if (isQuarantineFolder(dir)) folders.push(await folderEntry(dir, name));
    else ignored.push(name);
  }
  folders.sort((a, b) => Date.parse(b.lastWritten) - Date.parse(a.lastWritten) || (a.fingerprint < b.fingerprint ? -1 : 1));
  return { root: abs, folders, ignored };
}

/** What prune removed (or, dry, would remove) and kept. */
export interface PruneResult {
  root: string;
  kept: QuarantineFolderEntry[];
  removed: QuarantineFolderEntry[];
  dryRun: boolean;
}

/** Removes all but the newest `keep` quarantine folders under `root` (each checked again just before); with `dryRun` only says which. */
export async function pruneQuarantine(root: string, keep: number, dryRun: boolean): Promise<PruneResult> {
  if (!Number.isInteger(keep) || keep < 0) throw new InputError(`--keep must be a non-negative integer, got ${keep}`);
  const { root: abs, folders } = await listQuarantine(root);
  // Checked again just before: a folder that changed shape since it was listed is left alone.
  const removed = folders.slice(keep).filter((f) => isQuarantineFolder(f.path));
  if (!dryRun) for (const f of removed) rmSync(f.path, { recursive: true });
  return { root: abs, kept: folders.slice(0, keep), removed, dryRun };
}

/** "1.2 MB" */
function size(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(1)} ${units[u]}`;
}

const count = (n: number | null): string => (n === null ? '—' : n.toLocaleString('en-US'));

/** The runs as "validate ×2, train" (commands in first-run order), "—" without a record. */
function runSummary(runs: readonly QuarantineRunRecord[]): string {
  const byCommand = new Map<string, number>();
  for (const r of runs) byCommand.set(r.command ?? '?', (byCommand.get(r.command ?? '?') ?? 0) + 1);
  return runs.length ? [...byCommand].map(([c, n]) => (n > 1 ? `${c} ×${n}` : c)).join(', ') : '— (no record)';
}

/** Three lines per folder: fingerprint, time, runs, totals; the data folder; the tables. */
function formatFolder(f: QuarantineFolderEntry): string[] {
  const dataDirs = [...new Set(f.runs.map((r) => r.dataDir).filter(Boolean))];
  return [
    `${f.fingerprint}  ${f.lastWritten}${f.lastWrittenFrom === 'mtime' ? ' (file time)' : ''}  ${runSummary(f.runs)}  rows ${count(f.rows)}  cells ${count(f.cells)}  ${size(f.bytes)}`,
    ...(dataDirs.length ? [`    data   ${dataDirs.join(', ')}`] : []),
    `    tables ${f.tables.map((t) => `${t.table} ${count(t.rows)} rows${t.cells === null ? '' : `, ${count(t.cells)} cells`}`).join('; ')}`,
  ];
}

/** The printed text of `list`. */
export function formatListing(l: QuarantineListing): string {
  const total = l.folders.reduce((s, f) => s + f.bytes, 0);
  const lines = [`${l.folders.length} quarantine folder${l.folders.length === 1 ? '' : 's'} in ${l.root} (${size(total)}), newest first`];
  for (const f of l.folders) lines.push(...formatFolder(f));
  if (l.ignored.length) lines.push(`not quarantine folders (left alone): ${l.ignored.join(', ')}`);
  return `${lines.join('\n')}\n`;
}

/** The printed text of `prune`. */
export function formatPrune(p: PruneResult): string {
  const verb = p.dryRun ? 'would remove' : 'removed';
  const lines = p.removed.map((f) => `${verb} ${f.path}  ${f.lastWritten}  rows ${count(f.rows)}  ${size(f.bytes)}`);
  const freed = p.removed.reduce((s, f) => s + f.bytes, 0);
  lines.push(`${p.dryRun ? 'dry run: ' : ''}${verb} ${p.removed.length} folder${p.removed.length === 1 ? '' : 's'} (${size(freed)}), kept ${p.kept.length} in ${p.root}`);
  return `${lines.join('\n')}\n`;
}

/** Options of `finseg quarantine`. */
export interface QuarantineJobOptions {
  root: string;
  json: boolean;
  /** For prune: how many of the newest folders stay; null when --keep was not given. */
  keep: number | null;
  dryRun: boolean;
}

/** Runs `finseg quarantine list | prune`; bad usage is an InputError (exit 2). */
export async function quarantineJob(action: string | undefined, opts: QuarantineJobOptions): Promise<string> {
  if (action === 'list') {
    const listing = await listQuarantine(opts.root);
    return opts.json ? `${JSON.stringify(listing, null, 2)}\n` : formatListing(listing);
  }
  if (action === 'prune') {
    if (opts.keep === null) throw new InputError('finseg quarantine prune: --keep N is required', ['N is how many of the newest folders stay; --dry-run shows what would go']);
    const result = await pruneQuarantine(opts.root, opts.keep, opts.dryRun);
    return opts.json ? `${JSON.stringify(result, null, 2)}\n` : formatPrune(result);
  }
  throw new InputError(`finseg quarantine: unknown action ${action === undefined ? '(none)' : JSON.stringify(action)}`, ['finseg quarantine list [--quarantine DIR] [--json]', 'finseg quarantine prune --keep N [--dry-run] [--quarantine DIR]']);
}
