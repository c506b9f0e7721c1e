import { describe, expect, it } from 'vitest';
import * as v from 'valibot';
import { InputError } from '../../pipeline/core/errors.ts';
import { issuePath, parseState, parseStateFile } from '../../pipeline/model/load.ts';
import { finite, integer, nanable } from '../../pipeline/model/schema.ts';

/** The schema helpers and the messages of a refused state, on hand-made JSON. */
describe('state schemas', () => {
  it('reads a NaN a stage stored (JSON null) back as NaN, and refuses null where a finite number is required', () => {
    expect(v.parse(nanable, null)).toBeNaN();
    expect(v.parse(nanable, 0.5)).toBe(0.5);
    expect(v.safeParse(finite, null).success).toBe(false);
    expect(v.safeParse(integer(1), 0).success).toBe(false);
    expect(v.safeParse(integer(1), 1.5).success).toBe(false);
    expect(v.parse(integer(1), 3)).toBe(3);
  });

  it('writes a key path with dots for keys and brackets for positions', () => {
    const result = v.safeParse(v.object({ a: v.object({ b: v.array(v.array(v.number())) }) }), { a: { b: [[1], [2, 'x']] } });
    expect(result.success).toBe(false);
    if (!result.success) expect(issuePath(result.issues[0])).toBe('a.b[1][1]');
  });

  it('checks kind, then version, then the schema, naming the file in the message', () => {
    const schema = v.object({ kind: v.literal('finseg.x'), version: v.literal(2), n: v.number() });
    const expected = { kind: 'finseg.x', version: 2 };
    expect(parseStateFile('x.json', { kind: 'finseg.x', version: 2, n: 1 }, schema, expected)).toEqual({ kind: 'finseg.x', version: 2, n: 1 });
    expect(() => parseStateFile('x.json', [], schema, expected)).toThrowError('x.json: expected a JSON object');
    expect(() => parseStateFile('x.json', { kind: 'finseg.y', version: 1, n: 'a' }, schema, expected)).toThrowError('x.json: kind "finseg.y", expected "finseg.x"');
    expect(() => parseStateFile('x.json', { kind: 'finseg.x', version: 3, n: 'a' }, schema, expected)).toThrowError('x.json: finseg.x format version 3, this finseg reads version 2');
    expect(() => parseStateFile('x.json', { kind: 'finseg.x', version: 2, n: 'a' }, schema, expected)).toThrowError('x.json: n: expected number, got "a"');
    expect(() => parseStateFile('x.json', { kind: 'finseg.x', version: 2 }, schema, expected)).toThrowError(InputError);
  });

  it('refuses a drift reference, trends or segments state of the wrong shape', () => {
    const reference = { kind: 'finseg.drift-reference', version: 1, bins: 10, customers: 3, numeric: [], categorical: [], segmentShares: [0.5, 0.5] };
    expect(parseState('reference.json', reference)).toEqual(reference);
    expect(() => parseState('reference.json', { ...reference, numeric: {} })).toThrowError('reference.json: numeric: expected Array, got Object');
    expect(() => parseState('reference.json', { ...reference, segmentShares: [0.5, null] })).toThrowError('reference.json: segmentShares[1]: expected number, got null');
    const trends = { kind: 'finseg.trends', version: 2, method: 'm', intervalLevel: 0.95, months: [], horizon: [], backtest: { holdoutMonths: 3, seasonPeriod: 12, seasonal: false, note: 'n' }, segments: [] };
    expect(parseState('trends.json', trends)).toEqual(trends);
    expect(() => parseState('trends.json', { ...trends, intervalLevel: 0.9 })).toThrowError(/^trends\.json: intervalLevel: expected 0\.95, got 0\.9$/);
    const segments = { kind: 'finseg.segments', version: 1, cards: [], cramersV: { size: null } };
    expect(parseState('segments.json', segments).cramersV['size']).toBeNaN();
    expect(() => parseState('segments.json', { ...segments, cards: [{ id: 0 }] })).toThrowError('segments.json: cards[0].size: missing');
  });
});
