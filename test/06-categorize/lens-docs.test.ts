import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LENS_RULES_BEGIN, LENS_RULES_DOCS, LENS_RULES_END, withLensRules } from '../../pipeline/06-categorize/lens-docs.ts';
import { LENS_RULES_MARKDOWN } from '../../pipeline/06-categorize/lenses.ts';
import { defaultLensParams, parseLensParams } from '../../pipeline/06-categorize/params.ts';

const root = resolve(import.meta.dirname, '../..');

describe('lens rules in the docs', () => {
  it.each(LENS_RULES_DOCS)('%s holds exactly the rules the code applies (fix: npx tsx pipeline/06-categorize/lens-docs.ts)', (doc) => {
    const text = readFileSync(resolve(root, doc), 'utf8');
    expect(text).toContain(LENS_RULES_MARKDOWN(defaultLensParams).trimEnd());
    expect(withLensRules(text)).toBe(text);
  });

  it('replaces only the text between the markers, and follows the thresholds given', () => {
    const doc = `# Title\n\nintro\n\n${LENS_RULES_BEGIN}\nstale\n${LENS_RULES_END}\n\n## After\n`;
    const out = withLensRules(doc, parseLensParams({ lifecycle: { quietDays: 45 } }));
    expect(out.startsWith(`# Title\n\nintro\n\n${LENS_RULES_BEGIN}\n\n## Lens rules\n`)).toBe(true);
    expect(out.endsWith(`\n\n${LENS_RULES_END}\n\n## After\n`)).toBe(true);
    expect(out).not.toContain('stale');
    expect(out).toContain('| 3 | decline | gone quiet: no activity for ≥ 45 days (`recency_days`), or no transaction for ≥ 90 days');
    expect(withLensRules(out, parseLensParams({ lifecycle: { quietDays: 45 } }))).toBe(out);
  });

  it('refuses a document without the markers', () => {
    expect(() => withLensRules('# no markers\n')).toThrowError(/lacks the markers/);
  });
});
