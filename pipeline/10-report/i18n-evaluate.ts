import type { Lang } from './i18n.ts';

/** The report's strings of the action evaluation (`finseg evaluate`), English and Chinese. */
const EVALUATE_TEXTS = {
  title: { en: 'Measured effect of actions', zh: '行动效果评估' },
  lead: {
    en: 'Treatment minus control after each action, from the actions table ({source}); 95% intervals by the normal approximation. A verdict is shown only when the interval excludes 0.',
    zh: '每项行动之后实验组减对照组的差异，来自行动表（{source}）；95% 置信区间采用正态近似。只有区间不含 0 时才给出结论。',
  },
  definitions: {
    en: 'Adoption: share who first used the action\'s module within {window} days after the action, among those who had not used it before (an action without a module: any module new to the customer). Churn: MRR > 0 on the action day and 0 within {churn} days. NPS: mean answer in the {window} days after minus mean answer before, per customer who answered both.',
    zh: '采用率：行动前未使用该模块的客户中，行动后 {window} 天内首次使用该模块的比例（未指定模块的行动：任何对客户而言的新模块）。流失：行动当日 MRR > 0 且 {churn} 天内降为 0。NPS：每位前后都作答的客户，行动后 {window} 天内的平均分减去行动前的平均分。',
  },
  action: { en: 'Action', zh: '行动' },
  module: { en: 'module', zh: '模块' },
  anyModule: { en: 'any new module', zh: '任何新模块' },
  segment: { en: 'Segment', zh: '客群' },
  allCustomers: { en: 'All members', zh: '全部成员' },
  outcome: { en: 'Outcome', zh: '指标' },
  adoption: { en: 'Adoption', zh: '采用率' },
  churn: { en: 'Churn', zh: '流失率' },
  nps: { en: 'NPS change', zh: 'NPS 变化' },
  treatment: { en: 'Treatment', zh: '实验组' },
  control: { en: 'Control', zh: '对照组' },
  difference: { en: 'Difference (95% CI)', zh: '差异（95% 置信区间）' },
  verdict: { en: 'Verdict', zh: '结论' },
  higher: { en: 'higher than control', zh: '高于对照组' },
  lower: { en: 'lower than control', zh: '低于对照组' },
  unclear: { en: 'no clear effect', zh: '无明确效果' },
  tooFew: { en: 'too few customers', zh: '客户过少' },
  notMeasured: { en: '{outcome}: not measured ({why})', zh: '{outcome}：未测量（{why}）' },
  noControl: { en: 'Not compared (no control variant): {actions}', zh: '未比较（无对照组）：{actions}' },
  why_usage: { en: 'no usage_events table', zh: '无使用事件表' },
  why_subscriptions: { en: 'no subscriptions table', zh: '无订阅表' },
  why_feedback: { en: 'no feedback table', zh: '无反馈表' },
  members: { en: 'members', zh: '成员' },
} as const satisfies Record<string, Record<Lang, string>>;

export type EvaluateTextKey = keyof typeof EVALUATE_TEXTS;

/** An evaluation string in `lang`, with `{name}` slots filled from `vars`. */
export function sayEvaluate(lang: Lang, key: EvaluateTextKey, vars: Record<string, string | number> = {}): string {
  return EVALUATE_TEXTS[key][lang].replace(/\{(\w+)\}/g, (_, k: string) => String(vars[k] ?? `{${k}}`));
}

/** Why an outcome was not measured, in `lang` (the job's English reason; an unknown one passes through). */
export function unavailableReason(lang: Lang, why: string): string {
  const key = why === 'no usage_events table' ? 'why_usage' : why === 'no subscriptions table' ? 'why_subscriptions' : why === 'no feedback table' ? 'why_feedback' : null;
  return key ? sayEvaluate(lang, key) : why;
}
