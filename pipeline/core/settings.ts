import { InputError } from './errors.ts';

/** Config and stage settings: one merge of untrusted JSON over typed defaults for every slice. */

const isObject = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === 'object' && !Array.isArray(x);

/**
 * Merges untrusted `user` JSON over `defaults` key by key: unknown keys and wrong types are
 * InputErrors naming their path; arrays and the objects at `freeMaps` paths (user-keyed tables)
 * are taken whole; `$comment`-style keys are skipped. Values are checked by the caller.
 */
export function mergeSettings(defaults: unknown, user: unknown, path: string, freeMaps: ReadonlySet<string> = new Set()): unknown {
  if (user === undefined) return structuredClone(defaults);
  if (Array.isArray(defaults)) {
    if (!Array.isArray(user)) throw new InputError(`"${path}" must be an array, got ${JSON.stringify(user)}`);
    return structuredClone(user);
  }
  if (isObject(defaults)) {
    if (!isObject(user)) throw new InputError(`"${path}" must be an object, got ${JSON.stringify(user)}`);
    if (freeMaps.has(path)) return { ...defaults, ...user };
    const out: Record<string, unknown> = structuredClone(defaults);
    for (const [key, value] of Object.entries(user)) {
      if (key.startsWith('$')) continue; // "$comment" keys document a config file
      const child = path ? `${path}.${key}` : key;
      if (!(key in out)) throw new InputError(`unknown setting "${child}"`, [`known settings here: ${Object.keys(out).join(', ')}`]);
      out[key] = mergeSettings(out[key], value, child, freeMaps);
    }
    return out;
  }
  if (defaults === null) {
    // Nullable settings (asOf, homeCurrency, k) take null or a scalar.
    if (user !== null && typeof user !== 'string' && typeof user !== 'number') throw new InputError(`"${path}" must be null, a string or a number`);
    return user;
  }
  if (typeof user !== typeof defaults) throw new InputError(`"${path}" must be a ${typeof defaults}, got ${JSON.stringify(user)}`);
  return user;
}

