import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONTRACT, QUARANTINE_REASONS, TABLE_NAMES } from '../../pipeline/01-ingest/contract.ts';
import { contractBlockNames, contractSummaryTable, renderContractBlocks } from '../../pipeline/01-ingest/contract-doc.ts';

const repo = join(import.meta.dirname, '../..');
const readme = readFileSync(join(repo, 'README.md'), 'utf8');
const doc = readFileSync(join(repo, 'docs/data-contract.md'), 'utf8');

describe('the contract is documented from its one declaration', () => {
  it("README's input table is exactly the table generated from CONTRACT (npm run docs:contract)", () => {
    expect(contractBlockNames(readme)).toEqual(expect.arrayContaining(['summary', 'formats']));
    expect(readme).toBe(renderContractBlocks(readme));
  });

  it('docs/data-contract.md has the generated column, reason, value and format tables', () => {
    expect(contractBlockNames(doc)).toEqual(expect.arrayContaining(['columns', 'reasons', 'values', 'formats']));
    expect(doc).toBe(renderContractBlocks(doc));
  });

  it('names every table and column of the contract, and every reason code', () => {
    const table = contractSummaryTable();
    for (const name of TABLE_NAMES) {
      expect(table).toContain(`\`${name}\``);
      for (const c of CONTRACT[name].columns) expect(table).toContain(`\`${c.name}\``);
    }
    for (const r of QUARANTINE_REASONS) expect(doc).toContain(`\`${r.code}\``);
  });
});
