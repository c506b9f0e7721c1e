/**
 * The Markdown sections of the forecasts, in the report's language: the module adoption and
 * usage volume trends (trends.json: chosen model, backtest MASE, interval and verdict) and the
 * Markov forecast of the segment mix (comparison.json's mixForecast).
 */
import type { Comparison } from '../09-drift/compare.ts';
import type { AdoptionForecast, TrendsState } from '../09-drift/trends.ts';
import type { Lang, Texts } from './i18n.ts';
import { forecastModelName, forecastText } from './i18n-forecast.ts';

const cell = (s: string) => s.replaceAll('|', '\\|').replaceAll('\n', ' ');
const fixed = (x: number | null | undefined, digits: number) => (x === null || x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(digits));

/** The forecast's columns: model, MASE, next quarter with interval, verdict. */
function forecastCells(f: AdoptionForecast, lang: Lang, value: (x: number) => string): string {
  return `${forecastModelName(lang, f.model)} | ${fixed(f.mase, 2)} | ${value(f.mean)} (${value(f.low)} – ${value(f.high)}) | ${forecastText(lang, f.verdict)}`;
}

function median(xs: number[]): number | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** "Module adoption and usage trends": the season note, a summary of the chosen models, usage volume per segment and the significant movers. */
export function trendsMarkdown(trends: TrendsState, names: ReadonlyMap<number, string>, t: Texts): string[] {
  const lang = t.lang;
  const say = (key: Parameters<typeof forecastText>[1], vars?: Record<string, string | number>) => forecastText(lang, key, vars);
  const out: string[] = [say('trendsTitle'), ''];
  if (trends.months.length === 0) return [...out, say('noHistory'), ''];
  const b = trends.backtest;
  const vars = { months: trends.months.length, period: b.seasonPeriod, holdout: b.holdoutMonths };
  out.push(say('trendsLead', { from: trends.months[0]!, to: trends.months[trends.months.length - 1]!, h1: trends.horizon[0] ?? '', h2: trends.horizon[trends.horizon.length - 1] ?? '', holdout: b.holdoutMonths }), '');
  out.push(say('season', { note: say(b.seasonal ? 'seasonYes' : 'seasonNo', vars) }), '');
  const forecasts = trends.segments.flatMap((s) => s.modules.flatMap((m) => (m.forecast ? [m.forecast] : [])));
  if (forecasts.length) {
    const counts = new Map<string, number>();
    for (const f of forecasts) counts.set(f.model, (counts.get(f.model) ?? 0) + 1);
    const models = [...counts].sort((a, c) => c[1] - a[1]).map(([m, n]) => `${forecastModelName(lang, m)} ${n}`).join(', ');
    const mases = forecasts.flatMap((f) => (f.mase === null ? [] : [f.mase]));
    const count = (v: string) => forecasts.filter((f) => f.verdict === v).length;
    out.push(say('summary', { n: forecasts.length, models, mase: fixed(median(mases), 2), rising: count('rising'), falling: count('falling') }), '');
  }
  const segments = [...trends.segments].sort((a, c) => a.segmentId - c.segmentId);
  const label = (id: number) => cell(`${id} ${names.get(id) ?? ''}`.trim());
  const pct = (x: number) => t.fmt.percent(x, 1);
  if (segments.some((s) => s.volume.forecast)) {
    out.push(`**${say('volume')}**`, '', say('volumeHead'), '|---|---:|---|---:|---|---|');
    for (const s of segments) {
      const f = s.volume.forecast;
      const last = s.volume.eventsPerActive[s.volume.eventsPerActive.length - 1];
      out.push(`| ${label(s.segmentId)} | ${fixed(last, 1)} | ${f ? forecastCells(f, lang, (x) => x.toFixed(1)) : '– | – | – | –'} |`);
    }
    out.push('');
  }
  out.push(`**${say('changes')}**`, '', say('moversHead'), '|---|---|---:|---|---:|---|---|');
  for (const s of segments) {
    const movers = [...s.rising, ...s.falling];
    if (!movers.length) out.push(`| ${label(s.segmentId)} | ${say('noMover')} | | | | | |`);
    for (const r of movers) out.push(`| ${label(s.segmentId)} | ${cell(t.module(r.module))} | ${r.latest === null ? '–' : pct(r.latest)} | ${forecastCells(r.forecast, lang, pct)} |`);
  }
  out.push('', say('fullJson'), '');
  return out;
}

/** "Segment mix forecast": production's share today and the one-step Markov forecast per production segment id; nothing for a first model. */
export function mixForecastMarkdown(c: Comparison, names: ReadonlyMap<number, string>, t: Texts): string[] {
  const f = c.mixForecast;
  if (!f) return [];
  const lang = t.lang;
  const out = [forecastText(lang, 'mixTitle'), '', forecastText(lang, 'mixLead'), '', forecastText(lang, 'mixHead'), '|---|---:|---:|---:|'];
  // The forecast is in production's segments: their names as production had them, today's where a name is missing.
  const named = new Map(c.shares.map((r) => [r.id, r.name[lang]]));
  f.ids.forEach((id, i) => {
    const change = (f.next[i]! - f.now[i]!) * 100;
    out.push(`| ${cell(`${id} ${named.get(id) ?? names.get(id) ?? ''}`.trim())} | ${t.fmt.percent(f.now[i]!, 1)} | ${t.fmt.percent(f.next[i]!, 1)} | ${t.fmt.signed(change, 1)} pp |`);
  });
  out.push('');
  return out;
}
