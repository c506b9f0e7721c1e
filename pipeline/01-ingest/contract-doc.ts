import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BUILTIN_VALUE_MAPS, CONTRACT, DEFAULT_MISSING_VALUES, QUARANTINE_REASONS, TABLE_NAMES, type ColumnSpec } from './contract.ts';
import { SUPPORTED_EXTENSIONS } from './sources.ts';

/**
 * The data contract rendered as Markdown, from the one declaration in contract.ts. README.md and
 * docs/data-contract.md hold these blocks between `<!-- contract:NAME -->` markers; a test fails
 * when they drift, and `npm run docs:contract` rewrites them.
 */

/** A column's rule in words: type, range, allowed values, unit. */
export function columnRule(c: ColumnSpec): string {
  // An enum's values say more than its type.
  const parts: string[] = c.allowed ? [c.allowed.join(' / ')] : c.catalog ? ['module catalog, or your own module name'] : [c.type];
  if (c.pattern) parts.push(`matches \`${c.pattern}\``);
  if (c.min !== undefined && c.max !== undefined) parts.push(`${c.min}–${c.max}`);
  else if (c.min !== undefined) parts.push(`≥ ${c.min}`);
  else if (c.max !== undefined) parts.push(`≤ ${c.max}`);
  if (c.notBefore) parts.push(`≥ \`${c.notBefore}\``);
  if (c.unit) parts.push(c.unit);
  if (c.note) parts.push(c.note);
  return parts.join(', ');
}

/** README block: one row per table, required and optional columns with their rules. */
export function contractSummaryTable(): string {
  const lines = ['| table | required columns | optional columns |', '|---|---|---|'];
  for (const name of TABLE_NAMES) {
    const t = CONTRACT[name];
    const fmt = (c: ColumnSpec) => `\`${c.name}\` (${columnRule(c)}${c.required && !c.mandatoryValue ? ', may be blank' : ''})`;
    const title = `\`${name}\`${t.required ? '' : ' (optional table)'} — ${t.doc}`;
    lines.push(`| ${title} | ${t.columns.filter((c) => c.required).map(fmt).join(', ')} | ${t.columns.filter((c) => !c.required).map(fmt).join(', ')} |`);
  }
  return lines.join('\n');
}

/** docs block: every column with type, rule, whether a value is mandatory, and meaning. */
export function contractColumnTable(): string {
  const lines = ['| table | column | rule | column required | value required | meaning |', '|---|---|---|---|---|---|'];
  for (const name of TABLE_NAMES) {
    for (const c of CONTRACT[name].columns) {
      lines.push(`| \`${name}\` | \`${c.name}\` | ${columnRule(c)} | ${c.required ? 'yes' : 'no'} | ${c.mandatoryValue ? 'yes' : 'no'} | ${c.doc.replaceAll('|', '\\|')} |`);
    }
  }
  return lines.join('\n');
}

/** The reason codes, in the order the checks run. */
export function reasonTable(): string {
  return ['| reason | the row (or, in an optional column, the cell) … |', '|---|---|', ...QUARANTINE_REASONS.map((r) => `| \`${r.code}\` | ${r.doc} |`)].join('\n');
}

/** The built-in value spellings per enum column, and the missing-value tokens. */
export function builtinValuesTable(): string {
  const lines = ['| column | built-in spellings (→ contract value) |', '|---|---|'];
  for (const [table, byColumn] of Object.entries(BUILTIN_VALUE_MAPS)) {
    for (const [column, map] of Object.entries(byColumn ?? {})) {
      const byTarget = new Map<string, string[]>();
      for (const [from, to] of Object.entries(map)) byTarget.set(to, [...(byTarget.get(to) ?? []), from]);
      lines.push(`| \`${table}.${column}\` | ${[...byTarget].map(([to, froms]) => `${froms.join(', ')} → \`${to}\``).join('; ')} |`);
    }
  }
  lines.push('', `Missing-value tokens (any column, case-insensitive, after trimming; \`ingest.missingValues\` replaces them): ${DEFAULT_MISSING_VALUES.map((v) => `\`${v}\``).join(', ')}, and the empty string.`);
  return lines.join('\n');
}

/** The file extensions finseg reads. */
export function formatsLine(): string {
  return `Extensions read: ${SUPPORTED_EXTENSIONS.map((e) => `\`${e}\``).join(', ')} — or a folder of such files (hive \`key=value\` folders become columns).`;
}

/** The generated blocks by marker name. */
export const CONTRACT_BLOCKS: Readonly<Record<string, () => string>> = {
  summary: contractSummaryTable,
  columns: contractColumnTable,
  reasons: reasonTable,
  values: builtinValuesTable,
  formats: formatsLine,
};

const blockPattern = /<!-- contract:([a-z]+) -->[\s\S]*?<!-- \/contract:\1 -->/g;

/** The text with every `<!-- contract:NAME -->` block regenerated. */
export function renderContractBlocks(text: string): string {
  return text.replace(blockPattern, (_m, name: string) => {
    const render = CONTRACT_BLOCKS[name];
    if (!render) throw new Error(`unknown contract block "${name}"`);
    return `<!-- contract:${name} -->\n${render()}\n<!-- /contract:${name} -->`;
  });
}

/** The names of the contract blocks a text holds. */
export function contractBlockNames(text: string): string[] {
  return [...text.matchAll(blockPattern)].map((m) => m[1]!);
}

/** Rewrites the contract blocks of files in place; returns the files that changed. */
export function writeContractBlocks(paths: readonly string[]): string[] {
  const changed: string[] = [];
  for (const path of paths) {
    const before = readFileSync(path, 'utf8');
    const after = renderContractBlocks(before);
    if (after !== before) {
      writeFileSync(path, after);
      changed.push(path);
    }
  }
  return changed;
}

// `npm run docs:contract` runs this file directly.
if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const changed = writeContractBlocks(process.argv.slice(2).length ? process.argv.slice(2) : ['README.md', 'docs/data-contract.md']);
  process.stdout.write(changed.length ? `updated ${changed.join(', ')}\n` : 'contract blocks up to date\n');
}
