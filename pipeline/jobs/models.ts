/**
 * `finseg models`: `show` reads one version through loadModel (checksums, schemas, kinds and
 * versions verified), the other actions are the registry's own (registry/commands.ts).
 */
import { join } from 'node:path';
import { readComparison, loadModel } from '../model/load.ts';
import { f3, modelsCommand, versionArg, type CommandResult } from '../registry/commands.ts';
import { latestVersion, productionVersion, readHistory } from '../registry/registry.ts';

/** Runs one `finseg models` action against `registry`; `retention` is the config's retrain.retention (for prune). */
export function modelsJob(action: string | undefined, args: readonly string[], registry: string, opts: { json: boolean; now: () => Date; retention: number }): CommandResult {
  return action === 'show' ? showModel(registry, args[0], opts.json) : modelsCommand(action, args, registry, opts);
}

/** `finseg models show V`: the version's provenance, metrics and, for a retrain, its comparison with production. */
export function showModel(registry: string, name: string | undefined, json: boolean): CommandResult {
  const version = versionArg(registry, name, 'show');
  const model = loadModel(join(registry, version));
  const comparison = readComparison(model);
  const history = readHistory(registry).filter((h) => h.version === version || h.previous === version);
  const production = productionVersion(registry) === version;
  if (json) return { text: `${JSON.stringify({ version, dir: model.dir, production, manifest: model.manifest, comparison, history }, null, 2)}\n`, exitCode: 0 };
  const m = model.manifest;
  const lines = [
    `version      ${version}${production ? '  (production)' : ''}${latestVersion(registry) === version ? '  (latest)' : ''}`,
    `folder       ${model.dir}`,
    `created      ${m.createdAt}  finseg ${m.finsegVersion}  format ${m.formatVersion}`,
    `data         ${m.input.dataDir} as of ${m.input.asOf}`,
    `model        k = ${m.metrics.k}, ${m.metrics.customers} customers, silhouette ${f3(m.metrics.silhouette)}, classifier accuracy ${f3(m.metrics.classifier.heldOutAccuracy)}`,
    `parent       ${m.parentVersion ?? '–'}`,
    `files        ${Object.keys(m.files).length} checksummed, all verified`,
  ];
  if (comparison) {
    const kept = comparison.segments.filter((s) => s.status === 'kept').length;
    lines.push(
      `compared to  ${comparison.production ?? 'nothing (first model)'}`,
      `gates        ${comparison.decision}${comparison.reasons.length ? `: ${comparison.reasons.join('; ')}` : ''}`,
      `agreement    ${comparison.agreement ? `ARI ${f3(comparison.agreement.ari)}` : '–'}`,
      `drift        ${comparison.drift ? (comparison.drift.detected ? `detected: ${comparison.drift.drifted.join(', ') || 'segment shares'}` : 'not detected') : '–'}`,
      `segment ids  ${kept} kept, ${comparison.segments.length - kept} new, ${comparison.vanished.length} vanished`,
    );
  }
  for (const h of history) lines.push(`history      ${h.at} ${h.action} ${h.version}${h.previous ? ` (was ${h.previous})` : ''} by ${h.by}: ${h.reason}`);
  return { text: `${lines.join('\n')}\n`, exitCode: 0 };
}
