import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Manifest } from '../registry/bundle.ts';
import { toJson } from '../registry/bundle.ts';
import type { SegmentsState } from '../jobs/train.ts';
import { segmentsCsv } from './exports.ts';
import { renderReportHtml } from './html.ts';
import type { Lang } from './i18n.ts';
import { readOptionalJson, reportModel } from './model.ts';
import type { Comparison } from '../09-drift/compare.ts';
import { comparisonMarkdown, trendsMarkdown } from '../09-drift/markdown.ts';
import type { TrendsState } from '../09-drift/trends.ts';

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
    kSelection: { k: number; silhouette: number; calinskiHarabasz: number; daviesBouldin: number; inertia: number; minShare: number; stability?: number | null; eligible: boolean }[];
    /** The k decision rule as applied (bundles from before it was recorded lack it). */
    selectionRule?: string;
    stability?: { meanAri: number | null; segmentJaccard: (number | null)[]; unstableBelow: number };
    explain?: { fidelity: number; immFidelity: number; leaves: number };
    classifier: { heldOutAccuracy: number; nHeldOut: number };
    /** The signup-attributes classifier (bundles from before cold start lack it). */
    coldStart?: { heldOutAccuracy: number; majorityBaseline: number; nHeldOut: number; minHistory: number; used?: boolean; marginRequired?: number };
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
      coldStartHeldOutAccuracy: m.metrics.coldStart?.heldOutAccuracy ?? null,
      coldStartMajorityBaseline: m.metrics.coldStart?.majorityBaseline ?? null,
      plantedArchetypeAri: m.metrics.plantedArchetypeAri,
      cramersV: segments.cramersV,
      selectionRule: m.metrics.selectionRule ?? null,
      stabilityAri: m.metrics.stability?.meanAri ?? null,
      ruleFidelity: m.metrics.explain?.fidelity ?? null,
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
      stability: c.stability ?? null,
      explanation: c.explanation ?? null,
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
  if (c.stability) out.push(`Stability: mean bootstrap Jaccard ${num(c.stability.jaccard, 2)}${c.stability.unstable ? ' — **unstable**: it does not reliably reappear when the data is resampled' : ''}.`, '');
  out.push('| lens | dominant | share in segment | lift over base |', '|---|---|---:|---:|');
  for (const l of c.lenses) out.push(`| ${l.lens} | ${cell(l.dominant)} | ${pct(l.dominantShare)} | ${num(l.lift, 2)} |`);
  out.push('', 'What sets it apart (standardised difference from the other customers):', '');
  out.push('| feature | segment mean | rest mean | std. diff |', '|---|---:|---:|---:|');
  for (const f of c.distinguishing) out.push(`| ${cell(f.feature)} | ${num(f.segmentMean)} | ${num(f.restMean)} | ${num(f.standardisedDifference, 2)} |`);
  if (c.explanation) {
    const e = c.explanation;
    out.push('', `Who is in it, as threshold rules (capture ${pct(e.recall)} of the segment; ${pct(e.precision)} of those they capture are in it):`, '');
    for (const r of e.rules) out.push(`- \`${r}\``);
    if (e.rules.length === 0) out.push('- (the tree gives this segment no leaf)');
  }
  const p = c.playbook;
  out.push('', `**Playbook.** Edition: ${cell(p.edition)}; deployment: ${cell(p.deployment)}; lead modules: ${p.leadModules.map(cell).join(', ')}.`);
  out.push(`Service: ${cell(p.service)}. Message: ${cell(p.message)}.`, '');
  out.push(`Example customers: ${c.exampleCustomerIds.map(cell).join(', ')}`, '');
  return out;
}

/** Segment stability (bootstrap Jaccard, unstable ones flagged) and the threshold tree's fidelity and rules, when the bundle has them. */
function stabilityAndRulesMarkdown(m: ManifestView, segments: SegmentsState): string[] {
  const out: string[] = [];
  const st = m.metrics.stability;
  if (st) {
    out.push('## Segment stability', '');
    out.push(
      `Each segment's mean Jaccard with its best match over bootstrap refits of k-means (like fpc::clusterboot); below ${st.unstableBelow} a segment is flagged **unstable**. Mean ARI of the refits against the segments: ${num(st.meanAri)}.`,
      '',
    );
    out.push('| segment | name | Jaccard | |', '|---:|---|---:|---|');
    for (const c of segments.cards) {
      // Per-segment arrays are by position; a retrain can carry ids over so that id and position differ.
      const j = c.stability?.jaccard ?? st.segmentJaccard[segments.cards.indexOf(c)] ?? null;
      const unstable = c.stability?.unstable ?? (j !== null && j < st.unstableBelow);
      out.push(`| ${c.id} | ${cell(c.name.en)} | ${num(j, 2)} | ${unstable ? '**unstable**' : 'stable'} |`);
    }
    out.push('');
  }
  const ex = m.metrics.explain;
  if (ex) {
    out.push('## Segment rules', '');
    out.push(
      `A threshold tree over the raw features (IMM, one leaf per segment, then grown ExKMC-style) with ${ex.leaves} leaves puts ${pct(ex.fidelity)} of customers in their k-means segment (fidelity; ${pct(ex.immFidelity)} with one leaf per segment). A missing value is read as the feature's training median. The same rules as DuckDB SQL are in \`explain.json\` (\`sql\`) and, per segment, in \`segments.json\`.`,
      '',
    );
    out.push('| segment | rule | recall | precision |', '|---:|---|---:|---:|');
    for (const c of segments.cards) {
      const e = c.explanation;
      if (!e) continue;
      out.push(`| ${c.id} | ${e.rules.map((r) => `\`${cell(r)}\``).join(' **or** ') || '–'} | ${pct(e.recall)} | ${pct(e.precision)} |`);
    }
    out.push('');
  }
  return out;
}

/** The Markdown report of a bundle: data, model quality, k selection and one card per segment. */
export function reportMarkdown(manifest: Manifest, segments: SegmentsState, drift: { comparison?: Comparison | null; trends?: TrendsState | null } = {}): string {
  const m = manifest as unknown as ManifestView;
  const lines: string[] = [`# finseg segments — model ${m.version}`, ''];
  lines.push(`Trained ${m.createdAt} on \`${m.input.dataDir}\`, features as of ${m.input.asOf}; seed ${m.seeds.run}.`, '');
  lines.push('## Model quality', '', '| metric | value |', '|---|---:|');
  lines.push(`| customers | ${m.metrics.customers} |`);
  lines.push(`| segments (k) | ${m.metrics.k} |`);
  lines.push(`| silhouette (seeded sample) | ${num(m.metrics.silhouette)} |`);
  lines.push(`| classifier held-out agreement with k-means | ${pct(m.metrics.classifier.heldOutAccuracy)} (${m.metrics.classifier.nHeldOut} customers) |`);
  const cs = m.metrics.coldStart;
  if (cs) {
    lines.push(`| cold-start classifier (signup attributes only) held-out agreement | ${pct(cs.heldOutAccuracy)} (${cs.nHeldOut} customers) |`);
    lines.push(`| majority-class baseline on the same customers | ${pct(cs.majorityBaseline)} |`);
    lines.push(`| customers with insufficient history (below) | ${cs.minHistory} usage events + transactions |`);
    if (cs.used !== undefined) lines.push(`| cold start used (lift over the baseline ≥ ${pct(cs.marginRequired ?? 0)}) | ${cs.used ? 'yes' : 'no: nearest centroid instead'} |`);
  }
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
  const rule = m.metrics.selectionRule ?? 'the eligible k (every segment ≥ the minimum share) with the highest silhouette on a seeded sample';
  lines.push('## Choosing k', '', `k = ${m.metrics.k}: ${rule}.`, '');
  if (m.metrics.kSelection.length > 0) {
    lines.push('| k | silhouette | Calinski-Harabasz | Davies-Bouldin | inertia | smallest share | bootstrap stability (ARI) | eligible |', '|---:|---:|---:|---:|---:|---:|---:|---|');
    for (const r of m.metrics.kSelection) {
      const mark = r.k === m.metrics.k ? ' **chosen**' : '';
      lines.push(`| ${r.k} | ${num(r.silhouette)} | ${num(r.calinskiHarabasz, 1)} | ${num(r.daviesBouldin)} | ${num(r.inertia, 1)} | ${pct(r.minShare)} | ${num(r.stability)} | ${r.eligible ? 'yes' : 'no'}${mark} |`);
    }
    lines.push('');
  }
  lines.push(...stabilityAndRulesMarkdown(m, segments));
  lines.push('', '## Segments and the five lenses', '', "Cramér's V of the segmentation against each lens (0 = unrelated, 1 = the same grouping):", '');
  lines.push('| lens | Cramér\'s V |', '|---|---:|');
  for (const [lens, v] of Object.entries(segments.cramersV)) lines.push(`| ${lens} | ${num(v)} |`);
  lines.push('');
  for (const c of segments.cards) lines.push(...cardMarkdown(c));
  // Retraining's comparison (comparison.json) and the adoption trends (trends.json), when the bundle has them.
  if (drift.trends) lines.push(...trendsMarkdown(drift.trends, new Map(segments.cards.map((c) => [c.id, c.name.en]))));
  if (drift.comparison) lines.push(...comparisonMarkdown(drift.comparison));
  return `${lines.join('\n')}\n`;
}

/** Report settings. */
export interface ReportOptions {
  /** Language of index.html's labels, names and number formats. Default 'en'. */
  lang?: Lang;
}

/** The files of a bundle's report folder; assignments are null when train did not write them (bundles from before they existed). */
export interface ReportFiles {
  markdown: string;
  json: string;
  html: string;
  csv: string;
  assignmentsCsv: string | null;
  assignmentsParquet: string | null;
}

/** Optional bundle files whose sections the HTML report shows when they are present. */
const OPTIONAL_STATES = ['cluster.json', 'explain.json', 'comparison.json', 'trends.json'] as const;

/** Writes a file through a temporary sibling and a rename, so a reader never sees half a report. */
function writeAtomically(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/**
 * Writes the report folder beside a bundle's state: `report.md`, `segments.json`, `segments.csv`
 * and the self-contained `index.html`; the training assignments in it are train's and are kept.
 */
export async function writeReport(bundleDir: string, manifest: Manifest, segments: SegmentsState, options: ReportOptions = {}): Promise<ReportFiles> {
  const dir = join(bundleDir, 'report');
  mkdirSync(dir, { recursive: true });
  const markdown = join(dir, 'report.md');
  const json = join(dir, 'segments.json');
  const csv = join(dir, 'segments.csv');
  const html = join(dir, 'index.html');
  const assignmentsCsv = join(dir, 'assignments.csv');
  const assignmentsParquet = join(dir, 'assignments.parquet');
  const extra = Object.fromEntries(OPTIONAL_STATES.map((name) => [name, readOptionalJson(bundleDir, name)]));
  const drift = { comparison: (extra['comparison.json'] ?? null) as Comparison | null, trends: (extra['trends.json'] ?? null) as TrendsState | null };
  writeAtomically(markdown, reportMarkdown(manifest, segments, drift));
  writeAtomically(json, toJson(segmentsExport(manifest, segments)));
  const model = reportModel(manifest, segments, extra);
  writeAtomically(csv, segmentsCsv(model.segments));
  const present = {
    segmentsJson: true,
    segmentsCsv: true,
    assignmentsCsv: existsSync(assignmentsCsv),
    assignmentsParquet: existsSync(assignmentsParquet),
    reportMd: true,
  };
  writeAtomically(html, await renderReportHtml(model, options.lang ?? 'en', present));
  return {
    markdown,
    json,
    html,
    csv,
    assignmentsCsv: present.assignmentsCsv ? assignmentsCsv : null,
    assignmentsParquet: present.assignmentsParquet ? assignmentsParquet : null,
  };
}
