/**
 * `finseg report`: rewrites a bundle's report folder from the bundle alone, every file read
 * through loadModel (checksums, schemas, kinds and versions verified), so the report shows
 * nothing the checks have not passed.
 */
import { loadModel, readComparison } from '../model/load.ts';
import { writeReport, type ReportFiles, type ReportOptions } from '../10-report/report.ts';
import { modelReportInput } from '../model/report-input.ts';

/** Loads the bundle at `modelPath` (a version folder, or a registry's production / latest) and writes its report. */
export async function reportJob(modelPath: string, options: ReportOptions = {}): Promise<ReportFiles> {
  const model = loadModel(modelPath);
  return writeReport(model.dir, modelReportInput(model.manifest, model.states, readComparison(model)), options);
}
