import { InputError } from './errors.ts';

/**
 * Readers that turn parsed JSON of a stored state into typed values, each failure an InputError
 * that names the state and the field ("cluster state: sizes has 3 entries, expected 4"). Every
 * stage's `load…State` uses one, so a corrupt or foreign bundle is refused the same way everywhere.
 */
export function stateReader(state: string) {
  const fail = (message: string): never => {
    throw new InputError(`${state} state: ${message}`);
  };
  const array = (x: unknown, what: string, length?: number): unknown[] => {
    if (!Array.isArray(x)) return fail(`${what} must be an array`);
    if (length !== undefined && x.length !== length) return fail(`${what} has ${x.length} entries, expected ${length}`);
    return x;
  };
  const finite = (x: unknown, what: string): number => (typeof x === 'number' && Number.isFinite(x) ? x : fail(`${what} must be a finite number`));
  return {
    /** A JSON object; `what` names it in full (usually "<stage> state"). */
    record(x: unknown, what: string): Record<string, unknown> {
      if (typeof x !== 'object' || x === null || Array.isArray(x)) throw new InputError(`${what} must be a JSON object`);
      return x as Record<string, unknown>;
    },
    array,
    finite,
    /** A finite number, or NaN where JSON holds null (JSON.stringify writes NaN as null). */
    numberOrNaN: (x: unknown, what: string): number => (x === null ? NaN : finite(x, what)),
    /** An integer in [min, max]; the message gives the bounds that apply. */
    integer(x: unknown, what: string, min: number, max = Number.POSITIVE_INFINITY): number {
      if (typeof x === 'number' && Number.isInteger(x) && x >= min && x <= max) return x;
      const range = Number.isFinite(max) ? `in [${min}, ${max}]` : `>= ${min}`;
      return fail(`${what} must be an integer ${range}, got ${JSON.stringify(x ?? null)}`);
    },
    numberArray: (x: unknown, what: string, length: number): number[] => array(x, what, length).map((v, i) => finite(v, `${what}[${i}]`)),
    booleanArray: (x: unknown, what: string, length: number): boolean[] =>
      array(x, what, length).map((v, i) => (typeof v === 'boolean' ? v : fail(`${what}[${i}] must be true or false`))),
    stringArray: (x: unknown, what: string): string[] => array(x, what).map((v, i) => (typeof v === 'string' ? v : fail(`${what}[${i}] must be a string`))),
  };
}
