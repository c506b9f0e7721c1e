/**
 * The report's next-best-module section, Markdown and HTML, English and Chinese: per segment the
 * modules its customers are most often recommended next, and the offline evaluation (hit rate at
 * 3 against the popularity baseline). Without a nextmodule state it says plainly why there is none.
 */
import type { NextModuleState } from '../07-map/next-module.ts';
import { html, type Raw } from './html-kit.ts';
import type { Lang } from './i18n.ts';

const TEXT = {
  en: {
    title: 'Next best module',
    lead: 'For each customer, the modules its most similar customers of the same segment (by which modules they use) adopted and it has not; score writes them as next_modules with their evidence (module:peer share:lift). Below, the modules each segment is most often recommended.',
    absent: 'Next best module needs usage events (which modules each customer uses): this export has none, so no customer gets one.',
    segment: 'Segment',
    recommended: 'Most recommended next (share of its customers with module use)',
    none: 'none',
    evaluation: (e: { customers: number; days: number; at: number; nbm: string; pop: string }) =>
      `Offline check: recommended from module use as of ${e.days} days before the as-of date, against the modules first adopted since, over ${e.customers} customers who adopted one: hit rate at ${e.at} **${e.nbm}** for next best module, **${e.pop}** for the popularity baseline (the segment's most adopted modules the customer lacks).`,
    noEvaluation: 'No offline check: the model was trained from a feature table, without usage events to hold out.',
    noCustomers: 'Offline check: no customer first adopted a module in the held-out period, so there is nothing to score.',
  },
  zh: {
    title: '下一个推荐模块',
    lead: '为每位客户推荐：同一细分中（按所用模块）与其最相似的客户已采用、而该客户尚未采用的模块；评分结果写入 next_modules 及其依据（模块:同类占比:提升倍数）。下表为各细分最常被推荐的模块。',
    absent: '下一个推荐模块需要使用事件（每位客户使用哪些模块）：本次导出没有使用事件，因此没有客户获得推荐。',
    segment: '细分',
    recommended: '最常推荐的下一个模块（占该细分有模块使用客户的比例）',
    none: '无',
    evaluation: (e: { customers: number; days: number; at: number; nbm: string; pop: string }) =>
      `离线检验：以截止日前 ${e.days} 天的模块使用情况进行推荐，对照此后首次采用的模块，共 ${e.customers} 位采用了新模块的客户：前 ${e.at} 命中率，下一个推荐模块 **${e.nbm}**，流行度基线（该细分中客户尚未采用的最常用模块）**${e.pop}**。`,
    noEvaluation: '无离线检验：模型由特征表训练，没有可留出的使用事件。',
    noCustomers: '离线检验：留出期内没有客户首次采用模块，无从评估。',
  },
} as const;

const isState = (x: unknown): x is NextModuleState => typeof x === 'object' && x !== null && (x as { kind?: unknown }).kind === 'finseg.nextmodule' && Array.isArray((x as { segments?: unknown }).segments);
const percent = (x: number | null) => (x === null ? '–' : `${(x * 100).toFixed(1)}%`);

/** The segment rows: name and its most recommended modules as text. */
function rows(state: NextModuleState, names: readonly string[], lang: Lang): { name: string; modules: string }[] {
  return state.segments.map((seg, s) => ({
    name: names[s] ?? String(s),
    modules: seg.recommended.length ? seg.recommended.map((r) => `${state.modules[r.module] ?? r.module} (${percent(r.share)})`).join(lang === 'zh' ? '、' : ', ') : TEXT[lang].none,
  }));
}

function evaluationText(state: NextModuleState, lang: Lang): string {
  const e = state.evaluation;
  if (!e) return TEXT[lang].noEvaluation;
  if (!e.customers) return TEXT[lang].noCustomers;
  return TEXT[lang].evaluation({ customers: e.customers, days: e.horizonDays, at: e.at, nbm: percent(e.nextModule.hitRate), pop: percent(e.popularity.hitRate) });
}

/** The section's Markdown lines; `names` are the segment names by k-means index. */
export function nextModuleMarkdown(state: unknown, names: readonly string[], lang: Lang): string[] {
  const t = TEXT[lang];
  if (!isState(state)) return [`## ${t.title}`, '', t.absent, ''];
  const lines = [`## ${t.title}`, '', t.lead, '', evaluationText(state, lang), '', `| ${t.segment} | ${t.recommended} |`, '|---|---|'];
  for (const r of rows(state, names, lang)) lines.push(`| ${r.name.replace(/\|/g, '\\|')} | ${r.modules.replace(/\|/g, '\\|')} |`);
  lines.push('');
  return lines;
}

/** The section's HTML body and title. */
export function nextModuleHtml(state: unknown, names: readonly string[], lang: Lang): { title: string; body: Raw } {
  const t = TEXT[lang];
  if (!isState(state)) return { title: t.title, body: html`<p class="lead">${t.absent}</p>` };
  const evaluation = evaluationText(state, lang).replace(/\*\*/g, '');
  return {
    title: t.title,
    body: html`<p class="lead">${t.lead}</p><p>${evaluation}</p><table><thead><tr><th>${t.segment}</th><th>${t.recommended}</th></tr></thead><tbody>${rows(state, names, lang).map((r) => html`<tr><td>${r.name}</td><td>${r.modules}</td></tr>`)}</tbody></table>`,
  };
}
