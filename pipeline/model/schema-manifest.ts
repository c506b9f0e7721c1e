/** manifest.json's schema: provenance, the metrics block and every file's checksum (load.ts checks it first). */
import * as v from 'valibot';
import type { FeatureFileReport } from '../02-features/feature-file.ts';
import type { VendorModule } from '../02-features/catalog.ts';
import { displayObject, nullableNumber, strings } from './schema-kit.ts';
import { valueBasisSchema } from './schema-value.ts';

// In the order ingest writes the keys (stage.ts, derive.ts, then accept.ts): valibot outputs the
// declared keys first, and a bundle read back must be the manifest as written.
const tableSummary = v.looseObject({
  table: v.string(), source: v.string(), format: v.string(), files: v.number(), read: v.number(), accepted: v.number(), quarantined: v.number(), byReason: v.record(v.string(), v.number()),
  details: v.optional(v.array(v.unknown())), missingOptionalColumns: v.optional(strings), derivedFrom: v.optional(v.string()), sourceRows: v.optional(v.number()),
  // Bundles written before cell-level quarantine have no cell counts.
  cellsNulled: v.optional(v.number()), cellsByColumn: v.optional(v.record(v.string(), v.number())), cellDetails: v.optional(v.array(v.unknown())), followed: v.optional(v.record(v.string(), v.number())),
});
const manifestKSelectionRow = v.looseObject({
  k: v.number(),
  silhouette: nullableNumber,
  calinskiHarabasz: nullableNumber,
  daviesBouldin: nullableNumber,
  inertia: nullableNumber,
  minShare: v.number(),
  stability: v.optional(nullableNumber),
  eligible: v.boolean(),
});

/** The manifest's `metrics` block: what the report, `models list/show` and retrain read (NaN was written as null and stays null). */
const manifestMetrics = v.looseObject({
  customers: v.number(),
  k: v.number(),
  silhouette: nullableNumber,
  inertia: v.optional(v.number()),
  segmentSizes: v.optional(v.array(v.number())),
  kSelection: v.array(manifestKSelectionRow),
  selectionRule: v.optional(v.string()),
  structure: v.optional(
    v.looseObject({ shuffles: v.number(), margin: v.number(), rows: v.array(v.looseObject({ k: v.number(), silhouette: nullableNumber, nullMax: nullableNumber })), clear: v.boolean() }),
  ),
  stability: v.optional(v.object({ meanAri: nullableNumber, segmentJaccard: v.array(nullableNumber), unstableBelow: v.number() })),
  pcaComponents: v.number(),
  pcaExplainedVariance: v.number(),
  classifier: v.looseObject({ heldOutAccuracy: v.number(), trainAccuracy: v.optional(v.number()), nTrain: v.optional(v.number()), nHeldOut: v.number() }),
  coldStart: v.optional(
    v.looseObject({
      heldOutAccuracy: v.number(),
      majorityBaseline: v.number(),
      majoritySegment: v.optional(v.number()),
      nTrain: v.optional(v.number()),
      nHeldOut: v.number(),
      excludedLowHistory: v.optional(v.number()),
      marginRequired: v.optional(v.number()),
      used: v.optional(v.boolean()),
      minHistory: v.number(),
    }),
  ),
  plantedArchetypeAri: nullableNumber,
  explain: v.optional(v.object({ fidelity: nullableNumber, immFidelity: nullableNumber, leaves: v.number() })),
  cramersV: v.record(v.string(), nullableNumber),
  // Declared in the order fitModel writes them (display data, checked in their own state files), so a manifest reads back as written.
  nextModule: v.optional(v.unknown()),
  churn: v.optional(v.unknown()),
  value: v.optional(valueBasisSchema),
});

/** A retrain's summary of its comparison (`manifest.retrain`), read by the next retrain (nextSegmentId) and `models list`. */
const manifestRetrain = v.looseObject({
  production: v.nullable(v.string()),
  decision: v.picklist(['promote', 'hold']),
  reasons: strings,
  nextSegmentId: v.number(),
});

/**
 * manifest.json: provenance (config, seeds, input fingerprints, versions), the metrics and the
 * sha256 of every other file. The config is checked by parseConfig (load.ts); unknown fields are
 * kept, so a manifest prints as written.
 */
export const manifestSchema = v.looseObject({
  kind: v.literal('finseg.bundle'),
  formatVersion: v.number(),
  version: v.string(),
  createdAt: v.string(),
  finsegVersion: v.string(),
  parentVersion: v.nullable(v.string()),
  configSource: v.string(),
  config: v.record(v.string(), v.unknown()),
  seeds: v.record(v.string(), v.number()),
  input: v.looseObject({
    dataDir: v.string(),
    asOf: v.string(),
    tables: v.record(v.string(), tableSummary),
    absentTables: strings,
    featureFile: v.optional(displayObject<FeatureFileReport>()),
    fingerprints: v.record(v.string(), v.string()),
    quarantineDir: v.nullable(v.string()),
  }),
  features: v.looseObject({
    catalogVersion: v.optional(v.number()),
    names: strings,
    dropped: v.optional(v.array(v.looseObject({ feature: v.string(), reason: v.string() }))),
    homeCurrency: v.optional(v.nullable(v.string())),
    vendorModules: v.optional(v.array(displayObject<VendorModule>())),
  }),
  metrics: manifestMetrics,
  runtime: v.record(v.string(), v.unknown()),
  retrain: v.optional(manifestRetrain),
  files: v.record(v.string(), v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/, 'expected a sha256 in hex'))),
});

/** A validated manifest. */
export type Manifest = v.InferOutput<typeof manifestSchema>;
/** A manifest before the bundle writer adds the checksums. */
export type ManifestHead = Omit<Manifest, 'files'>;
