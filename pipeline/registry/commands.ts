/**
 * `finseg models list | promote V | rollback | prune`: the registry's command line, as functions
 * from arguments to the text to print and an exit code, so the CLI only dispatches. `show` reads
 * a whole bundle through the model loader, so it lives with the jobs (jobs/models.ts).
 */
import { InputError } from '../core/errors.ts';
import {
  applyRetention,
  latestVersion,
  listVersions,
  lockRegistry,
  productionVersion,
  rollbackProduction,
  rollbackTarget,
  setProduction,
} from './registry.ts';

/** What a models subcommand prints and returns. */
export interface CommandResult {
  text: string;
  exitCode: number;
}

/** The subcommands of `finseg models`. */
export const MODELS_ACTIONS = ['list', 'show', 'promote', 'rollback', 'prune'] as const;

/** A metric with three decimals, or a dash when it was not measured. */
export const f3 = (x: number | null) => (x === null ? '–' : x.toFixed(3));

/** Resolves "production" / "latest" to the version they point at; any other name as given. */
export function versionArg(registry: string, name: string | undefined, action: string): string {
  if (!name) throw new InputError(`finseg models ${action}: name the version`, ['finseg models list shows them']);
  const resolved = name === 'production' ? productionVersion(registry) : name === 'latest' ? latestVersion(registry) : name;
  if (resolved === null) throw new InputError(`${registry} has no ${name} version`);
  return resolved;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, j) => Math.max(...rows.map((r) => r[j]!.length)));
  return rows.map((r) => r.map((c, j) => c.padEnd(widths[j]!)).join('  ').trimEnd()).join('\n');
}

/** Runs one registry subcommand (not `show`) against `registry`. `retention` is the config's retrain.retention (for prune). */
export function modelsCommand(action: string | undefined, args: readonly string[], registry: string, opts: { json: boolean; now: () => Date; retention: number }): CommandResult {
  switch (action) {
    case 'list': {
      const versions = listVersions(registry);
      if (opts.json) return { text: `${JSON.stringify({ registry, production: productionVersion(registry), latest: latestVersion(registry), versions }, null, 2)}\n`, exitCode: 0 };
      if (versions.length === 0) return { text: `no versions in ${registry}\n`, exitCode: 0 };
      const rows = [['', 'version', 'created', 'k', 'customers', 'silhouette', 'accuracy', 'gates', 'parent']];
      for (const v of [...versions].reverse()) {
        const mark = `${v.production ? 'P' : ' '}${v.latest ? 'L' : ' '}`;
        rows.push([mark, v.version, v.createdAt.slice(0, 19), String(v.k ?? '–'), String(v.customers ?? '–'), f3(v.silhouette), f3(v.heldOutAccuracy), v.decision ?? '–', v.parentVersion ?? '–']);
      }
      return { text: `${table(rows)}\nP = production, L = latest; gates = the retrain decision (– for a plain train)\n`, exitCode: 0 };
    }
    case 'promote': {
      const version = versionArg(registry, args[0], action);
      const lock = lockRegistry(registry, 'models promote', opts.now);
      try {
        const entry = setProduction(registry, version, 'promote', 'models promote', 'promoted by hand', opts.now(), lock);
        return { text: `production: ${entry.version}${entry.previous ? ` (was ${entry.previous})` : ''}\n`, exitCode: 0 };
      } finally {
        lock.release();
      }
    }
    case 'rollback': {
      const lock = lockRegistry(registry, 'models rollback', opts.now);
      try {
        const entry = rollbackProduction(registry, 'models rollback', opts.now(), lock);
        const next = rollbackTarget(registry);
        return { text: `production: ${entry.version} (was ${entry.previous})${next ? `; a further rollback would go to ${next}` : ''}\n`, exitCode: 0 };
      } finally {
        lock.release();
      }
    }
    case 'prune': {
      const lock = lockRegistry(registry, 'models prune', opts.now);
      try {
        const removed = applyRetention(registry, opts.retention, lock);
        return { text: removed.length ? `removed ${removed.join(', ')}\n` : `nothing to remove (keeping the newest ${opts.retention}, production and its rollback target)\n`, exitCode: 0 };
      } finally {
        lock.release();
      }
    }
    default:
      throw new InputError(action ? `unknown models action "${action}"` : 'finseg models: name an action', [`actions: ${MODELS_ACTIONS.join(', ')}`]);
  }
}
