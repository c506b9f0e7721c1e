import type { IngestResult, TableIngestReport } from './ingest.ts';

/** Left- and right-aligned text columns, for plain terminal tables. */
function table(rows: string[][], rightAligned: ReadonlySet<number>): string[] {
  const widths = rows[0]!.map((_, j) => Math.max(...rows.map((r) => [...(r[j] ?? '')].length)));
  return rows.map((r) =>
    r
      .map((cell, j) => (rightAligned.has(j) ? cell.padStart(widths[j]!) : cell.padEnd(widths[j]!)))
      .join('  ')
      .trimEnd(),
  );
}

const int = (n: number): string => n.toLocaleString('en-US');

/** The share of a table's rows that was quarantined. */
export function quarantinedShare(t: TableIngestReport): number {
  return t.read === 0 ? 0 : t.quarantined / t.read;
}

/**
 * The validation report of `finseg validate`: per table read / accepted / quarantined, the
 * optional values nulled and whether it passes the limit, then per table the quarantined rows
 * and the nulled cells by reason and column with examples. Plain text, one table per block.
 */
export function formatValidation(result: IngestResult, limit: number): string {
  const lines: string[] = [`as of ${result.asOf}; quarantine limit ${(limit * 100).toFixed(1)}% of a table`, ''];
  const rows: string[][] = [['table', 'source', 'read', 'accepted', 'quarantined', 'share', 'cells nulled', '']];
  for (const t of Object.values(result.tables)) {
    const share = quarantinedShare(t);
    const source = t.derivedFrom ? `derived from ${t.derivedFrom} (${int(t.sourceRows ?? 0)} rows)` : `${t.format}, ${t.files} file${t.files === 1 ? '' : 's'}`;
    rows.push([t.table, source, int(t.read), int(t.accepted), int(t.quarantined), `${(share * 100).toFixed(1)}%`, int(t.cellsNulled ?? 0), share > limit ? 'OVER THE LIMIT' : 'ok']);
  }
  for (const t of result.absentTables) rows.push([t, 'absent', '', '', '', '', '', '']);
  lines.push(...table(rows, new Set([2, 3, 4, 5, 6])));
  for (const t of Object.values(result.tables)) {
    if (t.quarantined === 0) continue;
    lines.push('', `${t.table}: quarantined by reason`);
    const detail: string[][] = [['reason', 'column', 'rows', 'e.g.']];
    for (const d of t.details) detail.push([d.reason, d.column ?? '', int(d.count), d.examples.map((x) => JSON.stringify(x)).join(', ')]);
    lines.push(...table(detail, new Set([2])).map((l) => `  ${l}`));
    const followed = Object.entries(t.followed ?? {});
    if (followed.length) lines.push(`  customer_quarantined rows by the reason of their customer's row: ${followed.map(([r, n]) => `${r} ${int(n ?? 0)}`).join(', ')}`);
  }
  for (const t of Object.values(result.tables)) {
    if (!t.cellsNulled) continue;
    lines.push('', `${t.table}: optional values nulled (rows kept) by reason`);
    const detail: string[][] = [['reason', 'column', 'cells', 'e.g.']];
    for (const d of t.cellDetails ?? []) detail.push([d.reason, d.column ?? '', int(d.count), d.examples.map((x) => JSON.stringify(x)).join(', ')]);
    lines.push(...table(detail, new Set([2])).map((l) => `  ${l}`));
  }
  for (const t of Object.values(result.tables)) {
    if (t.missingOptionalColumns.length) lines.push('', `${t.table}: optional columns not in the data: ${t.missingOptionalColumns.join(', ')}`);
  }
  if (result.quarantineDir) {
    lines.push('', `quarantined rows with source file, line, reason and the row's own columns (nulled cells in <table>.cells.csv): ${result.quarantineDir}${result.quarantineReused ? ' (written by an earlier run on the same files and settings)' : ''}`);
  }
  return `${lines.join('\n')}\n`;
}

/** True when some table's quarantined share is over the limit. */
export function overLimit(result: IngestResult, limit: number): boolean {
  return Object.values(result.tables).some((t) => quarantinedShare(t) > limit);
}
