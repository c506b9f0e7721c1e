import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/**
 * The report's charts as vega-lite specs, rendered to SVG in Node (no browser, no script in the
 * page). This file holds the shared look and `renderSvg`, the only place vega runs; the spec
 * builders (segment-charts.ts, evidence-charts.ts) are pure functions of plain data and the
 * language's texts.
 */

/**
 * Font stack of charts and page alike: the Latin faces of the common systems first, then the
 * common CJK faces (the browser falls back per character, so Chinese never shows as boxes).
 * English texts use ASCII quotes: a CJK face standing in for Latin draws ’ full width.
 */
export const FONT_STACK =
  "-apple-system, 'Segoe UI', 'Helvetica Neue', Arial, 'Noto Sans', 'PingFang SC', 'Hiragino Sans GB', 'Microsoft YaHei', 'Noto Sans CJK SC', 'WenQuanYi Micro Hei', sans-serif";

/** Segment colours (Tableau 10 plus two), by segment id; ids past the end wrap around. */
export const SEGMENT_PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac', '#86bcb6', '#d37295'];

/** The colour of a segment id. */
export const segmentColor = (id: number): string => SEGMENT_PALETTE[id % SEGMENT_PALETTE.length]!;

/** Text colour of titles and labels. */
export const INK = '#1f2937';
/** Colour of secondary text (subtitles, counts beside bars). */
export const MUTED = '#6b7280';
const GRID = '#e5e7eb';

/** Shared look: quiet axes, light grid, no frame; applied to every spec. */
const CONFIG = {
  font: FONT_STACK,
  background: 'white',
  padding: 4,
  view: { stroke: null },
  axis: {
    labelColor: '#4b5563',
    titleColor: INK,
    titleFontWeight: 600,
    labelFontSize: 11,
    titleFontSize: 11,
    gridColor: GRID,
    domainColor: '#9ca3af',
    tickColor: '#9ca3af',
    titlePadding: 8,
  },
  legend: { labelColor: '#4b5563', titleColor: INK, labelFontSize: 11, titleFontSize: 11, titleFontWeight: 600, symbolSize: 90 },
  header: { labelColor: INK, labelFontSize: 12, labelFontWeight: 600, titleFontSize: 12 },
  title: { color: INK, fontSize: 12, fontWeight: 600, anchor: 'start', offset: 8 },
  text: { color: INK },
} as const;

/** A chart of the report: where it goes, what it is called and its spec. */
export interface ChartSpec {
  /** Stable id, used for the element id and to keep SVG ids unique within the page. */
  id: string;
  title: string;
  caption?: string;
  /** Wide charts take the full row of the page; the others pair up. */
  wide: boolean;
  spec: TopLevelSpec;
}

/** A rendered chart: the spec's metadata and its SVG markup. */
export interface RenderedChart extends Omit<ChartSpec, 'spec'> {
  svg: string;
}

/** One segment as charts name it: id, display label and colour. */
export interface SegmentKey {
  id: number;
  label: string;
}

/** "#3 Mature mid-size manufacturers · desktop-bound": the id keeps labels unique and matches the cards. */
export function segmentLabel(id: number, name: string): string {
  return `#${id} ${name}`;
}

/** The colour scale of a chart's segments: each label in its segment's colour. */
export function segmentScale(segments: readonly SegmentKey[]) {
  return { domain: segments.map((s) => s.label), range: segments.map((s) => segmentColor(s.id)) };
}

/** A vega-lite spec with the report's shared look and an accessible description. */
export const withConfig = (spec: Record<string, unknown>, description: string): TopLevelSpec =>
  ({ $schema: 'https://vega.github.io/schema/vega-lite/v5.json', description, config: CONFIG, ...spec }) as unknown as TopLevelSpec;

/**
 * Text widths as a browser's sans-serif renders them: vega's built-in estimate (0.8 em per
 * character) makes Latin labels too wide and CJK ones too narrow, which misplaces legends
 * and truncates Chinese axis labels.
 */
function estimateTextWidth(item: { text?: unknown; fontSize?: number; fontWeight?: string | number; limit?: number }, text?: unknown): number {
  const s = String(text ?? item.text ?? '');
  const size = item.fontSize ?? 11;
  let em = 0;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c >= 0x2e80 && c <= 0xffef) em += 1.0;
    else if ('ilj.,:;\'|!() '.includes(ch)) em += 0.3;
    else if (ch >= 'A' && ch <= 'Z') em += 0.68;
    else if (ch === 'm' || ch === 'w' || ch === 'M' || ch === 'W') em += 0.88;
    // Noto and DejaVu run about 0.6 em a letter, Arial and Segoe about 0.5: err wide so nothing overlaps.
    else em += 0.58;
  }
  const bold = item.fontWeight === 'bold' || Number(item.fontWeight) >= 600 ? 1.07 : 1;
  const width = em * size * bold;
  return item.limit && item.limit > 0 ? Math.min(width, item.limit) : width;
}

/** Renders a vega-lite spec to standalone SVG markup, with its element ids prefixed so many SVGs can share a page. */
export async function renderSvg(spec: TopLevelSpec, idPrefix: string): Promise<string> {
  // Both hooks exist in vega 5's runtime but not in its typings.
  const runtime = vega as unknown as { textMetrics: { width: unknown }; resetSVGDefIds(): void };
  // vega reads the metric at layout time; a user-defined width is the documented hook (vl-convert uses it).
  runtime.textMetrics.width = estimateTextWidth;
  // Clip and gradient ids restart per chart, then get the chart's prefix: deterministic and unique on the page.
  runtime.resetSVGDefIds();
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    const svg = await view.toSVG();
    return svg
      .replace(/ id="([^"]+)"/g, ` id="${idPrefix}-$1"`)
      .replace(/url\(#([^)]+)\)/g, `url(#${idPrefix}-$1)`)
      .replace(/ href="#([^"]+)"/g, ` href="#${idPrefix}-$1"`);
  } finally {
    view.finalize();
  }
}

/** Renders every chart spec, in order. */
export async function renderCharts(specs: readonly ChartSpec[]): Promise<RenderedChart[]> {
  const out: RenderedChart[] = [];
  for (const { spec, ...meta } of specs) out.push({ ...meta, svg: await renderSvg(spec, `chart-${meta.id}`) });
  return out;
}
