import { parseArgs, type ParseArgsConfig } from 'node:util';
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { dirname, join, relative, resolve } from 'node:path';
import { loadConfig, type FinsegConfig } from '../config/config.ts';
import { InputError } from '../core/errors.ts';
import { quietLogger, stderrLogger, type Logger } from '../core/log.ts';
import { defaultGenerateParams, generateDataset, type Format } from '../generate/generate.ts';
import { dataDirFrom, validateCommand, withAsOf } from '../01-ingest/commands.ts';
import { initCommand } from '../01-ingest/init.ts';
import { generateDirtyDataset } from '../generate/dirty.ts';
import { trainJob } from '../jobs/train.ts';
import { scoreJob } from '../jobs/score.ts';
import { reportJob } from '../jobs/report.ts';
import { modelsJob } from '../jobs/models.ts';
import { bundleFeatureParams } from '../model/apply.ts';
import { loadModel } from '../model/load.ts';
import { featureTableSql, writeFeatureTable } from '../02-features/feature-file.ts';
import { validateProfileTable } from '../02-features/profile-table.ts';
import { ingest } from '../01-ingest/ingest.ts';
import { openDuck } from '../core/duck.ts';
import { parsePartition } from '../core/partition.ts';
import { demoJob } from '../jobs/demo.ts';
import { writeReport } from '../10-report/report.ts';
import { LANGS, parseLang, type Lang } from '../10-report/i18n.ts';
import { generateDriftSnapshot } from '../generate/drift.ts';
import { defaultVendorExportParams, generateVendorExports, parseShapes } from '../generate/vendor-export.ts';
import { RegistryBusyError } from '../registry/registry.ts';
import { RETRAIN_EXIT, retrainJob } from '../jobs/retrain.ts';
import { ScheduleBusyError, scheduleJob } from '../jobs/schedule.ts';

const HELP = `finseg — customer segmentation for a financial-software vendor

Usage: finseg <command> [options]

Commands:
  demo        generate data, train, score new customers and write the report (what npm start runs)
  generate    write a seeded synthetic data set        --out DIR [--customers N] [--seed S] [--format parquet|csv] [--dirty RATE]
  init        write a commented starting config        --data DIR [--out finseg.config.json]
  validate    check a data folder against the contract --data DIR [--config FILE]   (exit 2 over the quarantine limit)
  train       train a model bundle                     --data DIR [--out models/] [--config FILE] [--k N]
              (--data may be left out when the config names "ingest.dataDir")
              or from a precomputed feature table      --features FILE.parquet|.csv|DIR [--as-of YYYY-MM-DD] …
  score       score customers with a bundle            --model DIR --data DIR --out FILE.parquet|.csv
              or from a feature table, one partition   --model DIR --features FILE [--partition i/n] --out FILE
  features    write the feature table of a data folder --data DIR --out FILE.parquet|.csv [--config FILE] [--as-of D]
              [--model DIR: a table to score with this bundle, measured with its feature settings and home currency]
  features-sql  print the feature SQL for Spark / Trino  --as-of YYYY-MM-DD [--config FILE] [--model DIR]   (docs/scale-out.md)
  report      write the HTML report and its exports    --model DIR [--lang en|zh] [--open]
              (--lang en: index.html + report.md; zh: index.zh.html + report.zh.md; train writes both)
  retrain     train a candidate, compare it with production, promote it if the gates pass
                                                       --data DIR [--registry models/] [--config FILE]
  schedule    run retrain on a cron expression, one JSON line per run
                                                       --cron "0 3 * * 1" retrain --data DIR [--registry models/] [--max-runs N]
  models      the registry: list | show V | promote V | rollback | prune   [--registry models/] [--json]
  generate --drift  a later snapshot of a generated base  --from DIR --out DIR [--months 3] [--seed S]
  generate --shape  vendor-shaped exports + outcomes.csv  --shape usage-only|transactions-only|both|all --out DIR
                    [--customers N] [--seed S]   (docs/export-shapes.md)

Common options: --quiet (no progress), --debug (stack traces), --help; validate, train, score and features take --as-of YYYY-MM-DD
Exit codes: 0 success, 1 failure, 2 bad usage or input; retrain: 0 promoted, 3 not promoted
(gates failed, production unchanged), 4 another writer holds the registry; schedule: 4 when
another scheduler runs for the registry.
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
  features: { type: 'string' },
  partition: { type: 'string' },
  config: { type: 'string' },
  customers: { type: 'string' },
  events: { type: 'string' },
  seed: { type: 'string' },
  format: { type: 'string' },
  prefix: { type: 'string' },
  k: { type: 'string' },
  dirty: { type: 'string' },
  'as-of': { type: 'string' },
  lang: { type: 'string' },
  open: { type: 'boolean' },
  registry: { type: 'string' },
  cron: { type: 'string' },
  'max-runs': { type: 'string' },
  drift: { type: 'boolean' },
  shape: { type: 'string' },
  from: { type: 'string' },
  months: { type: 'string' },
  json: { type: 'boolean' },
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

/** The report language from --lang (default en). */
function langFlag(flags: Flags): Lang {
  if (flags.lang === undefined) return 'en';
  const lang = parseLang(flags.lang);
  if (!lang) throw new InputError(`--lang must be one of ${LANGS.join(', ')}, got ${JSON.stringify(flags.lang)}`);
  return lang;
}

/** Retrain settings from the flags: --config when given, else production's own (retrainJob reads it). */
function retrainOptions(flags: Flags, command: string, logger: Logger): Parameters<typeof retrainJob>[0] {
  return {
    dataDir: need(flags, 'data', command),
    registry: flags.registry ?? flags.out ?? 'models',
    config: flags.config ? loadConfig(flags.config) : null,
    configSource: flags.config ? resolve(flags.config) : 'defaults',
    quarantineRoot: join('data', 'quarantine'),
    logger,
    now: () => new Date(),
  };
}

function intFlag(flags: Flags, name: keyof Flags, fallback: number): number {
  const v = flags[name];
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InputError(`--${name} must be a non-negative integer, got ${JSON.stringify(v)}`);
  return n;
}

/** Runs one CLI invocation and returns its exit code; all output goes to stdout/stderr. */
/**
 * The config of `features` / `features-sql`: --config (or the defaults), and with --model the
 * bundle's feature settings and training home currency (bundleFeatureParams), so that a table
 * made for scoring measures foreign_share against the currency the model was trained on, not the
 * batch's most common one. The ingest settings stay those of --config, or the bundle's without
 * --config, as in `score`.
 */
function scoringConfig(flags: Flags): FinsegConfig {
  if (flags.model === undefined) return loadConfig(flags.config ?? null);
  const model = loadModel(flags.model);
  const base = flags.config ? loadConfig(flags.config) : structuredClone({ ...model.config, ingest: { ...model.config.ingest, asOf: null } });
  return { ...base, features: bundleFeatureParams(model) };
}

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
    return await run(command, flags, logger, parsed.positionals.slice(1));
  } catch (e) {
    return reportError(e, flags.debug === true);
  }
}

function reportError(e: unknown, debug: boolean): number {
  // One writer per registry, one scheduler per registry: the second exits at once, naming the first.
  if (e instanceof RegistryBusyError || e instanceof ScheduleBusyError) {
    process.stderr.write(`finseg: ${e.message}\n  nothing was changed; try again when it has finished\n`);
    return RETRAIN_EXIT.busy;
  }
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

async function run(command: string, flags: Flags, logger: Logger, args: string[] = []): Promise<number> {
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
          `  report          ${result.report.html}`,
          `  markdown        ${result.report.markdown}`,
          ...(result.report.pages.zh ? [`  report (zh)     ${result.report.pages.zh.html}`, `  markdown (zh)   ${result.report.pages.zh.markdown}`] : []),
          `  segments        ${result.report.json}`,
          '',
        ].join('\n'),
      );
      return 0;
    }
    case 'generate': {
      const format = (flags.format ?? 'parquet') as Format;
      if (format !== 'parquet' && format !== 'csv') throw new InputError(`--format must be parquet or csv, got ${flags.format}`);
      const generateParams = {
        ...defaultGenerateParams,
        customers: intFlag(flags, 'customers', defaultGenerateParams.customers),
        eventsPerCustomer: intFlag(flags, 'events', defaultGenerateParams.eventsPerCustomer),
        seed: intFlag(flags, 'seed', defaultGenerateParams.seed),
        idPrefix: flags.prefix ?? defaultGenerateParams.idPrefix,
      };
      if (flags.drift) {
        const summary = await generateDriftSnapshot(
          need(flags, 'from', 'generate --drift'),
          need(flags, 'out', 'generate --drift'),
          { ...(flags.months !== undefined ? { months: intFlag(flags, 'months', 3) } : {}), ...(flags.seed !== undefined ? { seed: intFlag(flags, 'seed', 0) } : {}) },
          logger,
          flags.format === undefined ? undefined : format,
        );
        process.stdout.write(`${JSON.stringify(summary.rows)} → ${summary.dir}\nas of ${summary.asOf} (${summary.elapsedDays} days after ${summary.asOfBefore}); movements ${JSON.stringify(summary.counts)} → ${join(summary.dir, 'movements.csv')}\n`);
        return 0;
      }
      if (flags.shape !== undefined) {
        const out = need(flags, 'out', 'generate --shape');
        const summary = await generateVendorExports(out, parseShapes(flags.shape), generateParams, { ...defaultVendorExportParams, seed: generateParams.seed }, logger, intFlag(flags, 'months', 3));
        for (const e of summary.exports) process.stdout.write(`${e.shape}: ${e.dir} (outcomes: ${e.outcomes})\n`);
        return 0;
      }
      if (flags.dirty !== undefined) {
        const rate = Number(flags.dirty);
        if (!Number.isFinite(rate)) throw new InputError(`--dirty must be a share such as 0.01, got ${JSON.stringify(flags.dirty)}`);
        const summary = await generateDirtyDataset(need(flags, 'out', command), generateParams, format, rate, logger);
        process.stdout.write(`${JSON.stringify(summary.rows)} → ${summary.dir}\nplanted defects ${JSON.stringify(summary.dirty.counts)} → ${summary.dirty.file}\ncheck with: finseg validate --data ${summary.dir} --as-of ${summary.dirty.asOf}\n`);
        return 0;
      }
      const summary = await generateDataset(need(flags, 'out', command), generateParams, format, logger);
      process.stdout.write(`${JSON.stringify(summary.rows)} → ${summary.dir}\n`);
      return 0;
    }
    case 'validate': {
      const config = loadConfig(flags.config ?? null);
      if (flags['as-of'] !== undefined) config.ingest = withAsOf(config.ingest, flags['as-of']);
      const dataDir = dataDirFrom(flags.data, config.ingest, command);
      // A profile table is checked as train reads it; the contract tables otherwise.
      const { text, exitCode } = config.profileTable.file
        ? await validateProfileTable(dataDir, config.profileTable, config.ingest, join('data', 'quarantine'))
        : await validateCommand(dataDir, config.ingest, join('data', 'quarantine'));
      process.stdout.write(text);
      return exitCode;
    }
    case 'init': {
      const dataDir = need(flags, 'data', command);
      const out = flags.out ?? 'finseg.config.json';
      const result = await initCommand(dataDir, out, relative(dirname(resolve(out)), resolve(dataDir)) || '.');
      for (const note of result.notes) logger.info(`init: ${note}`);
      process.stdout.write(`${out}\n`);
      return 0;
    }
    case 'train': {
      const config = loadConfig(flags.config ?? null);
      if (flags.k !== undefined) config.cluster.k = intFlag(flags, 'k', 0);
      if (flags.seed !== undefined) config.seed = intFlag(flags, 'seed', config.seed);
      if (flags['as-of'] !== undefined) config.ingest = withAsOf(config.ingest, flags['as-of']);
      if (flags.features !== undefined && flags.data !== undefined) throw new InputError('finseg train: give --data or --features, not both');
      const featureFile = flags.features === undefined ? undefined : need(flags, 'features', command);
      const outcome = await trainJob({
        // With a feature table, its folder is where a truth.csv (generated data) would be found.
        dataDir: featureFile ? dirname(resolve(featureFile)) : dataDirFrom(flags.data, config.ingest, command),
        ...(featureFile ? { featureFile } : {}),
        registry: flags.out ?? 'models',
        config,
        configSource: flags.config ? resolve(flags.config) : 'defaults',
        quarantineRoot: join('data', 'quarantine'),
        logger,
        now: () => new Date(),
      });
      // Both languages (a second page costs a second or two); --lang picks the page printed.
      const lang = langFlag(flags);
      const report = await writeReport(outcome.bundleDir, outcome.manifest, outcome.states['segments.json'], { langs: [lang, ...LANGS.filter((l) => l !== lang)] });
      process.stdout.write(`${outcome.bundleDir}\n${report.html}\n`);
      return 0;
    }
    case 'score': {
      if (flags.features !== undefined && flags.data !== undefined) throw new InputError('finseg score: give --data or --features, not both');
      const partition = flags.partition === undefined ? null : parsePartition(flags.partition);
      const result = await scoreJob({
        modelPath: need(flags, 'model', command),
        dataDir: flags.features === undefined ? need(flags, 'data', command) : null,
        featureFile: flags.features === undefined ? null : need(flags, 'features', command),
        partition,
        asOf: flags['as-of'] === undefined ? null : withAsOf(loadConfig(null).ingest, flags['as-of']).asOf,
        outFile: need(flags, 'out', command),
        config: flags.config ? loadConfig(flags.config) : null,
        quarantineDir: join('data', 'quarantine'),
        logger,
      });
      process.stdout.write(`${result.outFile}\n`);
      return 0;
    }
    case 'features': {
      // The feature table finseg computes itself: the input `--features` takes, and a check for an engine's output.
      // With --model it is measured as `score --data` would measure it for that bundle (scoringConfig).
      const config = scoringConfig(flags);
      if (flags['as-of'] !== undefined) config.ingest = withAsOf(config.ingest, flags['as-of']);
      const dataDir = dataDirFrom(flags.data, config.ingest, command);
      const out = need(flags, 'out', command);
      const conn = await openDuck();
      try {
        const ingested = await ingest(conn, dataDir, config.ingest, join('data', 'quarantine'), logger);
        const written = await writeFeatureTable(conn, ingested.asOf, config.features, ingested.absentTables, out);
        logger.info(`features: ${written.rows} customers × ${written.columns.length} columns as of ${ingested.asOf} → ${out}`);
      } finally {
        conn.closeSync();
      }
      process.stdout.write(`${out}\n`);
      return 0;
    }
    case 'features-sql': {
      const config = scoringConfig(flags);
      const asOf = withAsOf(config.ingest, need(flags, 'as-of', command)).asOf!;
      process.stdout.write(`${featureTableSql(asOf, config.features, 'portable')};\n`);
      return 0;
    }
    case 'report': {
      const modelPath = need(flags, 'model', command);
      if (!existsSync(modelPath)) throw new InputError(`--model ${modelPath} does not exist`);
      const report = await reportJob(modelPath, { lang: langFlag(flags) });
      // --open prints only the page's file URL, for a browser or `xdg-open "$(finseg report … --open)"`.
      if (flags.open) process.stdout.write(`${pathToFileURL(resolve(report.html)).href}\n`);
      else process.stdout.write(`${[report.html, report.markdown, report.json, report.csv, report.assignmentsCsv, report.assignmentsParquet].filter(Boolean).join('\n')}\n`);
      return 0;
    }
    case 'retrain': {
      const outcome = await retrainJob(retrainOptions(flags, command, logger));
      process.stdout.write(`${outcome.status} ${outcome.version}\nproduction ${outcome.production ?? '(none)'}\n${outcome.report.markdown}\n`);
      return outcome.status === 'promoted' ? RETRAIN_EXIT.promoted : RETRAIN_EXIT.notPromoted;
    }
    case 'schedule': {
      if (args[0] !== 'retrain') throw new InputError('finseg schedule runs retrain: finseg schedule --cron "0 3 * * 1" retrain --data DIR', [args[0] ? `got "${args[0]}"` : 'no command named']);
      const options = retrainOptions(flags, command, logger);
      const stop = new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      });
      await scheduleJob({
        cron: need(flags, 'cron', command),
        maxRuns: flags['max-runs'] === undefined ? null : intFlag(flags, 'max-runs', 1),
        registry: options.registry,
        retrain: () => retrainJob(options),
        emit: (line) => process.stdout.write(`${line}\n`),
        logger,
        now: () => new Date(),
        stop,
      });
      return 0;
    }
    case 'models': {
      const registry = flags.registry ?? 'models';
      const result = modelsJob(args[0], args.slice(1), registry, { json: flags.json === true, now: () => new Date(), retention: loadConfig(flags.config ?? null).retrain.retention });
      process.stdout.write(result.text);
      return result.exitCode;
    }
    default:
      throw new InputError(`unknown command "${command}"`, ['commands: demo, generate, init, validate, train, score, features, features-sql, report, retrain, schedule, models; run finseg --help']);
  }
}
