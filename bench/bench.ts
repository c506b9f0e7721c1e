/**
 * `npm run bench [-- --sizes S,L] [--repeats N] [--no-reference]`: the scale benchmark of issue 7.
 *
 * For each size (bench/sizes.ts) it generates the data set once into .finseg-cache/bench/<size>/
 * (reused while generate.json matches), runs `train` then `score` (of the same customers) in
 * their own processes (bench/job.ts) so each reports its own wall time per stage and peak RSS,
 * then the Python reference (bench/reference.py, pandas + scikit-learn) on the same data with
 * finseg's k and restarts, and prints per stage both times and their ratio (reference / ours:
 * above 1 means finseg is faster). After the two tables it prints the whole-job comparison (train
 * and score totals against the reference's, in the job and as process wall time), the stages
 * only finseg runs with their sum, and the scan floor measured in the same run (bench/floor.ts:
 * DuckDB's per-customer count(*) over the same usage_events.parquet) with features ÷ floor
 * (bench/summary.ts). With --repeats N every job runs N times and the best time per stage is
 * kept: the machine may be shared, so single runs are noisy.
 *
 * Results go to stdout and to .finseg-cache/bench/results-<sizes>.json.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { cpus, totalmem } from 'node:os';
import { stderrLogger } from '../pipeline/core/log.ts';
import { generateDataset, GENERATED_TABLES } from '../pipeline/generate/generate.ts';
import { exportColumns } from './export-columns.ts';
import type { FloorResult } from './floor.ts';
import { BENCH_SIZES } from './sizes.ts';
import { stageTable, summaryJson, summaryLines, type JobResult } from './summary.ts';

const ROOT = resolve(import.meta.dirname, '..');
const CACHE = join(ROOT, '.finseg-cache', 'bench');
const PYTHON = '/usr/bin/python3';

function parseArgs(argv: string[]): { sizes: string[]; repeats: number; reference: boolean } {
  const out = { sizes: ['S', 'L'], repeats: 1, reference: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--sizes') out.sizes = argv[++i]!.split(',');
    else if (a === '--repeats') out.repeats = Number(argv[++i]);
    else if (a === '--no-reference') out.reference = false;
    else throw new Error(`unknown argument ${a}; usage: bench [--sizes S,L] [--repeats N] [--no-reference]`);
  }
  for (const s of out.sizes) if (!BENCH_SIZES[s]) throw new Error(`unknown size ${s}; sizes: ${Object.keys(BENCH_SIZES).join(', ')}`);
  return out;
}

/** Runs a command, streams its stderr through, and parses the last stdout line as JSON (plus the process's wall time). */
function run(command: string, args: string[]): Promise<JobResult> {
  return new Promise((resolveRun, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const wallSeconds = (performance.now() - started) / 1000;
      if (code !== 0) return reject(new Error(`${command} ${args.join(' ')} exited with ${code}`));
      const last = stdout.trim().split('\n').at(-1) ?? '';
      try {
        const parsed = JSON.parse(last) as JobResult & { timings?: JobResult };
        // finseg jobs nest their timings; the reference puts them at the top level.
        resolveRun({ ...parsed, ...parsed.timings, wallSeconds });
      } catch {
        reject(new Error(`${command} ${args.join(' ')} printed no JSON result: ${last.slice(0, 200)}`));
      }
    });
  });
}

const tsx = (script: string, args: string[]): Promise<JobResult> => run(process.execPath, ['--import', 'tsx', join(ROOT, script), ...args]);

/**
 * Whether a cached folder was written with these parameters by a generator that writes the same
 * tables: a folder from before the generator wrote subscriptions (issue 17) has the same params but
 * would leave the churn stage out of the timed job.
 */
function sameGeneration(written: { params?: unknown; summary?: { rows?: Record<string, number> } }, params: object): boolean {
  const tables = Object.keys(written.summary?.rows ?? {}).sort();
  return JSON.stringify(written.params) === JSON.stringify(params) && JSON.stringify(tables) === JSON.stringify([...GENERATED_TABLES].sort());
}

/** The data set of a size, generated unless generate.json already records the same parameters and tables. */
async function ensureData(size: string): Promise<string> {
  const dir = join(CACHE, size, 'data');
  const params = BENCH_SIZES[size]!;
  const manifest = join(dir, 'generate.json');
  if (existsSync(manifest) && sameGeneration(JSON.parse(readFileSync(manifest, 'utf8')), params)) return dir;
  rmSync(join(CACHE, size), { recursive: true, force: true });
  process.stderr.write(`bench: generating ${size} (${params.customers} customers) into ${dir}\n`);
  await generateDataset(dir, params, 'parquet', stderrLogger());
  return dir;
}

/** Per stage, the fastest of several runs of the same job; total and peak RSS likewise. */
function bestOf(results: JobResult[]): JobResult {
  const stages: Record<string, number> = {};
  for (const r of results) for (const [s, t] of Object.entries(r.stages)) stages[s] = Math.min(stages[s] ?? Infinity, t);
  return {
    ...results[0]!,
    stages,
    totalSeconds: Math.min(...results.map((r) => r.totalSeconds)),
    peakRssMiB: Math.min(...results.map((r) => r.peakRssMiB)),
    wallSeconds: Math.min(...results.map((r) => r.wallSeconds ?? Infinity)),
    runs: results.length,
  };
}

async function repeat(times: number, job: () => Promise<JobResult>): Promise<JobResult> {
  const results: JobResult[] = [];
  for (let r = 0; r < times; r++) results.push(await job());
  return bestOf(results);
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  mkdirSync(CACHE, { recursive: true });
  // One file per set of sizes, so an S run and an L run can go one after the other without clobbering.
  const outFile = join(CACHE, `results-${opts.sizes.join('')}.json`);
  const results: Record<string, unknown> = {
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGiB: totalmem() / 2 ** 30, node: process.version },
    startedAt: new Date().toISOString(),
    repeats: opts.repeats,
    sizes: {},
  };
  for (const size of opts.sizes) {
    const data = await ensureData(size);
    const registry = join(CACHE, size, 'models');
    const train = await repeat(opts.repeats, () => tsx('bench/job.ts', ['train', data, registry]));
    const bundleDir = String(train.bundleDir);
    const score = await repeat(opts.repeats, () => tsx('bench/job.ts', ['score', bundleDir, data, join(CACHE, size, 'scores.parquet')]));
    let refTrain: JobResult | null = null;
    let refScore: JobResult | null = null;
    if (opts.reference) {
      const columns = join(CACHE, size, 'columns');
      await exportColumns(data, columns);
      const model = join(CACHE, size, 'reference-model.pkl');
      const k = String(train.k);
      const restarts = String(train.restarts ?? 8);
      const mlp = train.classifier as { nTrain: number; epochs: number; batchSize: number; learningRate: number };
      const work = ['--k', k, '--restarts', restarts, '--epochs', String(mlp.epochs), '--train-rows', String(mlp.nTrain), '--batch', String(mlp.batchSize), '--lr', String(mlp.learningRate)];
      refTrain = await repeat(opts.repeats, () => run(PYTHON, [join(ROOT, 'bench/reference.py'), 'train', columns, model, ...work]));
      refScore = await repeat(opts.repeats, () => run(PYTHON, [join(ROOT, 'bench/reference.py'), 'score', columns, model, join(CACHE, size, 'reference-scores.csv')]));
    }
    // After both pipelines, so the file is as warm in the page cache as it was for their feature stages.
    const floor = (await repeat(opts.repeats, () => tsx('bench/job.ts', ['floor', data]))) as unknown as FloorResult;
    (results.sizes as Record<string, unknown>)[size] = {
      params: BENCH_SIZES[size],
      finseg: { train, score },
      reference: { train: refTrain, score: refScore },
      floor,
      summary: summaryJson(train, score, refTrain, refScore, floor),
    };
    const lines = [...stageTable(size, 'train', train, refTrain), ...stageTable(size, 'score', score, refScore)];
    lines.push(
      `  ${size}: k = ${train.k}, held-out agreement finseg ${(Number((train.classifier as { heldOutAccuracy: number }).heldOutAccuracy) * 100).toFixed(2)}% ` +
        `(trained on ${(train.classifier as { nTrain: number }).nTrain} rows)` +
        (refTrain ? `, reference ${(Number(refTrain.heldOutAccuracy) * 100).toFixed(2)}% (${refTrain.nTrain} rows)` : ''),
    );
    lines.push(...summaryLines(size, train, score, refTrain, refScore, floor));
    process.stdout.write(`${lines.join('\n')}\n\n`);
    writeFileSync(outFile, `${JSON.stringify(results, null, 2)}\n`);
  }
  process.stdout.write(`results: ${outFile}\n`);
}

await main();
