import { describe, expect, it } from 'vitest';
import { defaultConfig, parseConfig } from '../../pipeline/config/config.ts';
import { InputError } from '../../pipeline/core/errors.ts';
import { deriveSeed, makeRng, sampleIndices } from '../../pipeline/core/random.ts';

describe('config parsing', () => {
  it('fills every unset setting from the stage defaults', () => {
    const c = parseConfig({ seed: 7, cluster: { kMax: 6 } });
    expect(c.seed).toBe(7);
    expect(c.cluster.kMax).toBe(6);
    expect(c.cluster.kMin).toBe(defaultConfig().cluster.kMin);
    expect(c.ingest.quarantineLimit).toBe(0.05);
  });

  it('accepts user column maps and $comment keys', () => {
    const c = parseConfig({ $comment: 'mine', ingest: { columns: { customers: { customer_id: 'Cust ID' } }, asOf: '2026-09-30' } });
    expect(c.ingest.columns.customers).toEqual({ customer_id: 'Cust ID' });
    expect(c.ingest.asOf).toBe('2026-09-30');
  });

  it('rejects an unknown key, naming it and the file', () => {
    expect(() => parseConfig({ cluster: { kmax: 6 } }, 'my.json')).toThrowError(/^my\.json: cluster\.kmax: unknown setting$/);
    try {
      parseConfig({ cluster: { kmax: 6 } }, 'my.json');
    } catch (e) {
      expect((e as InputError).detail[0]).toMatch(/^known settings here: kMin, kMax, k, restarts, /);
    }
  });

  it('rejects a wrong type, naming the key', () => {
    expect(() => parseConfig({ seed: 'x' })).toThrowError(InputError);
    expect(() => parseConfig({ seed: 'x' })).toThrowError(/^config: seed: expected an integer, got "x"$/);
  });

  it('never shares default objects between parses', () => {
    const a = parseConfig({});
    a.cluster.kMax = 99;
    expect(parseConfig({}).cluster.kMax).not.toBe(99);
  });
});

describe('seeded randomness', () => {
  it('repeats the same stream for the same seed and differs for another', () => {
    const a = makeRng(1);
    const b = makeRng(1);
    const c = makeRng(2);
    const xs = [a.next(), a.next(), a.next()];
    expect([b.next(), b.next(), b.next()]).toEqual(xs);
    expect(c.next()).not.toBe(xs[0]);
  });

  it('derives distinct, stable child seeds per purpose', () => {
    expect(deriveSeed(42, 'cluster')).toBe(deriveSeed(42, 'cluster'));
    expect(deriveSeed(42, 'cluster')).not.toBe(deriveSeed(42, 'classify'));
  });

  it('samples distinct sorted indices', () => {
    const idx = Array.from(sampleIndices(100, 10, makeRng(3)));
    expect(new Set(idx).size).toBe(10);
    expect(idx).toEqual([...idx].sort((x, y) => x - y));
    expect(Array.from(sampleIndices(5, 10, makeRng(3)))).toEqual([0, 1, 2, 3, 4]);
  });
});

describe('lens settings in the config', () => {
  it('are validated by the lens stage, naming the file', () => {
    expect(() => parseConfig({ lenses: { industryMap: { bank: 'banking' } } }, 'c.json')).toThrowError(/c\.json: .*lenses\.industryMap/);
    expect(parseConfig({ lenses: { industryMap: { bank: 'services' } } }).lenses.industryMap.bank).toBe('services');
  });
});
