/** demo: generate → train → score → report, on default settings in the working folder (what npm start runs). */
import { resolve } from 'node:path';
import { defaultConfig } from '../config/config.ts';
import type { Logger } from '../core/log.ts';
import { defaultGenerateParams, generateDataset } from '../generate/generate.ts';
import { writeReport, type ReportFiles } from '../10-report/report.ts';
import { modelReportInput } from '../model/report-input.ts';
import { trainJob } from '../jobs/train.ts';
import { scoreJob } from '../jobs/score.ts';
import { evaluateJob } from '../jobs/evaluate.ts';

/** Size of the batch of new customers the demo scores. */
const DEMO_NEW_CUSTOMERS = 2000;

export interface DemoResult {
  trainData: string;
  newData: string;
  bundleDir: string;
  scoresFile: string;
  evaluationFile: string;
  report: ReportFiles;
  seconds: number;
}

/** generate → train → score a batch of new customers (another seed, other ids) → evaluate the planted campaigns → report. */
export async function demoJob(opts: { root: string; logger: Logger; now: () => Date }): Promise<DemoResult> {
  const t0 = Date.now();
  const { logger } = opts;
  const trainData = resolve(opts.root, 'data/generated/demo/train');
  const newData = resolve(opts.root, 'data/generated/demo/new');
  logger.info(`demo 1/4: generating ${defaultGenerateParams.customers} customers → ${trainData}`);
  await generateDataset(trainData, defaultGenerateParams, 'parquet', logger);
  logger.info(`demo 1/4: generating ${DEMO_NEW_CUSTOMERS} new customers (another seed) → ${newData}`);
  await generateDataset(newData, { ...defaultGenerateParams, customers: DEMO_NEW_CUSTOMERS, seed: defaultGenerateParams.seed + 1000, idPrefix: 'N' }, 'parquet', logger);

  logger.info('demo 2/4: training');
  const config = defaultConfig();
  const outcome = await trainJob({
    dataDir: trainData,
    registry: resolve(opts.root, 'models'),
    config,
    configSource: 'defaults',
    quarantineRoot: resolve(opts.root, 'data/quarantine'),
    logger,
    now: opts.now,
  });

  logger.info('demo 3/4: scoring the new customers');
  const scoresFile = resolve(opts.root, 'data/scores/demo-new-customers.parquet');
  await scoreJob({ modelPath: outcome.bundleDir, dataDir: newData, outFile: scoresFile, config: null, quarantineDir: resolve(opts.root, 'data/quarantine'), logger });

  logger.info('demo 4/4: measuring the planted campaigns (finseg evaluate) and writing the report');
  const evaluated = await evaluateJob({ modelPath: outcome.bundleDir, dataDir: trainData, actionsFile: null, scoresFile: null, outFile: null, config: null, quarantineDir: resolve(opts.root, 'data/quarantine'), logger });
  const input = modelReportInput(outcome.manifest, outcome.states);
  const report = await writeReport(outcome.bundleDir, { ...input, states: { ...input.states, evaluation: evaluated.evaluation } });
  return { trainData, newData, bundleDir: outcome.bundleDir, scoresFile, evaluationFile: evaluated.outFile, report, seconds: (Date.now() - t0) / 1000 };
}
