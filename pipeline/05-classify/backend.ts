import * as tf from '@tensorflow/tfjs';
import { createRequire } from 'node:module';
import { dirname, sep } from 'node:path';
import type { Logger } from '../core/log.ts';

/** The backend chosen by the first call, shared by every later call (and by concurrent ones). */
let chosen: Promise<{ name: string; detail: string }> | null = null;

/**
 * Picks the fastest tfjs backend that loads: @tensorflow/tfjs-node when it is installed, else
 * wasm, else cpu. Idempotent; logs the backend in use on every call. Returns the backend name
 * ('tensorflow', 'wasm' or 'cpu').
 */
export async function initBackend(logger: Logger): Promise<string> {
  chosen ??= chooseBackend();
  const { name, detail } = await chosen;
  const line = `tfjs backend: ${name} (${detail})`;
  // The cpu backend is ~4x slower than wasm: worth a warning, since it means wasm failed to load.
  if (name === 'cpu') logger.warn(line);
  else logger.info(line);
  return name;
}

async function chooseBackend(): Promise<{ name: string; detail: string }> {
  // Prod mode silences tfjs's console warnings, among them the cpu backend's "looks like you
  // are running TensorFlow.js in Node.js" hint, which would otherwise land in our output.
  tf.enableProdMode();

  const nodeFailure = await tryTfjsNode();
  if (nodeFailure === null) return { name: 'tensorflow', detail: 'native libtensorflow via @tensorflow/tfjs-node' };

  const wasmFailure = await tryWasm();
  if (wasmFailure === null) {
    const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    return { name: 'wasm', detail: `SIMD ${simd ? 'on' : 'off'}; ${nodeFailure}` };
  }

  if (!(await tf.setBackend('cpu'))) throw new Error('no tfjs backend could be initialised (tried tfjs-node, wasm and cpu)');
  await tf.ready();
  return { name: 'cpu', detail: `${nodeFailure}; wasm failed: ${wasmFailure}` };
}

/** null when tfjs-node runs, else why not. */
async function tryTfjsNode(): Promise<string | null> {
  // A variable specifier keeps TypeScript from requiring the types of an optional package,
  // which is absent wherever its install script could not download libtensorflow.
  const specifier = '@tensorflow/tfjs-node';
  // Native TensorFlow prints CPU-feature banners to stderr at load unless told otherwise;
  // a value the user set is respected.
  process.env['TF_CPP_MIN_LOG_LEVEL'] ??= '2';
  try {
    await import(specifier);
  } catch {
    return 'tfjs-node not installed';
  }
  // tfjs-node registers its backend in the tfjs-core it resolves; a second copy of tfjs-core
  // in node_modules would register it somewhere our `tf` never sees.
  if (tf.findBackendFactory('tensorflow') === null) return 'tfjs-node registered with another copy of tfjs-core';
  if (!(await tf.setBackend('tensorflow'))) return 'tfjs-node failed to initialise';
  await tf.ready();
  return null;
}

/** null when the wasm backend runs, else why not. */
async function tryWasm(): Promise<string | null> {
  // Emscripten's Node glue installs process handlers that rethrow every uncaught exception and
  // unhandled rejection from inside its own minified file: the process then dies with exit
  // code 7 and ~100 KB of wasm glue source on stderr instead of our error. Node's defaults
  // already crash on both, so the handlers it adds are removed again.
  const events = ['uncaughtException', 'unhandledRejection'];
  const emitter: NodeJS.EventEmitter = process;
  const before = events.map((event) => new Set(emitter.listeners(event)));
  try {
    return await loadWasm();
  } finally {
    events.forEach((event, i) => {
      for (const listener of emitter.listeners(event)) {
        if (!before[i]!.has(listener)) emitter.removeListener(event, listener as (...args: unknown[]) => void);
      }
    });
  }
}

async function loadWasm(): Promise<string | null> {
  try {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    // Emscripten finds the .wasm binaries next to the script that loaded them, which holds in
    // plain Node from any cwd but not once a bundler moves the script; pointing at the
    // package's dist folder by module resolution keeps both working.
    const distDir = wasmDistDir();
    if (distDir !== null) wasm.setWasmPaths(distDir);
    if (!(await tf.setBackend('wasm'))) return 'setBackend returned false';
    await tf.ready();
    return null;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

function wasmDistDir(): string | null {
  try {
    const entry = createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm');
    return dirname(entry) + sep;
  } catch {
    return null;
  }
}
