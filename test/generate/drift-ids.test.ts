import { describe, expect, it } from 'vitest';
import { lastIdNumber } from '../../pipeline/generate/drift.ts';

/** A drift's arrivals are numbered after the base's highest id, so a drift of a drift (whose churners are gone) reuses none. */
describe('lastIdNumber', () => {
  it('is the count for contiguous ids, and the highest number once churners left gaps', () => {
    expect(lastIdNumber([{ id: 'C000001' }, { id: 'C000002' }, { id: 'C000003' }], 'C')).toBe(3);
    // C000002 churned; C000004 arrived in the previous drift: the next arrival must be C000005.
    expect(lastIdNumber([{ id: 'C000001' }, { id: 'C000003' }, { id: 'C000004' }], 'C')).toBe(4);
    // Ids of another form do not count, but never number below the count.
    expect(lastIdNumber([{ id: 'X9' }, { id: 'C000001' }], 'C')).toBe(2);
  });
});
