/**
 * The body of score's helper thread (score-threads.ts): claims chunks of each stage it is told
 * about and computes them with the same kernels as the main thread. On an error it reports once
 * and stops taking chunks; the main thread computes what it left.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { initBackend } from '../05-classify/backend.ts';
import { quietLogger } from '../core/log.ts';
import { scoreArrays, scoreKernels, type ScoreBuffers, type ScorePhase, type ScoreStates } from './score-kernels.ts';
import { claimChunks } from './score-threads.ts';

interface PhaseMessage {
  phase: ScorePhase;
  buffers: ScoreBuffers;
  control: SharedArrayBuffer;
  status: SharedArrayBuffer;
  chunks: number;
  chunkRows: number;
}

const { states, failAfterChunks, failOnLoad } = workerData as { states: ScoreStates; failAfterChunks: number; failOnLoad: boolean };
if (failOnLoad) throw new Error('injected load failure (test)');
const kernels = scoreKernels(states);
// Loaded before the first message is read, so classify finds the backend ready.
await initBackend(quietLogger);
parentPort!.postMessage({ ready: true });
/** Chunks left before an injected failure (tests); -1 = never. */
let untilFailure = failAfterChunks;
let failed = false;

// One stage at a time, in the order they were posted (a stage's kernel may await).
let queue = Promise.resolve();
parentPort!.on('message', (m: PhaseMessage) => {
  queue = queue.then(() => runPhase(m));
});

async function runPhase(m: PhaseMessage): Promise<void> {
  if (failed) return;
  const claims = { control: new Int32Array(m.control), status: new Uint8Array(m.status), chunks: m.chunks, chunkRows: m.chunkRows, rows: m.buffers.rows };
  try {
    await claimChunks(claims, kernels[m.phase], scoreArrays(states, m.buffers), () => {
      if (untilFailure-- === 0) throw new Error('injected failure (test)');
    });
  } catch (e) {
    failed = true;
    parentPort!.postMessage({ failed: e instanceof Error ? e.message : String(e) });
  }
}
