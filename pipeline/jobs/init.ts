import type { DuckDBConnection } from '@duckdb/node-api';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUILTIN_VALUE_MAPS, CONTRACT, type ColumnSpec, type TableName } from '../01-ingest/contract.ts';
import { assignRoles, catalogModuleFor, matchColumns, quantityTimesPrice } from '../01-ingest/init-roles.ts';
import { candidates, formatCounts, profileCandidate, valueShares, type ColumnProfile, type FileProfile } from '../01-ingest/init-sample.ts';
import { NUMBER_FORMATS, proposeNumberFormat } from '../01-ingest/numbers.ts';
import { closestNames } from '../01-ingest/names.ts';
import { defaultIngestParams, normaliseEnum, type ColumnSource } from '../01-ingest/params.ts';
import { stemOf, SUPPORTED_EXTENSIONS } from '../01-ingest/sources.ts';
import { normaliseIndustryCode } from '../06-categorize/lenses.ts';
import { defaultLensParams } from '../06-categorize/params.ts';
import { openDuck } from '../core/duck.ts';
import { InputError } from '../core/errors.ts';
import { churnLabelOf, proposeProfileTable, type ProfileProposal } from '../01-ingest/init-profile.ts';

/**
 * `finseg init --data DIR`: samples every file and folder in a data folder (rows spread over all
 * the files of a folder), tells which is which table by what the columns hold (init-roles.ts),
 * and proposes a commented starting config: which file is which table, the column map, date
 * formats, value maps, float-written ids, the event names of a usage export, and whether
 * customers must be derived from transaction lines.
 */

/** Contract columns init never asks for, though the contract lists them as required: a blank or absent device is an unknown device. */
const OPTIONAL_FOR_INIT: ReadonlySet<string> = new Set(['usage_events.device']);

/** The result of `finseg init`: the config as JSON text and what was decided. */
export interface InitResult {
  config: Record<string, unknown>;
  text: string;
  /** One line per decision, for the terminal. */
  notes: string[];
  /** Per table found: the source, files in it, files and rows sampled, distinct ids and the share of rows without one in that sample. */
  samples: Partial<Record<TableName, { rel: string; filesTotal: number; filesRead: number; rows: number; ids: number; missingIdShare: number }>>;
  /** Why each other file or folder is not a table. */
  unrecognised: string[];
}

/** A column source for a matched column: the name, or the name with the date format it needs. */
function sourceFor(spec: ColumnSpec, col: ColumnProfile): ColumnSource {
  if ((spec.type === 'date' || spec.type === 'timestamp') && col.timestampShare < 0.99 && col.formats.length > 0) return { column: col.name, format: col.formats[0]! };
  return col.name;
}

/** True when the ids are numbers written with a zero fraction (`17850.0`) and every one is an integer. */
function floatWrittenIds(id: ColumnProfile): boolean {
  return id.floatIntShare > 0 && id.floatIntShare + id.intShare >= 0.999;
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/** What the proposal is built up in while tables are mapped. */
interface Draft {
  ingest: Record<string, unknown>;
  files: Record<string, string>;
  columns: Record<string, Record<string, unknown>>;
  values: Record<string, Record<string, Record<string, string>>>;
  comments: string[];
  notes: string[];
}

/** Maps one table's contract columns onto the sample's columns, with value maps for enum values the contract does not know. */
function mapTable(table: TableName, profile: FileProfile, d: Draft): void {
  if (stemOf(profile.rel) !== table) d.files[table] = profile.rel;
  const matched = matchColumns(table, profile);
  const map: Record<string, unknown> = {};
  for (const spec of CONTRACT[table].columns) {
    const col = matched.get(spec.name);
    if (col) {
      const src = sourceFor(spec, col);
      if (typeof src !== 'string' || src !== spec.name) map[spec.name] = src;
      d.notes.push(`${table}.${spec.name} ← ${profile.rel}: "${col.name}"${typeof src === 'object' && 'format' in src ? ` (dates as ${src.format})` : ''}${table === 'usage_events' && spec.name === 'count' ? ' (each row stands for this many events)' : ''}`);
    } else if (spec.required && !OPTIONAL_FOR_INIT.has(`${table}.${spec.name}`)) {
      const qp = table === 'transactions' && spec.name === 'amount' ? quantityTimesPrice(profile) : null;
      if (qp) {
        map.amount = { multiply: [qp[0].name, qp[1].name] };
        d.notes.push(`transactions.amount ← ${qp[0].name} × ${qp[1].name} (a negative quantity gives a negative amount: a refund)`);
        continue;
      }
      d.comments.push(`${table}.${spec.name} is required and no column matched: map it by hand (closest: ${closestNames(spec.name, profile.columns.map((c) => c.name)).join(', ')})`);
      map[spec.name] = `<column for ${spec.name}>`;
    }
    // Module names outside the catalog are the vendor's own modules (usageModules); other enums get the closest allowed value.
    if (col && spec.allowed && !(table === 'usage_events' && spec.name === 'module')) {
      const known = new Map(Object.entries(BUILTIN_VALUE_MAPS[table]?.[spec.name] ?? {}).map(([k, v]) => [normaliseEnum(k), v]));
      const unknown = col.top.filter((t) => !spec.allowed!.includes(normaliseEnum(t.value)) && !known.has(normaliseEnum(t.value)));
      if (unknown.length) {
        d.values[table] = { ...(d.values[table] ?? {}), [spec.name]: Object.fromEntries(unknown.map((u) => [u.value, closestNames(u.value, spec.allowed!)[0]!])) };
        d.comments.push(`values.${table}.${spec.name}: ${unknown.length} value(s) outside the contract were mapped to the closest allowed name; check them`);
      }
    }
  }
  if (table === 'transactions' && !matched.has('currency')) d.comments.push('transactions have no currency column: set "units.currency" to the ISO code of the amounts');
  if (table === 'transactions' && !matched.has('kind')) d.comments.push('transactions have no kind column: if the export holds only sales, map "kind": {"constant": "sale"}');
  if (table === 'usage_events' && !matched.has('device')) d.notes.push('usage_events.device: no device column (optional: every event counts as an unknown device)');
  if (table === 'usage_events' && !matched.has('count')) d.notes.push('usage_events.count: no count column, so each row is one event');
  if (Object.keys(map).length) d.columns[table] = map;
}

/** Lists a usage export's event names with their shares and maps the ones that name a catalog module. */
async function usageModules(conn: DuckDBConnection, profile: FileProfile, d: Draft): Promise<void> {
  const matched = matchColumns('usage_events', profile);
  const module = matched.get('module');
  if (!module) return;
  const count = matched.get('count') ?? null;
  const names = await valueShares(conn, profile.table, module.name, count?.name ?? null);
  const map: Record<string, string> = {};
  const vendor: string[] = [];
  const listed = names.map(({ value, share }) => {
    const m = catalogModuleFor(value);
    if (m === null) vendor.push(value);
    else if (normaliseEnum(value) !== m) map[value] = m;
    return `${value} ${pct(share)}${m === null ? ' (vendor module)' : normaliseEnum(value) === m ? '' : ` → ${m}`}`;
  });
  const shown = listed.slice(0, 60).join(', ') + (listed.length > 60 ? `, … (${listed.length - 60} more)` : '');
  const what = `${names.length} distinct event name(s) in "${module.name}" (share of ${count ? `summed "${count.name}"` : 'rows'} in the sample): ${shown}`;
  const vendorNote = vendor.length
    ? `${vendor.length} name(s) match no catalog module and are kept as the vendor's own modules (${vendor.slice(0, 8).join(', ')}${vendor.length > 8 ? ', …' : ''}); map one here to a catalog module to count it as that module`
    : 'every name is a catalog module';
  d.values.usage_events = { ...(d.values.usage_events ?? {}), module: { $comment: `${what}. ${vendorNote}.`, ...map } as Record<string, string> };
  d.notes.push(`usage_events.module: ${what}`, `usage_events.module: ${Object.keys(map).length} name(s) mapped onto the module catalog; ${vendorNote}`);
}

/** The sample's id figures, and the settings they call for: a raised quarantine limit, normalised ids. */
function idFigures(table: TableName, profile: FileProfile, d: Draft): { ids: number; missingIdShare: number } {
  const id = matchColumns(table, profile).get('customer_id');
  const blank = id ? profile.rows - id.nonBlank : profile.rows;
  const missingIdShare = blank / Math.max(profile.rows, 1);
  const floats = !!id && floatWrittenIds(id);
  const ids = id ? (floats ? id.distinctNormalised : id.distinct) : 0;
  const files = profile.filesTotal > 1 ? `${profile.filesRead} of ${profile.filesTotal} files` : '1 file';
  d.notes.push(`${table} ← ${profile.rel}: sampled ${profile.rows} rows from ${files}: ${ids} distinct customer ids, ${pct(missingIdShare)} of rows without one`);
  if (missingIdShare > defaultIngestParams.quarantineLimit) {
    const limit = Math.min(1, Math.ceil((missingIdShare + 0.05) * 20) / 20);
    d.ingest.quarantineLimit = Math.max(limit, Number(d.ingest.quarantineLimit ?? 0));
    d.comments.push(`${table}: ${pct(missingIdShare)} of the sampled rows have no customer id (NA or blank) and will be quarantined as missing_key; quarantineLimit is raised to ${d.ingest.quarantineLimit} so the run goes through`);
  }
  if (floats) {
    d.ingest.normaliseIds = true;
    d.comments.push(`${table}: customer ids are numbers written with a zero fraction (e.g. "${id.top.find((t) => t.value.includes('.'))?.value}"); normaliseIds reads them as integers, so "17850.0" and "17850" are one customer`);
  }
  return { ids, missingIdShare };
}

/** Customers derived from the behaviour table's rows: signup is the first row, attributes are the ones it repeats. */
function deriveCustomers(derive: 'transactions' | 'usage_events', profile: FileProfile, d: Draft): void {
  const tsCol = matchColumns(derive, profile).get('ts');
  const attrs = matchColumns('customers', profile, new Set(['customer_id', 'signup_date']));
  const used = new Set(Object.values(d.columns[derive] ?? {}).flatMap((v) => (typeof v === 'string' ? [v] : typeof v === 'object' && v && 'column' in v ? [String((v as { column: string }).column)] : [])));
  const map: Record<string, unknown> = {};
  if (tsCol) map.signup_date = sourceFor(CONTRACT.customers.columns[1]!, tsCol);
  for (const [name, col] of attrs) {
    if (used.has(col.name) || col.distinct > profile.rows / 2) continue;
    map[name] = col.name;
    d.notes.push(`customers.${name} ← ${profile.rel}: "${col.name}" (most common value per customer)`);
  }
  d.columns.customers = { $comment: `Derived from ${derive} rows: signup_date is the customer's first ${derive === 'transactions' ? 'transaction' : 'event'}.`, ...map };
  d.ingest.deriveCustomers = { from: derive, attributes: 'mode' };
  d.notes.push(`customers: derived from ${derive} (${profile.rel}): there is no file with one row per customer`);
}

/**
 * Sets `numberFormat` when the numeric columns of every table (amounts, counts, attributes, a
 * quantity and unit price) are written in one format other than plain numbers; the setting
 * applies to them all, so their values are counted together.
 */
async function numberFormat(conn: DuckDBConnection, assigned: ReadonlyMap<TableName, FileProfile>, d: Draft): Promise<void> {
  const counts = { numeric: 0, byFormat: NUMBER_FORMATS.map(() => 0) };
  const examples: string[] = [];
  for (const [table, profile] of assigned) {
    const matched = matchColumns(table, profile);
    const numeric = CONTRACT[table].columns.filter((s) => s.type === 'number' || s.type === 'int').flatMap((s) => matched.get(s.name) ?? []);
    if (table === 'transactions' && !matched.has('amount')) numeric.push(...(quantityTimesPrice(profile) ?? []));
    for (const col of numeric) {
      const c = await formatCounts(conn, profile.table, col.name);
      counts.numeric += c.numeric;
      c.byFormat.forEach((n, i) => (counts.byFormat[i]! += n));
      examples.push(...c.examples);
    }
  }
  const proposal = proposeNumberFormat(counts, examples);
  if (proposal.format) {
    d.ingest.numberFormat = { $comment: proposal.note, ...proposal.format };
    d.notes.push(proposal.note);
  } else if (proposal.note) d.comments.push(proposal.note);
}

/** A lenses comment listing the industry codes the default table does not know. */
function industryComment(profile: FileProfile | undefined, notes: string[]): Record<string, unknown> | null {
  const industry = profile ? matchColumns('customers', profile).get('industry') : undefined;
  if (!industry) return null;
  const known = new Set(Object.keys(defaultLensParams.industryMap).map(normaliseIndustryCode));
  const unknown = industry.top.map((t) => t.value).filter((v) => !known.has(normaliseIndustryCode(v)) && !/^\d{3,6}$/.test(v.trim()));
  if (!unknown.length) return null;
  notes.push(`industry: ${unknown.length} code(s) not in the default industry table: ${unknown.slice(0, 8).join(', ')}${unknown.length > 8 ? ', …' : ''}`);
  return { $comment: `industry codes the default table does not know (they count as "other" until mapped in lenses.industryMap): ${unknown.join(', ')}` };
}

/**
 * Proposes a config for a data folder. `relativeDataDir` is what the config's `ingest.dataDir`
 * will say (relative to where the config is written).
 */
export async function proposeConfig(dataDir: string, relativeDataDir: string): Promise<InitResult> {
  if (!existsSync(dataDir) || !statSync(dataDir).isDirectory()) throw new InputError(`data folder ${dataDir} does not exist or is not a folder`);
  const { found, problems } = candidates(dataDir);
  if (found.length === 0) throw new InputError(`no readable file in ${dataDir}`, [`finseg reads ${SUPPORTED_EXTENSIONS.join(', ')} files and folders of them`, ...problems]);
  const conn = await openDuck();
  const work = mkdtempSync(join(tmpdir(), 'finseg-init-'));
  try {
    const profiles: FileProfile[] = [];
    for (const [i, c] of found.entries()) profiles.push(await profileCandidate(conn, c, `sample_${i}`, work));
    const roles = assignRoles(profiles);
    const { assigned } = roles;
    const unrecognised = [...problems, ...roles.unrecognised];
    const behavioural = assigned.get('usage_events') ?? assigned.get('transactions');
    if (!behavioural) {
      const profile = profileProposal(profiles, relativeDataDir);
      if (profile) return profile;
      throw new InputError(`init: no file in ${dataDir} reads as usage events or transactions, or as a profile table (one row per customer with measures)`, [...unrecognised, 'write the config by hand: see docs/data-contract.md']);
    }

    const d: Draft = { ingest: { $comment: 'Written by finseg init from a sample of each file. Check every mapping, then run: finseg validate --config <this file>', dataDir: relativeDataDir }, files: {}, columns: {}, values: {}, comments: [], notes: [] };
    const samples: InitResult['samples'] = {};
    for (const [table, profile] of assigned) {
      const { ids, missingIdShare } = idFigures(table, profile, d);
      samples[table] = { rel: profile.rel, filesTotal: profile.filesTotal, filesRead: profile.filesRead, rows: profile.rows, ids, missingIdShare };
    }
    d.notes.push(...roles.notes, ...roles.unrecognised, ...problems.map((p) => `${p} (skipped)`));
    for (const [table, profile] of assigned) mapTable(table, profile, d);
    if (assigned.has('usage_events')) await usageModules(conn, assigned.get('usage_events')!, d);
    await numberFormat(conn, assigned, d);
    const derive = assigned.has('customers') ? null : assigned.has('transactions') ? 'transactions' : 'usage_events';
    if (derive) deriveCustomers(derive, assigned.get(derive)!, d);
    else {
      const id = matchColumns('customers', assigned.get('customers')!).get('customer_id');
      if (id && id.distinct < id.nonBlank) d.comments.push(`customers: ${id.nonBlank - id.distinct} rows of ${assigned.get('customers')!.rel} repeat a customer id; they will be quarantined as duplicate_id (or set deriveCustomers)`);
    }
    d.ingest.files = d.files;
    d.ingest.columns = d.columns;
    if (Object.keys(d.values).length) d.ingest.values = d.values;
    if (!assigned.has('usage_events')) d.comments.push('no usage_events file: the usage features (activity, modules, channels) are dropped');
    if (!assigned.has('transactions')) d.comments.push('no transactions file: the transaction features (recency, frequency, spend) are dropped');
    if (d.comments.length) d.ingest.$comment_checks = d.comments;

    const config: Record<string, unknown> = { $comment: `finseg starting config for ${relativeDataDir}, written by finseg init. Keys starting with $ are comments.`, ingest: d.ingest };
    const lenses = industryComment(assigned.get('customers') ?? assigned.get(derive ?? 'transactions'), d.notes);
    if (lenses) config.lenses = lenses;
    const notes = [...d.notes, ...d.comments];
    return { config, text: `${JSON.stringify(config, null, 2)}\n`, notes, samples, unrecognised };
  } finally {
    conn.closeSync();
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * The proposal for an export without behaviour lines: its richest one-row-per-customer file as a
 * profile table (init-profile.ts), or null when no file is one.
 */
function profileProposal(profiles: readonly FileProfile[], relativeDataDir: string): InitResult | null {
  const today = new Date().toISOString().slice(0, 10);
  const best = profiles
    .map((p) => ({ p, proposal: proposeProfileTable(p, today) }))
    .filter((x) => x.proposal !== null)
    .sort((a, b) => b.proposal!.numeric.length + b.proposal!.slice.categorical.length - (a.proposal!.numeric.length + a.proposal!.slice.categorical.length))[0];
  if (!best) return null;
  const { p, proposal } = best as { p: FileProfile; proposal: ProfileProposal };
  const notes = [
    `${p.rel}: one row per customer with measures and no event or transaction lines, so it is proposed as a profile table (${p.rows} rows sampled)`,
    `key "${proposal.slice.key}"; ${proposal.numeric.length} numeric features; ${proposal.slice.categorical.length} categorical columns encoded as 0/1 per value`,
    ...proposal.notes,
    `asOf ${proposal.slice.asOf}: the snapshot has no event dates; set it to the date the export describes`,
  ];
  const config: Record<string, unknown> = {
    $comment: `finseg starting config for ${relativeDataDir}, written by finseg init. Keys starting with $ are comments.`,
    ingest: { $comment: 'Only the data folder: a profile table is read by profileTable below, not through the contract tables.', dataDir: relativeDataDir },
    profileTable: {
      $comment: [
        'One row per customer with measures (docs/export-shapes.md): segmented on its numeric columns and its categories as 0/1 indicators.',
        'Excluded columns are never features; an outcome among them (churn) can be compared with the segments afterwards.',
        ...proposal.notes,
      ],
      ...proposal.slice,
      ...('annual_revenue' in proposal.slice.attributes ? { $comment_revenueUnit: 'The revenue column is read in units of currency; set revenueUnit to thousands or millions if the export says so.', revenueUnit: 'units' } : {}),
    },
    ...churnProposal(proposal.slice.exclude, notes),
  };
  const samples: InitResult['samples'] = {};
  return { config, text: `${JSON.stringify(config, null, 2)}\n`, notes, samples, unrecognised: [] };
}

/** The `churn` slice when a left-out column names churn: it labels the churn model (docs/churn.md), never a feature. */
function churnProposal(excluded: readonly string[], notes: string[]): Record<string, unknown> {
  const labelColumn = churnLabelOf(excluded);
  if (!labelColumn) return {};
  notes.push(`"${labelColumn}" proposed as the churn label (churn.labelColumn): a churn model is fitted on the profile features, a snapshot association, not a forward backtest`);
  return {
    churn: {
      $comment: `"${labelColumn}" labels the churn model: yes / true / 1 / churned (any case) = churned, any other value = stayed, blank = left out. It stays out of the features and the segments.`,
      labelColumn,
    },
  };
}

/** Writes a proposed config to `out` (never over an existing file). */
export async function initCommand(dataDir: string, out: string, relativeDataDir: string): Promise<InitResult> {
  if (existsSync(out)) throw new InputError(`${out} already exists`, ['choose another name with --out, or remove it first']);
  const result = await proposeConfig(dataDir, relativeDataDir);
  writeFileSync(out, result.text);
  return result;
}
