import { parseArgs, type ParseArgsConfig } from 'node:util';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadConfig } from '../core/config.ts';
import { InputError } from '../core/errors.ts';
import { quietLogger, stderrLogger, type Logger } from '../core/log.ts';
import { defaultGenerateParams, generateDataset, type Format } from '../generate/generate.ts';
import { ingest, formatReasons } from '../01-ingest/ingest.ts';
import { openDuck } from '../core/duck.ts';
import { loadBundle } from '../registry/bundle.ts';
import { trainJob, type SegmentsState } from '../jobs/train.ts';
import { scoreJob } from '../jobs/score.ts';
import { demoJob } from '../jobs/demo.ts';
import { writeReport } from '../10-report/report.ts';

const HELP = `finseg — customer segmentation for a financial-software vendor

Usage: finseg <command> [options]

Commands:
  demo        generate data, train, score new customers and write the report (what npm start runs)
  generate    write a seeded synthetic data set        --out DIR [--customers N] [--seed S] [--format parquet|csv]
  validate    check a data folder against the contract --data DIR [--config FILE]
  train       train a model bundle                     --data DIR [--out models/] [--config FILE] [--k N]
  score       score customers with a bundle            --model DIR --data DIR --out FILE.parquet|.csv
  report      write report.md and segments.json        --model DIR

Common options: --quiet (no progress), --debug (stack traces), --help
Exit codes: 0 success, 1 failure, 2 bad usage or input.
Examples:
  finseg generate --out data/generated/demo --customers 20000
  finseg train --data data/generated/demo --out models/
  finseg score --model models/ --data data/new --out data/scores/new.parquet
  finseg report --model models/latest-version-folder
`;

const OPTIONS = {
  data: { type: 'string' },
  out: { type: 'string' },
  model: { type: 'string' },
  config: { type: 'string' },
  customers: { type: 'string' },
  events: { type: 'string' },
  seed: { type: 'string' },
  format: { type: 'string' },
  prefix: { type: 'string' },
  k: { type: 'string' },
  quiet: { type: 'boolean' },
  debug: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

type Flags = { [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K]['type'] extends 'boolean' ? boolean : string };

function need(flags: Flags, name: keyof Flags, command: string): string {
  const v = flags[name];
  if (typeof v !== 'string' || v === '') throw new InputError(`finseg ${command}: --${name} is required`, ['run finseg --help for usage']);
  return v;
}

function intFlag(flags: Flags, name: keyof Flags, fallback: number): number {
  const v = flags[name];
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InputError(`--${name} must be a non-negative integer, got ${JSON.stringify(v)}`);
  return n;
}

/** Runs one CLI invocation and returns its exit code; all output goes to stdout/stderr. */
export async function main(argv: string[]): Promise<number> {
  let flags: Flags = {};
  try {
    const parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
    flags = parsed.values as Flags;
    const [command] = parsed.positionals;
    if (!command || flags.help || command === 'help') {
      process.stdout.write(HELP);
      return command || flags.help ? 0 : 2;
    }
    const logger: Logger = flags.quiet ? quietLogger : stderrLogger();
    return await run(command, flags, logger);
  } catch (e) {
    return reportError(e, flags.debug === true);
  }
}

function reportError(e: unknown, debug: boolean): number {
  if (e instanceof InputError) {
    process.stderr.write(`finseg: ${e.message}\n`);
    for (const d of e.detail) process.stderr.write(`  ${d}\n`);
    if (debug) process.stderr.write(`${e.stack}\n`);
    return 2;
  }
  const code = (e as { code?: string }).code;
  if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) {
    process.stderr.write(`finseg: ${(e as Error).message}\n  run finseg --help for usage\n`);
    return 2;
  }
  process.stderr.write(`finseg: ${e instanceof Error ? e.message : String(e)}\n`);
  if (debug && e instanceof Error) process.stderr.write(`${e.stack}\n`);
  else process.stderr.write('  (run with --debug for the stack trace)\n');
  return 1;
}

async function run(command: string, flags: Flags, logger: Logger): Promise<number> {
  switch (command) {
    case 'demo': {
      const result = await demoJob({ root: process.cwd(), logger, now: () => new Date() });
      process.stdout.write(
        [
          '',
          `finseg demo finished in ${result.seconds.toFixed(1)} s`,
          `  training data   ${result.trainData}`,
          `  model bundle    ${result.bundleDir}`,
          `  scores          ${result.scoresFile}`,
          `  report          ${result.report.markdown}`,
          `  segments        ${result.report.json}`,
          '',
        ].join('\n'),
      );
      return 0;
    }
    case 'generate': {
      const format = (flags.format ?? 'parquet') as Format;
      if (format !== 'parquet' && format !== 'csv') throw new InputError(`--format must be parquet or csv, got ${flags.format}`);
      const summary = await generateDataset(
        need(flags, 'out', command),
        {
          ...defaultGenerateParams,
          customers: intFlag(flags, 'customers', defaultGenerateParams.customers),
          eventsPerCustomer: intFlag(flags, 'events', defaultGenerateParams.eventsPerCustomer),
          seed: intFlag(flags, 'seed', defaultGenerateParams.seed),
          idPrefix: flags.prefix ?? defaultGenerateParams.idPrefix,
        },
        format,
        logger,
      );
      process.stdout.write(`${JSON.stringify(summary.rows)} → ${summary.dir}\n`);
      return 0;
    }
    case 'validate': {
      const dataDir = need(flags, 'data', command);
      const config = loadConfig(flags.config ?? null);
      const conn = await openDuck();
      try {
        const result = await ingest(conn, dataDir, { ...config.ingest, quarantineLimit: Number.POSITIVE_INFINITY }, null, quietLogger);
        process.stdout.write(`as of ${result.asOf}\n`);
        let over = false;
        for (const t of Object.values(result.tables)) {
          const share = t.read ? t.quarantined / t.read : 0;
          over ||= share > config.ingest.quarantineLimit;
          process.stdout.write(`${t.table.padEnd(14)} read ${t.read}  accepted ${t.accepted}  quarantined ${t.quarantined}${t.quarantined ? `  (${formatReasons(t.byReason)})` : ''}\n`);
        }
        for (const t of result.absentTables) process.stdout.write(`${t.padEnd(14)} absent\n`);
        return over ? 2 : 0;
      } finally {
        conn.closeSync();
      }
    }
    case 'train': {
      const config = loadConfig(flags.config ?? null);
      if (flags.k !== undefined) config.cluster.k = intFlag(flags, 'k', 0);
      if (flags.seed !== undefined) config.seed = intFlag(flags, 'seed', config.seed);
      const outcome = await trainJob({
        dataDir: need(flags, 'data', command),
        registry: flags.out ?? 'models',
        config,
        configSource: flags.config ? resolve(flags.config) : 'defaults',
        quarantineRoot: join('data', 'quarantine'),
        logger,
        now: () => new Date(),
      });
      const report = writeReport(outcome.bundleDir, outcome.manifest, loadBundle(outcome.bundleDir).states['segments.json'] as SegmentsState);
      process.stdout.write(`${outcome.bundleDir}\n${report.markdown}\n`);
      return 0;
    }
    case 'score': {
      const result = await scoreJob({
        modelPath: need(flags, 'model', command),
        dataDir: need(flags, 'data', command),
        outFile: need(flags, 'out', command),
        config: flags.config ? loadConfig(flags.config) : null,
        quarantineDir: join('data', 'quarantine', `score-${Date.now()}`),
        logger,
      });
      process.stdout.write(`${result.outFile}\n`);
      return 0;
    }
    case 'report': {
      const modelPath = need(flags, 'model', command);
      if (!existsSync(modelPath)) throw new InputError(`--model ${modelPath} does not exist`);
      const bundle = loadBundle(modelPath);
      const report = writeReport(bundle.dir, bundle.manifest, bundle.states['segments.json'] as SegmentsState);
      process.stdout.write(`${report.markdown}\n${report.json}\n`);
      return 0;
    }
    default:
      throw new InputError(`unknown command "${command}"`, ['commands: demo, generate, validate, train, score, report; run finseg --help']);
  }
}
