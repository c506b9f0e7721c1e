// A lock holder for test/registry/cross-host.test.ts: takes the lock at argv[2] and then obeys
// stdin lines, "check" (prints ok or lost) and "release" (releases and exits). One JSON line per event.
import { createInterface } from 'node:readline';
import { register } from 'tsx/esm/api';

register();
const { tryLock } = await import('../../pipeline/registry/lock.ts');
const say = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);
const attempt = tryLock(process.argv[2], process.argv[3] ?? 'test');
if (!attempt.acquired) {
  say({ event: 'busy', owner: attempt.owner });
  process.exit(4);
}
const { lock } = attempt;
say({ event: 'acquired', token: lock.token, pid: process.pid, nonce: lock.owner.nonce });
for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'check') {
    try {
      lock.check();
      say({ event: 'ok' });
    } catch (e) {
      say({ event: 'lost', message: e.message });
    }
  } else if (line === 'release') {
    lock.release();
    say({ event: 'released' });
    process.exit(0);
  }
}
