import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { churnOf } from './churn-view.ts';
import { join } from 'node:path';
import type { Comparison } from '../09-drift/compare.ts';
import type { TrendsState } from '../09-drift/trends.ts';
import { toJson } from '../core/json.ts';
import { segmentsCsv } from './exports.ts';
import { renderReportHtml } from './html.ts';
import { LANGS, type Lang } from './i18n.ts';
import type { ManifestView, ReportInput, ReportSegments } from './input.ts';
import { reportMarkdown } from './markdown.ts';
import { reportModel } from './model.ts';

export { reportMarkdown } from './markdown.ts';
export { reportInputOf, type ManifestView, type ReportBundleStates, type ReportInput, type ReportSegments, type ReportStates } from './input.ts';

/** The documented export schema version of `segments.json` (see docs/segments-json.md). */
export const SEGMENTS_EXPORT_VERSION = 1;

/** The machine-readable export of a model's segments (schema in docs/segments-json.md). */
export function segmentsExport(m: ManifestView, segments: ReportSegments): unknown {
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
    lensMeasurability: reportModel(m, segments).lensMeasurability,
    // Value per segment only when the export had subscriptions (07-map/value.ts): otherwise the export is unchanged.
    ...(segments.value ? { value: segments.value } : {}),
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
      ...(c.value ? { value: c.value } : {}),
    })),
  };
}

/** Report settings. */
export interface ReportOptions {
  /** One language to write: the same as `langs: [lang]`. */
  lang?: Lang;
  /** The languages to write the page and the Markdown in, each to its own files (`REPORT_PAGES`). Default: every language, English first. */
  langs?: readonly Lang[];
}

/** The page and Markdown file of each language: English keeps the plain names, so links to `index.html` stay valid. */
export const REPORT_PAGES: Readonly<Record<Lang, { html: string; markdown: string }>> = {
  en: { html: 'index.html', markdown: 'report.md' },
  zh: { html: 'index.zh.html', markdown: 'report.zh.md' },
};

/**
 * The files of a bundle's report folder: `html` and `markdown` are the first language's, `pages`
 * every language written; assignments are null when train did not write them (bundles from before they existed).
 */
export interface ReportFiles {
  markdown: string;
  json: string;
  html: string;
  csv: string;
  assignmentsCsv: string | null;
  assignmentsParquet: string | null;
  pages: Partial<Record<Lang, { html: string; markdown: string }>>;
}

/** Writes a file through a temporary sibling and a rename, so a reader never sees half a report. */
function writeAtomically(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/**
 * Writes the report folder beside a bundle's state: `segments.json`, `segments.csv` and, per
 * language, the self-contained page and the Markdown (`REPORT_PAGES`), each linking to the other
 * language's when that is written now or already there. The training assignments are train's and are kept.
 */
export async function writeReport(bundleDir: string, input: ReportInput, options: ReportOptions = {}): Promise<ReportFiles> {
  const { manifest, segments, states } = input;
  const langs = options.langs?.length ? [...new Set(options.langs)] : options.lang ? [options.lang] : LANGS;
  const dir = join(bundleDir, 'report');
  mkdirSync(dir, { recursive: true });
  const json = join(dir, 'segments.json');
  const csv = join(dir, 'segments.csv');
  const assignmentsCsv = join(dir, 'assignments.csv');
  const assignmentsParquet = join(dir, 'assignments.parquet');
  // The drift stage's Markdown sections take its own state types; the caller verified the files.
  const drift = { comparison: (states.comparison ?? null) as Comparison | null, trends: (states.trends ?? null) as TrendsState | null, nextModule: states.nextModule ?? null, evaluation: states.evaluation, churn: churnOf(states.churn) };
  writeAtomically(json, toJson(segmentsExport(manifest, segments)));
  const model = reportModel(manifest, segments, states);
  writeAtomically(csv, segmentsCsv(model.segments));
  const present = {
    segmentsJson: true,
    segmentsCsv: true,
    assignmentsCsv: existsSync(assignmentsCsv),
    assignmentsParquet: existsSync(assignmentsParquet),
    reportMd: true,
  };
  const pages: ReportFiles['pages'] = {};
  for (const lang of langs) {
    const other = LANGS.find((l) => l !== lang)!;
    const otherThere = (file: 'html' | 'markdown') => langs.includes(other) || existsSync(join(dir, REPORT_PAGES[other][file]));
    const html = join(dir, REPORT_PAGES[lang].html);
    const markdown = join(dir, REPORT_PAGES[lang].markdown);
    writeAtomically(markdown, reportMarkdown(manifest, segments, drift, lang, otherThere('markdown')));
    const links = { markdown: REPORT_PAGES[lang].markdown, otherLanguage: otherThere('html') ? REPORT_PAGES[other].html : null };
    writeAtomically(html, await renderReportHtml(model, lang, present, links));
    pages[lang] = { html, markdown };
  }
  return {
    markdown: pages[langs[0]!]!.markdown,
    json,
    html: pages[langs[0]!]!.html,
    csv,
    assignmentsCsv: present.assignmentsCsv ? assignmentsCsv : null,
    assignmentsParquet: present.assignmentsParquet ? assignmentsParquet : null,
    pages,
  };
}
