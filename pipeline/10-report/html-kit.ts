import type { RenderedChart } from './charts.ts';
import type { Lang } from './i18n.ts';

/**
 * The self-contained HTML report: inline CSS, inline SVG charts, no script, no font or image
 * from anywhere else. Every interpolated value is escaped unless it is markup this module
 * built itself (`Raw`), so a customer id or a path cannot inject anything.
 */

/** Markup that is already safe: built here or by vega's SVG writer, which escapes its text. */
export class Raw {
  constructor(readonly html: string) {}
  toString(): string {
    return this.html;
  }
}

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function piece(v: unknown): string {
  if (v instanceof Raw) return v.html;
  if (Array.isArray(v)) return v.map(piece).join('');
  if (v === null || v === undefined || v === false) return '';
  return escapeHtml(String(v));
}

/** Template tag: interpolations are escaped unless they are Raw (or arrays of Raw). */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Raw {
  let out = strings[0]!;
  values.forEach((v, i) => (out += piece(v) + strings[i + 1]!));
  return new Raw(out);
}

/** The language a page links to as its other one. */
export const otherLang = (lang: Lang): Lang => (lang === 'en' ? 'zh' : 'en');

/** A rendered chart as a figure with its title and caption; nothing when the chart was not drawn. */
export function figure(chart: RenderedChart | undefined): Raw {
  if (!chart) return html``;
  return html`<figure class="chart${chart.wide ? ' wide' : ''}" id="chart-${chart.id}">
<figcaption><span class="chart-title">${chart.title}</span>${chart.caption ? html`<span class="chart-caption">${chart.caption}</span>` : ''}</figcaption>
<div class="chart-body">${new Raw(chart.svg)}</div>
</figure>`;
}
