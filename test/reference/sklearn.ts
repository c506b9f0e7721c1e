import { readFileSync } from 'node:fs';

/** scikit-learn's silhouette, Calinski-Harabasz and Davies-Bouldin of one labelled data set. */
export interface SklearnMetrics {
  rows: number;
  silhouette: number;
  calinskiHarabasz: number;
  daviesBouldin: number;
}

const here = new URL('.', import.meta.url);

/** The input of sklearn_metrics.py: data set name -> rows and labels. */
export function metricsInput(name: string): { X: number[][]; labels: number[] } {
  const json = JSON.parse(readFileSync(new URL('metrics-input.json', here), 'utf8')) as { cases: { name: string; X: number[][]; labels: number[] }[] };
  const found = json.cases.find((c) => c.name === name);
  if (!found) throw new Error(`metrics-input.json has no case "${name}"`);
  return found;
}

/** scikit-learn's metrics of a data set of metrics-input.json (sklearn-metrics.json, made by sklearn_metrics.py). */
export function sklearnMetrics(name: string): SklearnMetrics {
  const json = JSON.parse(readFileSync(new URL('sklearn-metrics.json', here), 'utf8')) as { cases: Record<string, SklearnMetrics> };
  const found = json.cases[name];
  if (!found) throw new Error(`sklearn-metrics.json has no case "${name}"`);
  return found;
}
