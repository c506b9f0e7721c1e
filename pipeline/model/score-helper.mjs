// The helper thread of score-threads.ts. finseg runs its TypeScript sources as they are, so the
// thread registers tsx before it loads them (as bin/finseg.mjs does for the main thread).
import { register } from 'tsx/esm/api';

register();
await import('./score-helper.ts');
