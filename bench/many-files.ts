/**
 * `npm run bench:files [-- --files 300] [--customers 20000] [--repeats 5] [--data generated,online-retail] [--no-cli]`:
 * ingest of a folder of daily CSV parts against the same rows in one file (issue 16 item 3: within
 * 1.3x). Not a test: the figures depend on the machine and its load.
 *
 * Two data sets, each laid out twice with identical rows in identical order:
 * - generated: `finseg generate --format csv` (cached in .finseg-cache/bench/many-files/), its
 *   usage events and transactions of the last N days split into one file per day;
 * - online-retail: the 20,000 lines of test/fixtures/real/online-retail split by invoice day (305
 *   files, 65 lines each), read with the config `finseg init` writes for the daily folder.
 * Each layout is ingested in this process (a fresh DuckDB, a fresh quarantine folder, so the
 * quarantine is written every time as on a first run) `repeats` times after one warm-up, the two
 * layouts alternating; then, unless --no-cli, `finseg validate` is run on each in its own process
 * (start-up included, as a user times it). The fastest and the median run of each are printed,
 * with the ratio parts / one file, and for the in-process ingest its CPU time (JS and DuckDB
 * threads), which a machine shared with other work disturbs less than the wall time.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadConfig } from '../pipeline/config/config.ts';
import { ingest, type IngestParams } from '../pipeline/01-ingest/ingest.ts';
import { defaultIngestParams } from '../pipeline/01-ingest/params.ts';
import { openDuck } from '../pipeline/core/duck.ts';
import { quietLogger } from '../pipeline/core/log.ts';
import { defaultGenerateParams, generateDataset } from '../pipeline/generate/generate.ts';
import { initCommand } from '../pipeline/jobs/init.ts';

const ROOT = resolve(import.meta.dirname, '..');
const CACHE = join(ROOT, '.finseg-cache', 'bench', 'many-files');

interface Options {
  files: number;
  customers: number;
  repeats: number;
  data: string[];
  cli: boolean;
}

function parseArgs(argv: string[]): Options {
  const out: Options = { files: 300, customers: 20_000, repeats: 5, data: ['generated', 'online-retail'], cli: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--files') out.files = Number(argv[++i]);
    else if (a === '--customers') out.customers = Number(argv[++i]);
    else if (a === '--repeats') out.repeats = Number(argv[++i]);
    else if (a === '--data') out.data = argv[++i]!.split(',');
    else if (a === '--no-cli') out.cli = false;
    else throw new Error(`unknown argument ${a}; usage: many-files [--files N] [--customers N] [--repeats N] [--data generated,online-retail] [--no-cli]`);
  }
  return out;
}

/** Two folders with the same rows: `one` (a file per table) and `parts` (a folder of daily files per split table); the ingest settings and config of both. */
interface Layouts {
  name: string;
  one: string;
  parts: string;
  files: number;
  rows: number;
  params: IngestParams;
  /** The config file for `finseg validate`, per layout (null: the defaults). */
  config: { one: string | null; parts: string | null };
}

/**
 * Splits a CSV (header, then one record per line, no quoted newlines) by the day `dayOf` finds in
 * each line, keeping the last `days` days: `<parts>/<folder>/<day>.csv`, and the same lines in
 * the same order in `<one>/<oneName>`. Returns the files and rows written.
 */
function splitByDay(source: string, dayOf: (line: string) => string, days: number, parts: string, one: string, oneName: string, mapLine: (l: string) => string = (l) => l): { files: number; rows: number } {
  const [header, ...lines] = readFileSync(source, 'utf8').split(/\r?\n/).filter((l) => l.length > 0);
  const byDay = new Map<string, string[]>();
  for (const line of lines) {
    const day = dayOf(line);
    (byDay.get(day) ?? byDay.set(day, []).get(day)!).push(mapLine(line));
  }
  const kept = [...byDay.keys()].sort().slice(-days);
  mkdirSync(parts, { recursive: true });
  const all: string[] = [header!];
  for (const day of kept) {
    writeFileSync(join(parts, `${day}.csv`), [header, ...byDay.get(day)!].join('\n') + '\n');
    all.push(...byDay.get(day)!);
  }
  writeFileSync(join(one, oneName), all.join('\n') + '\n');
  return { files: kept.length, rows: all.length - 1 };
}

/** The generated data set (cached), its usage events and transactions split by day. */
async function generatedLayouts(opts: Options): Promise<Layouts> {
  const base = join(CACHE, `generated-${opts.customers}`);
  const source = join(base, 'source');
  if (!existsSync(join(source, 'generate.json'))) await generateDataset(source, { ...defaultGenerateParams, customers: opts.customers }, 'csv', quietLogger);
  const dir = join(base, `days-${opts.files}`);
  const one = join(dir, 'one');
  const parts = join(dir, 'parts');
  let files = 0;
  let rows = 0;
  if (!existsSync(join(dir, 'done'))) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(one, { recursive: true });
    mkdirSync(parts, { recursive: true });
    for (const d of [one, parts]) writeFileSync(join(d, 'customers.csv'), readFileSync(join(source, 'customers.csv')));
    // The generator writes ts as the second field, 'YYYY-MM-DD hh:mm:ss'.
    const day = (line: string) => line.slice(line.indexOf(',') + 1, line.indexOf(',') + 11);
    for (const table of ['usage_events', 'transactions']) {
      const r = splitByDay(join(source, `${table}.csv`), day, opts.files, join(parts, table), one, `${table}.csv`);
      files += r.files;
      rows += r.rows;
    }
    writeFileSync(join(dir, 'done'), JSON.stringify({ files, rows }));
  }
  ({ files, rows } = JSON.parse(readFileSync(join(dir, 'done'), 'utf8')) as { files: number; rows: number });
  return { name: `generated (${opts.customers} customers; usage events and transactions)`, one, parts, files, rows, params: defaultIngestParams, config: { one: null, parts: null } };
}

/** The Online Retail sample by invoice day, with the config `finseg init` writes for the daily folder (ids as floats, as pandas writes them). */
async function onlineRetailLayouts(): Promise<Layouts> {
  const dir = mkdtempSync(join(tmpdir(), 'finseg-bench-files-'));
  const one = join(dir, 'one');
  const parts = join(dir, 'parts');
  mkdirSync(join(one, 'dump'), { recursive: true });
  const source = join(ROOT, 'test/fixtures/real/online-retail/online_retail_sample_20k.csv');
  const r = splitByDay(source, (l) => /"(\d{4}-\d{2}-\d{2}) /.exec(l)![1]!, 10_000, join(parts, 'dump'), join(one, 'dump'), 'all.csv', (l) => l.replace(/,(\d{5}),("[^"]*")$/, ',$1.0,$2'));
  const config = { one: join(one, 'finseg.config.json'), parts: join(parts, 'finseg.config.json') };
  await initCommand(parts, config.parts, '.');
  writeFileSync(config.one, readFileSync(config.parts));
  const params = loadConfig(config.parts).ingest;
  return { name: 'online-retail (20,000 transaction lines by invoice day, customers derived)', one, parts, files: r.files, rows: r.rows, params, config };
}

/** Seconds of one in-process ingest, with a fresh DuckDB and quarantine folder; its CPU seconds go to `cpu`. */
async function timeIngest(dataDir: string, params: IngestParams, cpu: number[]): Promise<number> {
  const quarantine = mkdtempSync(join(tmpdir(), 'finseg-bench-quarantine-'));
  const conn = await openDuck();
  try {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    await ingest(conn, dataDir, { ...params, quarantineLimit: Number.POSITIVE_INFINITY }, quarantine, quietLogger);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1e6);
    return (performance.now() - t0) / 1000;
  } finally {
    conn.closeSync();
    rmSync(quarantine, { recursive: true, force: true });
  }
}

/** Seconds of `finseg validate` in its own process, in a fresh working folder (so a fresh quarantine). */
function timeValidate(dataDir: string, config: string | null): number {
  const cwd = mkdtempSync(join(tmpdir(), 'finseg-bench-validate-'));
  try {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [join(ROOT, 'bin/finseg.mjs'), 'validate', '--quiet', ...(config ? ['--config', config] : ['--data', dataDir])], { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    if (r.status !== 0) throw new Error(`finseg validate on ${dataDir} exited with ${r.status}: ${String(r.stderr).slice(0, 500)}`);
    return (performance.now() - t0) / 1000;
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Runs `one` and `parts` alternately `repeats` times after a warm-up of each; the times of each. */
async function alternate(repeats: number, run: (layout: 'one' | 'parts') => Promise<number> | number): Promise<{ one: number[]; parts: number[] }> {
  await run('one');
  await run('parts');
  const out = { one: [] as number[], parts: [] as number[] };
  for (let r = 0; r < repeats; r++) {
    out.one.push(await run('one'));
    out.parts.push(await run('parts'));
  }
  return out;
}

function line(label: string, t: { one: number[]; parts: number[] }): string {
  const f = (x: number) => `${x.toFixed(2)} s`;
  const [a, b] = [Math.min(...t.one), Math.min(...t.parts)];
  const [ma, mb] = [median(t.one), median(t.parts)];
  return `  ${label.padEnd(18)} one file ${f(a)} (median ${f(ma)})   parts ${f(b)} (median ${f(mb)})   ratio ${(b / a).toFixed(2)}x (medians ${(mb / ma).toFixed(2)}x)`;
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  mkdirSync(CACHE, { recursive: true });
  for (const name of opts.data) {
    const layouts = name === 'generated' ? await generatedLayouts(opts) : name === 'online-retail' ? await onlineRetailLayouts() : null;
    if (!layouts) throw new Error(`unknown data set ${name}; use generated, online-retail`);
    process.stdout.write(`${layouts.name}: ${layouts.rows} rows, ${layouts.files} part files; ${opts.repeats} runs each, after a warm-up\n`);
    // CPU seconds (JS and DuckDB's threads) per layout: on a machine shared with other work they vary less than the wall time.
    const cpu = { one: [] as number[], parts: [] as number[] };
    const ingestTimes = await alternate(opts.repeats, (l) => timeIngest(l === 'one' ? layouts.one : layouts.parts, layouts.params, cpu[l]));
    process.stdout.write(`${line('ingest (in-process)', ingestTimes)}\n`);
    // The warm-up of each layout is left out, as for the wall times.
    process.stdout.write(`${line('ingest, CPU time', { one: cpu.one.slice(1), parts: cpu.parts.slice(1) })}\n`);
    if (opts.cli) {
      const cli = await alternate(opts.repeats, (l) => timeValidate(layouts[l], layouts.config[l]));
      process.stdout.write(`${line('finseg validate', cli)}\n`);
    }
  }
}

await main();
