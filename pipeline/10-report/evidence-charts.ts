import { INK, MUTED, withConfig, type ChartSpec, type SegmentKey } from './charts.ts';
import type { Texts } from './i18n.ts';

/** The charts of how the model was chosen and how it moves: the k selection, drift and migration against production, and adoption trends. */

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

/** One segment's significantly rising or falling modules for the trends chart: monthly adoption and the next-quarter forecast. */
export interface TrendPanel {
  segment: SegmentKey;
  series: readonly { module: string; adoption: readonly (number | null)[]; forecast: { months: readonly string[]; mean: number; low: number; high: number } }[];
}

/**
 * Monthly adoption of each segment's significantly changing modules, one panel per segment: the observed
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

