import { describe, expect, it, beforeAll } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfig } from '../../pipeline/config/config.ts';
import { openDuck, queryRows, sqlString } from '../../pipeline/core/duck.ts';
import { quietLogger } from '../../pipeline/core/log.ts';
import { defaultGenerateParams, generateDataset } from '../../pipeline/generate/generate.ts';
import { trainJob, type TrainOutcome } from '../../pipeline/jobs/train.ts';
import { scoreJob } from '../../pipeline/jobs/score.ts';
import { applyModel, type ApplicableModel, type Scores } from '../../pipeline/model/apply.ts';
import { ScoreThreads } from '../../pipeline/model/score-threads.ts';
import { categorize } from '../../pipeline/06-categorize/lenses.ts';
import { signupAttributes } from '../../pipeline/05-classify/coldstart.ts';
import { lensInputFrom } from '../../pipeline/model/lens-input.ts';
import { reportMarkdown, type ManifestView } from '../../pipeline/10-report/report.ts';
import type { Manifest } from '../../pipeline/registry/bundle.ts';

/**
 * One end-to-end run on generated data with planted archetypes: the pipeline must recover
 * them, the classifier must reproduce k-means, scoring must reproduce training, and the same
 * seed must give the same bundle.
 */
const work = mkdtempSync(join(tmpdir(), 'finseg-e2e-'));
const dataDir = join(work, 'data');
const config = defaultConfig();
let first: TrainOutcome;
let second: TrainOutcome;

const train = (registry: string, at: string) =>
  trainJob({ dataDir, registry: join(work, registry), config, configSource: 'defaults', quarantineRoot: join(work, 'quarantine'), logger: quietLogger, now: () => new Date(at) });

/** The first training run's states as a scoring model, without loading the bundle from disk. */
const inMemoryModel = (): ApplicableModel => ({ states: first.states, config, featureNames: first.features.featureNames });

beforeAll(async () => {
  await generateDataset(dataDir, { ...defaultGenerateParams, customers: 5000, seed: 11 }, 'parquet', quietLogger);
  first = await train('models-a', '2026-11-27T08:00:00Z');
  second = await train('models-b', '2026-11-27T09:30:00Z');
}, 600_000);

describe('end to end on generated data', () => {
  it('recovers the planted archetypes (adjusted Rand index >= 0.6)', () => {
    const ari = (first.manifest.metrics as { plantedArchetypeAri: number }).plantedArchetypeAri;
    expect(ari).toBeGreaterThanOrEqual(0.6);
  });

  it('at the demo noise level: ARI >= 0.8, the planted number of archetypes as k, and planted groups named as such', async () => {
    expect((first.manifest.metrics as { plantedArchetypeAri: number }).plantedArchetypeAri).toBeGreaterThanOrEqual(0.8);
    expect(first.states['cluster.json'].k).toBe(9);
    // The k-means segment drawn mostly from each planted archetype, found through truth.csv.
    const conn = await openDuck();
    const truthRows = await queryRows(conn, `SELECT customer_id, archetype FROM read_csv(${sqlString(join(dataDir, 'truth.csv'))}, all_varchar = true)`);
    conn.closeSync();
    const truth = new Map(truthRows.map((r) => [String(r.customer_id), String(r.archetype)]));
    const cardFor = (archetype: string) => {
      const counts = new Map<number, number>();
      first.customerIds.forEach((id, i) => {
        if (truth.get(id) === archetype) counts.set(first.labels[i]!, (counts.get(first.labels[i]!) ?? 0) + 1);
      });
      const position = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]![0];
      return first.states['segments.json'].cards[position]!;
    };
    const multinational = cardFor('multinational_group');
    expect(multinational.name.en).toMatch(/large .*· .*currenc/i);
    expect(multinational.name.zh).toMatch(/大型.*多币种/);
    expect(cardFor('platform_business').name.en).toMatch(/platform/i);
  });

  it('trains a classifier that agrees with k-means on >= 90% of held-out customers', () => {
    const acc = first.states['classifier.json'].metrics.heldOutAccuracy;
    expect(acc).toBeGreaterThanOrEqual(0.9);
    expect(first.states['classifier.json'].metrics.nHeldOut).toBeGreaterThan(500);
  });

  it('scores the training customers into exactly their training segments, from the saved bundle', async () => {
    const out = join(work, 'scores.csv');
    const { scores } = await scoreJob({ modelPath: first.bundleDir, dataDir, outFile: out, config: null, quarantineDir: null, logger: quietLogger });
    expect(scores.customerIds).toEqual(first.customerIds);
    // Customers with too little history (a few just-signed-up firms) are placed by the cold-start model, which
    // beats its baseline on this data, and flagged; all customers get the segment train reported for them.
    const cold = scores.coldStart;
    const coldState = first.states['coldstart.json'];
    expect(coldState.metrics.used).toBe(true);
    expect(cold.filter(Boolean).length).toBeGreaterThan(0);
    expect(cold.filter(Boolean).length).toBeLessThan(0.02 * cold.length);
    expect(cold.every((c, i) => c === (scores.history[i]! < coldState.minHistory && scores.inactive[i] !== true))).toBe(true);
    expect(scores.insufficientHistory.every((low, i) => low === scores.history[i]! < coldState.minHistory)).toBe(true);
    expect(Array.from(scores.segment)).toEqual(Array.from(first.reported));
    // Everyone else sits on its k-means segment.
    const ruled = (i: number) => cold[i] || scores.movedFromActive[i] || scores.unplaced[i];
    expect(Array.from(scores.segment).filter((_, i) => !ruled(i))).toEqual(Array.from(first.labels).filter((_, i) => !ruled(i)));
    const conn = await openDuck();
    const rows = await queryRows(conn, `SELECT count(*) AS n, count(DISTINCT segment_id) AS k FROM read_csv(${sqlString(out)})`);
    conn.closeSync();
    expect(rows[0]).toEqual({ n: first.customerIds.length, k: first.states['cluster.json'].k });
  });

  it('gives the same numbers from the loaded bundle as from the in-memory model', async () => {
    const { scores: fromDisk } = await scoreJob({ modelPath: first.bundleDir, dataDir, outFile: join(work, 's.parquet'), config: null, quarantineDir: null, logger: quietLogger });
    const inMemory = inMemoryModel();
    const lenses = categorize(lensInputFrom(first.features), config.lenses);
    const cold = { attributes: signupAttributes(first.features.attributes, lenses), history: fromDisk.history };
    const fromMemory = await applyModel(inMemory, { X: first.features.X, customerIds: first.features.customerIds, lenses, cold });
    expect(fromDisk.coldStart).toEqual(fromMemory.coldStart);
    expect(Array.from(fromDisk.probabilities.data)).toEqual(Array.from(fromMemory.probabilities.data));
    expect(Array.from(fromDisk.distance)).toEqual(Array.from(fromMemory.distance));
    expect(fromDisk.lenses).toEqual(fromMemory.lenses);
  });

  it('gives identical centroids and manifests (apart from timestamps) for the same seed', () => {
    expect(second.states['cluster.json'].centroids).toEqual(first.states['cluster.json'].centroids);
    expect(second.states['classifier.json'].weightDataBase64).toBe(first.states['classifier.json'].weightDataBase64);
    const strip = (m: Manifest) => {
      const { createdAt: _c, version, input, ...rest } = m;
      const { quarantineDir: _q, ...inputRest } = input as Record<string, unknown>;
      return { ...rest, contentHash: version.split('-').at(-1), input: inputRest };
    };
    expect(strip(second.manifest)).toEqual(strip(first.manifest));
  });

  it('puts the ARI and the classifier accuracy in manifest.json and report.md', () => {
    const manifest = JSON.parse(readFileSync(join(first.bundleDir, 'manifest.json'), 'utf8')) as Manifest;
    const metrics = manifest.metrics as { plantedArchetypeAri: number; classifier: { heldOutAccuracy: number } };
    const md = reportMarkdown(manifest as unknown as ManifestView, first.states['segments.json']);
    expect(md).toContain(`| adjusted Rand index vs planted archetypes | ${metrics.plantedArchetypeAri.toFixed(3)} |`);
    expect(md).toContain(`${(metrics.classifier.heldOutAccuracy * 100).toFixed(1)}%`);
    expect(first.states['segments.json'].cards).toHaveLength(first.states['cluster.json'].k);
  });
});

describe('score on two threads (score-threads.ts)', () => {
  // The training customers, with chunks small enough that both threads take many of each stage.
  const chunkRows = { preprocess: 128, assign: 256, classify: 256 };
  const states = () => ({ preprocess: first.states['preprocess.json'], cluster: first.states['cluster.json'], classifier: first.states['classifier.json'] });
  const score = async (threads: ScoreThreads, logger = quietLogger): Promise<Scores> => {
    const lenses = categorize(lensInputFrom(first.features), config.lenses);
    const cold = { attributes: signupAttributes(first.features.attributes, lenses), history: first.features.history };
    try {
      return await applyModel(inMemoryModel(), { X: first.features.X, customerIds: first.features.customerIds, lenses, cold }, { threads, logger });
    } finally {
      await threads.close();
    }
  };
  const same = (a: Scores, b: Scores) => {
    expect(Array.from(a.segment)).toEqual(Array.from(b.segment));
    expect(Array.from(a.distance)).toEqual(Array.from(b.distance));
    expect(Array.from(a.secondSegment)).toEqual(Array.from(b.secondSegment));
    expect(Array.from(a.margin)).toEqual(Array.from(b.margin));
    expect(Array.from(a.probabilities.data)).toEqual(Array.from(b.probabilities.data));
    expect(Array.from(a.confidence)).toEqual(Array.from(b.confidence));
    expect(a.coldStart).toEqual(b.coldStart);
    expect(a.unplaced).toEqual(b.unplaced);
    expect(a.movedFromActive).toEqual(b.movedFromActive);
  };

  it('gives exactly the one-thread scores when a helper thread computes part of every stage', async () => {
    expect(first.features.X.data.buffer).toBeInstanceOf(SharedArrayBuffer);
    const alone = await score(ScoreThreads.none());
    const helped = ScoreThreads.start(states(), first.features.X.rows, { minRows: 0, chunkRows, helperFirst: true });
    await helped.ready();
    expect(helped.helping).toBe(true);
    const split = await score(helped);
    expect(helped.failure).toBeNull();
    // 5000 rows: 40 + 20 + 20 chunks, at least one of each stage's computed by the helper.
    expect(helped.helperChunks).toBeGreaterThanOrEqual(3);
    same(split, alone);
  }, 60_000);

  it('recomputes what a failing helper left on the main thread, says so, and the scores do not change', async () => {
    const alone = await score(ScoreThreads.none());
    const warnings: string[] = [];
    // It computes a chunk of preprocess, then fails on the chunk of assign it claims.
    const failing = ScoreThreads.start(states(), first.features.X.rows, { minRows: 0, chunkRows, failAfterChunks: 1, helperFirst: true });
    await failing.ready();
    const split = await score(failing, { info: () => {}, warn: (m) => warnings.push(m) });
    expect(failing.failure?.message).toBe('injected failure (test)');
    expect(warnings.join('\n')).toMatch(/score helper thread stopped \(injected failure \(test\)\); its rows were scored on the main thread/);
    same(split, alone);
  }, 60_000);

  it('scores on the main thread alone, and says so, when the helper cannot load', async () => {
    const alone = await score(ScoreThreads.none());
    const warnings: string[] = [];
    const broken = ScoreThreads.start(states(), first.features.X.rows, { minRows: 0, chunkRows, failOnLoad: true });
    await broken.ready();
    expect(broken.helping).toBe(false);
    const split = await score(broken, { info: () => {}, warn: (m) => warnings.push(m) });
    expect(broken.helperChunks).toBe(0);
    expect(warnings.join('\n')).toMatch(/score helper thread stopped \(injected load failure \(test\)\)/);
    same(split, alone);
  }, 60_000);

  it('stays on one thread below the row threshold or with FINSEG_THREADS=1', async () => {
    expect(ScoreThreads.start(states(), 1000).helping).toBe(false);
    process.env['FINSEG_THREADS'] = '1';
    try {
      expect(ScoreThreads.start(states(), 1_000_000).helping).toBe(false);
    } finally {
      delete process.env['FINSEG_THREADS'];
    }
  });
});
