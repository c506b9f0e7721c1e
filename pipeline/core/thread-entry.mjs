// The helper thread of threads.ts: registers tsx (finseg runs its TypeScript sources as they are)
// and answers each { id, task, payload } message with { id, ok, value | error }. Messages that
// arrive while the tasks module loads wait in the port.
import { parentPort } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const { runTask } = await import('./thread-tasks.ts');
parentPort.on('message', async ({ id, task, payload }) => {
  try {
    const { value, transfer } = await runTask(task, payload);
    parentPort.postMessage({ id, ok: true, value }, transfer);
  } catch (e) {
    parentPort.postMessage({ id, ok: false, error: e instanceof Error ? e.message : String(e) });
  }
});
