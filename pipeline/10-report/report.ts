import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Manifest } from '../registry/bundle.ts';
import { toJson } from '../registry/bundle.ts';
import type { SegmentsState } from '../jobs/train.ts';

/** The documented export schema version of `segments.json` (see docs/segments-json.md). */
export const SEGMENTS_EXPORT_VERSION = 1;

type Card = SegmentsState['cards'][number];

interface ManifestView {
  version: string;
  createdAt: string;
  input: { dataDir: string; asOf: string; tables: Record<string, { read: number; accepted: number; quarantined: number; byReason: Record<string, number> }>; absentTables: string[] };
  features: { names: string[]; dropped: { feature: string; reason: string }[] };
  metrics: {
    customers: number;
    k: number;
    silhouette: number | null;
    pcaComponents: number;
    pcaExplainedVariance: number;
    kSelection: { k: number; silhouette: number; calinskiHarabasz: number; daviesBouldin: number; inertia: number; minShare: number; eligible: boolean }[];
    classifier: { heldOutAccuracy: number; nHeldOut: number };
    plantedArchetypeAri: number | null;
    cramersV: Record<string, number>;
  };
  seeds: Record<string, number>;
}

/** The machine-readable export of a model's segments (schema in docs/segments-json.md). */
export function segmentsExport(manifest: Manifest, segments: SegmentsState): unknown {
  const m = manifest as unknown as ManifestView;
  return {
    kind: 'finseg.segments-export',
    schemaVersion: SEGMENTS_EXPORT_VERSION,
    model: m.version,
    createdAt: m.createdAt,
    asOf: m.input.asOf,
    customers: m.metrics.customers,
    k: m.metrics.k,
    metrics: {
      silhouette: m.metrics.silhouette,
      classifierHeldOutAccuracy: m.metrics.classifier.heldOutAccuracy,
      plantedArchetypeAri: m.metrics.plantedArchetypeAri,
      cramersV: segments.cramersV,
    },
    segments: segments.cards.map((c) => ({
      id: c.id,
      name: c.name,
      size: c.size,
      share: c.share,
      lenses: Object.fromEntries(c.lenses.map((l) => [l.lens, { dominant: l.dominant, dominantShare: l.dominantShare, lift: l.lift, shares: l.shares }])),
      distinguishing: c.distinguishing,
      playbook: c.playbook,
      exampleCustomerIds: c.exampleCustomerIds,
    })),
  };
}

const pct = (x: number, digits = 1) => `${(x * 100).toFixed(digits)}%`;
const num = (x: number | null | undefined, digits = 3) => (x === null || x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(digits));
/** Markdown table cells must not break the table. */
const cell = (s: string) => s.replaceAll('|', '\\|').replaceAll('\n', ' ');

function cardMarkdown(c: Card): string[] {
  const out = [`### Segment ${c.id}: ${cell(c.name.en)} · ${cell(c.name.zh)}`, ''];
  out.push(`${c.size} customers (${pct(c.share)} of the base).`, '');
  out.push('| lens | dominant | share in segment | lift over base |', '|---|---|---:|---:|');
  for (const l of c.lenses) out.push(`| ${l.lens} | ${cell(l.dominant)} | ${pct(l.dominantShare)} | ${num(l.lift, 2)} |`);
  out.push('', 'What sets it apart (standardised difference from the other customers):', '');
  out.push('| feature | segment mean | rest mean | std. diff |', '|---|---:|---:|---:|');
  for (const f of c.distinguishing) out.push(`| ${cell(f.feature)} | ${num(f.segmentMean)} | ${num(f.restMean)} | ${num(f.standardisedDifference, 2)} |`);
  const p = c.playbook;
  out.push('', `**Playbook.** Edition: ${cell(p.edition)}; deployment: ${cell(p.deployment)}; lead modules: ${p.leadModules.map(cell).join(', ')}.`);
  out.push(`Service: ${cell(p.service)}. Message: ${cell(p.message)}.`, '');
  out.push(`Example customers: ${c.exampleCustomerIds.map(cell).join(', ')}`, '');
  return out;
}

/** The Markdown report of a bundle: data, model quality, k selection and one card per segment. */
export function reportMarkdown(manifest: Manifest, segments: SegmentsState): string {
  const m = manifest as unknown as ManifestView;
  const lines: string[] = [`# finseg segments — model ${m.version}`, ''];
  lines.push(`Trained ${m.createdAt} on \`${m.input.dataDir}\`, features as of ${m.input.asOf}; seed ${m.seeds.run}.`, '');
  lines.push('## Model quality', '', '| metric | value |', '|---|---:|');
  lines.push(`| customers | ${m.metrics.customers} |`);
  lines.push(`| segments (k) | ${m.metrics.k} |`);
  lines.push(`| silhouette (seeded sample) | ${num(m.metrics.silhouette)} |`);
  lines.push(`| classifier held-out agreement with k-means | ${pct(m.metrics.classifier.heldOutAccuracy)} (${m.metrics.classifier.nHeldOut} customers) |`);
  if (m.metrics.plantedArchetypeAri !== null) lines.push(`| adjusted Rand index vs planted archetypes | ${num(m.metrics.plantedArchetypeAri)} |`);
  lines.push(`| PCA components (variance kept) | ${m.metrics.pcaComponents} (${pct(m.metrics.pcaExplainedVariance)}) |`, '');
  lines.push('## Input', '', '| table | read | accepted | quarantined | reasons |', '|---|---:|---:|---:|---|');
  for (const [name, t] of Object.entries(m.input.tables)) {
    const reasons = Object.entries(t.byReason).map(([r, n]) => `${r} ${n}`).join(', ');
    lines.push(`| ${name} | ${t.read} | ${t.accepted} | ${t.quarantined} | ${cell(reasons)} |`);
  }
  for (const t of m.input.absentTables) lines.push(`| ${t} | absent | | | |`);
  if (m.features.dropped.length) {
    lines.push('', `Features dropped: ${m.features.dropped.map((d) => `${d.feature} (${d.reason})`).join('; ')}.`);
  }
  lines.push('', `${m.features.names.length} features used.`, '');
  lines.push('## Choosing k', '', 'k is the eligible k (every segment ≥ the minimum share) with the highest silhouette on a seeded sample.', '');
  lines.push('| k | silhouette | Calinski-Harabasz | Davies-Bouldin | inertia | smallest share | eligible |', '|---:|---:|---:|---:|---:|---:|---|');
  for (const r of m.metrics.kSelection) {
    const mark = r.k === m.metrics.k ? ' **chosen**' : '';
    lines.push(`| ${r.k} | ${num(r.silhouette)} | ${num(r.calinskiHarabasz, 1)} | ${num(r.daviesBouldin)} | ${num(r.inertia, 1)} | ${pct(r.minShare)} | ${r.eligible ? 'yes' : 'no'}${mark} |`);
  }
  lines.push('', '## Segments and the five lenses', '', "Cramér's V of the segmentation against each lens (0 = unrelated, 1 = the same grouping):", '');
  lines.push('| lens | Cramér\'s V |', '|---|---:|');
  for (const [lens, v] of Object.entries(segments.cramersV)) lines.push(`| ${lens} | ${num(v)} |`);
  lines.push('');
  for (const c of segments.cards) lines.push(...cardMarkdown(c));
  return `${lines.join('\n')}\n`;
}

/** Writes `report/report.md` and `report/segments.json` beside a bundle's state; returns their paths. */
export function writeReport(bundleDir: string, manifest: Manifest, segments: SegmentsState): { markdown: string; json: string } {
  const dir = join(bundleDir, 'report');
  mkdirSync(dir, { recursive: true });
  const markdown = join(dir, 'report.md');
  const json = join(dir, 'segments.json');
  writeFileSync(markdown, reportMarkdown(manifest, segments));
  writeFileSync(json, toJson(segmentsExport(manifest, segments)));
  return { markdown, json };
}
