/**
 * One benchmark job in its own process, so its peak RSS is its own: `train DATA REGISTRY`,
 * `score BUNDLE DATA OUT` or `floor DATA` (the DuckDB scan floor, bench/floor.ts). Progress goes to stderr; the last stdout
 * line is the result as JSON.
 */
import { defaultConfig } from '../pipeline/config/config.ts';
import { stderrLogger } from '../pipeline/core/log.ts';
import { scoreJob } from '../pipeline/jobs/score.ts';
import { trainJob } from '../pipeline/jobs/train.ts';
import { scanFloor } from './floor.ts';

const [command, ...args] = process.argv.slice(2);
const logger = stderrLogger();

if (command === 'train') {
  const [dataDir, registry] = args as [string, string];
  const outcome = await trainJob({
    dataDir,
    registry,
    config: defaultConfig(),
    configSource: 'defaults',
    quarantineRoot: `${registry}/quarantine`,
    logger,
    now: () => new Date(),
  });
  const metrics = outcome.manifest.metrics as Record<string, unknown>;
  const classifier = metrics.classifier as { heldOutAccuracy: number; nTrain: number; nHeldOut: number; epochs: number };
  // The manifest's config block is validated on load, not typed here: read the three fields the reference needs.
  const config = outcome.manifest.config as { classify: { batchSize: number; learningRate: number }; cluster: { restarts: number } };
  process.stdout.write(
    `${JSON.stringify({
      job: 'train',
      bundleDir: outcome.bundleDir,
      timings: outcome.timings,
      customers: metrics.customers,
      k: metrics.k,
      pcaComponents: metrics.pcaComponents,
      inertia: metrics.inertia,
      silhouette: metrics.silhouette,
      plantedArchetypeAri: metrics.plantedArchetypeAri,
      classifier: { heldOutAccuracy: classifier.heldOutAccuracy, nTrain: classifier.nTrain, nHeldOut: classifier.nHeldOut, epochs: classifier.epochs, batchSize: config.classify.batchSize, learningRate: config.classify.learningRate },
      restarts: config.cluster.restarts,
    })}\n`,
  );
} else if (command === 'score') {
  const [modelPath, dataDir, outFile] = args as [string, string, string];
  const result = await scoreJob({ modelPath, dataDir, outFile, config: null, quarantineDir: null, logger });
  process.stdout.write(`${JSON.stringify({ job: 'score', rows: result.rows, outFile, timings: result.timings })}\n`);
} else if (command === 'floor') {
  process.stdout.write(`${JSON.stringify(await scanFloor(args[0]!))}\n`);
} else {
  process.stderr.write('usage: job.ts train DATA REGISTRY | score BUNDLE DATA OUT | floor DATA\n');
  process.exitCode = 2;
}
