/**
 * `finseg evaluate`: the edge around 09-drift/evaluate.ts. Ingests the data folder (its
 * `actions` table, or the file `--actions` names) with the model's settings, takes each member's
 * segment from the train run's assignments (or a scores file), measures the outcomes in DuckDB
 * (evaluate-sql.ts), compares treatment with control, and writes evaluation.json and its Markdown.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { hasAcceptedRows, ingest, type IngestResult } from '../01-ingest/ingest.ts';
import type { FinsegConfig } from '../config/config.ts';
import { openDuck, queryRows, sqlString } from '../core/duck.ts';
import { InputError } from '../core/errors.ts';
import { progressOf, type Logger } from '../core/log.ts';
import { evaluateParamsOf, type EvaluateParams } from '../09-drift/evaluate-params.ts';
import { actionModule, CONFLICTS_SQL, MEMBERS_SQL, outcomesSql } from '../09-drift/evaluate-sql.ts';
import { compareActions, EVALUATION_KIND, EVALUATION_METHOD, EVALUATION_VERSION, isControl, type ActionMember, type EvaluatedAction, type Evaluation, type OutcomeAvailability } from '../09-drift/evaluate.ts';
import { loadModel, readModelFile, trainedSettings, type LoadedModel } from '../model/load.ts';
import { evaluationMarkdown } from '../10-report/evaluation-view.ts';

export interface EvaluateOptions {
  modelPath: string;
  dataDir: string;
  /** The actions file (or folder); null = the data folder's `actions` table. */
  actionsFile: string | null;
  /** A scores file (`finseg score` output: customer_id, segment_id) whose segments win over the train run's; null = assignments only. */
  scoresFile: string | null;
  /** evaluation.json; null = `<bundle>/report/evaluation.json`, where `finseg report` finds it. */
  outFile: string | null;
  config: FinsegConfig | null;
  quarantineDir: string | null;
  logger: Logger;
}

/** Measures every action's effect and writes evaluation.json and evaluation.md beside it. */
export async function evaluateJob(opts: EvaluateOptions): Promise<{ evaluation: Evaluation; outFile: string; markdownFile: string }> {
  const model = loadModel(opts.modelPath);
  const config = structuredClone(opts.config ?? trainedSettings(model));
  if (opts.actionsFile) config.ingest.files = { ...config.ingest.files, actions: resolve(opts.actionsFile) };
  const params = evaluateParamsOf(config.evaluate);
  if (config.profileTable.file) {
    throw new InputError(`finseg evaluate cannot measure a profile-table export (${config.profileTable.file}): one row per customer has no dates before and after an action`, [
      'evaluate reads dated tables: usage_events (adoption), subscriptions (churn), feedback (NPS), next to an actions table and a customers table',
      'give --config a config without profileTable.file, for a data folder with those tables',
    ]);
  }
  const conn = await openDuck();
  try {
    const ingested = await ingest(conn, opts.dataDir, config.ingest, opts.quarantineDir, opts.logger, { command: 'evaluate', now: () => new Date(), onProgress: progressOf(opts.logger, 'ingest') });
    const accepted = ingested.tables.actions?.accepted ?? 0;
    if (ingested.absentTables.includes('actions')) {
      throw new InputError(`no actions table in ${opts.dataDir}`, ['expected actions.csv (or .parquet, or an actions/ folder) with customer_id, action, date, variant', 'or name the file: finseg evaluate --actions FILE']);
    }
    if (accepted === 0) throw new InputError(`the actions table of ${opts.dataDir} has no accepted rows`, [`read ${ingested.tables.actions?.read ?? 0}, all quarantined: see finseg validate --data ${opts.dataDir}`]);
    const segmentSource = await loadSegments(conn, model, opts.scoresFile);
    const evaluation = await measure(conn, model, ingested, params, segmentSource, opts);
    const outFile = resolve(opts.outFile ?? join(model.dir, 'report', 'evaluation.json'));
    mkdirSync(dirname(outFile), { recursive: true });
    writeFileSync(outFile, `${JSON.stringify(evaluation, null, 2)}\n`);
    const markdownFile = outFile.replace(/\.json$/i, '') + '.md';
    writeFileSync(markdownFile, `${[...evaluationMarkdown(evaluation, 'en'), '', ...evaluationMarkdown(evaluation, 'zh')].join('\n')}\n`);
    opts.logger.info(`evaluate: ${evaluation.actions.length} actions, ${evaluation.comparisons.length} comparisons → ${outFile}`);
    return { evaluation, outFile, markdownFile };
  } finally {
    conn.closeSync();
  }
}

/** `__segments(customer_id, segment_id)` from the bundle's assignments.csv, overridden by a scores file; returns where they came from. */
async function loadSegments(conn: DuckDBConnection, model: LoadedModel, scoresFile: string | null): Promise<string> {
  await conn.run('CREATE OR REPLACE TEMP TABLE __segments (customer_id VARCHAR, segment_id INTEGER)');
  const text = readModelFile(model, 'assignments.csv');
  const rows = text ? text.split('\n').slice(1).filter((l) => l.length > 0) : [];
  for (let k = 0; k < rows.length; k += 5000) {
    const values = rows.slice(k, k + 5000).map((l) => {
      const comma = l.lastIndexOf(',');
      return `(${sqlString(l.slice(0, comma))}, ${Number(l.slice(comma + 1)) | 0})`;
    });
    await conn.run(`INSERT INTO __segments VALUES ${values.join(', ')}`);
  }
  if (!scoresFile) return text ? 'train assignments' : 'none';
  const reader = /\.parquet$/i.test(scoresFile) ? `read_parquet(${sqlString(scoresFile)})` : `read_csv(${sqlString(scoresFile)}, header = true, all_varchar = true)`;
  try {
    await conn.run(`CREATE OR REPLACE TEMP TABLE __scored AS SELECT CAST(customer_id AS VARCHAR) AS customer_id, CAST(segment_id AS INTEGER) AS segment_id FROM ${reader} WHERE segment_id IS NOT NULL`);
  } catch (e) {
    throw new InputError(`cannot read the scores file ${scoresFile}`, ['expected finseg score output with columns customer_id and segment_id', e instanceof Error ? e.message.split('\n')[0]! : String(e)]);
  }
  await conn.run('DELETE FROM __segments WHERE customer_id IN (SELECT customer_id FROM __scored); INSERT INTO __segments SELECT * FROM __scored');
  return text ? `scores ${scoresFile}, then train assignments` : `scores ${scoresFile}`;
}

/** The members' outcomes and the comparisons; an InputError when no action has a control arm. */
async function measure(conn: DuckDBConnection, model: LoadedModel, ingested: IngestResult, params: EvaluateParams, segmentSource: string, opts: EvaluateOptions): Promise<Evaluation> {
  const has = (t: string) => !ingested.absentTables.includes(t as never);
  const subscriptions = hasAcceptedRows(ingested, 'subscriptions');
  const available: OutcomeAvailability = {
    adoption: has('usage_events') ? null : 'no usage_events table',
    churn: subscriptions ? null : 'no subscriptions table',
    nps: has('feedback') ? null : 'no feedback table',
  };
  await conn.run(MEMBERS_SQL);
  const dataModules = has('usage_events') ? (await queryRows(conn, 'SELECT DISTINCT module FROM usage_events WHERE module IS NOT NULL')).map((r) => String(r.module)) : [];
  const summary = await queryRows(conn, 'SELECT action, CAST(min(date) AS VARCHAR) AS first, CAST(max(date) AS VARCHAR) AS last, variant, count(*) AS n FROM __members GROUP BY action, variant ORDER BY action, variant');
  const conflicts = new Map((await queryRows(conn, CONFLICTS_SQL)).map((r) => [String(r.action), Number(r.n)]));
  const actions = new Map<string, EvaluatedAction>();
  for (const r of summary) {
    const name = String(r.action);
    const a = actions.get(name) ?? { action: name, module: actionModule(name, params.modules, dataModules), firstDate: String(r.first), lastDate: String(r.last), membersByVariant: {}, conflicts: conflicts.get(name) ?? 0 };
    a.firstDate = a.firstDate < String(r.first) ? a.firstDate : String(r.first);
    a.lastDate = a.lastDate > String(r.last) ? a.lastDate : String(r.last);
    a.membersByVariant[String(r.variant)] = Number(r.n);
    actions.set(name, a);
  }
  if (![...actions.values()].some((a) => Object.keys(a.membersByVariant).some((v) => isControl(v, params.controlVariants)))) {
    throw new InputError(`no action in the actions table has a control variant`, [`variants seen: ${[...new Set(summary.map((r) => String(r.variant)))].join(', ')}`, `control variants: ${params.controlVariants.join(', ')} (set "evaluate": {"controlVariants": [...]} in the config)`]);
  }
  const moduleRows = [...actions.values()].map((a) => `(${sqlString(a.action)}, ${a.module === null ? 'NULL' : sqlString(a.module)})`);
  await conn.run(`CREATE OR REPLACE TEMP TABLE __action_module AS SELECT * FROM (VALUES ${moduleRows.join(', ')}) v(action, module)`);
  const rows = await queryRows(conn, outcomesSql(ingested.asOf, params.windowDays, params.churnDays, { usage: has('usage_events'), feedback: has('feedback'), subscriptions, segments: true }));
  const members: ActionMember[] = rows.map((r) => ({
    action: String(r.action),
    variant: String(r.variant),
    segment: r.segment_id === null ? null : Number(r.segment_id),
    adopted: r.adopted === null ? null : Boolean(r.adopted),
    churned: r.churned === null ? null : Boolean(r.churned),
    npsChange: r.nps_change === null ? null : Number(r.nps_change),
  }));
  const { comparisons, noControl } = compareActions(members, available, params);
  for (const a of noControl) opts.logger.warn(`evaluate: action ${a} has no control variant (${params.controlVariants.join(', ')}): not compared`);
  const cards = model.states['segments.json'].cards;
  return {
    kind: EVALUATION_KIND,
    formatVersion: EVALUATION_VERSION,
    model: model.manifest.version,
    dataDir: resolve(opts.dataDir),
    asOf: ingested.asOf,
    windowDays: params.windowDays,
    churnDays: params.churnDays,
    controlVariants: params.controlVariants,
    method: EVALUATION_METHOD,
    unavailable: available,
    segmentSource,
    membersWithoutSegment: members.filter((m) => m.segment === null).length,
    segments: cards.map((c) => ({ id: c.id, name: { en: c.name.en, zh: c.name.zh } })),
    actions: [...actions.values()],
    noControl,
    comparisons,
  };
}
