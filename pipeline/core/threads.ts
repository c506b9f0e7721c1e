import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

/**
 * A second JS thread for row-parallel work (worker_threads): scoring a million customers spends
 * ~2.4 s in single-threaded JS and tfjs-wasm (preprocess, assign, classify) while numpy's BLAS
 * uses both cores. The helper loads finseg's TypeScript through tsx (thread-entry.mjs) and
 * runs the tasks of thread-tasks.ts; it is started at the beginning of a job, so its loading
 * (tsx, tfjs-wasm) overlaps ingest. Every task computes exactly what the main thread would for
 * the same rows, so results do not depend on whether a helper ran (tested).
 */
export interface Helper {
  /** Runs `task` on the helper thread; buffers in `transfer` move there without a copy. */
  call<T>(task: string, payload: unknown, transfer?: ArrayBuffer[]): Promise<T>;
  /** Stops the thread; calls still pending are rejected. */
  close(): Promise<void>;
  /** The first failure of a call or of the thread, for the caller to report (its work was redone on the main thread). */
  readonly failure: Error | null;
}

/**
 * Starts a helper thread, or returns null when the machine has a single core or FINSEG_THREADS=1
 * asks for one thread (the job then runs everything on the main thread, with the same results).
 */
export function startHelper(): Helper | null {
  if (process.env['FINSEG_THREADS'] === '1' || availableParallelism() < 2) return null;
  const worker = new Worker(new URL('./thread-entry.mjs', import.meta.url));
  // Only a pending call keeps the process alive: a job that fails before closing its helper still exits.
  worker.unref();
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 0;
  let dead: Error | null = null;
  let failure: Error | null = null;
  const failAll = (e: Error) => {
    dead = e;
    failure ??= e;
    for (const p of pending.values()) p.reject(e);
    pending.clear();
    worker.unref();
  };
  worker.on('message', (m: { id: number; ok: boolean; value?: unknown; error?: string }) => {
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if (pending.size === 0) worker.unref();
    if (m.ok) return p.resolve(m.value);
    const error = new Error(`helper thread: ${m.error}`);
    failure ??= error;
    p.reject(error);
  });
  worker.on('error', (e) => failAll(new Error(`helper thread failed: ${e.message}`)));
  let closing = false;
  worker.on('exit', (code) => {
    if (!closing) failAll(new Error(`helper thread exited with code ${code}`));
  });
  return {
    get failure() {
      return failure;
    },
    call<T>(task: string, payload: unknown, transfer: ArrayBuffer[] = []): Promise<T> {
      if (dead) return Promise.reject(dead);
      const id = nextId++;
      worker.ref();
      return new Promise<T>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        worker.postMessage({ id, task, payload }, transfer);
      });
    },
    async close(): Promise<void> {
      closing = true;
      await worker.terminate();
    },
  };
}
