import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { Texts } from './i18n.ts';

/**
 * The report's charts as vega-lite specs, rendered to SVG in Node (no browser, no script in the
 * page). Spec builders are pure functions of plain data and the language's texts; `renderSvg`
 * is the only place vega runs.
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

const INK = '#1f2937';
const MUTED = '#6b7280';
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

function segmentScale(segments: readonly SegmentKey[]) {
  return { domain: segments.map((s) => s.label), range: segments.map((s) => segmentColor(s.id)) };
}

const withConfig = (spec: Record<string, unknown>, description: string): TopLevelSpec =>
  ({ $schema: 'https://vega.github.io/schema/vega-lite/v5.json', description, config: CONFIG, ...spec }) as unknown as TopLevelSpec;

/** Horizontal bars of segment sizes with count and share at the bar end. */
export function segmentSizesSpec(segments: readonly (SegmentKey & { size: number; share: number })[], t: Texts): ChartSpec {
  const values = segments.map((s) => ({ segment: s.label, size: s.size, text: `${t.fmt.integer(s.size)} · ${t.fmt.percent(s.share)}` }));
  const max = Math.max(1, ...segments.map((s) => s.size));
  const y = { field: 'segment', type: 'nominal', sort: segments.map((s) => s.label), title: null, axis: { labelLimit: 330, labelFontSize: 11.5, ticks: false, domain: false, labelPadding: 6 } };
  return {
    id: 'sizes',
    title: t.ui('sizesChart'),
    wide: false,
    spec: withConfig(
      {
        width: 200,
        height: { step: 32 },
        data: { values },
        encoding: { y },
        layer: [
          {
            mark: { type: 'bar', cornerRadiusEnd: 3, height: { band: 0.72 } },
            encoding: {
              x: { field: 'size', type: 'quantitative', title: t.ui('customers'), scale: { domain: [0, max * 1.45] }, axis: { format: ',d', grid: true, tickCount: 4 } },
              color: { field: 'segment', type: 'nominal', scale: segmentScale(segments), legend: null },
            },
          },
          { mark: { type: 'text', align: 'left', dx: 5, fontSize: 11, color: MUTED }, encoding: { x: { field: 'size', type: 'quantitative' }, text: { field: 'text' } } },
        ],
      },
      t.ui('sizesChart'),
    ),
  };
}

/** Scatter of a seeded sample on PC1 × PC2, coloured by segment, with the centres marked and labelled. */
export function projectionSpec(
  segments: readonly SegmentKey[],
  points: { segment: number[]; x: number[]; y: number[]; centroids: [number, number][]; explainedVariance: [number, number] },
  t: Texts,
): ChartSpec {
  // Stored points and centres carry the segment's position, which indexes `segments` (ids may differ after a retrain).
  const values = points.segment.map((s, i) => ({ segment: segments[s]?.label ?? String(s), x: points.x[i], y: points.y[i] }));
  const centres = points.centroids.map(([x, y], s) => ({ segment: segments[s]?.label ?? String(s), tag: `#${segments[s]?.id ?? s}`, x, y }));
  const axisTitle = (pc: number) => `PC${pc + 1} (${t.fmt.percent(points.explainedVariance[pc], 1)})`;
  const color = { field: 'segment', type: 'nominal', scale: segmentScale(segments), legend: null };
  return {
    id: 'projection',
    title: t.ui('projectionChart'),
    caption: t.ui('projectionCaption', { n: t.fmt.integer(values.length) }),
    wide: false,
    spec: withConfig(
      {
        width: 420,
        height: 330,
        layer: [
          {
            data: { values },
            mark: { type: 'circle', size: 16, opacity: 0.55 },
            encoding: {
              x: { field: 'x', type: 'quantitative', title: axisTitle(0), scale: { zero: false, nice: true }, axis: { tickCount: 6 } },
              y: { field: 'y', type: 'quantitative', title: axisTitle(1), scale: { zero: false, nice: true }, axis: { tickCount: 6 } },
              color,
            },
          },
          {
            data: { values: centres },
            mark: { type: 'point', shape: 'cross', size: 170, filled: true, stroke: 'white', strokeWidth: 1 },
            encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' }, color },
          },
          {
            data: { values: centres },
            mark: { type: 'text', dx: 9, dy: -9, fontSize: 11, fontWeight: 700, stroke: 'white', strokeWidth: 3, strokeOpacity: 0.9 },
            encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' }, text: { field: 'tag' } },
          },
          {
            data: { values: centres },
            mark: { type: 'text', dx: 9, dy: -9, fontSize: 11, fontWeight: 700, color: INK },
            encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' }, text: { field: 'tag' } },
          },
        ],
      },
      t.ui('projectionChart'),
    ),
  };
}

/** Heatmap of standardised feature means: segments down, features across, diverging around the base average. */
export function profileHeatmapSpec(segments: readonly SegmentKey[], featureLabels: readonly string[], means: readonly (readonly number[])[], t: Texts): ChartSpec {
  const values = segments.flatMap((s, r) =>
    featureLabels.map((f, j) => {
      const v = means[r]?.[j] ?? 0;
      return { segment: s.label, feature: f, value: v, shown: Math.max(-2, Math.min(2, v)) };
    }),
  );
  return {
    id: 'profile',
    title: t.ui('heatmapChart'),
    wide: true,
    spec: withConfig(
      {
        data: { values },
        width: { step: 19 },
        height: { step: 22 },
        mark: { type: 'rect', stroke: 'white', strokeWidth: 1 },
        encoding: {
          x: { field: 'feature', type: 'nominal', sort: [...featureLabels], title: null, axis: { labelAngle: -55, labelLimit: 150, ticks: false, domain: false, labelFontSize: 10.5 } },
          y: { field: 'segment', type: 'nominal', sort: segments.map((s) => s.label), title: null, axis: { labelLimit: 380, ticks: false, domain: false } },
          color: {
            field: 'shown',
            type: 'quantitative',
            // Clipped at ±2 sd so one extreme segment does not wash out every other contrast.
            scale: { scheme: 'redblue', reverse: true, domain: [-2, 2], domainMid: 0 },
            legend: { title: t.ui('stdDiff'), orient: 'right', gradientLength: 140, format: '+.1f' },
          },
        },
      },
      t.ui('heatmapChart'),
    ),
  };
}

/** The k-selection evidence: one small panel per metric over k, the chosen k dashed, ineligible k hollow. */
export function kSelectionSpec(
  rows: readonly { k: number; eligible: boolean; metrics: Record<string, number | null> }[],
  metrics: readonly { key: string; higherIsBetter: boolean }[],
  chosenK: number,
  t: Texts,
): ChartSpec {
  const ks = rows.map((r) => r.k);
  const kDomain = [Math.min(...ks), Math.max(...ks)];
  // Indices in the thousands read best abbreviated (80k); scores near 1 need their decimals.
  const large = (key: string) => key === 'inertia' || key === 'calinskiHarabasz';
  const panelWidth = metrics.length >= 5 ? 160 : 200;
  const panels = metrics.map((m) => {
    const values = rows.filter((r) => r.metrics[m.key] !== null && Number.isFinite(r.metrics[m.key])).map((r) => ({ k: r.k, value: r.metrics[m.key], eligible: r.eligible ? 'yes' : 'no' }));
    return {
      title: { text: t.metric(m.key), subtitle: t.ui(m.higherIsBetter ? 'higherBetter' : 'lowerBetter'), subtitleColor: MUTED, subtitleFontSize: 10.5 },
      width: panelWidth,
      height: 140,
      data: { values },
      layer: [
        { mark: { type: 'rule', strokeDash: [4, 3], color: '#9ca3af' }, data: { values: [{ k: chosenK }] }, encoding: { x: { field: 'k', type: 'quantitative', scale: { domain: kDomain, nice: false } } } },
        { mark: { type: 'line', color: '#4e79a7', strokeWidth: 2 }, encoding: { x: { field: 'k', type: 'quantitative', scale: { domain: kDomain, nice: false } }, y: { field: 'value', type: 'quantitative' } } },
        {
          mark: { type: 'point', size: 42, strokeWidth: 1.6, color: '#4e79a7' },
          encoding: {
            x: { field: 'k', type: 'quantitative', title: t.ui('k'), scale: { domain: kDomain, nice: false }, axis: { tickMinStep: 1, format: 'd', grid: false } },
            y: { field: 'value', type: 'quantitative', title: null, scale: { zero: false }, axis: { tickCount: 4, format: large(m.key) ? '~s' : '.2f' } },
            fill: { field: 'eligible', type: 'nominal', scale: { domain: ['yes', 'no'], range: ['#4e79a7', 'white'] }, legend: null },
          },
        },
      ],
    };
  });
  return {
    id: 'k-selection',
    title: t.ui('kChart'),
    caption: t.ui('kCaption', { k: chosenK }),
    wide: true,
    spec: withConfig({ columns: metrics.length, concat: panels, spacing: 26 }, t.ui('kChart')),
  };
}

/** One colour ramp per lens so neighbouring panels do not look like the same variable. */
const LENS_SCHEMES: Record<string, string[]> = {
  size: ['#c6dbef', '#6baed6', '#2171b5', '#08306b'],
  lifecycle: ['#a1d99b', '#31a354', '#fdae6b', '#d94801'],
  technology: ['#fcbba1', '#fb6a4a', '#a50f15'],
  industry: ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#b07aa1', '#9c755f'],
  buyerRole: ['#8dd3c7', '#bebada', '#fb8072', '#80b1d3', '#fdb462'],
};
const UNKNOWN_GREY = '#d1d5db';

/** Composition of every lens inside every segment: one 100% stacked bar panel per lens, the segments sharing one axis. */
export function lensCompositionSpec(
  segments: readonly SegmentKey[],
  lenses: readonly { lens: string; labels: readonly string[]; shares: readonly (Record<string, number> | undefined)[] }[],
  t: Texts,
): ChartSpec {
  const panels = lenses.map((l, i) => {
    const labelText = l.labels.map((label) => t.lensLabel(l.lens, label));
    const ramp = LENS_SCHEMES[l.lens] ?? SEGMENT_PALETTE;
    const range = l.labels.map((label, j) => (label === 'unknown' ? UNKNOWN_GREY : ramp[j % ramp.length]!));
    const values = segments.flatMap((s, r) =>
      l.labels.map((label, j) => ({ segment: s.label, label: labelText[j], order: j, share: l.shares[r]?.[label] ?? 0 })),
    );
    return {
      title: t.lensName(l.lens),
      width: 128,
      height: { step: 20 },
      data: { values },
      mark: { type: 'bar', height: { band: 0.78 } },
      encoding: {
        y: {
          field: 'segment',
          type: 'nominal',
          sort: segments.map((s) => s.label),
          title: null,
          // Only the first panel names the segments; the others line up with it.
          axis: i === 0 ? { labelLimit: 330, ticks: false, domain: false } : null,
        },
        x: { field: 'share', type: 'quantitative', stack: 'normalize', title: null, axis: { format: '.0%', tickCount: 2, grid: false } },
        color: {
          field: 'label',
          type: 'nominal',
          scale: { domain: labelText, range },
          legend: { title: null, orient: 'bottom', direction: 'vertical', labelLimit: 130, symbolType: 'square' },
        },
        order: { field: 'order', type: 'quantitative' },
      },
    };
  });
  return {
    id: 'lenses',
    title: t.ui('lensesSection'),
    wide: true,
    spec: withConfig({ hconcat: panels, spacing: 14, resolve: { scale: { color: 'independent' } } }, t.ui('lensesSection')),
  };
}

/** A segments × modules heatmap with the value printed in each cell; null cells stay blank. */
export function moduleHeatmapSpec(
  id: string,
  title: string,
  caption: string | undefined,
  segments: readonly SegmentKey[],
  moduleLabels: readonly string[],
  values: readonly (readonly (number | null)[])[],
  scheme: 'blues' | 'orangered',
  t: Texts,
): ChartSpec {
  const max = Math.max(0.05, ...values.flat().filter((v): v is number => v !== null));
  const rows = segments.flatMap((s, r) =>
    moduleLabels.map((m, j) => {
      const v = values[r]?.[j] ?? null;
      return { segment: s.label, module: m, value: v, text: v === null ? '' : t.fmt.percent(v, 0), dark: v !== null && v > max * 0.6 };
    }),
  );
  const domain = scheme === 'blues' ? [0, 1] : [0, max];
  return {
    id,
    title,
    caption,
    wide: true,
    spec: withConfig(
      {
        data: { values: rows },
        width: { step: 50 },
        height: { step: 24 },
        encoding: {
          x: { field: 'module', type: 'nominal', sort: [...moduleLabels], title: null, axis: { orient: 'top', labelAngle: -35, labelLimit: 140, ticks: false, domain: false } },
          y: { field: 'segment', type: 'nominal', sort: segments.map((s) => s.label), title: null, axis: { labelLimit: 290, ticks: false, domain: false } },
        },
        layer: [
          {
            mark: { type: 'rect', stroke: 'white', strokeWidth: 1.5 },
            encoding: { color: { field: 'value', type: 'quantitative', scale: { scheme, domain }, legend: { title: null, format: '.0%', gradientLength: 120 } } },
          },
          {
            mark: { type: 'text', fontSize: 10.5 },
            encoding: {
              text: { field: 'text' },
              color: { condition: { test: 'datum.dark', value: 'white' }, value: INK },
            },
          },
        ],
      },
      title,
    ),
  };
}

/** NPS per segment (diverging around 0) beside support tickets per customer. */
export function feedbackSpec(segments: readonly SegmentKey[], nps: readonly (number | null)[], tickets: readonly number[], t: Texts): ChartSpec {
  const values = segments.map((s, r) => ({ segment: s.label, nps: nps[r], tickets: tickets[r] ?? 0, sign: (nps[r] ?? 0) >= 0 ? 'pos' : 'neg' }));
  const y = { field: 'segment', type: 'nominal', sort: segments.map((s) => s.label), title: null };
  return {
    id: 'feedback',
    title: t.ui('npsChart'),
    wide: true,
    spec: withConfig(
      {
        data: { values },
        hconcat: [
          {
            width: 260,
            height: { step: 22 },
            transform: [{ filter: 'datum.nps !== null' }],
            mark: { type: 'bar', height: { band: 0.7 } },
            encoding: {
              y: { ...y, axis: { labelLimit: 290, ticks: false, domain: false } },
              x: { field: 'nps', type: 'quantitative', title: t.ui('nps'), scale: { domain: [-100, 100] } },
              color: { field: 'sign', type: 'nominal', scale: { domain: ['pos', 'neg'], range: ['#59a14f', '#e15759'] }, legend: null },
            },
          },
          {
            width: 200,
            height: { step: 22 },
            mark: { type: 'bar', height: { band: 0.7 }, color: '#9c755f' },
            encoding: { y: { ...y, axis: null }, x: { field: 'tickets', type: 'quantitative', title: t.ui('tickets') } },
          },
        ],
      },
      t.ui('npsChart'),
    ),
  };
}

/** Bars of each input's population stability index, coloured against the drift threshold, the threshold dashed. */
export function driftSpec(inputs: readonly { label: string; psi: number }[], threshold: number, t: Texts): ChartSpec {
  const values = inputs.map((f) => ({ input: f.label, psi: f.psi, band: f.psi >= threshold ? 'drifted' : f.psi >= threshold / 2 ? 'watch' : 'stable' }));
  return {
    id: 'drift',
    title: t.ui('driftChart'),
    caption: t.ui('driftCaption', { threshold: t.fmt.decimal(threshold, 2) }),
    wide: false,
    spec: withConfig(
      {
        width: 260,
        height: { step: 16 },
        layer: [
          {
            data: { values },
            mark: { type: 'bar', height: { band: 0.75 }, cornerRadiusEnd: 2 },
            encoding: {
              y: { field: 'input', type: 'nominal', sort: inputs.map((f) => f.label), title: null, axis: { labelLimit: 200, ticks: false, domain: false } },
              x: { field: 'psi', type: 'quantitative', title: 'PSI', axis: { tickCount: 4 } },
              color: { field: 'band', type: 'nominal', scale: { domain: ['stable', 'watch', 'drifted'], range: ['#76b7b2', '#edc948', '#e15759'] }, legend: null },
            },
          },
          { data: { values: [{ x: threshold }] }, mark: { type: 'rule', strokeDash: [4, 3], color: '#6b7280' }, encoding: { x: { field: 'x', type: 'quantitative' } } },
        ],
      },
      t.ui('driftChart'),
    ),
  };
}

/** Heatmap of customers moving from the previous model's segment ids (rows) to this model's (columns), as row shares with counts. */
export function migrationSpec(
  cells: readonly { from: string; to: string; count: number; share: number }[],
  fromOrder: readonly string[],
  toOrder: readonly string[],
  label: (id: string) => string,
  t: Texts,
): ChartSpec {
  const values = cells.map((c) => ({ from: label(c.from), to: label(c.to), share: c.share, text: c.count ? t.fmt.integer(c.count) : '', dark: c.share > 0.55 }));
  return {
    id: 'migration',
    title: t.ui('migrationChart'),
    caption: t.ui('migrationCaption'),
    wide: false,
    spec: withConfig(
      {
        data: { values },
        width: { step: 46 },
        height: { step: 26 },
        encoding: {
          x: { field: 'to', type: 'nominal', sort: toOrder.map(label), title: t.ui('newSegment'), axis: { orient: 'top', labelAngle: 0, ticks: false, domain: false } },
          y: { field: 'from', type: 'nominal', sort: fromOrder.map(label), title: t.ui('previousSegment'), axis: { ticks: false, domain: false } },
        },
        layer: [
          { mark: { type: 'rect', stroke: 'white', strokeWidth: 1.5 }, encoding: { color: { field: 'share', type: 'quantitative', scale: { scheme: 'purples', domain: [0, 1] }, legend: null } } },
          { mark: { type: 'text', fontSize: 10 }, encoding: { text: { field: 'text' }, color: { condition: { test: 'datum.dark', value: 'white' }, value: INK } } },
        ],
      },
      t.ui('migrationChart'),
    ),
  };
}

/** One segment's rising modules for the trends chart: monthly adoption and the next-quarter forecast. */
export interface TrendPanel {
  segment: SegmentKey;
  series: readonly { module: string; adoption: readonly (number | null)[]; forecast: { months: readonly string[]; mean: number; low: number; high: number } }[];
}

/**
 * Monthly adoption of each segment's fastest-rising modules, one panel per segment: the observed
 * line solid, the forecast quarter dashed from the last month to its mean, its interval shaded.
 */
export function trendsSpec(panels: readonly TrendPanel[], months: readonly string[], moduleLabel: (m: string) => string, t: Texts): ChartSpec {
  const rows: Record<string, unknown>[] = [];
  for (const p of panels) {
    for (const s of p.series) {
      const module = moduleLabel(s.module);
      const base = { panel: p.segment.label, module };
      s.adoption.forEach((v, i) => {
        if (v !== null) rows.push({ ...base, month: `${months[i]}-01`, value: v, kind: 'observed' });
      });
      const last = s.adoption.length - 1;
      const lastValue = s.adoption[last];
      // The dashed forecast starts at the last observed month so the two lines join.
      if (lastValue !== null && lastValue !== undefined) rows.push({ ...base, month: `${months[last]}-01`, value: lastValue, kind: 'forecast', low: lastValue, high: lastValue });
      for (const m of s.forecast.months) rows.push({ ...base, month: `${m}-01`, value: s.forecast.mean, kind: 'forecast', low: s.forecast.low, high: s.forecast.high });
    }
  }
  const modules = [...new Set(rows.map((r) => String(r.module)))];
  // The legend shows lines at full strength: the shaded interval layer would otherwise fade its symbols.
  const color = {
    field: 'module',
    type: 'nominal',
    title: null,
    // 20 colours: every catalog module keeps its own.
    scale: { domain: modules, scheme: 'tableau20' },
    legend: { orient: 'bottom', columns: 7, labelLimit: 160, symbolType: 'stroke', symbolOpacity: 1, symbolStrokeWidth: 3 },
  };
  const x = { field: 'month', type: 'temporal', title: null, axis: { format: '%Y-%m', tickCount: 4, labelAngle: 0, grid: false } };
  return {
    id: 'trends',
    title: t.ui('trendsChart'),
    caption: t.ui('trendsCaption'),
    wide: true,
    spec: withConfig(
      {
        data: { values: rows },
        facet: { field: 'panel', type: 'nominal', title: null, sort: panels.map((p) => p.segment.label), header: { labelLimit: 340, labelAnchor: 'start', labelFontSize: 11 } },
        columns: 3,
        spacing: { row: 18, column: 22 },
        spec: {
          width: 270,
          height: 120,
          layer: [
            {
              transform: [{ filter: "datum.kind === 'forecast'" }],
              mark: { type: 'area', opacity: 0.16 },
              encoding: { x, y: { field: 'low', type: 'quantitative' }, y2: { field: 'high' }, color },
            },
            {
              transform: [{ filter: "datum.kind === 'observed'" }],
              mark: { type: 'line', strokeWidth: 2, point: { size: 12 } },
              encoding: { x, y: { field: 'value', type: 'quantitative', title: null, axis: { format: '.0%', tickCount: 4 } }, color },
            },
            {
              transform: [{ filter: "datum.kind === 'forecast'" }],
              mark: { type: 'line', strokeWidth: 2, strokeDash: [4, 3] },
              encoding: { x, y: { field: 'value', type: 'quantitative' }, color },
            },
          ],
        },
      },
      t.ui('trendsChart'),
    ),
  };
}

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
