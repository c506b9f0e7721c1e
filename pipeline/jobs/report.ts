/**
 * `finseg report`: rewrites a bundle's report folder from the bundle alone, every file read
 * through loadModel (checksums, schemas, kinds and versions verified), so the report shows
 * nothing the checks have not passed.
 */
import { loadModel, readComparison } from '../model/load.ts';
import { reportInputOf, writeReport, type ManifestView, type ReportFiles, type ReportOptions } from '../10-report/report.ts';

/** Loads the bundle at `modelPath` (a version folder, or a registry's production / latest) and writes its report. */
export async function reportJob(modelPath: string, options: ReportOptions = {}): Promise<ReportFiles> {
  const model = loadModel(modelPath);
  // The typed manifest allows what older bundles lack (dropped features, a k row's NaN metrics read as null); the report reads those defensively.
  return writeReport(model.dir, reportInputOf(model.manifest as unknown as ManifestView, model.states, readComparison(model)), options);
}
