/**
 * `finseg train`: read the training customers, fit the model, write it as a bundle and export the
 * training customers' segments beside its report.
 */
import type { FinsegConfig } from '../config/config.ts';
import type { Logger } from '../core/log.ts';
import { StageClock } from '../core/timings.ts';
import { fitModel } from '../model/fit.ts';
import { writeModel } from '../model/write.ts';
import { exportTrainingAssignments, openTrainingRun, trainOutcome, type TrainOutcome } from '../io/training-run.ts';

export type { TrainOutcome } from '../io/training-run.ts';

/** What a train reads, where it writes, and its settings. */
export interface TrainOptions {
  dataDir: string;
  /** The model registry folder; the bundle goes to `<registry>/<version>/`. */
  registry: string;
  config: FinsegConfig;
  /** Where the config came from (a path or "defaults"), recorded in the manifest. */
  configSource: string;
  /** Root of quarantine output; rows go to `<root>/<input fingerprint>/`, once per input (01-ingest/quarantine.ts). */
  quarantineRoot: string;
  logger: Logger;
  /** The clock, passed in so tests can fix it. */
  now: () => Date;
  /** A precomputed feature table (pipeline/02-features/feature-file.ts) used instead of ingest + features; `dataDir` is then only where truth.csv is looked for. */
  featureFile?: string;
}

/** Ingest → features → fitModel → bundle → the training assignments export. */
export async function trainJob(opts: TrainOptions): Promise<TrainOutcome> {
  const { config, logger } = opts;
  const startedAt = opts.now();
  const clock = new StageClock('train', logger);
  const run = await openTrainingRun({ dataDir: opts.dataDir, ...(opts.featureFile ? { featureFile: opts.featureFile } : {}), config, quarantineRoot: opts.quarantineRoot, logger, clock });
  try {
    const fitted = await fitModel(run.input, config, run.sidecars);
    const written = writeModel(opts.registry, fitted, { startedAt, configSource: opts.configSource, input: await run.inputRecord(), parentVersion: null });
    logger.info(`bundle written: ${written.bundleDir}`);
    // Only train has every customer, so the training assignments are exported now, beside the report (docs/report.md).
    await exportTrainingAssignments(run.conn, written.bundleDir, fitted);
    clock.lap('bundle');
    return trainOutcome(fitted, written, clock.finish());
  } finally {
    await run.close();
  }
}
