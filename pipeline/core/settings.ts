import * as v from 'valibot';
import { InputError } from './errors.ts';

/**
 * Config and stage settings as valibot schemas. Each stage declares its slice once (the defaults
 * and the rule of every key) with `settingsOf`; `parseSettings` turns untrusted JSON into the
 * fully defaulted, typed slice or an InputError naming the source and the key path
 * ("finseg.config.json: cluster.kMax: expected an integer >= 2, got \"x\"").
 */

/** A schema that turns unknown input into a T (the rule of one setting, or of a whole slice). */
export type Rule<T> = v.GenericSchema<unknown, T>;

/** The rule of every key of a settings object (optional keys, such as fitted values, excepted). */
export type Rules<T> = { [K in keyof T]: Rule<T[K]> };

const isObject = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === 'object' && !Array.isArray(x);

/** A value as an error message shows it: JSON, cut at 60 characters. */
export function shown(x: unknown): string {
  const s = JSON.stringify(x);
  return s === undefined ? String(x) : s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** The message of every issue of a rule: what it expects and what it got. */
export const expected =
  (what: string) =>
  (issue: v.BaseIssue<unknown>): string =>
    `expected ${what}, got ${shown(issue.input)}`;

const objectValue = v.custom<Record<string, unknown>>(isObject, expected('an object'));

/** An integer >= min (and <= max). */
export function integer(min = Number.NEGATIVE_INFINITY, max = Number.POSITIVE_INFINITY): Rule<number> {
  const m = expected(max !== Number.POSITIVE_INFINITY ? `an integer in ${min}..${max}` : min !== Number.NEGATIVE_INFINITY ? `an integer >= ${min}` : 'an integer');
  return v.pipe(v.number(m), v.integer(m), v.minValue(min, m), v.maxValue(max, m));
}

/** A finite number in a range; `open` makes a bound exclusive. Without bounds: any finite number. */
export function number(range: { min?: number; max?: number; minOpen?: boolean; maxOpen?: boolean } = {}): Rule<number> {
  const { min, max, minOpen = false, maxOpen = false } = range;
  const what =
    min !== undefined && max !== undefined
      ? `a number in ${minOpen ? '(' : '['}${min}, ${max}${maxOpen ? ')' : ']'}`
      : min !== undefined
        ? `a number ${minOpen ? '>' : '>='} ${min}`
        : max !== undefined
          ? `a number ${maxOpen ? '<' : '<='} ${max}`
          : 'a finite number';
  const m = expected(what);
  const inRange = (x: number) => (min === undefined || (minOpen ? x > min : x >= min)) && (max === undefined || (maxOpen ? x < max : x <= max));
  return v.pipe(v.number(m), v.finite(m), v.check(inRange, m));
}

/** true or false. */
export const boolean = (): Rule<boolean> => v.boolean(expected('true or false'));

/** A string; `nonEmpty` refuses "" (names, paths). */
export function text(what = 'a string', nonEmpty = false): Rule<string> {
  const m = expected(what);
  return nonEmpty ? v.pipe(v.string(m), v.check((s) => s.trim() !== '', m)) : v.string(m);
}

/** A calendar date "YYYY-MM-DD". */
export function isoDate(): Rule<string> {
  const m = expected('a date "YYYY-MM-DD"');
  return v.pipe(v.string(m), v.regex(/^\d{4}-\d{2}-\d{2}$/, m), v.check((s) => !Number.isNaN(Date.parse(`${s}T00:00:00Z`)), m));
}

/** One of a fixed list of strings; `what` names the kind ("a module"). */
export function oneOf<const T extends string>(values: readonly T[], what?: string): Rule<T> {
  const list = `one of ${values.join(', ')}`;
  return v.picklist(values, expected(what ? `${what} (${list})` : list));
}

/** A rule that also takes null; the message says so. */
export function orNull<T>(rule: Rule<T>): Rule<T | null> {
  // Said when the value is neither null nor of the rule's type; a value of the type that breaks
  // the rule (a string that is no date) gets the rule's own message.
  return v.union([v.null(), rule], (issue) => {
    const inner = issue.issues?.find((i) => i.expected !== 'null');
    return inner ? `${inner.message.replace(/, got .*$/s, '')} or null, got ${shown(issue.input)}` : `expected null, got ${shown(issue.input)}`;
  });
}

/** A list whose every item follows `item` (a user list replaces the default whole). */
export function listOf<T>(item: Rule<T>, what: string): Rule<T[]> {
  return v.array(item, expected(`a list of ${what}`));
}

/** A problem found by a check across keys: the key path inside the checked object, and the message. */
export interface Problem {
  path: (string | number)[];
  message: string;
}

/** A check across the keys of a typed settings object (kMin <= kMax); each problem is an issue at its path. */
export function crossCheck<T>(problems: (value: T) => Problem[]) {
  return v.rawCheck<T>(({ dataset, addIssue }) => {
    // A key of the wrong type leaves nothing to compare; its own rule has reported it.
    if (!dataset.typed) return;
    for (const p of problems(dataset.value)) addIssue({ message: p.message, input: undefined, path: pathItems(dataset.value, p.path) });
  });
}

type IssuePath = [v.IssuePathItem, ...v.IssuePathItem[]];

function pathItems(root: unknown, path: (string | number)[]): IssuePath {
  const items: v.IssuePathItem[] = [];
  let at = root as Record<string | number, unknown> | undefined;
  for (const key of path) {
    const value = at?.[key];
    items.push({ type: 'unknown', origin: 'value', input: at, key, value });
    at = value as Record<string | number, unknown> | undefined;
  }
  return items as IssuePath;
}

/**
 * A settings object: every key of `defaults` is optional and defaults to a copy of its default
 * value; keys starting with `$` ("$comment") document a file and are dropped; any other key is an
 * error that lists the known keys. The output has the keys in the order of `defaults`.
 */
export function settingsOf<T extends object>(defaults: T, rules: Rules<T>): Rule<T> {
  const entries: v.ObjectEntries = {};
  for (const key of Object.keys(defaults) as (keyof T & string)[]) {
    const rule = rules[key];
    if (!rule) throw new Error(`settingsOf: no rule for "${key}"`);
    entries[key] = v.optional(rule, () => structuredClone(defaults[key]));
  }
  return strictSettings(entries) as unknown as Rule<T>;
}

/** An object of exactly these keys, each required (an item of a user's list, such as an edition). */
export function fieldsOf<T extends object>(rules: Rules<T>): Rule<T> {
  return strictSettings(rules as v.ObjectEntries) as unknown as Rule<T>;
}

function strictSettings(entries: v.ObjectEntries) {
  const known = Object.keys(entries).join(', ');
  const message = (issue: v.BaseIssue<unknown>) =>
    issue.expected === 'never' ? `unknown setting\nknown settings here: ${known}` : issue.path ? `expected a value, got nothing` : expected('an object')(issue);
  return v.pipe(
    objectValue,
    v.transform((o) => Object.fromEntries(Object.entries(o).filter(([k]) => !k.startsWith('$')))),
    v.strictObject(entries, message),
  );
}

/** Validates with `rule` but keeps the value as written (key order and notes of objects in a user's list). */
export function asWritten<T>(rule: Rule<T>): Rule<T> {
  return v.pipe(
    v.unknown(),
    v.rawTransform(({ dataset, addIssue }) => {
      const r = v.safeParse(rule, dataset.value);
      if (!r.success) for (const issue of r.issues) addIssue({ message: issue.message, input: issue.input, ...(issue.path ? { path: issue.path } : {}) });
      return structuredClone(dataset.value) as T;
    }),
  );
}

/**
 * A map keyed by the user's own names (a column map, a code table), taken over `defaults`: each
 * value follows `value` and `keys` (when given) returns the problem with a key or null. `$` keys
 * are kept as written when `keepNotes` (the ingest maps skip them themselves), else dropped.
 */
export function userMap<T>(value: Rule<T>, options: { defaults?: Record<string, T>; keys?: (key: string) => string | null; keepNotes?: boolean } = {}): Rule<Record<string, T>> {
  const { defaults = {}, keys, keepNotes = false } = options;
  return v.pipe(
    objectValue,
    v.rawTransform(({ dataset, addIssue }) => {
      const out: Record<string, unknown> = { ...defaults };
      for (const [key, x] of Object.entries(dataset.value)) {
        if (key.startsWith('$')) {
          if (keepNotes) out[key] = x;
          continue;
        }
        const at: IssuePath = [{ type: 'object', origin: 'value', input: dataset.value, key, value: x }];
        const keyProblem = keys?.(key);
        if (keyProblem) addIssue({ message: keyProblem, input: key, path: at });
        // The value is kept as written (its key order, its notes): it is the user's, not a setting's.
        out[key] = x;
        const r = v.safeParse(value, x);
        if (!r.success) for (const issue of r.issues) addIssue({ message: issue.message, input: issue.input, path: [...at, ...(issue.path ?? [])] });
      }
      return out as Record<string, T>;
    }),
  );
}

/** A key path as a reader writes it: `cluster.kMax`, `classify.hidden[1]`, `lenses.industryMap["Health care"]`. */
function pathText(prefix: string, path: readonly v.IssuePathItem[] | undefined): string {
  let out = prefix;
  for (const { key } of path ?? []) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string' && /^[A-Za-z_$][\w$]*$/.test(key)) out += out ? `.${key}` : key;
    else out += `[${JSON.stringify(key)}]`;
  }
  return out;
}

/** One issue as "<key path>: <message>"; a message's further lines are its notes. */
function issueLines(issue: v.BaseIssue<unknown>, prefix: string): string[] {
  const path = pathText(prefix, issue.path);
  const [first = '', ...notes] = issue.message.split('\n');
  return [path ? `${path}: ${first}` : first, ...notes];
}

/**
 * Parses untrusted JSON with a settings rule. Problems throw one InputError: its message is the
 * first problem, as "<source>: <prefix>.<key path>: <what was expected>, got <value>"; the detail
 * lists the first problem's own notes (such as the known keys) and every further problem.
 */
export function parseSettings<T>(rule: Rule<T>, json: unknown, source: string, prefix = ''): T {
  const r = v.safeParse(rule, json);
  if (r.success) return r.output;
  // A value can break two actions of one rule (0.5 is neither an integer nor >= 1): it is reported once.
  const seen = new Set<string>();
  const [first, ...rest] = r.issues.map((issue) => issueLines(issue, prefix)).filter((lines) => !seen.has(lines[0]!) && seen.add(lines[0]!));
  const [message, ...notes] = first!;
  const more = rest.length ? [`and ${rest.length} more problem${rest.length > 1 ? 's' : ''}:`, ...rest.map((lines) => lines[0]!)] : [];
  throw new InputError(`${source}: ${message}`, [...notes, ...more]);
}
