/**
 * Single-writer locks on a registry: a lock is a file created with O_EXCL (`wx`), holding who
 * owns it, whose modification time the owner refreshes every HEARTBEAT_MS. A lock whose owner
 * died (a SIGKILL, an OOM kill, a reboot) is stale and taken over: on this host, as soon as its
 * pid no longer exists; from another host (a registry on shared storage, a Kubernetes pod that
 * was killed), once its heartbeat has been silent for FOREIGN_STALE_MS.
 */
import { closeSync, linkSync, openSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';

/** Who holds a lock. */
export interface LockOwner {
  pid: number;
  host: string;
  /** What the owner is doing ("retrain", "schedule", "promote"). */
  command: string;
  startedAt: string;
}

/** A held lock; `release` removes it if it is still ours. */
export interface HeldLock {
  path: string;
  owner: LockOwner;
  release(): void;
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

/** How often a held lock's modification time is refreshed. */
export const HEARTBEAT_MS = 30_000;
/** A lock from another host whose heartbeat is older than this is stale (twenty missed beats). */
export const FOREIGN_STALE_MS = 10 * 60_000;
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
  if (owner.host !== hostname()) return age > FOREIGN_STALE_MS;
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
  const owner: LockOwner = { pid: process.pid, host: hostname(), command, startedAt: now().toISOString() };
  for (let attempt = 0; attempt < 3; attempt++) {
    if (create(path, owner)) return { acquired: true, lock: held(path, owner) };
    const current = readOwner(path);
    if (!isStale(current, path)) return { acquired: false, owner: current };
    const aside = `${path}.stale-${process.pid}`;
    try {
      renameSync(path, aside);
    } catch {
      continue; // someone else moved it first; look again
    }
    const moved = readOwner(aside);
    const same = moved === null ? current === null : current !== null && moved.pid === current.pid && moved.startedAt === current.startedAt;
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

function held(path: string, owner: LockOwner): HeldLock {
  let released = false;
  // The heartbeat tells other hosts the owner is alive; unref'd, it never keeps the process running.
  const beat = setInterval(() => {
    try {
      const t = new Date();
      utimesSync(path, t, t);
    } catch {
      /* the lock was removed by hand; release will find it gone */
    }
  }, HEARTBEAT_MS);
  beat.unref();
  return {
    path,
    owner,
    release() {
      if (released) return;
      released = true;
      clearInterval(beat);
      const current = readOwner(path);
      if (current && current.pid === owner.pid && current.startedAt === owner.startedAt && current.host === owner.host) rmSync(path, { force: true });
    },
  };
}

/** "pid 123 on host-a (retrain) since 2026-…": a lock owner for messages. */
export function describeOwner(owner: LockOwner | null): string {
  return owner ? `pid ${owner.pid} on ${owner.host} (${owner.command}) since ${owner.startedAt}` : 'an owner that could not be read';
}
