/**
 * `finseg report`: rewrites a bundle's report folder from the bundle alone, every file read
 * through loadModel (checksums, schemas, kinds and versions verified).
 */
import { loadModel } from '../model/load.ts';
import { writeReport, type ReportFiles, type ReportOptions } from '../10-report/report.ts';

/** Loads the bundle at `modelPath` (a version folder, or a registry's production / latest) and writes its report. */
export async function reportJob(modelPath: string, options: ReportOptions = {}): Promise<ReportFiles> {
  const model = loadModel(modelPath);
  return writeReport(model.dir, model.manifest, model.states['segments.json'], options);
}
