import { reportInputOf, type ManifestView, type ReportBundleStates, type ReportInput } from '../10-report/report.ts';
import type { Manifest as WrittenManifest } from '../registry/bundle.ts';
import type { Manifest } from './schema.ts';

/**
 * The report's input from a bundle's manifest and states (fitted or loaded), with a retrain's
 * comparison. The manifest is the schema-typed one of a loaded model or the one writeModel read
 * back after writing. The one cast: the typed manifest also admits what older bundles lack (dropped
 * features, a k row's NaN metrics read back as null), which the report reads defensively.
 */
export function modelReportInput(manifest: Manifest | WrittenManifest, states: ReportBundleStates, comparison: unknown = null): ReportInput {
  return reportInputOf(manifest as unknown as ManifestView, states, comparison);
}
