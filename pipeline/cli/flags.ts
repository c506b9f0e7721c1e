/** The CLI's options and the helpers that read them, each failing as bad usage (exit 2) with the flag's name. */
import type { ParseArgsConfig } from 'node:util';
import { InputError } from '../core/errors.ts';
import { LANGS, parseLang, type Lang } from '../10-report/i18n.ts';
import { SQL_DIALECTS, type SqlDialect } from '../02-features/dialect.ts';

/** Every option any command takes (node:util parseArgs, strict). */
export const OPTIONS = {
  data: { type: 'string' },
  out: { type: 'string' },
  model: { type: 'string' },
  features: { type: 'string' },
  scores: { type: 'string' },
  actions: { type: 'string' },
  evaluation: { type: 'string' },
  strict: { type: 'boolean' },
  partition: { type: 'string' },
  parts: { type: 'string' },
  config: { type: 'string' },
  customers: { type: 'string' },
  events: { type: 'string' },
  seed: { type: 'string' },
  format: { type: 'string' },
  prefix: { type: 'string' },
  k: { type: 'string' },
  dirty: { type: 'string' },
  'take-up': { type: 'string' },
  'as-of': { type: 'string' },
  dialect: { type: 'string' },
  lang: { type: 'string' },
  open: { type: 'boolean' },
  registry: { type: 'string' },
  cron: { type: 'string' },
  'max-runs': { type: 'string' },
  drift: { type: 'boolean' },
  shape: { type: 'string' },
  from: { type: 'string' },
  months: { type: 'string' },
  json: { type: 'boolean' },
  quarantine: { type: 'string' },
  keep: { type: 'string' },
  'dry-run': { type: 'boolean' },
  quiet: { type: 'boolean' },
  debug: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

/** The parsed options. */
export type Flags = { [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K]['type'] extends 'boolean' ? boolean : string };

/** A string flag the command cannot run without. */
export function need(flags: Flags, name: keyof Flags, command: string): string {
  const v = flags[name];
  if (typeof v !== 'string' || v === '') throw new InputError(`finseg ${command}: --${name} is required`, ['run finseg --help for usage']);
  return v;
}

/** The report language from --lang (default en). */
export function langFlag(flags: Flags): Lang {
  if (flags.lang === undefined) return 'en';
  const lang = parseLang(flags.lang);
  if (!lang) throw new InputError(`--lang must be one of ${LANGS.join(', ')}, got ${JSON.stringify(flags.lang)}`);
  return lang;
}

/** The SQL dialect from --dialect (required: no one spelling runs on every engine). */
export function dialectFlag(flags: Flags, command: string): SqlDialect {
  const v = need(flags, 'dialect', command);
  if (!(SQL_DIALECTS as readonly string[]).includes(v)) throw new InputError(`--dialect must be one of ${SQL_DIALECTS.join(', ')}, got ${JSON.stringify(v)}`);
  return v as SqlDialect;
}

/** A non-negative integer flag, `fallback` when absent. */
export function intFlag(flags: Flags, name: keyof Flags, fallback: number): number {
  const v = flags[name];
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InputError(`--${name} must be a non-negative integer, got ${JSON.stringify(v)}`);
  return n;
}
