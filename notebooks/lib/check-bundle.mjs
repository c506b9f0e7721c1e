// Exits 0 when the bundle at argv[2] (a bundle or a registry folder) loads with this checkout's
// pipeline code (checksums, and the schema, kind and format version of every file), else prints
// why and exits 1. run.sh uses it to retrain the demo bundle when an older finseg wrote the one in
// models/.
import { register } from 'tsx/esm/api';

register();
const { loadModel } = await import('../../pipeline/model/load.ts');
try {
  loadModel(process.argv[2]);
} catch (e) {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
}
