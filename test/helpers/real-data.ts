import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * The real data sets the real-export tests run on. Those whose licence allows it are in the
 * repository (test/fixtures/real); the others are read from the folder named by
 * FINSEG_REAL_DATA (one sub-folder per data set, as the vendor's files), and are skipped with
 * the reason when it is not set. Each is laid out as a user would hand it to `finseg init`:
 * a folder holding only the export's files.
 */
export interface RealDataSet {
  name: string;
  /** What shape of export it is, in words. */
  shape: string;
  available: boolean;
  /** Why it is unavailable (empty when available). */
  why: string;
  /** Lays the export out in a fresh folder and returns it (available data sets only). */
  folder: () => string;
}

const repoFixtures = resolve(import.meta.dirname, '../fixtures/real');

/** A fresh folder holding links to `files` (absolute paths), named as the vendor named them. */
function linked(files: readonly string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'finseg-real-'));
  for (const f of files) symlinkSync(f, join(dir, f.split('/').pop()!));
  return dir;
}

/** The folder of a data set outside the repository, or the reason it cannot be had. */
function external(sub: string, file: string): { available: boolean; why: string; path: string } {
  const root = process.env.FINSEG_REAL_DATA;
  if (!root) return { available: false, why: `FINSEG_REAL_DATA is not set (${sub} is not redistributable, so it is not in the repository)`, path: '' };
  const path = join(root, sub, file);
  return existsSync(path) ? { available: true, why: '', path } : { available: false, why: `${path} not found`, path };
}

/**
 * The Online Retail sample re-exported as a data team's daily dump: one CSV per invoice day
 * named `YYYY-MM-DD.csv` in a folder whose name says nothing, ids written as floats
 * (`12621.0`), as pandas writes an integer column that has missing values.
 */
export function onlineRetailByDay(): string {
  const dir = mkdtempSync(join(tmpdir(), 'finseg-real-byday-'));
  const out = join(dir, 'dump');
  mkdirSync(out);
  const lines = readFileSync(join(repoFixtures, 'online-retail/online_retail_sample_20k.csv'), 'utf8').split(/\r?\n/).filter((l) => l.length);
  const header = lines[0]!;
  const byDay = new Map<string, string[]>();
  for (const line of lines.slice(1)) {
    const day = /"(\d{4}-\d{2}-\d{2}) /.exec(line)![1]!;
    const floatId = line.replace(/,(\d{5}),("[^"]*")$/, ',$1.0,$2');
    (byDay.get(day) ?? byDay.set(day, []).get(day)!).push(floatId);
  }
  for (const [day, rows] of byDay) writeFileSync(join(out, `${day}.csv`), [header, ...rows].join('\n') + '\n');
  return dir;
}

/** Every real data set, in the repository or behind FINSEG_REAL_DATA. */
export function realDataSets(): RealDataSet[] {
  const saas = external('saas-sales', 'SaaS-Sales_anycompany-variant.csv');
  const cc = external('cc-general', 'cc_general.csv');
  const inc = external('inc5000-2014', 'inc5000_2014.csv');
  return [
    { name: 'online-retail', shape: 'transaction lines only, one file', available: true, why: '', folder: () => linked([join(repoFixtures, 'online-retail/online_retail_sample_20k.csv')]) },
    { name: 'online-retail-by-day', shape: 'transaction lines only, one file per day, float ids', available: true, why: '', folder: onlineRetailByDay },
    { name: 'telco-churn', shape: 'one row per subscriber: services, charges, a churn label', available: true, why: '', folder: () => linked([join(repoFixtures, 'telco-churn/Telco-Customer-Churn.csv')]) },
    { name: 'saas-sales', shape: 'order lines with the company attributes on every line', ...saas, folder: () => linked([saas.path]) },
    { name: 'cc-general', shape: 'one row per card holder: balances, purchases, frequencies', ...cc, folder: () => linked([cc.path]) },
    { name: 'inc5000', shape: 'one row per company: revenue, growth, workers, industry', ...inc, folder: () => linked([inc.path]) },
  ];
}
