import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../core/log.ts';
import { SCORE_PHASES, scoreArrays, scoreKernels, type ScoreArrays, type ScoreBuffers, type ScoreKernel, type ScorePhase, type ScoreStates } from './score-kernels.ts';

/**
 * Score's three per-row stages (preprocess, assign, classify) on both cores. numpy's BLAS uses
 * both cores for the same work, finseg's JS loops and tfjs-wasm one each; a helper thread
 * (worker_threads, score-helper.ts) runs the same kernels (score-kernels.ts) on the same
 * shared buffers.
 *
 * Work is split by claiming: a stage's rows are cut into chunks and each thread takes the next
 * unclaimed chunk from a shared counter (Atomics) until none is left, so a thread that starts
 * late, or runs slower, simply takes fewer. The main thread never waits for the helper to be
 * ready: the helper loads its modules and tfjs-wasm (~0.6 s of CPU) while the main thread goes
 * on, and joins in when it is ready. A row's result does not depend on which thread computed it
 * or with which rows (tested), so the scores are the same with or without a helper.
 *
 * When to start it: score starts it once DuckDB has aggregated the features and the main thread
 * reads the rows into JS (computeFeatures' onAggregated), when the second core is mostly idle,
 * so it is loaded by the time preprocess starts. Started before the feature query instead, its
 * loading takes CPU from DuckDB's two-core query, and a fixed half of the rows per thread makes
 * the main thread wait for the helper's half: measured, no time saved end to end.
 *
 * Should the helper fail or exit, the chunks it had claimed and not finished are computed on the
 * main thread, later stages run on the main thread alone, and `failure` says why (score warns).
 */
export class ScoreThreads {
  private worker: Worker | null;
  private failed: Error | null = null;
  /** Resolves when the helper fails or exits (never rejects). */
  private readonly gone: Promise<void>;
  private readonly loaded: Promise<void>;
  private readonly chunkRows: Record<ScorePhase, number>;
  /** Chunks the helper computed, over all runs so far. */
  helperChunks = 0;

  private constructor(
    worker: Worker | null,
    chunkRows: Partial<Record<ScorePhase, number>> = {},
    private readonly helperFirst = false,
  ) {
    this.worker = worker;
    this.chunkRows = { ...CHUNK_ROWS, ...chunkRows };
    let markLoaded = () => {};
    this.loaded = new Promise<void>((resolve) => {
      markLoaded = resolve;
    });
    this.gone = new Promise<void>((resolve) => {
      if (worker === null) return;
      worker.on('message', (m: { failed?: string; ready?: true }) => {
        if (m.ready) markLoaded();
        if (m.failed !== undefined) {
          this.failed ??= new Error(m.failed);
          resolve();
        }
      });
      worker.on('error', (e) => {
        this.failed ??= e;
        resolve();
      });
      worker.on('exit', (code) => {
        // An exit that close() asked for is not a failure.
        if (this.worker !== null) this.failed ??= new Error(`the helper thread exited (code ${code})`);
        resolve();
      });
    });
  }

  /**
   * A helper for `rows` rows, started now, or none (everything on the main thread) when there is
   * one core, FINSEG_THREADS=1, or fewer rows than `minRows` (a thread costs ~0.6 s of CPU to load).
   */
  static start(
    states: ScoreStates,
    rows: number,
    opts: {
      minRows?: number;
      chunkRows?: Partial<Record<ScorePhase, number>>;
      /** Tests: the helper fails when it claims its (n+1)-th chunk. */
      failAfterChunks?: number;
      /** Tests: the helper fails while loading, before it takes any chunk. */
      failOnLoad?: boolean;
      /** Tests: the main thread starts each stage only once the helper has claimed a chunk of it, so the helper surely takes part. */
      helperFirst?: boolean;
    } = {},
  ): ScoreThreads {
    const minRows = opts.minRows ?? MIN_ROWS_FOR_HELPER;
    if (process.env['FINSEG_THREADS'] === '1' || availableParallelism() < 2 || rows < minRows) return ScoreThreads.none();
    const worker = new Worker(new URL('./score-helper.mjs', import.meta.url), {
      workerData: { states, failAfterChunks: opts.failAfterChunks ?? -1, failOnLoad: opts.failOnLoad ?? false },
    });
    // A helper must never keep the process alive on its own (close() ends it in any case).
    worker.unref();
    return new ScoreThreads(worker, opts.chunkRows, opts.helperFirst ?? false);
  }

  /** Everything on the main thread. */
  static none(): ScoreThreads {
    return new ScoreThreads(null);
  }

  /** Resolves once the helper has loaded (or has failed, or there is none); scoring never needs to wait for it (tests do). */
  ready(): Promise<void> {
    return this.worker === null ? Promise.resolve() : Promise.race([this.loaded, this.gone]);
  }

  /** Whether a helper is (still) taking part. */
  get helping(): boolean {
    return this.worker !== null && this.failed === null;
  }

  /** Why the helper stopped helping, or null. */
  get failure(): Error | null {
    return this.failed;
  }

  /**
   * Runs `phase` over all rows of `buffers`: the main thread claims chunks with `kernel` (its
   * own instance of the phase's kernel), the helper claims the others. Resolves when every chunk
   * is computed, by whichever thread.
   */
  async run(phase: ScorePhase, buffers: ScoreBuffers, arrays: ScoreArrays, kernel: ScoreKernel): Promise<void> {
    const chunkRows = this.chunkRows[phase];
    const chunks = Math.ceil(buffers.rows / chunkRows);
    const claims: ChunkClaims = {
      control: new Int32Array(new SharedArrayBuffer(8)),
      status: new Uint8Array(new SharedArrayBuffer(Math.max(chunks, 1))),
      chunks,
      chunkRows,
      rows: buffers.rows,
    };
    const { control, status } = claims;
    if (this.helping) this.worker!.postMessage({ phase, buffers, control: control.buffer, status: status.buffer, chunks, chunkRows });
    while (this.helperFirst && this.helping && Atomics.load(control, 0) === 0) {
      const wait = waitAsync(control, 0, 0, WAIT_MS);
      await Promise.race([wait.async ? wait.value : Promise.resolve(), this.gone]);
    }
    let mine = await claimChunks(claims, kernel, arrays);
    // Every chunk is claimed; wait for those the helper is still computing.
    while (Atomics.load(control, 1) < chunks) {
      if (!this.helping) {
        // The helper is gone: whatever it claimed and did not finish is computed here.
        for (let c = 0; c < chunks; c++) {
          if (Atomics.load(status, c) === 2) continue;
          await computeChunk(claims, c, kernel, arrays);
          mine++;
        }
        break;
      }
      const seen = Atomics.load(control, 1);
      const wait = waitAsync(control, 1, seen, WAIT_MS);
      await Promise.race([wait.async ? wait.value : Promise.resolve(), this.gone]);
    }
    this.helperChunks += chunks - mine;
  }

  /** Ends the helper; safe to call more than once. */
  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    if (worker !== null) await worker.terminate();
  }
}

/**
 * One stage's chunks, shared by both threads: control[0] is the next chunk to claim, control[1]
 * the number finished; status[c] is 0 (free), 1 (claimed) or 2 (done).
 */
export interface ChunkClaims {
  control: Int32Array;
  status: Uint8Array;
  chunks: number;
  chunkRows: number;
  rows: number;
}

/**
 * Claims and computes chunks until none is left, on whichever thread calls it; returns how many
 * it computed. `beforeChunk` runs after a claim and before the kernel (tests inject failures there).
 */
export async function claimChunks(claims: ChunkClaims, kernel: ScoreKernel, arrays: ScoreArrays, beforeChunk?: () => void): Promise<number> {
  let mine = 0;
  for (;;) {
    const c = Atomics.add(claims.control, 0, 1);
    Atomics.notify(claims.control, 0);
    if (c >= claims.chunks) return mine;
    Atomics.store(claims.status, c, 1);
    beforeChunk?.();
    await computeChunk(claims, c, kernel, arrays);
    mine++;
  }
}

/** Computes chunk c and marks it done (waking a thread that waits for the count). */
export async function computeChunk(claims: ChunkClaims, c: number, kernel: ScoreKernel, arrays: ScoreArrays): Promise<void> {
  await kernel(arrays, c * claims.chunkRows, Math.min(claims.rows, (c + 1) * claims.chunkRows));
  Atomics.store(claims.status, c, 2);
  Atomics.add(claims.control, 1, 1);
  Atomics.notify(claims.control, 1);
}

/**
 * Below this many rows scoring stays on one thread. The helper needs ~0.6 s to load; at 100k
 * customers the three stages take 0.2 s on one thread and were over before it was ready (S
 * bench: the same times with and without it, 0.9 s more CPU); at 1M they take 1.6 s.
 */
export const MIN_ROWS_FOR_HELPER = 250_000;

/**
 * Rows per claimed chunk. Small enough that the threads finish a stage within a chunk of each
 * other, large enough that a chunk's fixed cost (a tfjs call, a claim) is negligible.
 */
const CHUNK_ROWS: Record<ScorePhase, number> = { preprocess: 4096, assign: 16_384, classify: 16_384 };

/** Atomics.waitAsync (Node 16+; TypeScript declares it from lib es2024 on). */
const waitAsync = (Atomics as unknown as {
  waitAsync(array: Int32Array, index: number, value: number, timeoutMs: number): { async: false; value: string } | { async: true; value: Promise<string> };
}).waitAsync;

/** How long the main thread sleeps between checks of the helper's progress (it is woken as chunks finish). */
const WAIT_MS = 50;

/** Runs all three stages over X's buffers, on the helper too when there is one; `lap` is called after each stage. */
export async function runScorePhases(
  threads: ScoreThreads,
  states: ScoreStates,
  buffers: ScoreBuffers,
  lap: (phase: ScorePhase) => void,
  logger: Logger | null,
): Promise<ScoreArrays> {
  const arrays = scoreArrays(states, buffers);
  const kernels = scoreKernels(states);
  for (const phase of SCORE_PHASES) {
    await threads.run(phase, buffers, arrays, kernels[phase]);
    lap(phase);
  }
  // Also when it failed before taking part at all (it could not load, say): the job goes on, but says so.
  if (threads.failure && logger) logger.warn(`score helper thread stopped (${threads.failure.message}); its rows were scored on the main thread`);
  return arrays;
}
