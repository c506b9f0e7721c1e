import { describe, expect, it } from 'vitest';
import { StageClock } from '../../pipeline/core/timings.ts';

describe('StageClock', () => {
  it('charges each lap to its stage, accumulates a stage timed twice and logs its running total', () => {
    let now = 0;
    const lines: string[] = [];
    const clock = new StageClock('train', { info: (m) => lines.push(m), warn: (m) => lines.push(m) }, () => now);
    now = 1000;
    clock.lap('cluster');
    now = 3500;
    clock.lap('stability');
    now = 4000;
    clock.lap('cluster');
    const t = clock.finish();
    expect(t.stages).toEqual({ cluster: 1.5, stability: 2.5 });
    expect(t.totalSeconds).toBe(4);
    expect(lines.slice(0, 3)).toEqual(['train timing: cluster 1.00 s', 'train timing: stability 2.50 s', 'train timing: cluster 0.50 s (1.50 s in all)']);
  });
});
