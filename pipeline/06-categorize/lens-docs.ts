import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { LENS_RULES_MARKDOWN } from './lenses.ts';
import { defaultLensParams, type LensParams } from './params.ts';

/**
 * Keeps the lens rules in the docs identical to the code: README.md and docs/lenses.md hold
 * LENS_RULES_MARKDOWN(defaultLensParams) between two markers, a test fails when they drift, and
 * running this file rewrites them: `npx tsx pipeline/06-categorize/lens-docs.ts`.
 */

/** The line before the generated section. */
export const LENS_RULES_BEGIN = '<!-- lens-rules:begin (generated from LENS_RULES_MARKDOWN; regenerate with `npx tsx pipeline/06-categorize/lens-docs.ts`) -->';
/** The line after the generated section. */
export const LENS_RULES_END = '<!-- lens-rules:end -->';
/** The documents that carry the section, relative to the repository root. */
export const LENS_RULES_DOCS = ['README.md', 'docs/lenses.md'] as const;

/** `doc` with the text between the markers replaced by the rules under `params`; throws when a marker is missing. */
export function withLensRules(doc: string, params: LensParams = defaultLensParams): string {
  const begin = doc.indexOf(LENS_RULES_BEGIN);
  const end = doc.indexOf(LENS_RULES_END);
  if (begin < 0 || end < begin) throw new Error(`the document lacks the markers ${LENS_RULES_BEGIN} … ${LENS_RULES_END}`);
  return `${doc.slice(0, begin + LENS_RULES_BEGIN.length)}\n\n${LENS_RULES_MARKDOWN(params).trimEnd()}\n\n${doc.slice(end)}`;
}

/** Rewrites the generated section of every document under `root`; returns the paths that changed. */
export function writeLensRules(root: string): string[] {
  const changed: string[] = [];
  for (const doc of LENS_RULES_DOCS) {
    const path = resolve(root, doc);
    const text = readFileSync(path, 'utf8');
    const updated = withLensRules(text);
    if (updated !== text) {
      writeFileSync(path, updated);
      changed.push(path);
    }
  }
  return changed;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const changed = writeLensRules(resolve(import.meta.dirname, '../..'));
  process.stdout.write(changed.length ? `updated ${changed.join(', ')}\n` : 'lens rules already up to date\n');
}
