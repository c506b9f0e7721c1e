/**
 * One handler per CLI command: it turns the flags into a job's options, runs the job and prints
 * what the command prints. The work itself is in the jobs (and, for demo and schedule, which run
 * several jobs, in this folder).
 */
import { existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { dataDirFrom, validateCommand, withAsOf } from '../jobs/validate.ts';
import { initCommand } from '../jobs/init.ts';
import { validateProfileTable } from '../02-features/profile-table.ts';
import { writeReport } from '../10-report/report.ts';
import { modelReportInput } from '../model/report-input.ts';
import { LANGS } from '../10-report/i18n.ts';
import { loadConfig, type FinsegConfig } from '../config/config.ts';
import { InputError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { partitionFlag, partitionOutName } from '../core/partition.ts';
import { defaultGenerateParams, type Format } from '../generate/generate.ts';
import { parseShapes } from '../generate/vendor-export.ts';
import { featuresJob, featuresSqlJob } from '../jobs/features.ts';
import { generateJob, type GenerateRequest } from '../jobs/generate.ts';
import { RETRAIN_EXIT, retrainJob, type RetrainOptions } from '../jobs/retrain.ts';
import { SCORE_EXIT_DRIFTED, scoreJob } from '../jobs/score.ts';
import { driftJob } from '../jobs/drift.ts';
import { driftSummaryPath } from '../09-drift/scoring.ts';
import { reportJob } from '../jobs/report.ts';
import { evaluateJob } from '../jobs/evaluate.ts';
import { modelsJob } from '../jobs/models.ts';
import { mergeScoresJob } from '../jobs/merge-scores.ts';
import { quarantineJob } from '../jobs/quarantine.ts';
import { bundleFeatureParams } from '../model/apply.ts';
import { loadModel, trainedSettings } from '../model/load.ts';
import { trainJob } from '../jobs/train.ts';
import { demoJob } from './demo.ts';
import { dialectFlag, intFlag, langFlag, need, type Flags } from './flags.ts';
import { scheduleJob } from './schedule.ts';

/** A command: flags, logger and the positionals after the command name in; the exit code out. */
export type Command = (flags: Flags, logger: Logger, args: string[]) => Promise<number>;

const QUARANTINE_ROOT = join('data', 'quarantine');
/** The quarantine root: --quarantine DIR, else data/quarantine under the current folder. */
const quarantineRoot = (flags: Flags): string => flags.quarantine ?? QUARANTINE_ROOT;

async function demo(_flags: Flags, logger: Logger): Promise<number> {
  const result = await demoJob({ root: process.cwd(), logger, now: () => new Date() });
  process.stdout.write(
    [
      '',
      `finseg demo finished in ${result.seconds.toFixed(1)} s`,
      `  training data   ${result.trainData}`,
      `  model bundle    ${result.bundleDir}`,
      `  scores          ${result.scoresFile}`,
      `  evaluation      ${result.evaluationFile}`,
      `  scores' drift   ${driftSummaryPath(result.scoresFile)}`,
      `  report          ${result.report.html}`,
      `  markdown        ${result.report.markdown}`,
      ...(result.report.pages.zh ? [`  report (zh)     ${result.report.pages.zh.html}`, `  markdown (zh)   ${result.report.pages.zh.markdown}`] : []),
      `  segments        ${result.report.json}`,
      '',
    ].join('\n'),
  );
  return 0;
}

/** `--take-up RATE` of generate --drift (drift-takeup.ts): a share of the unchanged customers that take up a peer's module; validated with the other drift settings. */
function takeUpOption(flags: Flags): { takeUpRate?: number } {
  const raw = flags['take-up'];
  if (raw === undefined) return {};
  const rate = Number(raw);
  if (!Number.isFinite(rate)) throw new InputError(`--take-up must be a share such as 0.2, got ${JSON.stringify(raw)}`);
  return { takeUpRate: rate };
}

/** The generate request the flags describe: --drift, --shape, --dirty or a plain data set. */
function generateRequest(flags: Flags): GenerateRequest {
  const format = (flags.format ?? 'parquet') as Format;
  if (format !== 'parquet' && format !== 'csv') throw new InputError(`--format must be parquet or csv, got ${flags.format}`);
  const params = {
    ...defaultGenerateParams,
    customers: intFlag(flags, 'customers', defaultGenerateParams.customers),
    eventsPerCustomer: intFlag(flags, 'events', defaultGenerateParams.eventsPerCustomer),
    seed: intFlag(flags, 'seed', defaultGenerateParams.seed),
    idPrefix: flags.prefix ?? defaultGenerateParams.idPrefix,
  };
  if (flags.drift) {
    const from = need(flags, 'from', 'generate --drift');
    const out = need(flags, 'out', 'generate --drift');
    const options = { ...(flags.months !== undefined ? { months: intFlag(flags, 'months', 3) } : {}), ...(flags.seed !== undefined ? { seed: intFlag(flags, 'seed', 0) } : {}), ...takeUpOption(flags) };
    return { mode: 'drift', from, out, options, ...(flags.format === undefined ? {} : { format }) };
  }
  if (flags.shape !== undefined) {
    const out = need(flags, 'out', 'generate --shape');
    return { mode: 'shape', out, shapes: parseShapes(flags.shape), params, months: intFlag(flags, 'months', 3) };
  }
  if (flags.dirty !== undefined) {
    const rate = Number(flags.dirty);
    if (!Number.isFinite(rate)) throw new InputError(`--dirty must be a share such as 0.01, got ${JSON.stringify(flags.dirty)}`);
    return { mode: 'dirty', out: need(flags, 'out', 'generate'), params, format, rate };
  }
  return { mode: 'dataset', out: need(flags, 'out', 'generate'), params, format };
}

async function generate(flags: Flags, logger: Logger): Promise<number> {
  process.stdout.write(await generateJob(generateRequest(flags), logger));
  return 0;
}

async function validate(flags: Flags): Promise<number> {
  const config = loadConfig(flags.config ?? null);
  if (flags['as-of'] !== undefined) config.ingest = withAsOf(config.ingest, flags['as-of']);
  const dataDir = dataDirFrom(flags.data, config.ingest, 'validate');
  // A profile table is checked as train reads it; the contract tables otherwise.
  const { text, exitCode } = config.profileTable.file
    ? await validateProfileTable(dataDir, config.profileTable, config.ingest, quarantineRoot(flags))
    : await validateCommand(dataDir, config.ingest, quarantineRoot(flags));
  process.stdout.write(text);
  return exitCode;
}

async function init(flags: Flags, logger: Logger): Promise<number> {
  const dataDir = need(flags, 'data', 'init');
  const out = flags.out ?? 'finseg.config.json';
  const result = await initCommand(dataDir, out, relative(dirname(resolve(out)), resolve(dataDir)) || '.');
  for (const note of result.notes) logger.info(`init: ${note}`);
  process.stdout.write(`${out}\n`);
  return 0;
}

async function train(flags: Flags, logger: Logger): Promise<number> {
  const config = loadConfig(flags.config ?? null);
  if (flags.k !== undefined) config.cluster.k = intFlag(flags, 'k', 0);
  if (flags.seed !== undefined) config.seed = intFlag(flags, 'seed', config.seed);
  if (flags['as-of'] !== undefined) config.ingest = withAsOf(config.ingest, flags['as-of']);
  if (flags.features !== undefined && flags.data !== undefined) throw new InputError('finseg train: give --data or --features, not both');
  const featureFile = flags.features === undefined ? undefined : need(flags, 'features', 'train');
  const outcome = await trainJob({
    // With a feature table, its folder is where a truth.csv (generated data) would be found.
    dataDir: featureFile ? dirname(resolve(featureFile)) : dataDirFrom(flags.data, config.ingest, 'train'),
    ...(featureFile ? { featureFile } : {}),
    registry: flags.out ?? 'models',
    config,
    configSource: flags.config ? resolve(flags.config) : 'defaults',
    quarantineRoot: quarantineRoot(flags),
    logger,
    now: () => new Date(),
  });
  // Both languages (a second page costs a second or two); --lang picks the page printed.
  const lang = langFlag(flags);
  const report = await writeReport(outcome.bundleDir, modelReportInput(outcome.manifest, outcome.states), { langs: [lang, ...LANGS.filter((l) => l !== lang)] });
  process.stdout.write(`${outcome.bundleDir}\n${report.html}\n`);
  return 0;
}

async function score(flags: Flags, logger: Logger): Promise<number> {
  if (flags.features !== undefined && flags.data !== undefined) throw new InputError('finseg score: give --data or --features, not both');
  const partition = flags.partition === undefined ? null : partitionFlag(flags.partition, process.env);
  const result = await scoreJob({
    modelPath: need(flags, 'model', 'score'),
    dataDir: flags.features !== undefined ? null : flags.config && loadConfig(flags.config).ingest.postgres ? dataDirFrom(flags.data, loadConfig(flags.config).ingest, 'score') : need(flags, 'data', 'score'),
    featureFile: flags.features === undefined ? null : need(flags, 'features', 'score'),
    partition,
    asOf: flags['as-of'] === undefined ? null : withAsOf(loadConfig(null).ingest, flags['as-of']).asOf,
    outFile: partitionOutName(need(flags, 'out', 'score'), partition),
    config: flags.config ? loadConfig(flags.config) : null,
    quarantineDir: quarantineRoot(flags),
    logger,
  });
  process.stdout.write(`${result.outFile}\n`);
  // --strict: a drifted batch is still scored and written (marked in its drift summary), but the exit code says so.
  return flags.strict && result.drift.drifted ? SCORE_EXIT_DRIFTED : 0;
}

async function mergeScores(flags: Flags, logger: Logger): Promise<number> {
  const outcome = await mergeScoresJob(need(flags, 'parts', 'merge-scores'), need(flags, 'out', 'merge-scores'), logger);
  process.stdout.write(`${outcome.outFile}\n`);
  return 0;
}

async function drift(flags: Flags): Promise<number> {
  const result = driftJob(need(flags, 'model', 'drift'), need(flags, 'scores', 'drift'), { json: flags.json === true });
  process.stdout.write(result.text);
  return flags.strict && result.drifted ? SCORE_EXIT_DRIFTED : 0;
}

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
  const base = flags.config ? loadConfig(flags.config) : trainedSettings(model);
  return { ...base, features: bundleFeatureParams(model) };
}

async function features(flags: Flags, logger: Logger): Promise<number> {
  // With --model the table is measured as `score --data` would measure it for that bundle (scoringConfig).
  const config = scoringConfig(flags);
  if (flags['as-of'] !== undefined) config.ingest = withAsOf(config.ingest, flags['as-of']);
  const dataDir = dataDirFrom(flags.data, config.ingest, 'features');
  const out = need(flags, 'out', 'features');
  process.stdout.write(`${await featuresJob({ config, dataDir, outFile: out, quarantineRoot: quarantineRoot(flags), logger })}\n`);
  return 0;
}

async function featuresSql(flags: Flags): Promise<number> {
  const config = scoringConfig(flags);
  const asOf = withAsOf(config.ingest, need(flags, 'as-of', 'features-sql')).asOf!;
  process.stdout.write(featuresSqlJob(config, asOf, dialectFlag(flags, 'features-sql')));
  return 0;
}

async function report(flags: Flags): Promise<number> {
  const modelPath = need(flags, 'model', 'report');
  if (!existsSync(modelPath)) throw new InputError(`--model ${modelPath} does not exist`);
  const files = await reportJob(modelPath, { lang: langFlag(flags) }, flags.evaluation ?? null);
  // --open prints only the page's file URL, for a browser or `xdg-open "$(finseg report … --open)"`.
  if (flags.open) process.stdout.write(`${pathToFileURL(resolve(files.html)).href}\n`);
  else process.stdout.write(`${[files.html, files.markdown, files.json, files.csv, files.assignmentsCsv, files.assignmentsParquet].filter(Boolean).join('\n')}\n`);
  return 0;
}

async function evaluate(flags: Flags, logger: Logger): Promise<number> {
  const modelPath = need(flags, 'model', 'evaluate');
  if (!existsSync(modelPath)) throw new InputError(`--model ${modelPath} does not exist`);
  const config = flags.config ? loadConfig(flags.config) : null;
  if (config && flags['as-of'] !== undefined) config.ingest = withAsOf(config.ingest, flags['as-of']);
  const result = await evaluateJob({
    modelPath,
    dataDir: need(flags, 'data', 'evaluate'),
    actionsFile: flags.actions ?? null,
    scoresFile: flags.scores ?? null,
    outFile: flags.out ?? null,
    config,
    quarantineDir: quarantineRoot(flags),
    logger,
  });
  process.stdout.write(`${result.outFile}\n${result.markdownFile}\n`);
  return 0;
}

/** Retrain settings from the flags: --config when given, else production's own (retrainJob reads it). */
function retrainOptions(flags: Flags, command: string, logger: Logger): RetrainOptions {
  return {
    dataDir: need(flags, 'data', command),
    registry: flags.registry ?? flags.out ?? 'models',
    config: flags.config ? loadConfig(flags.config) : null,
    configSource: flags.config ? resolve(flags.config) : 'defaults',
    quarantineRoot: quarantineRoot(flags),
    logger,
    now: () => new Date(),
  };
}

async function retrain(flags: Flags, logger: Logger): Promise<number> {
  const outcome = await retrainJob(retrainOptions(flags, 'retrain', logger));
  process.stdout.write(`${outcome.status} ${outcome.version}\nproduction ${outcome.production ?? '(none)'}\n${outcome.report.markdown}\n`);
  return outcome.status === 'promoted' ? RETRAIN_EXIT.promoted : RETRAIN_EXIT.notPromoted;
}

async function schedule(flags: Flags, logger: Logger, args: string[]): Promise<number> {
  if (args[0] !== 'retrain') throw new InputError('finseg schedule runs retrain: finseg schedule --cron "0 3 * * 1" retrain --data DIR', [args[0] ? `got "${args[0]}"` : 'no command named']);
  const options = retrainOptions(flags, 'schedule', logger);
  const stop = new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await scheduleJob({
    cron: need(flags, 'cron', 'schedule'),
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

async function models(flags: Flags, _logger: Logger, args: string[]): Promise<number> {
  const result = modelsJob(args[0], args.slice(1), flags.registry ?? 'models', { json: flags.json === true, now: () => new Date(), retention: loadConfig(flags.config ?? null).retrain.retention });
  process.stdout.write(result.text);
  return result.exitCode;
}

async function quarantine(flags: Flags, _logger: Logger, args: string[]): Promise<number> {
  const keep = flags.keep === undefined ? null : intFlag(flags, 'keep', 0);
  process.stdout.write(await quarantineJob(args[0], { root: quarantineRoot(flags), json: flags.json === true, keep, dryRun: flags['dry-run'] === true }));
  return 0;
}

/** Every command by name, in the order `finseg --help` lists them. */
export const COMMANDS: Readonly<Record<string, Command>> = {
  demo,
  generate,
  init,
  validate,
  train,
  score,
  'merge-scores': mergeScores,
  drift,
  features,
  'features-sql': featuresSql,
  report,
  evaluate,
  retrain,
  schedule,
  models,
  quarantine,
};
