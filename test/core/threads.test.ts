import { afterEach, describe, expect, it } from 'vitest';
import { startHelper } from '../../pipeline/core/threads.ts';

describe('startHelper', () => {
  const before = process.env['FINSEG_THREADS'];
  afterEach(() => {
    if (before === undefined) delete process.env['FINSEG_THREADS'];
    else process.env['FINSEG_THREADS'] = before;
  });

  it('gives no helper when FINSEG_THREADS=1 asks for one thread', () => {
    process.env['FINSEG_THREADS'] = '1';
    expect(startHelper()).toBeNull();
  });

  it("rejects a task the thread does not know, with the thread's message, and records the failure", async () => {
    delete process.env['FINSEG_THREADS'];
    const helper = startHelper()!;
    try {
      expect(helper.failure).toBeNull();
      await expect(helper.call('no-such-task', {})).rejects.toThrow('helper thread: unknown task "no-such-task"');
      expect(helper.failure?.message).toBe('helper thread: unknown task "no-such-task"');
      // The thread lives on: a session it never saw is reported as such.
      await expect(helper.call('score-assign', { session: 'none' })).rejects.toThrow('no scoring session "none" on this thread');
    } finally {
      await helper.close();
    }
  }, 30_000);
});
