import { LENS_NAMES } from '../06-categorize/lenses.ts';
import { churnMarkdown, type ChurnView } from './churn-view.ts';
import type { Comparison } from '../09-drift/compare.ts';
import { comparisonMarkdown } from '../09-drift/markdown.ts';
import { mixForecastMarkdown, trendsMarkdown } from './forecast-markdown.ts';
import { nextModuleMarkdown } from './next-module-view.ts';
import { evaluationMarkdown, evaluationOf } from './evaluation-view.ts';
import type { TrendsState } from '../09-drift/trends.ts';
import { texts, type Lang, type Texts } from './i18n.ts';
import type { ManifestView, ReportCard, ReportSegments } from './input.ts';
import { lensMeasured, reportModel, type ReportModel } from './model.ts';
import { valueCardText, valueMarkdown } from './value-view.ts';

/**
 * `report.md` (English) and `report.zh.md` (Chinese): the report as Markdown, from the manifest
 * and the segments state. The retraining comparison is the drift stage's section
 * (09-drift/markdown.ts) and stays in English in both files; the trends and forecasts are in the
 * report's language (forecast-markdown.ts).
 */

type Words = Record<Lang, string>;

/** The Markdown report's own words; `{name}` slots are filled by `say`. */
const MD = {
  title: { en: '# finseg segments — model {version}', zh: '# finseg 客户分群 — 模型 {version}' },
  trainedOn: { en: 'Trained {createdAt} on `{dataDir}`, features as of {asOf}; seed {seed}.', zh: '训练于 {createdAt}，数据 `{dataDir}`，特征截止 {asOf}；随机种子 {seed}。' },
  otherLanguage: { en: '中文版: [report.zh.md](report.zh.md)', zh: 'English: [report.md](report.md)' },
  quality: { en: '## Model quality', zh: '## 模型质量' },
  metricValue: { en: '| metric | value |', zh: '| 指标 | 数值 |' },
  customers: { en: 'customers', zh: '客户数' },
  k: { en: 'segments (k)', zh: '分群数 (k)' },
  silhouette: { en: 'silhouette (seeded sample)', zh: '轮廓系数（固定种子抽样）' },
  classifier: { en: 'classifier held-out agreement with k-means', zh: '分类器在留出客户上与 k-means 的一致率' },
  customersN: { en: '{n} customers', zh: '{n} 位客户' },
  coldStart: { en: 'cold-start classifier (signup attributes only) held-out agreement', zh: '冷启动分类器（仅注册属性）留出一致率' },
  baseline: { en: 'majority-class baseline on the same customers', zh: '同批客户上的多数类基线' },
  coldHistory: { en: 'customers with insufficient history (below)', zh: '历史不足的客户（少于）' },
  coldUsed: { en: 'cold start used (lift over the baseline ≥ {margin})', zh: '是否使用冷启动（须高于基线 {margin}）' },
  coldUsedYes: { en: 'yes', zh: '是' },
  coldUsedNo: { en: 'no: nearest centroid instead', zh: '否：改用最近质心' },
  coldHistoryValue: { en: '{n} usage events + transactions', zh: '{n} 条使用事件 + 交易' },
  ari: { en: 'adjusted Rand index vs planted archetypes', zh: '与预设原型的调整兰德指数' },
  pca: { en: 'PCA components (variance kept)', zh: '主成分数（保留方差）' },
  input: { en: '## Input', zh: '## 输入数据' },
  inputHead: { en: '| table | read | accepted | quarantined | reasons |', zh: '| 数据表 | 读取 | 接受 | 隔离 | 原因 |' },
  absent: { en: 'absent', zh: '缺失' },
  dropped: { en: 'Features dropped:', zh: '已剔除的特征：' },
  featuresUsed: { en: '{n} features used.', zh: '共使用 {n} 个特征。' },
  chooseK: { en: '## Choosing k', zh: '## 分群数 k 的选择' },
  kRule: { en: 'k = {k}: {rule}.', zh: 'k = {k}：{rule}。' },
  defaultRule: { en: 'the eligible k (every segment ≥ the minimum share) with the highest silhouette on a seeded sample', zh: '在满足最小分群占比的 k 中，固定种子抽样上轮廓系数最高者' },
  kHead: {
    en: '| k | silhouette | Calinski-Harabasz | Davies-Bouldin | inertia | smallest share | bootstrap stability (ARI) | eligible |',
    zh: '| k | 轮廓系数 | Calinski-Harabasz | Davies-Bouldin | 簇内平方和 | 最小分群占比 | 自助法稳定性 (ARI) | 合格 |',
  },
  yes: { en: 'yes', zh: '是' },
  no: { en: 'no', zh: '否' },
  chosen: { en: '**chosen**', zh: '**选定**' },
  stabilityTitle: { en: '## Segment stability', zh: '## 分群稳定性' },
  stabilityLead: {
    en: "Each segment's mean Jaccard with its best match over bootstrap refits of k-means (like fpc::clusterboot); below {below} a segment is flagged **unstable**. Mean ARI of the refits against the segments: {ari}.",
    zh: '每个分群在 k-means 自助重拟合中与最佳匹配分群的平均 Jaccard 系数（同 fpc::clusterboot）；低于 {below} 的分群标记为**不稳定**。重拟合与分群结果的平均 ARI：{ari}。',
  },
  stabilityHead: { en: '| segment | name | Jaccard | |', zh: '| 分群 | 名称 | Jaccard | |' },
  unstable: { en: '**unstable**', zh: '**不稳定**' },
  stable: { en: 'stable', zh: '稳定' },
  rulesTitle: { en: '## Segment rules', zh: '## 分群规则' },
  rulesLead: {
    en: 'A threshold tree over the raw features (IMM, one leaf per segment, then grown ExKMC-style) with {leaves} leaves puts {fidelity} of customers in their k-means segment (fidelity; {imm} with one leaf per segment). A missing value is read as the feature\'s training median. The same rules as DuckDB SQL are in `explain.json` (`sql`) and, per segment, in `segments.json`.',
    zh: '一棵基于原始特征的阈值决策树（IMM，每个分群一个叶节点，再按 ExKMC 方式扩展），共 {leaves} 个叶节点，将 {fidelity} 的客户归入其 k-means 分群（保真度；每个分群一个叶节点时为 {imm}）。缺失值按该特征的训练中位数处理。相同规则的 DuckDB SQL 见 `explain.json`（`sql`）及 `segments.json` 中的各分群。',
  },
  rulesHead: { en: '| segment | rule | recall | precision |', zh: '| 分群 | 规则 | 召回率 | 精确率 |' },
  or: { en: ' **or** ', zh: ' **或** ' },
  lensesTitle: { en: '## Segments and the five lenses', zh: '## 分群与五个维度' },
  lensesLead: { en: "Cramér's V of the segmentation against each lens (0 = unrelated, 1 = the same grouping):", zh: '分群与各维度的克莱姆V系数（0 = 无关，1 = 分组相同）：' },
  lensV: { en: "| lens | Cramér's V |", zh: '| 维度 | 克莱姆V系数 |' },
  segmentTitle: { en: '### Segment {id}: {en} · {zh}', zh: '### 分群 {id}：{zh} · {en}' },
  segmentSize: { en: '{size} customers ({share} of the base).', zh: '{size} 位客户（占全体 {share}）。' },
  stability: { en: 'Stability: mean bootstrap Jaccard {j}{flag}.', zh: '稳定性：自助法平均 Jaccard {j}{flag}。' },
  unstableFlag: { en: ' — **unstable**: it does not reliably reappear when the data is resampled', zh: ' — **不稳定**：重抽样时不能稳定重现' },
  lensHead: { en: '| lens | dominant | share in segment | lift over base |', zh: '| 维度 | 主导类别 | 群内占比 | 相对全体的提升度 |' },
  apart: { en: 'What sets it apart (standardised difference from the other customers):', zh: '显著特征（与其他客户的标准化差异）：' },
  apartHead: { en: '| feature | segment mean | rest mean | std. diff |', zh: '| 特征 | 本群均值 | 其他均值 | 标准化差异 |' },
  whoRules: { en: 'Who is in it, as threshold rules (capture {recall} of the segment; {precision} of those they capture are in it):', zh: '成员规则（覆盖本群 {recall}；被覆盖客户中 {precision} 属于本群）：' },
  noLeaf: { en: '- (the tree gives this segment no leaf)', zh: '- （决策树没有给本分群分配叶节点）' },
  playbook: { en: '**Playbook.** Edition: {edition}; deployment: {deployment}; lead modules: {modules}.', zh: '**销售策略。** 版本：{edition}；部署方式：{deployment}；主推模块：{modules}。' },
  service: { en: 'Service: {service}. Message: {message}.', zh: '服务：{service}。核心信息：{message}。' },
  examples: { en: 'Example customers: {ids}', zh: '示例客户：{ids}' },
} as const satisfies Record<string, Words>;

/** Markdown's words and the report's texts in one language. */
interface MdTexts {
  t: Texts;
  say(key: keyof typeof MD, vars?: Record<string, string | number>): string;
}

function mdTexts(lang: Lang, model: ReportModel): MdTexts {
  return {
    t: texts(lang, model.features.vendorModules),
    say: (key, vars = {}) => Object.entries(vars).reduce<string>((s, [k, v]) => s.replaceAll(`{${k}}`, String(v)), MD[key][lang]),
  };
}

const pct = (x: number, digits = 1) => `${(x * 100).toFixed(digits)}%`;
const num = (x: number | null | undefined, digits = 3) => (x === null || x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(digits));
/** Markdown table cells must not break the table. */
const cell = (s: string) => s.replaceAll('|', '\\|').replaceAll('\n', ' ');
/** A feature by its display name, with its id when they differ. */
const featureCell = (t: Texts, f: string) => (t.feature(f) === f ? `\`${cell(f)}\`` : `${cell(t.feature(f))} \`${cell(f)}\``);

function cardMarkdown(c: ReportCard, model: ReportModel, w: MdTexts): string[] {
  const { t, say } = w;
  const out = [say('segmentTitle', { id: c.id, en: cell(c.name.en), zh: cell(c.name.zh) }), ''];
  out.push(say('segmentSize', { size: c.size, share: pct(c.share) }), '');
  if (c.value && model.value.basis) out.push(valueCardText(c.value, model.value.basis, t), '');
  if (c.stability) out.push(say('stability', { j: num(c.stability.jaccard, 2), flag: c.stability.unstable ? say('unstableFlag') : '' }), '');
  out.push(say('lensHead'), '|---|---|---:|---:|');
  for (const l of c.lenses) {
    if (lensMeasured(model, l.lens)) out.push(`| ${t.lensName(l.lens)} | ${cell(t.lensLabel(l.lens, l.dominant))} | ${pct(l.dominantShare)} | ${num(l.lift, 2)} |`);
    else out.push(`| ${t.lensName(l.lens)} | ${cell(t.ui('notMeasurable', { needs: model.lensMeasurability![l.lens]!.needs }))} | | |`);
  }
  out.push('', say('apart'), '');
  out.push(say('apartHead'), '|---|---:|---:|---:|');
  for (const f of c.distinguishing) {
    const diff = f.perfect ? t.ui('separatesPerfectly', { segment: num(f.segmentMean), rest: num(f.restMean) }) : num(f.standardisedDifference, 2);
    out.push(`| ${featureCell(t, f.feature)} | ${num(f.segmentMean)} | ${num(f.restMean)} | ${diff} |`);
  }
  if (c.explanation) {
    const e = c.explanation;
    out.push('', say('whoRules', { recall: pct(e.recall), precision: pct(e.precision) }), '');
    for (const r of e.rules) out.push(`- \`${r}\``);
    if (e.rules.length === 0) out.push(say('noLeaf'));
  }
  const p = c.playbook;
  const zh = t.lang === 'zh';
  const modules = p.leadModules.map((m) => cell(t.module(m))).join(zh ? '、' : ', ');
  out.push('', say('playbook', { edition: cell(zh ? p.zh.edition : p.edition), deployment: cell(zh ? p.zh.deployment : p.deployment), modules }));
  out.push(say('service', { service: cell(zh ? p.zh.service : p.service), message: cell(zh ? p.zh.message : p.message) }), '');
  out.push(say('examples', { ids: c.exampleCustomerIds.map(cell).join(', ') }), '');
  return out;
}

/** Segment stability (bootstrap Jaccard, unstable ones flagged) and the threshold tree's fidelity and rules, when the bundle has them. */
function stabilityAndRulesMarkdown(m: ManifestView, segments: ReportSegments, { t, say }: MdTexts): string[] {
  const out: string[] = [];
  const st = m.metrics.stability;
  if (st) {
    out.push(say('stabilityTitle'), '', say('stabilityLead', { below: st.unstableBelow, ari: num(st.meanAri) }), '');
    out.push(say('stabilityHead'), '|---:|---|---:|---|');
    for (const c of segments.cards) {
      // Per-segment arrays are by position; a retrain can carry ids over so that id and position differ.
      const j = c.stability?.jaccard ?? st.segmentJaccard[segments.cards.indexOf(c)] ?? null;
      const unstable = c.stability?.unstable ?? (j !== null && j < st.unstableBelow);
      out.push(`| ${c.id} | ${cell(c.name[t.lang])} | ${num(j, 2)} | ${unstable ? say('unstable') : say('stable')} |`);
    }
    out.push('');
  }
  const ex = m.metrics.explain;
  if (ex) {
    out.push(say('rulesTitle'), '', say('rulesLead', { leaves: ex.leaves, fidelity: pct(ex.fidelity), imm: pct(ex.immFidelity) }), '');
    out.push(say('rulesHead'), '|---:|---|---:|---:|');
    for (const c of segments.cards) {
      const e = c.explanation;
      if (!e) continue;
      out.push(`| ${c.id} | ${e.rules.map((r) => `\`${cell(r)}\``).join(say('or')) || '–'} | ${pct(e.recall)} | ${pct(e.precision)} |`);
    }
    out.push('');
  }
  return out;
}

/** The model-quality table: customers, k, silhouette, classifier and cold-start agreement, ARI, PCA. */
function qualityMarkdown(m: ManifestView, { say }: MdTexts): string[] {
  const lines = [say('quality'), '', say('metricValue'), '|---|---:|'];
  lines.push(`| ${say('customers')} | ${m.metrics.customers} |`);
  lines.push(`| ${say('k')} | ${m.metrics.k} |`);
  lines.push(`| ${say('silhouette')} | ${num(m.metrics.silhouette)} |`);
  lines.push(`| ${say('classifier')} | ${pct(m.metrics.classifier.heldOutAccuracy)} (${say('customersN', { n: m.metrics.classifier.nHeldOut })}) |`);
  const cs = m.metrics.coldStart;
  if (cs) {
    lines.push(`| ${say('coldStart')} | ${pct(cs.heldOutAccuracy)} (${say('customersN', { n: cs.nHeldOut })}) |`);
    lines.push(`| ${say('baseline')} | ${pct(cs.majorityBaseline)} |`);
    lines.push(`| ${say('coldHistory')} | ${say('coldHistoryValue', { n: cs.minHistory })} |`);
    if (cs.used !== undefined) lines.push(`| ${say('coldUsed', { margin: pct(cs.marginRequired ?? 0) })} | ${say(cs.used ? 'coldUsedYes' : 'coldUsedNo')} |`);
  }
  if (m.metrics.plantedArchetypeAri !== null) lines.push(`| ${say('ari')} | ${num(m.metrics.plantedArchetypeAri)} |`);
  lines.push(`| ${say('pca')} | ${m.metrics.pcaComponents} (${pct(m.metrics.pcaExplainedVariance)}) |`, '');
  return lines;
}

/** Input tables, the features dropped before training (grouped by reason, in words) and how many were used. */
function inputMarkdown(m: ManifestView, model: ReportModel, { t, say }: MdTexts): string[] {
  const lines = [say('input'), '', say('inputHead'), '|---|---:|---:|---:|---|'];
  for (const [name, tb] of Object.entries(m.input.tables)) {
    const reasons = Object.entries(tb.byReason).map(([r, n]) => `${r} ${n}`).join(', ');
    lines.push(`| ${name} | ${tb.read} | ${tb.accepted} | ${tb.quarantined} | ${cell(reasons)} |`);
  }
  for (const tb of m.input.absentTables) lines.push(`| ${tb} | ${say('absent')} | | | |`);
  const byReason = new Map<string, string[]>();
  for (const d of model.features.dropped) byReason.set(d.reason, [...(byReason.get(d.reason) ?? []), d.feature]);
  if (byReason.size) {
    lines.push('', say('dropped'), '');
    for (const [reason, features] of byReason) lines.push(`- ${cell(t.droppedReason(reason))}${t.ui('colon')}${features.map((f) => featureCell(t, f)).join(t.lang === 'zh' ? '、' : ', ')}`);
  }
  lines.push('', say('featuresUsed', { n: m.features.names.length }), '');
  return lines;
}

/** The Markdown report of a bundle in one language: data, model quality, k selection and one card per segment. */
export function reportMarkdown(
  m: ManifestView,
  segments: ReportSegments,
  drift: { comparison?: Comparison | null; trends?: TrendsState | null; nextModule?: unknown; evaluation?: unknown; churn?: ChurnView | null } = {},
  lang: Lang = 'en',
  otherLanguage = false,
): string {
  const model = reportModel(m, segments);
  const w = mdTexts(lang, model);
  const { t, say } = w;
  const lines: string[] = [say('title', { version: m.version }), ''];
  if (otherLanguage) lines.push(say('otherLanguage'), '');
  lines.push(say('trainedOn', { createdAt: m.createdAt, dataDir: m.input.dataDir, asOf: m.input.asOf, seed: m.seeds.run ?? '–' }), '');
  lines.push(...qualityMarkdown(m, w), ...inputMarkdown(m, model, w));
  lines.push(say('chooseK'), '', say('kRule', { k: m.metrics.k, rule: m.metrics.selectionRule ?? say('defaultRule') }), '');
  if (model.noClearStructure) lines.push(`**${t.ui('noClearStructure')}**`, '');
  if (m.metrics.kSelection.length > 0) {
    lines.push(say('kHead'), '|---:|---:|---:|---:|---:|---:|---:|---|');
    for (const r of m.metrics.kSelection) {
      const mark = r.k === m.metrics.k ? ` ${say('chosen')}` : '';
      lines.push(`| ${r.k} | ${num(r.silhouette)} | ${num(r.calinskiHarabasz, 1)} | ${num(r.daviesBouldin)} | ${num(r.inertia, 1)} | ${pct(r.minShare)} | ${num(r.stability)} | ${r.eligible ? say('yes') : say('no')}${mark} |`);
    }
    lines.push('');
  }
  lines.push(...stabilityAndRulesMarkdown(m, segments, w));
  lines.push('', say('lensesTitle'), '', say('lensesLead'), '');
  lines.push(say('lensV'), '|---|---:|');
  for (const [lens, v] of Object.entries(segments.cramersV)) lines.push(`| ${t.lensName(lens)} | ${lensMeasured(model, lens) ? num(v) : t.ui('notMeasurableShort')} |`);
  const unmeasured = LENS_NAMES.filter((lens) => !lensMeasured(model, lens));
  if (unmeasured.length) lines.push('', ...unmeasured.map((lens) => `- ${t.lensName(lens)}${t.ui('colon')}${cell(t.ui('notMeasurable', { needs: model.lensMeasurability![lens]!.needs }))}`));
  lines.push('', ...valueMarkdown(model.value, segments.cards, t));
  for (const c of segments.cards) lines.push(...cardMarkdown(c, model, w));
  if (drift.nextModule !== undefined) lines.push(...nextModuleMarkdown(drift.nextModule, segments.cards.map((c) => c.name[lang]), lang));
  // Retraining's comparison (comparison.json) and the adoption trends (trends.json), when the bundle has them.
  const names = new Map(segments.cards.map((c) => [c.id, c.name[lang]]));
  if (drift.trends) lines.push(...trendsMarkdown(drift.trends, names, t));
  if (drift.churn) lines.push(...churnMarkdown(drift.churn, names, lang));
  if (drift.comparison) lines.push(...comparisonMarkdown(drift.comparison), ...mixForecastMarkdown(drift.comparison, names, t));
  const evaluation = evaluationOf(drift.evaluation);
  if (evaluation) lines.push(...evaluationMarkdown(evaluation, lang));
  return `${lines.join('\n')}\n`;
}
