/**
 * Single-writer locks on a registry: a lease. A lock is a file created with O_EXCL (`wx`),
 * holding who owns it, whose modification time the owner refreshes every HEARTBEAT_MS. A lock
 * whose owner died (a SIGKILL, an OOM kill, a reboot) is stale and taken over: when the owner ran
 * in this very process space (same host name, boot and pid namespace), as soon as its pid no
 * longer exists; otherwise — another machine sharing the registry's storage, another container or
 * pod whose pids this process cannot see — once its heartbeat has been silent for
 * FOREIGN_STALE_MS. A pid is never trusted across process spaces: two containers can share a host
 * name while one cannot see the other's pids.
 *
 * Each acquisition also takes a fencing token, one more than the last (the `<lock>.epoch` file,
 * written only by a holder), and a random nonce that names this holder. A holder that was paused
 * past its lease (a stopped VM, a long GC, a frozen pod) and taken over finds on waking that the
 * lock file no longer holds its nonce: its heartbeat stops touching the file, and `check()`
 * (called before every change a holder makes to the registry) throws LockLostError, so it writes
 * nothing more. The limit (docs/retraining.md): a plain file system has no compare-and-swap, so a
 * holder paused between its last check and the rename that follows could still land that one
 * rename; the token in the manifest and history tells the two writers apart afterwards.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, linkSync, openSync, readFileSync, readlinkSync, renameSync, rmSync, statSync, utimesSync, writeFileSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';

/** Who holds a lock. */
export interface LockOwner {
  pid: number;
  host: string;
  /** What the owner is doing ("retrain", "schedule", "promote"). */
  command: string;
  startedAt: string;
  /** Names this holder whatever its pid (absent in locks written before fencing). */
  nonce?: string;
  /** The fencing token: one more than the previous holder's. */
  token?: number;
  /** This process space: the kernel's boot id and pid namespace, where readable (Linux). */
  bootId?: string | null;
  pidNamespace?: string | null;
}

/** A held lock; `release` removes it if it is still ours. */
export interface HeldLock {
  path: string;
  owner: LockOwner;
  /** The fencing token of this acquisition. */
  token: number;
  /** Throws LockLostError when another holder has taken the lock over since (this one was paused past its lease). */
  check(): void;
  release(): void;
}

/** The lock was taken over while this holder was paused past its lease: it must not change anything more. */
export class LockLostError extends Error {
  constructor(
    readonly lockPath: string,
    message: string,
  ) {
    super(message);
    this.name = 'LockLostError';
  }
}

function readLink(path: string): string | null {
  try {
    return readlinkSync(path);
  } catch {
    return null;
  }
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return null;
  }
}

/** This process's space: pids are comparable only between owners with the same host, boot and pid namespace. */
const SPACE = { host: hostname(), bootId: readText('/proc/sys/kernel/random/boot_id'), pidNamespace: readLink('/proc/self/ns/pid') };

/** Whether `owner` ran where this process can see its pid (older lock files without the fields: the same host name). */
function sameProcessSpace(owner: LockOwner): boolean {
  if (owner.host !== SPACE.host) return false;
  if (owner.bootId === undefined && owner.pidNamespace === undefined) return true;
  return owner.bootId === SPACE.bootId && owner.pidNamespace === SPACE.pidNamespace && SPACE.pidNamespace !== null;
}

/** The outcome of trying a lock: held by us, or by the owner named (null when unreadable). */
export type LockAttempt = { acquired: true; lock: HeldLock } | { acquired: false; owner: LockOwner | null };

function readOwner(path: string): LockOwner | null {
  try {
    const owner = JSON.parse(readFileSync(path, 'utf8')) as LockOwner;
    return typeof owner.pid === 'number' && typeof owner.host === 'string' ? owner : null;
  } catch {
    return null;
  }
}

/** Whether a process with this pid exists on this host (EPERM: it exists but is someone else's). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A duration from the environment (for storage with slow attribute caching, and for tests), else the default. */
function envMs(name: string, fallback: number): number {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : fallback;
}

/** How often a held lock's modification time is refreshed (FINSEG_LOCK_HEARTBEAT_MS overrides). */
export const HEARTBEAT_MS = envMs('FINSEG_LOCK_HEARTBEAT_MS', 30_000);
/** A lock from another process space whose heartbeat is older than this is stale: twenty missed beats (FINSEG_LOCK_STALE_MS overrides). */
export const FOREIGN_STALE_MS = envMs('FINSEG_LOCK_STALE_MS', 10 * 60_000);
/** Milliseconds after which an unreadable lock file (its writer died between creating and filling it) counts as stale. */
const UNREADABLE_STALE_MS = 10_000;

function ageMs(path: string): number | null {
  try {
    return Date.now() - statSync(path).mtimeMs;
  } catch {
    return null; // gone already: the next attempt creates it
  }
}

/** A lock is stale when its owner is on this host and no longer running, or on another host and silent. */
function isStale(owner: LockOwner | null, path: string): boolean {
  const age = ageMs(path);
  if (age === null) return false;
  if (owner === null) return age > UNREADABLE_STALE_MS;
  if (!sameProcessSpace(owner)) return age > FOREIGN_STALE_MS;
  return owner.pid !== process.pid && !processAlive(owner.pid);
}

function create(path: string, owner: LockOwner): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
  try {
    writeSync(fd, `${JSON.stringify(owner)}\n`);
  } finally {
    closeSync(fd);
  }
  return true;
}

/**
 * Tries once to take the lock at `path` for `command`; takes over a stale lock. Never waits.
 * Taking over renames the stale file aside and checks it is the one judged stale, so two
 * processes racing for the same stale lock cannot both win.
 */
export function tryLock(path: string, command: string, now: () => Date = () => new Date()): LockAttempt {
  for (let attempt = 0; attempt < 3; attempt++) {
    // The token is read before the lock is taken and written after: only a holder writes the
    // epoch, so the next holder always reads at least this one's token.
    const token = readEpoch(path) + 1;
    const owner: LockOwner = { pid: process.pid, host: SPACE.host, command, startedAt: now().toISOString(), nonce: randomBytes(12).toString('hex'), token, bootId: SPACE.bootId, pidNamespace: SPACE.pidNamespace };
    if (create(path, owner)) {
      writeEpoch(path, token);
      return { acquired: true, lock: held(path, owner, token) };
    }
    const current = readOwner(path);
    if (!isStale(current, path)) return { acquired: false, owner: current };
    const aside = `${path}.stale-${process.pid}`;
    try {
      renameSync(path, aside);
    } catch {
      continue; // someone else moved it first; look again
    }
    const moved = readOwner(aside);
    const same = moved === null ? current === null : current !== null && sameOwner(moved, current);
    if (!same) {
      // We moved a fresh lock taken in between: put it back (link fails if yet another appeared).
      try {
        linkSync(aside, path);
      } catch {
        /* a newer lock is in place; it stands */
      }
      rmSync(aside, { force: true });
      return { acquired: false, owner: readOwner(path) ?? moved };
    }
    rmSync(aside, { force: true });
  }
  return { acquired: false, owner: readOwner(path) };
}

/** The same acquisition: by nonce where both have one, else by pid, host and start. */
function sameOwner(a: LockOwner, b: LockOwner): boolean {
  if (a.nonce !== undefined || b.nonce !== undefined) return a.nonce === b.nonce;
  return a.pid === b.pid && a.host === b.host && a.startedAt === b.startedAt;
}

const epochPath = (path: string) => `${path}.epoch`;

/** The last fencing token handed out for this lock (0 before the first). */
export function readEpoch(path: string): number {
  const n = Number(readText(epochPath(path)));
  return Number.isSafeInteger(n) && n > 0 ? n : 0;
}

function writeEpoch(path: string, token: number): void {
  const tmp = `${epochPath(path)}.tmp-${process.pid}`;
  writeFileSync(tmp, `${token}\n`);
  renameSync(tmp, epochPath(path));
}

function held(path: string, owner: LockOwner, token: number): HeldLock {
  let released = false;
  let lost = false;
  const ours = (): boolean => {
    const current = readOwner(path);
    return current !== null && sameOwner(current, owner);
  };
  // The heartbeat tells other process spaces the owner is alive; it touches the file only while
  // the file is still this holder's, so a holder that wakes after a takeover never keeps the new
  // holder's lease alive. Unref'd, it never keeps the process running.
  const beat = setInterval(() => {
    if (lost) return;
    if (!ours()) {
      lost = true;
      return;
    }
    try {
      const t = new Date();
      utimesSync(path, t, t);
    } catch {
      /* the lock was removed by hand; check and release will find it gone */
    }
  }, HEARTBEAT_MS);
  beat.unref();
  return {
    path,
    owner,
    token,
    check() {
      if (lost || !ours()) {
        lost = true;
        const now = readOwner(path);
        throw new LockLostError(path, `the registry lock ${path} (token ${token}) was taken over${now ? ` by ${describeOwner(now)}${now.token ? ` with token ${now.token}` : ''}` : ''} while this run was paused past its lease; it changes nothing more`);
      }
    },
    release() {
      if (released) return;
      released = true;
      clearInterval(beat);
      if (ours()) rmSync(path, { force: true });
    },
  };
}

/** "pid 123 on host-a (retrain) since 2026-…": a lock owner for messages. */
export function describeOwner(owner: LockOwner | null): string {
  return owner ? `pid ${owner.pid} on ${owner.host} (${owner.command}) since ${owner.startedAt}` : 'an owner that could not be read';
}
