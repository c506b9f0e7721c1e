import { describe, expect, it } from 'vitest';
import { progressOf, quietLogger, type Logger } from '../../pipeline/core/log.ts';
import { formatDuration, ProgressBar, progressLine, type ProgressStream } from '../../pipeline/core/progress.ts';

const CLEAR = '\r\x1b[K';

/** A stream that records what is written; `isTTY` as a terminal or a pipe reports it. */
function fakeStream(isTTY: boolean, columns = 100): ProgressStream & { writes: string[] } {
  const writes: string[] = [];
  return { isTTY, columns, writes, write: (text: string) => writes.push(text) };
}

/** A clock the test moves by hand, so no test waits. */
function fakeClock(): { now: () => number; advance: (ms: number) => void } {
  let t = 1_000;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('progressLine', () => {
  it('shows stage, bar, percent, done/total, the ETA from the rate so far and the elapsed time', () => {
    // 25 of 100 in 10 s: 75 left at 2.5 a second is 30 s; 25% of a 10-wide bar rounds to 3 marks.
    expect(progressLine('generate usage_events', 25, 100, 10, 200)).toBe(`generate usage_events [###${'-'.repeat(7)}]  25% 25/100 ETA 30s, 10s elapsed`);
    // The longest generate line at a million customers still fits an 80-column terminal.
    expect(progressLine('generate usage_events', 999_424, 1_000_000, 245, 80)).toMatch(/ETA \d+s, 4m05s elapsed$/);
  });

  it('gives no ETA before any work is done, and cuts the line one short of the terminal width', () => {
    expect(progressLine('ingest', 0, 6, 0, 200)).toContain('ETA ?');
    const cut = progressLine('ingest', 3, 6, 4, 30);
    expect(cut).toHaveLength(29);
    expect(cut.startsWith('ingest [#####-----]  50%')).toBe(true);
  });

  it('formats durations in seconds, minutes or hours', () => {
    expect(formatDuration(42.4)).toBe('42s');
    expect(formatDuration(185)).toBe('3m05s');
    expect(formatDuration(3720)).toBe('1h02m');
  });
});

describe('ProgressBar', () => {
  it('writes nothing at all to a stream that is not a terminal', () => {
    const stream = fakeStream(false);
    const clock = fakeClock();
    const bar = new ProgressBar(stream, { now: clock.now });
    for (let i = 0; i <= 50; i++) {
      bar.update('generate customers', i, 50);
      clock.advance(500);
    }
    bar.clear();
    bar.end();
    expect(stream.writes).toEqual([]);
  });

  it('redraws at most once per interval on a terminal', () => {
    const stream = fakeStream(true);
    const clock = fakeClock();
    const bar = new ProgressBar(stream, { now: clock.now, minIntervalMs: 100 });
    // 1,000 updates 1 ms apart span 999 ms: draws at 0, 100, ..., 900 ms, so 10.
    for (let i = 0; i < 1000; i++) {
      bar.update('classify: epochs', i, 2000);
      clock.advance(1);
    }
    expect(stream.writes).toHaveLength(10);
    for (const w of stream.writes) {
      expect(w.startsWith(CLEAR)).toBe(true);
      expect(w).not.toContain('\n');
      expect(w).toContain('classify: epochs [');
    }
  });

  it('clears its line when the stage completes, and draws nothing more for it', () => {
    const stream = fakeStream(true);
    const clock = fakeClock();
    const bar = new ProgressBar(stream, { now: clock.now });
    bar.update('ingest', 1, 4);
    clock.advance(1);
    bar.update('ingest', 4, 4);
    expect(stream.writes).toHaveLength(2);
    expect(stream.writes[1]).toBe(CLEAR);
    bar.end();
    bar.clear();
    expect(stream.writes).toHaveLength(2);
  });

  it('erases the bar before a log line and redraws it at the next update, without waiting for the interval', () => {
    const stream = fakeStream(true);
    const clock = fakeClock();
    const bar = new ProgressBar(stream, { now: clock.now, minIntervalMs: 100 });
    bar.update('score: writing', 2048, 10_000);
    bar.clear();
    bar.update('score: writing', 4096, 10_000);
    expect(stream.writes.map((w) => (w === CLEAR ? 'clear' : w.slice(CLEAR.length, CLEAR.length + 14)))).toEqual(['score: writing', 'clear', 'score: writing']);
    // end() erases what is on screen (the CLI calls it before printing an error).
    bar.end();
    expect(stream.writes.at(-1)).toBe(CLEAR);
  });

  it('restarts the elapsed time for a new stage', () => {
    const stream = fakeStream(true, 200);
    const clock = fakeClock();
    const bar = new ProgressBar(stream, { now: clock.now });
    bar.update('generate customers', 10, 20);
    clock.advance(65_000);
    bar.update('generate usage_events', 1, 20);
    expect(stream.writes.at(-1)).toContain(', 0s elapsed');
    clock.advance(2_000);
    bar.update('generate usage_events', 2, 20);
    expect(stream.writes.at(-1)).toContain('ETA 18s, 2s elapsed');
  });

  it('restarts the clock when the count goes back (the next DuckDB statement under the same label)', () => {
    const stream = fakeStream(true, 200);
    const clock = fakeClock();
    const bar = new ProgressBar(stream, { now: clock.now });
    bar.update('generate: Parquet', 0, 100);
    clock.advance(9_000);
    bar.update('generate: Parquet', 90, 100);
    expect(stream.writes.at(-1)).toContain('ETA 1s, 9s elapsed');
    clock.advance(1_000);
    bar.update('generate: Parquet', 10, 100);
    expect(stream.writes.at(-1)).toContain('ETA ?, 0s elapsed');
    clock.advance(1_000);
    bar.update('generate: Parquet', 20, 100);
    expect(stream.writes.at(-1)).toContain('ETA 4s, 1s elapsed');
  });

  it('falls back to 80 columns on a terminal that reports none', () => {
    const stream = fakeStream(true, 0);
    new ProgressBar(stream, { now: fakeClock().now }).update(`long ${'x'.repeat(100)}`, 1, 2);
    expect(stream.writes[0]!.length).toBe(CLEAR.length + 79);
  });
});

describe('progressOf', () => {
  it('is undefined for a logger that shows no progress (--quiet), so stages skip the calls', () => {
    expect(progressOf(quietLogger, 'ingest')).toBeUndefined();
  });

  it('labels a stage callback with the stage name on the logger', () => {
    const seen: [string, number, number][] = [];
    const logger: Logger = { ...quietLogger, progress: (stage, done, total) => seen.push([stage, done, total]) };
    const onProgress = progressOf(logger, 'cluster: choosing k')!;
    onProgress(3, 9);
    expect(seen).toEqual([['cluster: choosing k', 3, 9]]);
  });
});
