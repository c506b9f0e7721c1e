/**
 * `finseg drift --model M --scores S`: shows the drift summary `finseg score` wrote beside the
 * scores S (`S.drift.json`), after checking that it was measured against the model M.
 */
import { existsSync, readFileSync } from 'node:fs';
import { driftSummaryPath, scoringDriftText, SCORING_DRIFT_KIND, type ScoringDrift } from '../09-drift/scoring.ts';
import { InputError } from '../core/errors.ts';
import { loadModel } from '../model/load.ts';

/** The summary of scores file `scoresFile` as text (or JSON), and whether the batch drifted. */
export function driftJob(modelPath: string, scoresFile: string, opts: { json: boolean }): { text: string; drifted: boolean } {
  const model = loadModel(modelPath);
  const path = driftSummaryPath(scoresFile);
  if (!existsSync(path)) throw new InputError(`no drift summary ${path}`, [`finseg score writes it beside the scores; score the batch again: finseg score --model ${modelPath} … --out ${scoresFile}`]);
  const drift = readSummary(path);
  if (drift.model !== model.manifest.version) throw new InputError(`${path} was measured against ${drift.model}, not ${model.manifest.version}`, ['give the --model the batch was scored with, or score it again with this one']);
  return { text: opts.json ? `${JSON.stringify(drift, null, 2)}\n` : scoringDriftText(drift), drifted: drift.drifted };
}

function readSummary(path: string): ScoringDrift {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new InputError(`${path} is not JSON: ${(e as Error).message}`);
  }
  const d = parsed as Partial<ScoringDrift> | null;
  if (d?.kind !== SCORING_DRIFT_KIND || d.version !== 1) throw new InputError(`${path} is not a finseg scoring drift summary (kind ${SCORING_DRIFT_KIND}, version 1)`);
  return d as ScoringDrift;
}
