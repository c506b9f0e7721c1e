import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BUNDLE_FORMAT_VERSION, STATE_FILES, writeBundle, type StateFile } from '../../pipeline/registry/bundle.ts';
import { applyRetention, productionVersion, readHistory, setProduction, versionNames } from '../../pipeline/registry/registry.ts';
import { LockLostError, readEpoch } from '../../pipeline/registry/lock.ts';

/**
 * The registry lock between processes that cannot see each other's pids: each holder runs in a
 * PID namespace of its own (`unshare --pid`, as two containers or two machines sharing the
 * registry's storage would), with the same host name. A pid means nothing across them, so a live
 * holder must be judged by its heartbeat, never by "pid 2 does not exist here"; a holder frozen
 * past its lease is taken over with a higher fencing token, and on waking it finds it lost the
 * lock and changes nothing (docs/retraining.md, "The registry lock").
 */
const HOLDER = resolve('test/registry/lock-holder.mjs');
const work = mkdtempSync(join(tmpdir(), 'finseg-cross-host-'));
const lockPath = join(work, '.lock');
const ENV = { ...process.env, FINSEG_LOCK_HEARTBEAT_MS: '200', FINSEG_LOCK_STALE_MS: '2500' };
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) try { process.kill(-c.pid!, 'SIGKILL'); } catch { /* gone */ }
  rmSync(work, { recursive: true, force: true });
});

function canUnshare(): boolean {
  try {
    execFileSync('unshare', ['--pid', '--fork', '--mount-proc', 'true'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
// PID namespaces need root (or CAP_SYS_ADMIN) and util-linux's unshare; without them the test is
// skipped and its name says why, rather than failing a CI container that forbids namespaces.
const available = canUnshare();

interface Holder {
  child: ChildProcess;
  next(): Promise<Record<string, unknown>>;
  send(line: string): void;
}

/**
 * A lock holder in a new PID namespace. `extraPids` short-lived processes run first, so the
 * holder's pid inside its namespace is 2 + extraPids: holders with different pids each see none
 * of the other's.
 */
function holder(extraPids: number): Holder {
  const pre = Array.from({ length: extraPids }, () => '/bin/true; ').join('');
  const child = spawn('unshare', ['--pid', '--fork', '--mount-proc', 'sh', '-c', `${pre}exec_node() { "$@"; }; exec_node ${process.execPath} ${HOLDER} ${lockPath} holder; true`], { env: ENV, detached: true, stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(child);
  const lines: Record<string, unknown>[] = [];
  const waiting: ((v: Record<string, unknown>) => void)[] = [];
  let buf = '';
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      const event = JSON.parse(buf.slice(0, i)) as Record<string, unknown>;
      buf = buf.slice(i + 1);
      const w = waiting.shift();
      if (w) w(event);
      else lines.push(event);
    }
  });
  return {
    child,
    next: () => (lines.length ? Promise.resolve(lines.shift()!) : new Promise((r) => waiting.push(r))),
    send: (line) => child.stdin!.write(`${line}\n`),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const owner = () => JSON.parse(readFileSync(lockPath, 'utf8')) as { pid: number; nonce: string; token: number; pidNamespace: string };

describe.runIf(available)(`the registry lock across PID namespaces${available ? '' : ' (skipped: `unshare --pid --fork --mount-proc` is not permitted here)'}`, () => {
  it('keeps out a process that cannot see the live holder\'s pid, hands a frozen holder\'s lease over with a higher token, and fences the holder when it wakes', async () => {
    const a = holder(0);
    expect(await a.next()).toMatchObject({ event: 'acquired', token: 1, pid: 2 });
    expect(owner().pidNamespace).not.toBe(execFileSync('readlink', ['/proc/self/ns/pid']).toString().trim());

    // B's namespace has no pid 2 — judged by pid, A would look dead. Well past the stale time, A's heartbeat still holds it.
    await sleep(3000);
    const b = holder(2);
    expect(await b.next()).toMatchObject({ event: 'busy', owner: { pid: 2, token: 1 } });

    // A frozen (a stopped VM, a frozen pod): its heartbeat stops, and after the stale time C takes over with token 2.
    process.kill(-a.child.pid!, 'SIGSTOP');
    await sleep(3500);
    const c = holder(3);
    const taken = await c.next();
    expect(taken).toMatchObject({ event: 'acquired', token: 2 });
    expect(readEpoch(lockPath)).toBe(2);

    // A wakes: it finds the lock lost, its heartbeat leaves C's lease alone, and its release does not remove C's lock.
    process.kill(-a.child.pid!, 'SIGCONT');
    a.send('check');
    const lost = await a.next();
    expect(lost).toMatchObject({ event: 'lost' });
    expect(String(lost.message)).toMatch(/token 1\) was taken over .* with token 2/);
    a.send('release');
    expect(await a.next()).toMatchObject({ event: 'released' });
    expect(owner().nonce).toBe(taken.nonce);
    c.send('check');
    expect(await c.next()).toMatchObject({ event: 'ok' });
    c.send('release');
    expect(await c.next()).toMatchObject({ event: 'released' });
    expect(existsSync(lockPath)).toBe(false);
  }, 60_000);
});

describe('fencing a registry change', () => {
  const states = Object.fromEntries(STATE_FILES.map((name) => [name, { kind: name }])) as Record<StateFile, unknown>;
  const version = (reg: string, name: string) =>
    writeBundle(reg, { kind: 'finseg.bundle', formatVersion: BUNDLE_FORMAT_VERSION, version: name, createdAt: '2026-12-07T00:00:00.000Z', finsegVersion: '0.1.0', parentVersion: null }, states);

  it('a holder whose lock was taken over moves no pointer and logs no history; one that holds it records its token', () => {
    const reg = join(work, 'reg');
    version(reg, 'v1');
    version(reg, 'v2');
    const held = { token: 3, check: () => {} };
    expect(setProduction(reg, 'v1', 'promote', 'test', 'first', new Date(), held)).toMatchObject({ version: 'v1', lockToken: 3 });
    const lost = {
      token: 4,
      check: () => {
        throw new LockLostError(lockPath, 'taken over');
      },
    };
    expect(() => setProduction(reg, 'v2', 'promote', 'test', 'second', new Date(), lost)).toThrowError(LockLostError);
    expect(productionVersion(reg)).toBe('v1');
    expect(readHistory(reg).map((h) => h.version)).toEqual(['v1']);
    expect(() => applyRetention(reg, 0, lost)).toThrowError(LockLostError);
    expect(versionNames(reg)).toEqual(['v1', 'v2']);
  });
});
