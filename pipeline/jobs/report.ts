/**
 * `finseg report`: rewrites a bundle's report folder from the bundle alone, every file read
 * through loadModel (checksums, schemas, kinds and versions verified), so the report shows
 * nothing the checks have not passed. An action evaluation (`finseg evaluate`) is shown when one
 * is given or lies in the report folder as evaluation.json.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../core/errors.ts';
import { loadModel, readComparison } from '../model/load.ts';
import { writeReport, type ReportFiles, type ReportOptions } from '../10-report/report.ts';
import { evaluationOf } from '../10-report/evaluation-view.ts';
import { modelReportInput } from '../model/report-input.ts';

/** Loads the bundle at `modelPath` (a version folder, or a registry's production / latest) and writes its report. */
export async function reportJob(modelPath: string, options: ReportOptions = {}, evaluationFile: string | null = null): Promise<ReportFiles> {
  const model = loadModel(modelPath);
  const input = modelReportInput(model.manifest, model.states, readComparison(model));
  const evaluation = readEvaluation(evaluationFile ?? join(model.dir, 'report', 'evaluation.json'), evaluationFile !== null);
  return writeReport(model.dir, evaluation ? { ...input, states: { ...input.states, evaluation } } : input, options);
}

/** evaluation.json parsed, or null when it is not there; an InputError when a file named on the command line is missing or not an evaluation. */
export function readEvaluation(path: string, named: boolean): unknown {
  if (!existsSync(path)) {
    if (named) throw new InputError(`evaluation file not found: ${path}`, ['write one with finseg evaluate --model M --data DIR --out FILE']);
    return null;
  }
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new InputError(`${path} is not valid JSON`, [String(e)]);
  }
  if (!evaluationOf(json)) throw new InputError(`${path} is not an evaluation this finseg reads`, ['expected kind finseg.evaluation, formatVersion 1 (finseg evaluate)']);
  return json;
}
