import { describe, expect, it } from 'vitest';
import { perValue } from '../../pipeline/core/memo.ts';

describe('perValue', () => {
  it('calls f once per distinct argument, null and undefined results included', () => {
    const calls: (string | null)[] = [];
    const f = perValue((k: string | null) => {
      calls.push(k);
      return k === 'none' ? undefined : k === null ? null : k.toUpperCase();
    });
    expect(['a', 'b', 'a', null, 'none', null, 'none', 'b'].map(f)).toEqual(['A', 'B', 'A', null, undefined, null, undefined, 'B']);
    expect(calls).toEqual(['a', 'b', null, 'none']);
  });
});
