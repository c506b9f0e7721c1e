import { readFileSync } from 'node:fs';

// Read package.json files directly: some packages' "exports" maps hide them from require.resolve.
function versionOf(pkg: string): string {
  try {
    return (JSON.parse(readFileSync(new URL(`../../node_modules/${pkg}/package.json`, import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** finseg's and its libraries' versions, recorded in every manifest so a bundle can be trusted later. */
export function runtimeInfo(): { finseg: string; node: string; libraries: Record<string, string> } {
  const own = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  const libraries: Record<string, string> = {};
  // The libraries a fit or a score runs; ml-kmeans is only the tests' reference for 04-cluster/kmeans.ts.
  for (const pkg of ['@duckdb/node-api', 'ml-pca', '@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', 'apache-arrow']) libraries[pkg] = versionOf(pkg);
  return { finseg: own.version, node: process.version, libraries };
}
