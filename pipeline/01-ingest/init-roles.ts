import { BUILTIN_VALUE_MAPS, CONTRACT, MODULES, type ColumnSpec, type Module, type TableName } from './contract.ts';
import type { ColumnProfile, FileProfile } from './init-sample.ts';
import { nameKey } from './names.ts';
import { normaliseEnum } from './params.ts';
import { stemOf } from './sources.ts';

/**
 * How `finseg init` tells which table a sample is: by its columns' names and values. An id, a
 * timestamp and an amount (or quantity × price) make transactions; an id, a timestamp and a
 * module, feature or event name make usage events; one row per id with attributes makes
 * customers; an id, a timestamp and a score or ticket count make feedback; an id, a plan, a
 * monthly amount (MRR) and a start date make subscriptions; an id, a date, an action and a
 * variant make actions. The file or folder name only breaks ties.
 */

/** Names exports use for each contract column, as name keys (lower case letters, digits, CJK). */
const SYNONYMS: Readonly<Record<string, readonly string[]>> = {
  customer_id: ['customerid', 'custid', 'customerno', 'customernumber', 'clientid', 'accountid', 'companyid', 'tenantid', 'orgid', 'organizationid', 'organisationid', 'workspaceid', 'acctid', 'customer', 'client', 'account', 'cust', '客户编号', '客户id', '客户代码', '客户'],
  signup_date: ['signupdate', 'signup', 'signedup', 'registrationdate', 'registered', 'createdat', 'created', 'startdate', 'customersince', 'activationdate', 'since', '注册日期', '开通日期'],
  industry: ['industry', 'sector', 'vertical', 'naics', 'industrycode', '行业'],
  employees: ['employees', 'headcount', 'staff', 'employeecount', 'numberofemployees', 'fte', 'workers', 'workforce', '员工数', '人数'],
  annual_revenue: ['annualrevenue', 'revenue', 'turnover', 'yearlyrevenue', '年收入', '营业收入'],
  founded_year: ['foundedyear', 'founded', 'yearfounded', 'established', 'foundingyear', '成立年份'],
  region: ['region', 'country', 'area', 'province', 'state', 'territory', '地区', '省份', '区域'],
  deployment: ['deployment', 'hosting', 'deploymenttype', '部署方式', '部署'],
  edition: ['edition', 'plan', 'tier', 'segment', 'subscription', 'version', '版本'],
  buyer_role: ['buyerrole', 'role', 'contactrole', 'jobtitle', 'buyer', '角色'],
  ts: ['ts', 'timestamp', 'eventtime', 'datetime', 'time', 'occurredat', 'date', 'day', 'eventdate', 'orderdate', 'invoicedate', 'transactiondate', 'bookingdate', 'postingdate', 'createdat', 'when', '时间', '日期'],
  module: ['module', 'feature', 'event', 'eventname', 'eventtype', 'action', 'activity', 'activitytype', 'featurename', 'modulename', 'productarea', 'app', 'function', 'page', 'screen', 'component', 'menu', '模块', '功能', '事件', '操作'],
  device: ['device', 'channel', 'platform', 'devicetype', 'source', '设备', '终端', '渠道'],
  user_id: ['userid', 'user', 'username', 'login', 'actor', 'email', '用户'],
  count: ['count', 'events', 'n', 'hits', 'cnt', 'times', 'occurrences', 'eventcount', 'numevents', 'nevents', 'actions', 'clicks', 'views', 'sessions', 'total', '次数'],
  amount: ['amount', 'value', 'total', 'sales', 'netamount', 'grossamount', 'sum', 'revenue', 'linetotal', 'subtotal', 'spend', 'paid', '金额'],
  currency: ['currency', 'ccy', 'curr', 'currencycode', '币种', '货币'],
  kind: ['kind', 'type', 'transactiontype', 'category', 'txntype', '类型'],
  nps: ['nps', 'npsscore', 'score', 'rating'],
  tickets: ['tickets', 'supporttickets', 'cases', 'ticketsopened'],
  plan: ['plan', 'edition', 'product', 'tier', 'planname', 'subscriptionplan', 'package', 'sku', '套餐', '版本', '产品'],
  seats: ['seats', 'licenses', 'licences', 'users', 'seatcount', 'quantity', 'qty', '用户数', '席位', '席位数', '许可数'],
  mrr: ['mrr', 'monthlyamount', 'monthlyrecurringrevenue', 'monthlyfee', 'monthlyprice', 'monthlyrevenue', '月费', '月收入', '月度收入'],
  start_date: ['startdate', 'startedat', 'start', 'begindate', 'subscriptionstart', 'periodstart', 'validfrom', 'effectivedate', '开始日期', '生效日期', '起始日期'],
  end_date: ['enddate', 'canceldate', 'cancellationdate', 'canceledat', 'cancelledat', 'endedat', 'end', 'churndate', 'periodend', 'validto', 'expirydate', '结束日期', '取消日期', '到期日期'],
  status: ['status', 'state', 'subscriptionstatus', '状态'],
  action: ['action', 'campaign', 'play', 'playbook', 'campaignname', 'actionname', '活动', '营销活动'],
  variant: ['variant', 'arm', 'group', 'testgroup', 'treatment', 'cohort', '分组', '组别'],
  date: ['date', 'sentat', 'treatedat', 'actiondate', 'sentdate', 'senton', 'treateddate', '日期', '发送日期'],
};

/** File-name stems that hint at a table: used only to break a tie between equally good readings. */
const TABLE_STEMS: Readonly<Record<TableName, readonly string[]>> = {
  customers: ['customer', 'client', 'account', 'company', '客户'],
  usage_events: ['usage', 'event', 'activity', 'log', 'click', '使用', '日志'],
  transactions: ['transaction', 'txn', 'sale', 'order', 'invoice', 'payment', 'ledger', 'retail', '交易', '订单'],
  feedback: ['feedback', 'nps', 'survey', 'ticket', '反馈'],
  subscriptions: ['subscription', 'sub', 'plan', 'contract', 'licen', 'billing', 'mrr', '订阅', '合同'],
  actions: ['action', 'campaign', 'play', 'experiment', '活动'],
};

/** An id column name the synonyms miss (`member_no`, `id`) that names no other kind of thing (invoice, user, product). */
const ID_NAME = /(^|_)(id|no|number|code|key|ref)$/;
const OTHER_ENTITY = /invoice|order|product|stock|sku|item|user|session|event|transaction|txn|line|payment|ticket|document|doc|batch|row/;

/** A customers sample holds one row per id when ids repeat at most this often on average (a few duplicates are quarantined). */
const ROWS_PER_ID_CUSTOMERS = 1.25;

const dateLike = (c: ColumnProfile) => c.timestampShare >= 0.9 || (c.formats.length > 0 && c.numberShare < 0.9);

/** How well a file column fits a contract column: name first, then whether the values look right. */
function fit(spec: ColumnSpec, col: ColumnProfile): number {
  const key = nameKey(col.name);
  const own = nameKey(spec.name);
  const synonyms = SYNONYMS[spec.name] ?? [];
  let score = key === own ? 10 : synonyms.includes(key) ? 8 - synonyms.indexOf(key) * 0.05 : synonyms.some((s) => s.length >= 4 && key.includes(s)) ? 5 : 0;
  if (score === 0 || col.nonBlank === 0) return 0;
  if (spec.type === 'date' || spec.type === 'timestamp') score += dateLike(col) ? 2 : -20;
  else if (spec.type === 'number' || spec.type === 'int') score += col.numberShare >= 0.9 ? 2 : -20;
  else if (dateLike(col) && spec.name !== 'customer_id') score -= 3;
  // A module or event name is text: a numeric column named "action" or "function" is a code, not a name.
  if (spec.name === 'module' && (col.numberShare >= 0.9 || /(id|url|link)$/.test(key))) score -= 20;
  return score;
}

/** The best file column for each contract column of a table (each file column used once); ids and timestamps also by their values. */
export function matchColumns(table: TableName, file: FileProfile, skip: ReadonlySet<string> = new Set()): Map<string, ColumnProfile> {
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
  const free = file.columns.filter((c) => !used.has(c.name) && c.nonBlank > 0);
  if (!out.has('ts') && !skip.has('ts') && CONTRACT[table].columns.some((c) => c.name === 'ts')) {
    // A column whose values are dates is the timestamp whatever it is called; the most varied one is the event time.
    const ts = free.filter(dateLike).sort((a, b) => b.distinct - a.distinct)[0];
    if (ts) out.set('ts', ts);
  }
  if (!out.has('customer_id') && !skip.has('customer_id')) {
    const ids = free.filter((c) => c !== out.get('ts') && ID_NAME.test(c.name.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase().replace(/[^a-z0-9]+/g, '_')) && !OTHER_ENTITY.test(nameKey(c.name)));
    const id = ids.find((c) => nameKey(c.name) === 'id') ?? ids[0];
    if (id) out.set('customer_id', id);
  }
  return out;
}

/** Quantity and unit price columns whose product is a line amount, when a file has them. */
export function quantityTimesPrice(file: FileProfile): [ColumnProfile, ColumnProfile] | null {
  const numeric = file.columns.filter((c) => c.numberShare >= 0.9);
  const qty = numeric.find((c) => /^(quantity|qty|units|amountofitems|数量)$/.test(nameKey(c.name)));
  const price = numeric.find((c) => /(unitprice|price|单价)/.test(nameKey(c.name)));
  return qty && price ? [qty, price] : null;
}

/** How well a sample reads as one table: `ok` when every required part was found; `missing` says what was not. */
export interface RoleFit {
  table: TableName;
  ok: boolean;
  score: number;
  found: string[];
  missing: string[];
}

/** Average rows per id in the sample (Infinity without an id). */
function rowsPerId(id: ColumnProfile | undefined): number {
  return id && id.distinctNormalised > 0 ? id.nonBlank / id.distinctNormalised : Infinity;
}

/** Reads a sample as `table`: which of the parts that make that table were found. */
export function recognise(table: TableName, file: FileProfile): RoleFit {
  const matched = matchColumns(table, file);
  const found: string[] = [];
  const missing: string[] = [];
  const need = (ok: boolean, what: string, want: string) => (ok ? found.push(what) : missing.push(want));
  const id = matched.get('customer_id');
  need(!!id, `id "${id?.name}"`, 'a customer id column (customer_id, account_id, client, …)');
  if (table === 'subscriptions') {
    for (const [column, want] of [['plan', 'a plan or edition column'], ['mrr', 'an MRR (monthly amount) column'], ['start_date', 'a start date column']] as const) {
      const c = matched.get(column);
      need(!!c, `${column} "${c?.name}"`, want);
    }
  } else if (table === 'customers') {
    const perId = rowsPerId(id);
    if (id) need(perId <= ROWS_PER_ID_CUSTOMERS, 'one row per id', `one row per id (ids repeat ${perId.toFixed(1)} rows each)`);
    const attrs = [...matched.keys()].filter((k) => k !== 'customer_id');
    need(attrs.length > 0, `attributes ${attrs.map((a) => `"${matched.get(a)!.name}"`).join(', ')}`, 'an attribute column (signup_date, industry, employees, region, edition, …)');
  } else if (table === 'actions') {
    for (const [column, want] of [['date', 'a date column'], ['action', 'an action or campaign column'], ['variant', 'a variant, arm or group column']] as const) {
      const c = matched.get(column);
      need(!!c, `${column} "${c?.name}"`, want);
    }
  } else {
    const ts = matched.get('ts');
    need(!!ts, `timestamp "${ts?.name}"`, 'a timestamp column (values that read as dates)');
    if (table === 'transactions') {
      const amount = matched.get('amount');
      const qp = amount ? null : quantityTimesPrice(file);
      need(!!amount || !!qp, amount ? `amount "${amount.name}"` : `quantity × price "${qp?.[0].name}" × "${qp?.[1].name}"`, 'an amount column (or quantity and unit price)');
    } else if (table === 'usage_events') {
      const module = matched.get('module');
      need(!!module, `event name "${module?.name}"`, 'a module, feature or event-name column');
    } else {
      const answer = matched.get('nps') ?? matched.get('tickets');
      need(!!answer, `answer "${answer?.name}"`, 'an nps or tickets column');
    }
  }
  const named = TABLE_STEMS[table].some((s) => nameKey(stemOf(file.rel)).includes(s)) ? 1 : 0;
  // One row per id is what tells an accounts file from a log that also has a date and a number.
  const unique = table === 'customers' && missing.length === 0 ? 15 : 0;
  // A monthly amount beside a plan and a start date is what tells a subscriptions file from a customers file with an edition column.
  const recurring = table === 'subscriptions' && missing.length === 0 ? 15 : 0;
  return { table, ok: missing.length === 0, score: 10 * found.length + 2 * matched.size + unique + recurring + named, found, missing };
}

/** The order roles are tried in; on an equal score the earlier one wins (an amount is the stronger evidence). */
export const ROLE_ORDER: readonly TableName[] = ['transactions', 'usage_events', 'customers', 'feedback', 'subscriptions', 'actions'];

/** The reading of a sample that finds the most of what a table needs, among `tables`. */
function closestOf(fits: readonly RoleFit[], tables: readonly TableName[]): RoleFit {
  return fits.filter((f) => tables.includes(f.table)).sort((a, b) => b.found.length - a.found.length || b.score - a.score)[0]!;
}

const describeGap = (f: RoleFit) => `${f.table}${f.found.length ? ` (found ${f.found.join(', ')})` : ''}, missing ${f.missing.join('; ')}`;

/**
 * Which sample is which table. `notes` say what else was seen; `unrecognised` says, for each
 * sample that is no table, which table it came closest to and what it lacks (and, when no
 * sample is behaviour, the same for behaviour on every sample).
 */
export function assignRoles(profiles: readonly FileProfile[]): { assigned: Map<TableName, FileProfile>; notes: string[]; unrecognised: string[] } {
  const fits = profiles.map((p) => ROLE_ORDER.map((t) => recognise(t, p)));
  const best = fits.map((f) => f.filter((r) => r.ok).sort((a, b) => b.score - a.score)[0] ?? null);
  const assigned = new Map<TableName, FileProfile>();
  const notes: string[] = [];
  const unrecognised: string[] = [];
  for (const table of ROLE_ORDER) {
    const ranked = profiles.map((p, i) => ({ p, fit: best[i] })).filter((x) => x.fit?.table === table).sort((a, b) => b.fit!.score - a.fit!.score);
    if (ranked[0]) assigned.set(table, ranked[0].p);
    for (const other of ranked.slice(1)) notes.push(`${other.p.rel} also reads as ${table} but is not used: one source per table (${ranked[0]!.p.rel} fits better); put such files in one folder to read them all`);
  }
  if (!assigned.has('transactions') && !assigned.has('usage_events')) {
    // A file with one row per id that also has an id, a date and an amount (or an event name) is the behaviour when nothing else is.
    for (const table of ['transactions', 'usage_events'] as const) {
      const i = fits.findIndex((f) => f.find((r) => r.table === table)!.ok);
      if (i < 0) continue;
      assigned.set(table, profiles[i]!);
      if (assigned.get('customers') === profiles[i]) assigned.delete('customers');
      notes.push(`${profiles[i]!.rel} has one row per id, but nothing else reads as behaviour: it is read as ${table}, one row per customer`);
      break;
    }
  }
  const used = new Set(assigned.values());
  for (const [i, p] of profiles.entries()) {
    if (!used.has(p) && !best[i]) unrecognised.push(`${p.rel} is not recognised: closest is ${describeGap(closestOf(fits[i]!, ROLE_ORDER))}`);
  }
  if (!assigned.has('transactions') && !assigned.has('usage_events')) {
    for (const [i, p] of profiles.entries()) if (best[i]) unrecognised.push(`${p.rel} reads as ${best[i]!.table}; as behaviour it is closest to ${describeGap(closestOf(fits[i]!, ['transactions', 'usage_events']))}`);
  }
  return { assigned, notes, unrecognised };
}

const BUILTIN_MODULES: ReadonlyMap<string, Module> = new Map(Object.entries(BUILTIN_VALUE_MAPS.usage_events!.module!).map(([k, v]) => [normaliseEnum(k), v as Module]));

/**
 * The catalog module a vendor's event name stands for, by the whole name (`Invoices`) or by
 * its words (`Payroll run`); null when no word names a module, or words name two different ones
 * (the name then stays the vendor's own module).
 */
export function catalogModuleFor(name: string): Module | null {
  const whole = normaliseEnum(name);
  if ((MODULES as readonly string[]).includes(whole)) return whole as Module;
  if (BUILTIN_MODULES.has(whole)) return BUILTIN_MODULES.get(whole)!;
  const words = whole.split(/[^a-z0-9\u4e00-\u9fff]+/).filter(Boolean);
  const terms = [...words, ...words.slice(1).map((w, i) => `${words[i]}_${w}`), ...words.filter((w) => w.length > 3 && w.endsWith('s')).map((w) => w.slice(0, -1))];
  const hits = new Set<Module>();
  for (const t of terms) {
    if ((MODULES as readonly string[]).includes(t)) hits.add(t as Module);
    else if (BUILTIN_MODULES.has(t)) hits.add(BUILTIN_MODULES.get(t)!);
  }
  // Chinese names have no spaces: a built-in Chinese module word inside the name counts.
  for (const [k, m] of BUILTIN_MODULES) if (/[\u4e00-\u9fff]{2,}/.test(k) && whole.includes(k) && whole !== k) hits.add(m);
  return hits.size === 1 ? [...hits][0]! : null;
}
