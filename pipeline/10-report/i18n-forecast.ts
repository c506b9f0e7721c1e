import type { Lang } from './i18n.ts';

/**
 * The report's words for the forecasts (trends.json and comparison.json's mix forecast), in
 * English and Simplified Chinese; `{name}` slots are filled by `forecastText`.
 */

type Words = Record<Lang, string>;

const FORECAST = {
  trendsTitle: { en: '## Module adoption and usage trends', zh: '## 模块采用率与使用量趋势' },
  noHistory: { en: 'No usage history to build monthly series from.', zh: '没有可用于构建月度序列的使用记录。' },
  trendsLead: {
    en: 'Monthly series {from} – {to}: adoption (share of a segment\'s active customers using a module that month) and usage volume (events per customer with any usage that month). Each series is forecast for {h1} – {h2} by the model that did best on its last {holdout} months (MASE: its mean absolute error there over the in-sample one-step error of the naive forecast; below 1 is better than that). A module is called rising or falling only when the 95% interval of the next quarter\'s mean excludes the last observed quarter and the trend is significant at 5%.',
    zh: '月度序列 {from} – {to}：采用率（分群中当月活跃客户使用该模块的比例）与使用量（当月有使用记录的客户人均事件数）。每条序列用在最近 {holdout} 个月回测表现最好的模型预测 {h1} – {h2}（MASE：回测月份的平均绝对误差除以朴素预测在样本内的一步平均绝对误差；小于 1 即优于该基准）。只有当下季度均值的 95% 区间不包含最近一个季度的实际值、且趋势在 5% 水平上显著时，才标记为上升或下降。',
  },
  season: { en: 'Seasonality: {note}.', zh: '季节性：{note}。' },
  seasonNo: {
    en: '{months} months of history: a {period}-month season needs more than one full season besides the {holdout} held-out months, so only non-seasonal models (naive, naive with drift, exponential smoothing, damped Holt) were candidates',
    zh: '共 {months} 个月的历史：除去回测留出的 {holdout} 个月后不足一个完整的 {period} 个月季节周期，因此只使用非季节性模型（朴素、带漂移的朴素、指数平滑、阻尼 Holt）',
  },
  seasonYes: { en: '{months} months of history: seasonal models ({period}-month season) were candidates', zh: '共 {months} 个月的历史：季节性模型（{period} 个月周期）参与候选' },
  volumeHead: { en: '| segment | events per active customer (last month) | model | MASE | next quarter (95% interval) | verdict |', zh: '| 分群 | 活跃客户人均事件数（最近一月） | 模型 | MASE | 下季度（95% 区间） | 判断 |' },
  moversHead: { en: '| segment | module | latest | model | MASE | next quarter (95% interval) | verdict |', zh: '| 分群 | 模块 | 最近一月 | 模型 | MASE | 下季度（95% 区间） | 判断 |' },
  noMover: { en: 'no significant change', zh: '无显著变化' },
  summary: { en: 'Chosen models over {n} module series: {models}. Median backtest MASE {mase}; {rising} rising, {falling} falling, the rest flat.', zh: '{n} 条模块序列所选模型：{models}。回测 MASE 中位数 {mase}；上升 {rising} 条，下降 {falling} 条，其余持平。' },
  fullJson: { en: 'trends.json in the bundle holds every series, its candidates\' MASE and its forecast.', zh: '模型包中的 trends.json 保存每条序列、各候选模型的 MASE 及其预测。' },
  rising: { en: 'rising', zh: '上升' },
  falling: { en: 'falling', zh: '下降' },
  flat: { en: 'flat', zh: '持平' },
  mixTitle: { en: '### Segment mix forecast', zh: '### 分群结构预测' },
  mixLead: {
    en: "One Markov step: next = today × P, where P is how production's customers moved between its segments from its training to today (the same model on both sides, so P is customer movement, not model change; new and departed customers left out). It forecasts the mix in production's segments one retrain interval ahead, assuming the same movement continues.",
    zh: '一步马尔可夫预测：下期 = 当前 × P，其中 P 为生产模型的客户从其训练时到今天在各分群间的流动（两端使用同一模型，因此 P 只反映客户流动而非模型变化；不含新增和流失客户）。假设同样的流动持续，预测再经过一个重训周期后生产模型各分群的占比。',
  },
  mixHead: { en: '| segment | share today | forecast share | change |', zh: '| 分群 | 当前占比 | 预测占比 | 变化 |' },
  mixChart: { en: 'Segment mix: today and one step ahead', zh: '分群结构：当前与下一期预测' },
  volume: { en: 'Usage volume', zh: '使用量' },
  modelMase: { en: '{model}, MASE {mase}', zh: '{model}，MASE {mase}' },
  changes: { en: 'Significant changes', zh: '显著变化' },
} as const satisfies Record<string, Words>;

const MODEL_NAMES: Record<string, Words> = {
  naive: { en: 'naive', zh: '朴素' },
  seasonal_naive: { en: 'seasonal naive', zh: '季节朴素' },
  naive_drift: { en: 'naive with drift', zh: '带漂移的朴素' },
  seasonal_naive_drift: { en: 'seasonal naive with drift', zh: '带漂移的季节朴素' },
  ses: { en: 'exponential smoothing', zh: '指数平滑' },
  holt_damped: { en: 'damped Holt', zh: '阻尼 Holt' },
  holt_winters: { en: 'Holt-Winters', zh: 'Holt-Winters' },
};

/** A forecast word key. */
export type ForecastKey = keyof typeof FORECAST;

/** A forecast string in `lang`, with `{name}` slots filled from `vars`. */
export function forecastText(lang: Lang, key: ForecastKey, vars: Record<string, string | number> = {}): string {
  return Object.entries(vars).reduce<string>((s, [k, v]) => s.replaceAll(`{${k}}`, String(v)), FORECAST[key][lang]);
}

/** A forecast model's name in `lang`; an unknown name passes through. */
export function forecastModelName(lang: Lang, model: string): string {
  return MODEL_NAMES[model]?.[lang] ?? model;
}
