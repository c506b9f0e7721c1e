/**
 * `finseg report`: rewrites a bundle's report folder from the bundle alone, every file read
 * through loadModel (checksums, schemas, kinds and versions verified), so the report shows
 * nothing the checks have not passed.
 */
import { loadModel, readComparison, type LoadedModel } from '../model/load.ts';
import { writeReport, type ReportFiles, type ReportOptions } from '../10-report/report.ts';

/** What the report is written from: the manifest, the segments and the optional states whose sections it shows. */
export interface ModelReportInput {
  manifest: LoadedModel['manifest'];
  segments: LoadedModel['states']['segments.json'];
  states: {
    cluster: LoadedModel['states']['cluster.json'];
    explain: LoadedModel['states']['explain.json'];
    comparison: ReturnType<typeof readComparison>;
    trends: LoadedModel['states']['trends.json'];
  };
}

/** The report input of a loaded model: its verified states, and a retrain's verified comparison. */
export function reportInputOf(model: LoadedModel): ModelReportInput {
  const states = model.states;
  return {
    manifest: model.manifest,
    segments: states['segments.json'],
    states: { cluster: states['cluster.json'], explain: states['explain.json'], comparison: readComparison(model), trends: states['trends.json'] },
  };
}

/** Loads the bundle at `modelPath` (a version folder, or a registry's production / latest) and writes its report. */
export async function reportJob(modelPath: string, options: ReportOptions = {}): Promise<ReportFiles> {
  const model = loadModel(modelPath);
  return writeReportOf(model.dir, reportInputOf(model), options);
}

/**
 * The input handed to writeReport(bundleDir, manifest, segments, options), which reads the
 * optional states from the bundle folder itself; loadModel has verified them just before.
 */
function writeReportOf(dir: string, input: ModelReportInput, options: ReportOptions): Promise<ReportFiles> {
  return writeReport(dir, input.manifest, input.segments, options);
}
