import type { DuckDBConnection } from '@duckdb/node-api';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { BUILTIN_VALUE_MAPS, CONTRACT, DEFAULT_MISSING_VALUES, type ColumnSpec, type TableName } from './contract.ts';
import { DATE_FORMATS } from './checks.ts';
import { closestNames, nameKey } from './names.ts';
import { MalformedSink, normaliseArrow, normaliseCsv, normaliseJsonl } from './normalise.ts';
import { defaultIngestParams, normaliseEnum, type ColumnSource } from './params.ts';
import { formatOf, stemOf, type SourceFile } from './sources.ts';
import { sampleOf } from './text.ts';
import { defaultLensParams, normaliseIndustryCode } from '../06-categorize/lenses.ts';
import { openDuck, queryRows, sqlIdent, sqlString } from '../core/duck.ts';
import { InputError } from '../core/errors.ts';

/**
 * `finseg init --data DIR`: reads a sample of every file in a data folder, matches its columns
 * to the contract by name (and by what the values look like), and proposes a commented
 * starting config: which file is which table, the column map, date formats, value maps for
 * enum values it does not know, and whether customers must be derived from transaction lines.
 */

/** How many rows, and at most how many bytes of a text file, init looks at. */
const SAMPLE_ROWS = 20_000;
const SAMPLE_BYTES = 8 << 20;

/** Names exports use for each contract column, as name keys (lower case letters, digits, CJK). */
const SYNONYMS: Readonly<Record<string, readonly string[]>> = {
  customer_id: ['customerid', 'custid', 'customerno', 'customernumber', 'clientid', 'accountid', 'companyid', 'tenantid', 'customer', 'client', '客户编号', '客户id', '客户代码'],
  signup_date: ['signupdate', 'signup', 'signedup', 'registrationdate', 'registered', 'createdat', 'startdate', 'customersince', 'activationdate', '注册日期', '开通日期'],
  industry: ['industry', 'sector', 'vertical', 'naics', 'industrycode', '行业'],
  employees: ['employees', 'headcount', 'staff', 'employeecount', 'numberofemployees', 'fte', '员工数', '人数'],
  annual_revenue: ['annualrevenue', 'revenue', 'turnover', 'yearlyrevenue', '年收入', '营业收入'],
  founded_year: ['foundedyear', 'founded', 'yearfounded', 'established', 'foundingyear', '成立年份'],
  region: ['region', 'country', 'area', 'province', 'state', 'territory', '地区', '省份', '区域'],
  deployment: ['deployment', 'hosting', 'deploymenttype', '部署方式', '部署'],
  edition: ['edition', 'plan', 'tier', 'segment', 'subscription', 'version', '版本'],
  buyer_role: ['buyerrole', 'role', 'contactrole', 'jobtitle', 'buyer', '角色'],
  ts: ['ts', 'timestamp', 'eventtime', 'datetime', 'time', 'occurredat', 'date', 'orderdate', 'invoicedate', 'transactiondate', 'bookingdate', 'postingdate', 'createdat', '时间', '日期'],
  module: ['module', 'feature', 'productarea', 'app', 'function', '模块', '功能'],
  device: ['device', 'channel', 'platform', 'devicetype', 'source', '设备', '终端', '渠道'],
  user_id: ['userid', 'user', 'username', 'login', 'actor', '用户'],
  count: ['count', 'events', 'actions', 'eventcount', 'hits', '次数'],
  amount: ['amount', 'value', 'total', 'sales', 'netamount', 'grossamount', 'sum', '金额'],
  currency: ['currency', 'ccy', 'curr', 'currencycode', '币种', '货币'],
  kind: ['kind', 'type', 'transactiontype', 'category', 'txntype', '类型'],
  nps: ['nps', 'npsscore', 'score', 'rating'],
  tickets: ['tickets', 'supporttickets', 'cases', 'tickets opened'],
};

/** File-name stems that say which table a file is. */
const TABLE_STEMS: Readonly<Record<TableName, readonly string[]>> = {
  customers: ['customer', 'client', 'account', 'company', '客户'],
  usage_events: ['usage', 'event', 'activity', 'log', 'click', '使用', '日志'],
  transactions: ['transaction', 'txn', 'sale', 'order', 'invoice', 'payment', 'ledger', 'retail', '交易', '订单'],
  feedback: ['feedback', 'nps', 'survey', 'ticket', '反馈'],
};

/** What init learnt about one column of a sample. */
interface ColumnProfile {
  name: string;
  nonBlank: number;
  distinct: number;
  /** Shares of non-blank values that parse as ISO timestamp, number, integer. */
  timestampShare: number;
  numberShare: number;
  /** Date layouts under which every non-blank value parses. */
  formats: string[];
  top: { value: string; n: number }[];
}

interface FileProfile {
  path: string;
  rel: string;
  rows: number;
  columns: ColumnProfile[];
}

/** Files and table folders directly in the data folder. */
function candidates(dataDir: string): { path: string; file: SourceFile }[] {
  const out: { path: string; file: SourceFile }[] = [];
  for (const name of readdirSync(dataDir).sort()) {
    if (/^[._]/.test(name)) continue;
    const path = join(dataDir, name);
    if (statSync(path).isDirectory()) {
      const first = readdirSync(path, { recursive: true }).map(String).sort().find((f) => formatOf(f) && !/^[._]/.test(basename(f)));
      if (first) {
        const f = formatOf(first)!;
        out.push({ path, file: { path: join(path, first), format: f.format, gzip: f.gzip, tsv: f.tsv, partitions: {} } });
      }
    } else {
      const f = formatOf(name);
      if (f) out.push({ path, file: { path, format: f.format, gzip: f.gzip, tsv: f.tsv, partitions: {} } });
    }
  }
  return out;
}

/** Loads up to SAMPLE_ROWS rows of a file as text into `table` and profiles every column. */
async function profileFile(conn: DuckDBConnection, dataDir: string, path: string, file: SourceFile, table: string, work: string): Promise<FileProfile> {
  let reader: string;
  if (file.format === 'parquet') reader = `(SELECT * FROM read_parquet(${sqlString(file.path)}) LIMIT ${SAMPLE_ROWS})`;
  else {
    const out = join(work, `${table}.${file.format === 'jsonl' ? 'jsonl' : 'csv'}`);
    const sink = new MalformedSink(join(work, `${table}.bad.csv`));
    try {
      // Text files are cut to their first few MB (at a line end) so init stays fast on any size.
      let sampled = file;
      if (file.format !== 'arrow') {
        const { sample, complete } = await sampleOf(file, defaultIngestParams.csv.encoding, SAMPLE_BYTES);
        const end = complete ? sample.length : sample.lastIndexOf(0x0a) + 1;
        const cut = join(work, `${table}.sample.${file.format === 'jsonl' ? 'jsonl' : 'csv'}`);
        writeFileSync(cut, sample.subarray(0, end));
        sampled = { ...file, path: cut, gzip: false };
      }
      const n =
        file.format === 'csv' ? await normaliseCsv(sampled, 0, defaultIngestParams.csv, out, sink)
        : file.format === 'jsonl' ? await normaliseJsonl(sampled, 0, defaultIngestParams.csv, out, sink)
        : await normaliseArrow(file, 0, out);
      reader =
        n.kind === 'csv'
          ? `(SELECT * EXCLUDE (__file, __line) FROM read_csv(${sqlString(out)}, auto_detect = false, header = true, delim = ${sqlString(n.dialect.delimiter)}, quote = ${sqlString(n.dialect.quote)}, escape = ${sqlString(n.dialect.quote)}, ignore_errors = true, columns = {${['__file', '__line', ...n.columns!].map((c) => `${sqlString(c)}: 'VARCHAR'`).join(', ')}}) LIMIT ${SAMPLE_ROWS})`
          : `(SELECT * EXCLUDE (__file, __line) FROM read_json(${sqlString(out)}, format = 'newline_delimited', ignore_errors = true) LIMIT ${SAMPLE_ROWS})`;
    } finally {
      sink.close();
    }
  }
  try {
    await conn.run(`CREATE OR REPLACE TEMP TABLE ${sqlIdent(table)} AS SELECT * FROM ${reader}`);
  } catch (e) {
    throw new InputError(`cannot read ${file.path}`, [String(e instanceof Error ? e.message : e).split('\n')[0]!]);
  }
  const described = await queryRows(conn, `DESCRIBE ${sqlIdent(table)}`);
  const [{ n: rows }] = (await queryRows(conn, `SELECT count(*) AS n FROM ${sqlIdent(table)}`)) as [{ n: number }];
  const tokens = ['', ...DEFAULT_MISSING_VALUES.map((v) => v.toLowerCase())].map(sqlString).join(', ');
  const columns: ColumnProfile[] = [];
  for (const d of described) {
    const name = String(d.column_name);
    const v = `trim(CAST(${sqlIdent(name)} AS VARCHAR))`;
    const values = `SELECT ${v} AS v FROM ${sqlIdent(table)} WHERE ${sqlIdent(name)} IS NOT NULL AND lower(${v}) NOT IN (${tokens})`;
    const [s] = await queryRows(
      conn,
      `SELECT count(*) AS n, count(DISTINCT v) AS k, count(TRY_CAST(TRY_CAST(v AS TIMESTAMPTZ) AS TIMESTAMP)) AS ts, count(TRY_CAST(v AS DOUBLE)) AS num FROM (${values})`,
    );
    const nonBlank = Number(s!.n);
    const formatCounts = DATE_FORMATS.map((f, i) => `count(try_strptime(v, ${sqlString(f)})) AS f${i}`).join(', ');
    const [fc] = nonBlank ? await queryRows(conn, `SELECT ${formatCounts} FROM (${values} LIMIT 2000)`) : [{}];
    const sampled = Math.min(nonBlank, 2000);
    const formats = nonBlank ? DATE_FORMATS.filter((_, i) => Number((fc as Record<string, unknown>)[`f${i}`]) === sampled) : [];
    const top = (await queryRows(conn, `SELECT v AS value, count(*) AS n FROM (${values}) GROUP BY 1 ORDER BY n DESC, value LIMIT 40`)).map((r) => ({ value: String(r.value), n: Number(r.n) }));
    columns.push({
      name,
      nonBlank,
      distinct: Number(s!.k),
      timestampShare: nonBlank ? Number(s!.ts) / nonBlank : 0,
      numberShare: nonBlank ? Number(s!.num) / nonBlank : 0,
      formats,
      top,
    });
  }
  return { path, rel: relative(dataDir, path) || basename(path), rows: Number(rows), columns };
}

/** How well a file column fits a contract column: name first, then whether the values look right. */
function fit(spec: ColumnSpec, col: ColumnProfile): number {
  const key = nameKey(col.name);
  const own = nameKey(spec.name);
  const synonyms = SYNONYMS[spec.name] ?? [];
  let score = key === own ? 10 : synonyms.includes(key) ? 8 - synonyms.indexOf(key) * 0.05 : synonyms.some((s) => s.length >= 4 && key.includes(s)) ? 5 : 0;
  if (score === 0 || col.nonBlank === 0) return 0;
  const dateLike = col.timestampShare >= 0.9 || col.formats.length > 0;
  if (spec.type === 'date' || spec.type === 'timestamp') score += dateLike ? 2 : -20;
  else if (spec.type === 'number' || spec.type === 'int') score += col.numberShare >= 0.9 ? 2 : -20;
  else if (dateLike && spec.name !== 'customer_id') score -= 3;
  return score;
}

/** The best file column for each contract column of a table (each file column used once). */
function matchColumns(table: TableName, file: FileProfile, skip: ReadonlySet<string> = new Set()): Map<string, ColumnProfile> {
  const pairs: { spec: ColumnSpec; col: ColumnProfile; score: number }[] = [];
  for (const spec of CONTRACT[table].columns) {
    if (skip.has(spec.name)) continue;
    for (const col of file.columns) {
      const score = fit(spec, col);
      if (score >= 5) pairs.push({ spec, col, score });
    }
  }
  pairs.sort((a, b) => b.score - a.score || a.spec.name.localeCompare(b.spec.name));
  const out = new Map<string, ColumnProfile>();
  const used = new Set<string>();
  for (const p of pairs) {
    if (out.has(p.spec.name) || used.has(p.col.name)) continue;
    out.set(p.spec.name, p.col);
    used.add(p.col.name);
  }
  return out;
}

function tableScore(table: TableName, file: FileProfile): number {
  const stem = nameKey(stemOf(file.path));
  const named = TABLE_STEMS[table].some((s) => stem.includes(s)) ? 20 : 0;
  const matched = matchColumns(table, file);
  const required = CONTRACT[table].columns.filter((c) => c.required);
  if (!required.every((c) => matched.has(c.name)) && !(table === 'customers' && matched.has('customer_id'))) return named ? named / 2 : 0;
  return named + [...matched.keys()].length * 3;
}

/** A column source for a matched column: the name, or the name with the date format it needs. */
function sourceFor(spec: ColumnSpec, col: ColumnProfile): ColumnSource {
  if ((spec.type === 'date' || spec.type === 'timestamp') && col.timestampShare < 0.99 && col.formats.length > 0) return { column: col.name, format: col.formats[0]! };
  return col.name;
}

/** The result of `finseg init`: the config as JSON text and what was decided. */
export interface InitResult {
  config: Record<string, unknown>;
  text: string;
  /** One line per decision, for the terminal. */
  notes: string[];
}

/**
 * Proposes a config for a data folder. `relativeDataDir` is what the config's `ingest.dataDir`
 * will say (relative to where the config is written).
 */
export async function proposeConfig(dataDir: string, relativeDataDir: string): Promise<InitResult> {
  if (!existsSync(dataDir) || !statSync(dataDir).isDirectory()) throw new InputError(`data folder ${dataDir} does not exist or is not a folder`);
  const found = candidates(dataDir);
  if (found.length === 0) throw new InputError(`no readable file in ${dataDir}`, ['finseg reads .parquet, .csv, .csv.gz, .tsv, .jsonl, .ndjson, .arrow, .arrows, .feather files and folders of them']);
  const conn = await openDuck();
  const work = mkdtempSync(join(tmpdir(), 'finseg-init-'));
  const notes: string[] = [];
  try {
    const profiles: FileProfile[] = [];
    for (const [i, c] of found.entries()) profiles.push(await profileFile(conn, dataDir, c.path, c.file, `sample_${i}`, work));
    // Each table takes the file that fits it best; a transaction-lines file may also carry customers.
    const assigned = new Map<TableName, FileProfile>();
    for (const table of ['transactions', 'usage_events', 'customers', 'feedback'] as const) {
      let best: FileProfile | null = null;
      let bestScore = 0;
      for (const p of profiles) {
        if ([...assigned.values()].includes(p) && table !== 'customers') continue;
        const score = tableScore(table, p);
        if (score > bestScore) [best, bestScore] = [p, score];
      }
      if (best && bestScore >= 6) assigned.set(table, best);
    }
    const behavioural = assigned.get('usage_events') ?? assigned.get('transactions');
    if (!behavioural) throw new InputError(`init: no file in ${dataDir} looks like usage events or transactions`, [`files: ${profiles.map((p) => `${p.rel} (${p.columns.map((c) => c.name).join(', ')})`).join('; ')}`, 'write the config by hand: see docs/data-contract.md']);

    const ingest: Record<string, unknown> = { $comment: 'Written by finseg init from a sample of each file. Check every mapping, then run: finseg validate --config <this file>', dataDir: relativeDataDir };
    const files: Record<string, string> = {};
    const columns: Record<string, Record<string, unknown>> = {};
    const values: Record<string, Record<string, Record<string, string>>> = {};
    const comments: string[] = [];
    let derive: TableName | null = null;
    const customersFile = assigned.get('customers');
    const idOf = (p: FileProfile, t: TableName) => matchColumns(t, p).get('customer_id');
    if (!customersFile || customersFile === behavioural) {
      derive = assigned.has('transactions') ? 'transactions' : 'usage_events';
      assigned.delete('customers');
      const id = idOf(assigned.get(derive)!, derive);
      notes.push(`customers: derived from ${derive} (${assigned.get(derive)!.rel}): its rows repeat customer ids${id ? ` (${id.distinct} distinct ids in ${id.nonBlank} rows)` : ''}`);
    } else {
      const id = idOf(customersFile, 'customers');
      if (id && id.distinct < id.nonBlank) comments.push(`customers: ${id.nonBlank - id.distinct} rows of ${customersFile.rel} repeat a customer id; they will be quarantined as duplicate_id (or set deriveCustomers)`);
    }
    for (const [table, profile] of assigned) {
      // A file already named after its table needs no entry.
      if (stemOf(profile.rel) !== table) files[table] = profile.rel;
      const matched = matchColumns(table, profile);
      const map: Record<string, unknown> = {};
      for (const spec of CONTRACT[table].columns) {
        const col = matched.get(spec.name);
        if (col) {
          const src = sourceFor(spec, col);
          if (typeof src !== 'string' || src !== spec.name) map[spec.name] = src;
          notes.push(`${table}.${spec.name} ← ${profile.rel}: "${col.name}"${typeof src === 'object' && 'format' in src ? ` (dates as ${src.format})` : ''}`);
        } else if (spec.required) {
          if (table === 'transactions' && spec.name === 'amount') {
            const qty = profile.columns.find((c) => /^(quantity|qty|units|数量)$/.test(nameKey(c.name)) && c.numberShare >= 0.9);
            const price = profile.columns.find((c) => /(unitprice|price|单价)/.test(nameKey(c.name)) && c.numberShare >= 0.9);
            if (qty && price) {
              map.amount = { multiply: [qty.name, price.name] };
              notes.push(`transactions.amount ← ${qty.name} × ${price.name} (a negative quantity gives a negative amount: a refund)`);
              continue;
            }
          }
          comments.push(`${table}.${spec.name} is required and no column matched: map it by hand (closest: ${closestNames(spec.name, profile.columns.map((c) => c.name)).join(', ')})`);
          map[spec.name] = `<column for ${spec.name}>`;
        }
        if (col && spec.allowed) {
          const known = new Map(Object.entries(BUILTIN_VALUE_MAPS[table]?.[spec.name] ?? {}).map(([k, v]) => [normaliseEnum(k), v]));
          const unknown = col.top.filter((t) => !spec.allowed!.includes(normaliseEnum(t.value)) && !known.has(normaliseEnum(t.value)));
          if (unknown.length) {
            values[table] = { ...(values[table] ?? {}), [spec.name]: Object.fromEntries(unknown.map((u) => [u.value, closestNames(u.value, spec.allowed!)[0]!])) };
            comments.push(`values.${table}.${spec.name}: ${unknown.length} value(s) outside the contract were mapped to the closest allowed name; check them`);
          }
        }
      }
      if (table === 'transactions' && !matched.has('currency')) comments.push('transactions have no currency column: set "units.currency" to the ISO code of the amounts');
      if (table === 'transactions' && !matched.has('kind')) comments.push('transactions have no kind column: if the export holds only sales, map "kind": {"constant": "sale"}');
      if (Object.keys(map).length) columns[table] = map;
      const id = matched.get('customer_id');
      if (id) {
        const blank = profile.rows - id.nonBlank;
        if (blank / Math.max(profile.rows, 1) > defaultIngestParams.quarantineLimit) {
          const limit = Math.min(1, Math.ceil((blank / profile.rows + 0.05) * 20) / 20);
          ingest.quarantineLimit = limit;
          comments.push(`${table}: ${((blank / profile.rows) * 100).toFixed(1)}% of the sampled rows have no customer id (NA or blank) and will be quarantined as missing_key; quarantineLimit is raised to ${limit} so the run goes through`);
        }
      }
    }
    if (derive) {
      const profile = assigned.get(derive)!;
      const tsCol = matchColumns(derive, profile).get('ts');
      const attrs = matchColumns('customers', profile, new Set(['customer_id', 'signup_date']));
      const used = new Set(Object.values(columns[derive] ?? {}).flatMap((v) => (typeof v === 'string' ? [v] : typeof v === 'object' && v && 'column' in v ? [String((v as { column: string }).column)] : [])));
      const map: Record<string, unknown> = {};
      if (tsCol) map.signup_date = sourceFor(CONTRACT.customers.columns[1]!, tsCol);
      for (const [name, col] of attrs) {
        if (used.has(col.name) || col.distinct > profile.rows / 2) continue;
        map[name] = col.name;
        notes.push(`customers.${name} ← ${profile.rel}: "${col.name}" (most common value per customer)`);
      }
      columns.customers = { $comment: `Derived from ${derive} rows: signup_date is the customer's first ${derive === 'transactions' ? 'transaction' : 'event'}.`, ...map };
      ingest.deriveCustomers = { from: derive, attributes: 'mode' };
    }
    ingest.files = files;
    ingest.columns = columns;
    if (Object.keys(values).length) ingest.values = values;
    if (!assigned.has('usage_events')) comments.push('no usage_events file: the usage features (activity, modules, channels) are dropped');
    if (comments.length) ingest.$comment_checks = comments;

    const config: Record<string, unknown> = { $comment: `finseg starting config for ${relativeDataDir}, written by finseg init. Keys starting with $ are comments.`, ingest };
    const industry = matchColumns('customers', assigned.get('customers') ?? assigned.get(derive ?? 'transactions')!).get('industry');
    if (industry) {
      const known = new Set(Object.keys(defaultLensParams.industryMap).map(normaliseIndustryCode));
      const unknown = industry.top.map((t) => t.value).filter((v) => !known.has(normaliseIndustryCode(v)) && !/^\d{3,6}$/.test(v.trim()));
      if (unknown.length) {
        config.lenses = { $comment: `industry codes the default table does not know (they count as "other" until mapped in lenses.industryMap): ${unknown.join(', ')}` };
        notes.push(`industry: ${unknown.length} code(s) not in the default industry table: ${unknown.slice(0, 8).join(', ')}${unknown.length > 8 ? ', …' : ''}`);
      }
    }
    notes.push(...comments);
    return { config, text: `${JSON.stringify(config, null, 2)}\n`, notes };
  } finally {
    conn.closeSync();
    rmSync(work, { recursive: true, force: true });
  }
}

/** Writes a proposed config to `out` (never over an existing file). */
export async function initCommand(dataDir: string, out: string, relativeDataDir: string): Promise<InitResult> {
  if (existsSync(out)) throw new InputError(`${out} already exists`, ['choose another name with --out, or remove it first']);
  const result = await proposeConfig(dataDir, relativeDataDir);
  writeFileSync(out, result.text);
  return result;
}
