/**
 * The DuckDB reads a fit needs beside the feature table, started so that DuckDB runs them on its
 * own threads while JS fits: module use and feedback per customer (while JS scales, projects and
 * clusters), then, once the k-means labels exist, monthly use per segment and the planted-truth
 * check (while JS maps, explains and fits cold start).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { IngestResult } from '../01-ingest/ingest.ts';
import { adjustedRandIndex } from '../04-cluster/metrics.ts';
import { customerRevenueFrom, reportingCurrencySql, revenueQuery } from '../07-map/value.ts';
import { prepareMonthlyUse, type TrendParams } from '../09-drift/trends.ts';
import { feedbackFrom, feedbackQuery, moduleUseFrom, moduleUseQuery } from '../10-report/profile.ts';
import { queryRows, sqlString, startPerCustomer, type DuckQueue } from '../core/duck.ts';
import type { VendorModule } from '../02-features/catalog.ts';
import { adoptionHoldoutFrom, adoptionHoldoutQuery, nextModuleCatalog } from '../07-map/next-module-fit.ts';
import type { NextModuleParams } from '../07-map/next-module-params.ts';
import type { FitSidecars, PerCustomerReads, SegmentReads } from '../model/fit.ts';

/** What the side reads need to know of the run. */
export interface SideReadsSource {
  conn: DuckDBConnection;
  duck: DuckQueue;
  ingested: IngestResult;
  /** The training customers in feature-table order. */
  customerIds: readonly string[];
  /** Where a truth.csv of planted archetypes is looked for. */
  dataDir: string;
  trends: TrendParams;
  /** The vendor's named modules and the next-best-module settings: its evaluation's adoption masks are read here. */
  vendorModules: readonly VendorModule[];
  nextModule: NextModuleParams;
}

/** Starts the per-customer reads now and returns them, with the reads to start once the labels are known, as fit sidecars. */
export function startSideReads(src: SideReadsSource): Pick<FitSidecars, 'perCustomer' | 'segmentReads'> {
  return { perCustomer: startPerCustomerReads(src), segmentReads: (labels, k) => startSegmentReads(src, labels, k) };
}

/**
 * Module use, feedback and revenue per customer: one statement that DuckDB runs on its own threads
 * (startPerCustomer says why one statement), then the subscriptions' reporting currency.
 */
function startPerCustomerReads(src: SideReadsSource): Promise<PerCustomerReads> {
  const usageRead = !src.ingested.absentTables.includes('usage_events');
  const feedbackRead = !src.ingested.absentTables.includes('feedback');
  // Only an ingested subscriptions table (a feature file has no tables at all).
  const revenueRead = src.ingested.tables.subscriptions !== undefined;
  const adoption = usageRead ? [adoptionHoldoutQuery(src.ingested.asOf, nextModuleCatalog(src.vendorModules).modules, src.nextModule)] : [];
  const queries = [...(usageRead ? [moduleUseQuery(src.ingested.asOf)] : []), ...(feedbackRead ? [feedbackQuery] : []), ...(revenueRead ? [revenueQuery(src.ingested.asOf)] : []), ...adoption];
  if (!queries.length) return Promise.resolve({ moduleUse: null, feedback: null });
  const columns = src.duck.run(() => startPerCustomer(src.conn, src.customerIds, queries));
  const currency = revenueRead ? src.duck.run(() => queryRows(src.conn, `SELECT ${reportingCurrencySql} AS currency`)) : Promise.resolve([]);
  const reads = Promise.all([columns, currency]).then(([cols, rows]) => ({
    moduleUse: usageRead ? moduleUseFrom(cols) : null,
    feedback: feedbackRead ? feedbackFrom(cols) : null,
    adoption: usageRead ? adoptionHoldoutFrom(cols) : null,
    ...(revenueRead ? { revenue: { customers: customerRevenueFrom(cols), currency: (rows[0]?.currency as string | null | undefined) ?? null } } : {}),
  }));
  // Awaited by the fit; a failure before then must not end the process.
  reads.catch(() => {});
  return reads;
}

/**
 * Hands the segments to DuckDB first (a JS appender), so that the monthly count (a 50M-event scan
 * at vendor scale) and the planted-truth check both queue as statements DuckDB runs to the end alone.
 */
async function startSegmentReads(src: SideReadsSource, labels: Int32Array, k: number): Promise<SegmentReads> {
  await src.duck.settled();
  const usageRead = !src.ingested.absentTables.includes('usage_events');
  const countMonthly = usageRead ? await prepareMonthlyUse(src.conn, src.ingested.asOf, src.customerIds, labels, k, src.trends) : null;
  const monthlyCounts = countMonthly ? src.duck.run(countMonthly) : Promise.resolve(null);
  const plantedTruthAri = src.duck.run(() => truthAri(src.conn, src.dataDir, src.customerIds, labels));
  return { monthlyCounts, plantedTruthAri };
}

/** ARI of the segments against `truth.csv` (customer_id, archetype) when the data folder has one (generated data does). */
async function truthAri(conn: DuckDBConnection, dataDir: string, customerIds: readonly string[], labels: Int32Array): Promise<number | null> {
  const path = join(dataDir, 'truth.csv');
  if (!existsSync(path)) return null;
  // Archetypes as integer codes by row position: no million-row objects or id lookups in JS.
  const truth = await startPerCustomer(conn, customerIds, [
    { sql: `SELECT customer_id, dense_rank() OVER (ORDER BY archetype) AS code FROM read_csv(${sqlString(path)}, header = true, all_varchar = true)`, columns: ['code'] },
  ]);
  const a: number[] = [];
  const b: number[] = [];
  truth.code!.forEach((code, i) => {
    if (Number.isNaN(code)) return;
    a.push(code);
    b.push(labels[i]!);
  });
  return a.length ? adjustedRandIndex(a, b) : null;
}
