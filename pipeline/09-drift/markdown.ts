/**
 * The Markdown section of a model's report that this stage owns: the comparison with the
 * production it was retrained against (the forecasts are rendered, in the report's language, by
 * 10-report/forecast-markdown.ts). Plain functions from the stored states to lines, so the
 * report (10-report) only places them.
 */
import type { Comparison } from './compare.ts';
import type { MigrationLabel } from './migration.ts';

const pct = (x: number | null | undefined, digits = 1) => (x === null || x === undefined || !Number.isFinite(x) ? '–' : `${(x * 100).toFixed(digits)}%`);
const num = (x: number | null | undefined, digits = 3) => (x === null || x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(digits));
const cell = (s: string) => s.replaceAll('|', '\\|').replaceAll('\n', ' ');
const label = (l: MigrationLabel) => (typeof l === 'number' ? String(l) : l);
/** Inputs listed in the drift table besides the drifted ones. */
const TOP_INPUTS = 10;

/** "## Comparison with production": decision, gates, ids, shares, drift and the migration matrix. */
export function comparisonMarkdown(c: Comparison): string[] {
  const out: string[] = [];
  if (c.production === null) {
    out.push('## Retraining', '', `First model of its registry: no production to compare with. Gate decision: **${c.decision}**${c.reasons.length ? ` (${c.reasons.map(cell).join('; ')})` : ''}.`, '');
  } else {
    out.push(`## Comparison with production ${c.production}`, '');
    out.push(`Gate decision: **${c.decision}**${c.reasons.length ? `. Not promoted because: ${c.reasons.map(cell).join('; ')}` : ', every gate passed or was waived'}. Whether the production pointer moved is recorded in the registry (\`finseg models list\`).`, '');
    out.push(`Both models assigned the same ${c.customers.current} current customers; production was trained on ${c.customers.productionTraining ?? '–'}.`, '');
  }
  out.push('| gate | value | threshold | status | why |', '|---|---:|---:|---|---|');
  for (const g of c.gates) out.push(`| ${g.gate} | ${num(g.value)} | ${num(g.threshold)} | ${g.status} | ${cell(g.reason)} |`);
  out.push('');
  if (c.agreement) out.push(`Agreement with production: adjusted Rand index **${num(c.agreement.ari)}** over ${c.agreement.customers} customers.`, '');

  out.push('### Segment ids', '', 'Candidate segments are matched to production segments by the customers they share (Hungarian assignment, Jaccard ≥ the matching threshold); a match keeps the id and name.', '');
  out.push('| id | name | status | Jaccard with production segment | share at production training | production share today | share in this model |', '|---:|---|---|---:|---:|---:|---:|');
  const shares = new Map(c.shares.map((s) => [s.id, s]));
  for (const s of [...c.segments].sort((a, b) => a.id - b.id)) {
    const sh = shares.get(s.id);
    const renamed = s.status === 'kept' && s.ownName.en !== s.name.en ? ` (the data now suggests “${cell(s.ownName.en)}”)` : '';
    out.push(`| ${s.id} | ${cell(s.name.en)} · ${cell(s.name.zh)}${renamed} | ${s.status} | ${s.status === 'kept' ? num(s.jaccard) : '–'} | ${pct(sh?.before)} | ${pct(sh?.productionNow)} | ${pct(sh?.after)} |`);
  }
  for (const v of c.vanished) out.push(`| ${v.id} | ${cell(v.name.en)} · ${cell(v.name.zh)} | vanished | – | ${pct(shares.get(v.id)?.before)} | ${pct(shares.get(v.id)?.productionNow)} | – |`);
  out.push('');

  if (c.drift) {
    const d = c.drift;
    out.push('### Drift', '');
    out.push(
      `Population stability index of each input today against production's training bins (deciles; PSI < 0.1 stable, 0.1–0.2 moderate, ≥ ${d.threshold} drifted). ` +
        `Drift detected: **${d.detected ? 'yes' : 'no'}**${d.drifted.length ? ` (${d.drifted.map(cell).join(', ')})` : ''}; PSI of production's segment shares: ${num(d.segmentSharePsi)}.`,
      '',
    );
    out.push('| input | source | PSI | |', '|---|---|---:|---|');
    const shown = d.inputs.filter((x, i) => i < TOP_INPUTS || x.psi >= d.threshold);
    for (const x of shown) out.push(`| ${cell(x.name)} | ${x.source} | ${num(x.psi)} | ${x.psi >= d.threshold ? 'drifted' : x.psi >= 0.1 ? 'moderate' : ''} |`);
    if (d.inputs.length > shown.length) out.push('', `${d.inputs.length - shown.length} more inputs, all with PSI below ${num(shown[shown.length - 1]?.psi)} (comparison.json lists every one).`);
    out.push('');
  }

  if (c.migration) {
    const m = c.migration;
    out.push('### Migration', '', `Rows: segment at production's training (\`new\`: customers production never saw). Columns: segment in this model (\`gone\`: no longer in the data). ${m.sameId} of ${m.inBoth} customers present in both (${pct(m.inBoth ? m.sameId / m.inBoth : null)}) kept their segment id.`, '');
    out.push(`| from \\ to | ${m.to.map(label).join(' | ')} |`, `|---|${m.to.map(() => '---:').join('|')}|`);
    m.counts.forEach((row, r) => out.push(`| ${label(m.from[r]!)} | ${row.map((n, j) => (n === 0 ? '·' : `${n} (${pct(m.shares[r]![j], 0)})`)).join(' | ')} |`));
    out.push('');
  }
  return out;
}
