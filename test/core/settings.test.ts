import { describe, expect, it } from 'vitest';
import * as v from 'valibot';
import { InputError } from '../../pipeline/core/errors.ts';
import { asWritten, crossCheck, fieldsOf, integer, isoDate, listOf, number, oneOf, orNull, parseSettings, settingsOf, text, userMap } from '../../pipeline/core/settings.ts';

/** The error parseSettings throws, as message and detail. */
function problem(f: () => unknown): { message: string; detail: string[] } {
  try {
    f();
  } catch (e) {
    if (e instanceof InputError) return { message: e.message, detail: e.detail };
    throw e;
  }
  throw new Error('accepted');
}

describe('settings rules', () => {
  const defaults = { kMin: 2, kMax: 12, k: null as number | null, mode: 'a' as 'a' | 'b', sub: { share: 0.5 } };
  const rule = v.pipe(
    settingsOf(defaults, { kMin: integer(2), kMax: integer(2), k: orNull(integer(1)), mode: oneOf(['a', 'b'] as const), sub: settingsOf(defaults.sub, { share: number({ min: 0, max: 1, minOpen: true }) }) }),
    crossCheck((p: typeof defaults) => (p.kMax < p.kMin ? [{ path: ['kMax'], message: `expected kMax >= kMin (${p.kMin}), got ${p.kMax}` }] : [])),
  );

  it('fills unset keys with copies of the defaults, in the order of the defaults', () => {
    const out = parseSettings(rule, { sub: {}, mode: 'b', kMax: 5 }, 'f.json');
    expect(Object.keys(out)).toEqual(['kMin', 'kMax', 'k', 'mode', 'sub']);
    expect(out).toEqual({ kMin: 2, kMax: 5, k: null, mode: 'b', sub: { share: 0.5 } });
    expect(out.sub).not.toBe(defaults.sub);
  });

  it('skips $ keys and names an unknown key with the known ones', () => {
    expect(parseSettings(rule, { $comment: 'x', sub: { $schema: 'y' } }, 'f.json')).toEqual(defaults);
    expect(problem(() => parseSettings(rule, { kmax: 3 }, 'f.json', 'cluster'))).toEqual({ message: 'f.json: cluster.kmax: unknown setting', detail: ['known settings here: kMin, kMax, k, mode, sub'] });
  });

  it('says what a key expects and what it got, with the key path', () => {
    expect(problem(() => parseSettings(rule, { kMax: 'x' }, 'f.json', 'cluster')).message).toBe('f.json: cluster.kMax: expected an integer >= 2, got "x"');
    expect(problem(() => parseSettings(rule, { kMax: 2.5 }, 'f.json')).message).toBe('f.json: kMax: expected an integer >= 2, got 2.5');
    expect(problem(() => parseSettings(rule, { k: 'x' }, 'f.json')).message).toBe('f.json: k: expected an integer >= 1 or null, got "x"');
    expect(problem(() => parseSettings(rule, { mode: 'c' }, 'f.json')).message).toBe('f.json: mode: expected one of a, b, got "c"');
    expect(problem(() => parseSettings(rule, { sub: { share: 0 } }, 'f.json')).message).toBe('f.json: sub.share: expected a number in (0, 1], got 0');
    expect(problem(() => parseSettings(rule, { sub: [] }, 'f.json')).message).toBe('f.json: sub: expected an object, got []');
    expect(problem(() => parseSettings(rule, [], 'f.json')).message).toBe('f.json: expected an object, got []');
  });

  it('reports a value that breaks two actions of one rule once', () => {
    expect(problem(() => parseSettings(rule, { k: 0.5 }, 'f.json'))).toEqual({ message: 'f.json: k: expected an integer >= 1, got 0.5', detail: [] });
  });

  it('checks across keys, at the key that is out of line, and lists every problem', () => {
    expect(problem(() => parseSettings(rule, { kMin: 6, kMax: 4 }, 'f.json')).message).toBe('f.json: kMax: expected kMax >= kMin (6), got 4');
    expect(problem(() => parseSettings(rule, { kMin: 6, kMax: 4, sub: { share: 0 } }, 'f.json'))).toEqual({
      message: 'f.json: sub.share: expected a number in (0, 1], got 0',
      detail: ['and 1 more problem:', 'kMax: expected kMax >= kMin (6), got 4'],
    });
    // A value of the wrong type leaves nothing to compare: only the type is reported.
    expect(problem(() => parseSettings(rule, { kMin: 6, kMax: 4, mode: 'z' }, 'f.json'))).toEqual({ message: 'f.json: mode: expected one of a, b, got "z"', detail: [] });
  });

  it('writes list indexes and keys that are not names in brackets', () => {
    const r = settingsOf({ hidden: [1], map: {} as Record<string, string> }, { hidden: listOf(integer(1), 'widths'), map: userMap(oneOf(['x'])) });
    expect(problem(() => parseSettings(r, { hidden: [3, 0] }, 'f.json')).message).toBe('f.json: hidden[1]: expected an integer >= 1, got 0');
    expect(problem(() => parseSettings(r, { map: { 'Health care': 'y' } }, 'f.json')).message).toBe('f.json: map["Health care"]: expected one of x, got "y"');
  });

  it('takes a user map over its defaults, keeping its values as written and its notes when asked', () => {
    const keep = userMap(v.unknown(), { keepNotes: true, keys: (k) => (k === 'bad' ? 'expected a table, got "bad"' : null) });
    const value = { b: 1 };
    const out = parseSettings(keep, { $comment: 'n', a: value }, 'f.json');
    expect(out).toEqual({ $comment: 'n', a: { b: 1 } });
    expect(out['a']).toBe(value);
    expect(problem(() => parseSettings(keep, { bad: 1 }, 'f.json')).message).toBe('f.json: bad: expected a table, got "bad"');
    const merged = parseSettings(userMap(text(), { defaults: { x: '1', y: '2' } }), { $comment: 'dropped', y: '3', z: '4' }, 'f.json');
    expect(Object.entries(merged)).toEqual([['x', '1'], ['y', '3'], ['z', '4']]);
  });

  it('requires every field of a list item, and keeps the item as written', () => {
    const r = listOf(asWritten(fieldsOf<{ id: string; en: string }>({ id: text('an id', true), en: text() })), 'editions');
    expect(JSON.stringify(parseSettings(r, [{ en: 'E', id: 'e', $c: 1 }], 'f.json'))).toBe('[{"en":"E","id":"e","$c":1}]');
    expect(problem(() => parseSettings(r, [{ id: 'e' }], 'f.json')).message).toBe('f.json: [0].en: expected a value, got nothing');
    expect(problem(() => parseSettings(r, [{ id: ' ', en: 'E' }], 'f.json')).message).toBe('f.json: [0].id: expected an id, got " "');
  });

  it('reads dates as calendar days', () => {
    expect(parseSettings(isoDate(), '2026-02-28', 'f.json')).toBe('2026-02-28');
    expect(problem(() => parseSettings(isoDate(), '2026-13-01', 'f.json')).message).toBe('f.json: expected a date "YYYY-MM-DD", got "2026-13-01"');
    expect(problem(() => parseSettings(isoDate(), '28.02.2026', 'f.json')).message).toBe('f.json: expected a date "YYYY-MM-DD", got "28.02.2026"');
  });
});
