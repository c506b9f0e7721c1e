/**
 * The tasks a helper thread runs (threads.ts). Each is the main thread's own function applied to
 * the rows it is given; the states arrive as the same JSON the bundle holds.
 */
import { assignClusters, type ClusterState } from '../04-cluster/cluster.ts';
import { applyScale, projectScaled, type PreprocessState } from '../03-preprocess/preprocess.ts';
import { initBackend } from '../05-classify/backend.ts';
import { predictProba, type ClassifierState } from '../05-classify/mlp.ts';
import { quietLogger } from './log.ts';
import type { Matrix } from './matrix.ts';

/** What a task hands back: its value, and the buffers to move to the caller without a copy. */
export interface TaskResult {
  value: unknown;
  transfer: ArrayBuffer[];
}

/** The behavioural scoring of a block of rows, kept between its three stages. */
interface ScoreSession {
  preprocess: PreprocessState;
  cluster: ClusterState;
  classifier: ClassifierState;
  scaled: Matrix;
  reduced: Matrix;
}

const sessions = new Map<string, ScoreSession>();
// Loaded while the main thread ingests, so the first classify finds the backend ready.
const backend = initBackend(quietLogger);

export async function runTask(task: string, payload: unknown): Promise<TaskResult> {
  switch (task) {
    case 'score-preprocess': {
      const p = payload as { session: string; preprocess: PreprocessState; cluster: ClusterState; classifier: ClassifierState; x: Float64Array; rows: number; cols: number };
      const scaled = applyScale(p.preprocess, { rows: p.rows, cols: p.cols, data: p.x });
      sessions.set(p.session, { preprocess: p.preprocess, cluster: p.cluster, classifier: p.classifier, scaled, reduced: projectScaled(p.preprocess, scaled) });
      return { value: null, transfer: [] };
    }
    case 'score-assign': {
      const s = session(payload);
      const a = assignClusters(s.cluster, s.reduced);
      return { value: a, transfer: [a.labels.buffer, a.distances.buffer, a.second.buffer, a.secondDistances.buffer] as ArrayBuffer[] };
    }
    case 'score-classify': {
      const { session: id } = payload as { session: string };
      const s = session(payload);
      sessions.delete(id);
      await backend;
      const proba = await predictProba(s.classifier, s.scaled);
      return { value: proba.data, transfer: [proba.data.buffer as ArrayBuffer] };
    }
    default:
      throw new Error(`unknown task ${JSON.stringify(task)}`);
  }
}

function session(payload: unknown): ScoreSession {
  const { session: id } = payload as { session: string };
  const s = sessions.get(id);
  if (!s) throw new Error(`no scoring session ${JSON.stringify(id)} on this thread`);
  return s;
}
