// Exits 0 when the bundle at argv[2] (a bundle or a registry folder) loads with this checkout's
// pipeline code (format version, checksums, every state), else prints why and exits 1. run.sh
// uses it to retrain the demo bundle when an older finseg wrote the one in models/.
import { register } from 'tsx/esm/api';

register();
const { loadScoringModel } = await import('../../pipeline/jobs/score.ts');
try {
  loadScoringModel(process.argv[2]);
} catch (e) {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
}
