import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUNDLE_FORMAT_VERSION, STATE_FILES, writeBundle, type ManifestHead, type StateFile } from '../../pipeline/registry/bundle.ts';
import { modelsCommand } from '../../pipeline/registry/commands.ts';
import { describeOwner, FOREIGN_STALE_MS, tryLock } from '../../pipeline/registry/lock.ts';
import {
  applyRetention,
  cleanStaleTemp,
  latestVersion,
  listVersions,
  lockRegistry,
  productionVersion,
  readHistory,
  RegistryBusyError,
  rollbackProduction,
  rollbackTarget,
  setProduction,
  versionNames,
  WRITER_LOCK,
} from '../../pipeline/registry/registry.ts';

const states = Object.fromEntries(STATE_FILES.map((name) => [name, { kind: name }])) as Record<StateFile, unknown>;
const at = (minute: number) => new Date(Date.UTC(2026, 10, 27, 3, minute));
function version(reg: string, name: string, minute: number): string {
  const manifest: ManifestHead = { kind: 'finseg.bundle', formatVersion: BUNDLE_FORMAT_VERSION, version: name, createdAt: at(minute).toISOString(), finsegVersion: '0.1.0', parentVersion: null };
  writeBundle(reg, { ...manifest, metrics: { customers: 100 + minute, k: 4, silhouette: 0.25, classifier: { heldOutAccuracy: 0.97 } } }, states);
  return name;
}
const registry = () => mkdtempSync(join(tmpdir(), 'finseg-registry-'));

/** A pid that certainly belonged to a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', '0']);
  return child.pid!;
}

describe('registry pointers, promotion and rollback', () => {
  it('lists complete versions oldest first and ignores temporary and trash folders', () => {
    const reg = registry();
    version(reg, 'v2', 2);
    version(reg, 'v1', 1);
    mkdirSync(join(reg, '.tmp-v3-12345'));
    writeFileSync(join(reg, '.tmp-v3-12345', 'cluster.json'), '{}');
    mkdirSync(join(reg, 'half-written')); // a folder without a manifest is not a version
    expect(versionNames(reg)).toEqual(['v1', 'v2']);
    expect(latestVersion(reg)).toBe('v1'); // the last one written
    const list = listVersions(reg);
    expect(list.map((v) => [v.version, v.customers, v.latest, v.production])).toEqual([
      ['v1', 101, true, false],
      ['v2', 102, false, false],
    ]);
  });

  it('promotes with a history line, then rolls back along the promotions', () => {
    const reg = registry();
    for (const [name, minute] of [['v1', 1], ['v2', 2], ['v3', 3]] as const) version(reg, name, minute);
    setProduction(reg, 'v1', 'promote', 'test', 'first', at(10));
    setProduction(reg, 'v2', 'promote', 'test', 'second', at(11));
    setProduction(reg, 'v3', 'promote', 'test', 'third', at(12));
    expect(productionVersion(reg)).toBe('v3');
    expect(rollbackTarget(reg)).toBe('v2');
    expect(rollbackProduction(reg, 'test', at(13))).toMatchObject({ action: 'rollback', version: 'v2', previous: 'v3' });
    expect(rollbackProduction(reg, 'test', at(14))).toMatchObject({ action: 'rollback', version: 'v1', previous: 'v2' });
    expect(() => rollbackProduction(reg, 'test', at(15))).toThrowError(/no earlier production version/);
    expect(readHistory(reg).map((h) => `${h.action} ${h.version}`)).toEqual(['promote v1', 'promote v2', 'promote v3', 'rollback v2', 'rollback v1']);
  });

  it('refuses to promote a version that is missing or fails its checksums', () => {
    const reg = registry();
    version(reg, 'v1', 1);
    expect(() => setProduction(reg, 'nope', 'promote', 'test', '', at(1))).toThrowError(/no model version nope/);
    writeFileSync(join(reg, 'v1', 'cluster.json'), '{"kind":"tampered"}\n');
    expect(() => setProduction(reg, 'v1', 'promote', 'test', '', at(1))).toThrowError(/checksum mismatch/);
    expect(productionVersion(reg)).toBeNull();
  });

  it('skips a torn last history line (a crash mid-append)', () => {
    const reg = registry();
    version(reg, 'v1', 1);
    setProduction(reg, 'v1', 'promote', 'test', 'ok', at(1));
    writeFileSync(join(reg, 'history.jsonl'), `${readFileSync(join(reg, 'history.jsonl'), 'utf8')}{"at":"2026-`);
    expect(readHistory(reg).map((h) => h.version)).toEqual(['v1']);
  });

  it('keeps the newest N versions plus production, its rollback target and the latest', () => {
    const reg = registry();
    for (let m = 1; m <= 6; m++) version(reg, `v${m}`, m);
    setProduction(reg, 'v1', 'promote', 'test', '', at(20));
    setProduction(reg, 'v2', 'promote', 'test', '', at(21));
    // latest is v6 (written last); keep 2 → v5, v6; production v2 and its rollback target v1 stay.
    expect(applyRetention(reg, 2)).toEqual(['v3', 'v4']);
    expect(versionNames(reg)).toEqual(['v1', 'v2', 'v5', 'v6']);
    expect(readdirSync(reg).filter((e) => e.startsWith('.'))).toEqual([]);
  });

  it('removes what a killed writer left (its temporary folders), never another live writer’s', () => {
    const reg = registry();
    const dead = deadPid();
    // A live process that is not this one: an unlocked `finseg train` writing into the same registry.
    const live = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)']);
    try {
      mkdirSync(join(reg, `.tmp-v9-${dead}`));
      mkdirSync(join(reg, `.tmp-v8-${live.pid}`));
      writeFileSync(join(reg, `production.tmp-${dead}`), 'v9\n');
      expect(cleanStaleTemp(reg).sort()).toEqual([`.tmp-v9-${dead}`, `production.tmp-${dead}`]);
      expect(existsSync(join(reg, `.tmp-v8-${live.pid}`))).toBe(true);
    } finally {
      live.kill('SIGKILL');
    }
  });

  it('answers the models command: list, promote, rollback', () => {
    const reg = registry();
    version(reg, 'v1', 1);
    version(reg, 'v2', 2);
    const opts = { json: false, now: () => at(30), retention: 10 };
    expect(modelsCommand('promote', ['v1'], reg, opts).text).toBe('production: v1\n');
    expect(modelsCommand('promote', ['latest'], reg, opts).text).toBe('production: v2 (was v1)\n');
    const list = modelsCommand('list', [], reg, opts).text.split('\n');
    expect(list[1]).toMatch(/^PL\s+v2\s+2026-11-27T03:02:00\s+4\s+102\s+0\.250\s+0\.970/);
    // `show` reads a whole bundle through loadModel: tested on a trained bundle in test/e2e/load-model.test.ts.
    expect(modelsCommand('rollback', [], reg, opts).text).toBe('production: v1 (was v2)\n');
    expect(() => modelsCommand('frobnicate', [], reg, opts)).toThrowError(/unknown models action "frobnicate"/);
  });
});

describe('writer locks', () => {
  it('lets one writer in and tells the second who holds the lock', () => {
    const reg = registry();
    const first = lockRegistry(reg, 'retrain', () => at(0));
    const second = tryLock(join(reg, WRITER_LOCK), 'models promote');
    expect(second.acquired).toBe(false);
    if (!second.acquired) expect(describeOwner(second.owner)).toBe(`pid ${process.pid} on ${hostname()} (retrain) since 2026-11-27T03:00:00.000Z`);
    expect(() => lockRegistry(reg, 'retrain')).toThrowError(RegistryBusyError);
    first.release();
    const third = lockRegistry(reg, 'retrain');
    third.release();
    expect(existsSync(join(reg, WRITER_LOCK))).toBe(false);
  });

  it('takes over a lock whose owner on this host has died (a SIGKILLed retrain)', () => {
    const reg = registry();
    const path = join(reg, WRITER_LOCK);
    writeFileSync(path, JSON.stringify({ pid: deadPid(), host: hostname(), command: 'retrain', startedAt: at(0).toISOString() }));
    const attempt = tryLock(path, 'retrain');
    expect(attempt.acquired).toBe(true);
    if (attempt.acquired) {
      expect(JSON.parse(readFileSync(path, 'utf8')).pid).toBe(process.pid);
      attempt.lock.release();
    }
    // Nothing left but the fencing counter, which outlives every holder so that tokens only grow.
    expect(readdirSync(reg)).toEqual(['.lock.epoch']);
  });

  it('respects a lock held on another host while its heartbeat is fresh, and takes it over once silent', () => {
    const reg = registry();
    const path = join(reg, WRITER_LOCK);
    writeFileSync(path, JSON.stringify({ pid: deadPid(), host: `${hostname()}-elsewhere`, command: 'retrain', startedAt: at(0).toISOString() }));
    expect(tryLock(path, 'retrain').acquired).toBe(false);
    // A killed pod: its heartbeat stopped longer ago than FOREIGN_STALE_MS.
    const silent = new Date(Date.now() - FOREIGN_STALE_MS - 60_000);
    utimesSync(path, silent, silent);
    const attempt = tryLock(path, 'retrain');
    expect(attempt.acquired).toBe(true);
    if (attempt.acquired) attempt.lock.release();
  });
});
