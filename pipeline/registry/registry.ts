/**
 * The model registry: a folder of immutable version folders (bundle.ts writes them atomically)
 * plus two pointer files, `latest` (the newest version written) and `production` (the promoted
 * one, what `score --model models/` uses), and `history.jsonl`, one line per promotion or
 * rollback. Pointers are replaced atomically; the pointer is the truth and the history its log.
 * Everything that changes the registry runs under its writer lock (`.lock`, lock.ts).
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../core/errors.ts';
import { loadBundle, TEMP_PREFIX, writeFileAtomic, type Manifest } from './bundle.ts';
import { describeOwner, processAlive, tryLock, type HeldLock } from './lock.ts';

/** Registry files besides the version folders. */
export const PRODUCTION_POINTER = 'production';
export const LATEST_POINTER = 'latest';
export const HISTORY_FILE = 'history.jsonl';
/** Held by whoever writes: retrain, promote, rollback, prune. */
export const WRITER_LOCK = '.lock';
/** Held by a running `finseg schedule` for its whole life. */
export const SCHEDULE_LOCK = '.schedule.lock';
const TRASH_PREFIX = '.trash-';

/** One line of history.jsonl. */
export interface HistoryEntry {
  at: string;
  action: 'promote' | 'rollback';
  version: string;
  /** Production before this change (null when there was none). */
  previous: string | null;
  /** The command that did it: retrain, models promote, models rollback. */
  by: string;
  reason: string;
  /** The fencing token of the registry lock the change was made under (lock.ts); absent in older entries. */
  lockToken?: number;
}

/** A version as `models list` shows it. */
export interface VersionSummary {
  version: string;
  createdAt: string;
  parentVersion: string | null;
  customers: number | null;
  k: number | null;
  silhouette: number | null;
  heldOutAccuracy: number | null;
  /** The gates' decision recorded by a retrain; null for a plain train. */
  decision: 'promote' | 'hold' | null;
  production: boolean;
  latest: boolean;
}

/** Another writer holds the registry: the message names it. */
export class RegistryBusyError extends Error {
  constructor(
    readonly lockPath: string,
    message: string,
  ) {
    super(message);
    this.name = 'RegistryBusyError';
  }
}

function readPointer(registry: string, name: string): string | null {
  const path = join(registry, name);
  if (!existsSync(path)) return null;
  const v = readFileSync(path, 'utf8').trim();
  return v === '' ? null : v;
}

/** The promoted version, or null. */
export function productionVersion(registry: string): string | null {
  return readPointer(registry, PRODUCTION_POINTER);
}

/** The newest version written, or null. */
export function latestVersion(registry: string): string | null {
  return readPointer(registry, LATEST_POINTER);
}

/** Names of the complete version folders (a manifest inside, not a temporary or trash folder), oldest first by creation time. */
export function versionNames(registry: string): string[] {
  if (!existsSync(registry)) return [];
  const found: { name: string; createdAt: string }[] = [];
  for (const e of readdirSync(registry, { withFileTypes: true })) {
    if (!e.isDirectory() || e.name.startsWith('.')) continue;
    const manifestPath = join(registry, e.name, 'manifest.json');
    if (!existsSync(manifestPath)) continue;
    let createdAt = '';
    try {
      createdAt = String((JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest).createdAt ?? '');
    } catch {
      /* listed; loading will say what is wrong */
    }
    found.push({ name: e.name, createdAt });
  }
  return found.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.name.localeCompare(b.name)).map((f) => f.name);
}

const num = (x: unknown): number | null => (typeof x === 'number' && Number.isFinite(x) ? x : null);

/** Summaries of every version, oldest first (read from the manifests; `models show` verifies checksums). */
export function listVersions(registry: string): VersionSummary[] {
  const production = productionVersion(registry);
  const latest = latestVersion(registry);
  return versionNames(registry).map((version) => {
    const m = JSON.parse(readFileSync(join(registry, version, 'manifest.json'), 'utf8')) as Manifest & {
      metrics?: { customers?: number; k?: number; silhouette?: number | null; classifier?: { heldOutAccuracy?: number } };
      retrain?: { decision?: 'promote' | 'hold' };
    };
    return {
      version,
      createdAt: m.createdAt,
      parentVersion: m.parentVersion ?? null,
      customers: num(m.metrics?.customers),
      k: num(m.metrics?.k),
      silhouette: num(m.metrics?.silhouette),
      heldOutAccuracy: num(m.metrics?.classifier?.heldOutAccuracy),
      decision: m.retrain?.decision ?? null,
      production: version === production,
      latest: version === latest,
    };
  });
}

/** Every history line that parses (a torn last line from a crash mid-append is skipped). */
export function readHistory(registry: string): HistoryEntry[] {
  const path = join(registry, HISTORY_FILE);
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .flatMap((line) => {
      if (!line.trim()) return [];
      try {
        return [JSON.parse(line) as HistoryEntry];
      } catch {
        return [];
      }
    });
}

/** The version production would roll back to: the production before the promotion that made the current one. */
export function rollbackTarget(registry: string): string | null {
  const current = productionVersion(registry);
  if (current === null) return null;
  const promotions = readHistory(registry).filter((h) => h.action === 'promote' && h.version === current);
  return promotions.length ? promotions[promotions.length - 1]!.previous : null;
}

/**
 * Makes `version` production: verifies it loads (format and every checksum), logs the change,
 * then replaces the pointer atomically. The caller holds the writer lock.
 */
export function setProduction(registry: string, version: string, action: HistoryEntry['action'], by: string, reason: string, now: Date, fence?: Fence): HistoryEntry {
  const dir = join(registry, version);
  if (version.startsWith('.') || version.includes('/') || !existsSync(join(dir, 'manifest.json'))) {
    throw new InputError(`no model version ${version} in ${registry}`, [`versions: ${versionNames(registry).join(', ') || 'none'}`]);
  }
  loadBundle(dir);
  const entry: HistoryEntry = { at: now.toISOString(), action, version, previous: productionVersion(registry), by, reason, ...(fence ? { lockToken: fence.token } : {}) };
  // The last moment to find the lock taken over (this run paused past its lease): nothing is written then.
  fence?.check();
  // Log first: a crash between the two leaves a log line for a change that did not happen, which
  // rollback ignores (it looks up the current pointer), never a moved pointer without its line.
  appendFileSync(join(registry, HISTORY_FILE), `${JSON.stringify(entry)}\n`);
  writeFileAtomic(join(registry, PRODUCTION_POINTER), `${version}\n`);
  return entry;
}

/** What a change to the registry checks just before it writes: the held lock's fencing token and its takeover check. */
export type Fence = Pick<HeldLock, 'token' | 'check'>;

/** Moves production back to the version before the current one; an error when there is none. */
export function rollbackProduction(registry: string, by: string, now: Date, fence?: Fence): HistoryEntry {
  const current = productionVersion(registry);
  if (current === null) throw new InputError(`${registry} has no production version to roll back`);
  const target = rollbackTarget(registry);
  if (target === null) throw new InputError(`production ${current} has no earlier production version to roll back to`, ['promote a version by name instead: finseg models promote VERSION']);
  if (!existsSync(join(registry, target, 'manifest.json'))) throw new InputError(`the version before ${current}, ${target}, is no longer in ${registry}`);
  return setProduction(registry, target, 'rollback', by, `rolled back from ${current}`, now, fence);
}

/**
 * Deletes all but the newest `keep` versions, never production, its rollback target or the
 * latest. A version is renamed aside before it is deleted, so a crash mid-delete never leaves a
 * partial version under its name. Returns the versions removed.
 */
export function applyRetention(registry: string, keep: number, fence?: Fence): string[] {
  fence?.check();
  const names = versionNames(registry);
  const protectedNames = new Set([productionVersion(registry), rollbackTarget(registry), latestVersion(registry)].filter((v): v is string => v !== null));
  const newest = new Set(names.slice(Math.max(0, names.length - keep)));
  const removed: string[] = [];
  for (const name of names) {
    if (newest.has(name) || protectedNames.has(name)) continue;
    const aside = join(registry, `${TRASH_PREFIX}${name}-${process.pid}`);
    renameSync(join(registry, name), aside);
    rmSync(aside, { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

/**
 * Removes temporary and trash folders and pointer files whose writer is gone (their name ends in
 * the writer's pid: a dead process, or this one, which holds the writer lock and so is not writing
 * them now); another live process's are left alone. Returns the names removed.
 */
export function cleanStaleTemp(registry: string): string[] {
  if (!existsSync(registry)) return [];
  const removed: string[] = [];
  for (const e of readdirSync(registry)) {
    if (!e.startsWith(TEMP_PREFIX) && !e.startsWith(TRASH_PREFIX) && !/\.tmp-\d+$|\.stale-\d+$/.test(e)) continue;
    const pid = Number(/-(\d+)$/.exec(e)?.[1]);
    if (Number.isInteger(pid) && pid !== process.pid && processAlive(pid)) continue;
    rmSync(join(registry, e), { recursive: true, force: true });
    removed.push(e);
  }
  return removed;
}

/** Takes the registry's writer lock or throws RegistryBusyError naming the holder. */
export function lockRegistry(registry: string, command: string, now: () => Date = () => new Date()): HeldLock {
  mkdirSync(registry, { recursive: true });
  const path = join(registry, WRITER_LOCK);
  const attempt = tryLock(path, command, now);
  if (!attempt.acquired) throw new RegistryBusyError(path, `another finseg is writing to ${registry}: ${describeOwner(attempt.owner)}`);
  return attempt.lock;
}

/** Runs `fn` under the registry's writer lock, released however `fn` ends (a SIGKILL leaves it stale, and the next writer takes it over). */
export async function withRegistryLock<T>(registry: string, command: string, fn: (lock: HeldLock) => Promise<T> | T): Promise<T> {
  const lock = lockRegistry(registry, command);
  try {
    return await fn(lock);
  } finally {
    lock.release();
  }
}

