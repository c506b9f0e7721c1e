import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { tableFromArrays, tableToIPC } from 'apache-arrow';
import { ingest, defaultIngestParams, type IngestParams } from '../../pipeline/01-ingest/ingest.ts';
import { openDuck, sqlString } from '../../pipeline/core/duck.ts';
import { InputError } from '../../pipeline/core/errors.ts';
import { quietLogger } from '../../pipeline/core/log.ts';
import { makeRng, type Rng } from '../../pipeline/core/random.ts';
import { defaultGenerateParams, generateDataset } from '../../pipeline/generate/generate.ts';

/**
 * Seeded corruptions of valid files — truncation, random bytes, inserted bytes, swapped and
 * dropped columns, stray quotes, wrong encodings, broken binary formats — each must end in a
 * clear InputError (one line, with detail) or in a run whose every table reconciles
 * (read = accepted + quarantined). Never another exception, never a hang.
 */
const CASES = 300;
const CASE_TIMEOUT_MS = 20_000;
const root = mkdtempSync(join(tmpdir(), 'finseg-fuzz-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The valid inputs every case starts from: customers and transactions in each format. */
const base: Record<string, Buffer> = {};

type Corruption = { name: string; target: string; apply: (bytes: Buffer, rng: Rng) => Buffer; params?: Partial<IngestParams> };

const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[rng.int(xs.length)]!;
const lines = (b: Buffer) => b.toString('utf8').split('\n');

const TEXT_CORRUPTIONS: Omit<Corruption, 'target'>[] = [
  { name: 'truncate', apply: (b, rng) => b.subarray(0, rng.int(b.length)) },
  {
    name: 'random bytes',
    apply: (b, rng) => {
      const out = Buffer.from(b);
      for (let k = 1 + rng.int(16); k > 0; k--) out[rng.int(out.length)] = rng.int(256);
      return out;
    },
  },
  {
    name: 'inserted separators',
    apply: (b, rng) => {
      let s = b.toString('latin1');
      for (let k = 1 + rng.int(6); k > 0; k--) {
        const at = rng.int(s.length);
        s = s.slice(0, at) + pick(rng, ['"', '\n', ',', '\r\n', '\u0000', '""', ';', '\t']) + s.slice(at);
      }
      return Buffer.from(s, 'latin1');
    },
  },
  {
    name: 'swapped header names',
    apply: (b, rng) => {
      const ls = lines(b);
      const h = ls[0]!.split(',');
      const i = rng.int(h.length);
      const j = (i + 1 + rng.int(h.length - 1)) % h.length;
      [h[i], h[j]] = [h[j]!, h[i]!];
      return Buffer.from([h.join(','), ...ls.slice(1)].join('\n'));
    },
  },
  {
    name: 'swapped column values',
    apply: (b, rng) => {
      const ls = lines(b);
      const n = ls[0]!.split(',').length;
      const i = rng.int(n);
      const j = (i + 1 + rng.int(n - 1)) % n;
      return Buffer.from(
        ls
          .map((l, k) => {
            if (k === 0 || l === '') return l;
            const f = l.split(',');
            [f[i], f[j]] = [f[j]!, f[i]!];
            return f.join(',');
          })
          .join('\n'),
      );
    },
  },
  { name: 'dropped header column', apply: (b, rng) => { const ls = lines(b); const h = ls[0]!.split(','); h.splice(rng.int(h.length), 1); return Buffer.from([h.join(','), ...ls.slice(1)].join('\n')); } },
  { name: 'no header', apply: (b) => Buffer.from(lines(b).slice(1).join('\n')) },
  { name: 'empty file', apply: () => Buffer.alloc(0) },
  { name: 'stray quote', apply: (b, rng) => { const ls = lines(b); const k = 1 + rng.int(ls.length - 2); ls[k] = `"${ls[k]}`; return Buffer.from(ls.join('\n')); } },
  { name: 'utf-16le without BOM', apply: (b) => Buffer.from(b.toString('utf8'), 'utf16le') },
  { name: 'utf-16le with BOM', apply: (b) => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(b.toString('utf8'), 'utf16le')]) },
  { name: 'latin-1 mangled Chinese', apply: (b) => Buffer.from(b.toString('utf8'), 'latin1') },
  { name: 'utf-8 read as gb18030', apply: (b) => b, params: { csv: { delimiter: null, quote: null, encoding: 'gb18030' } } },
  { name: 'semicolons declared as commas', apply: (b) => Buffer.from(b.toString('utf8').replaceAll(',', ';')), params: { csv: { delimiter: ',', quote: null, encoding: 'auto' } } },
  { name: 'shuffled lines', apply: (b, rng) => { const ls = lines(b); for (let i = ls.length - 1; i > 0; i--) { const j = rng.int(i + 1); [ls[i], ls[j]] = [ls[j]!, ls[i]!]; } return Buffer.from(ls.join('\n')); } },
];

const BINARY_CORRUPTIONS: Omit<Corruption, 'target'>[] = [
  { name: 'truncate', apply: (b, rng) => b.subarray(0, rng.int(b.length)) },
  {
    name: 'random bytes',
    apply: (b, rng) => {
      const out = Buffer.from(b);
      for (let k = 1 + rng.int(8); k > 0; k--) out[rng.int(out.length)] = rng.int(256);
      return out;
    },
  },
  { name: 'text instead', apply: () => Buffer.from('customer_id,ts,amount\nA,2026-01-01,1\n') },
];

const TARGETS = {
  text: ['customers.csv', 'transactions.csv', 'transactions.jsonl'],
  binary: ['transactions.parquet', 'transactions.arrow', 'transactions.arrows', 'transactions.csv.gz'],
};

/** The data folder of one case: the corrupted target plus the other table in its valid CSV form. */
function caseFolder(i: number, target: string, bytes: Buffer): string {
  const dir = join(root, `case-${i}`);
  mkdirSync(dir);
  writeFileSync(join(dir, target), bytes);
  if (!target.startsWith('customers')) writeFileSync(join(dir, 'customers.csv'), base['customers.csv']!);
  else writeFileSync(join(dir, 'transactions.csv'), base['transactions.csv']!);
  return dir;
}

type Outcome = { kind: 'ok' } | { kind: 'input-error'; message: string } | { kind: 'crash'; error: string };

async function runCase(dir: string, params: IngestParams): Promise<Outcome> {
  const conn = await openDuck();
  let timer: NodeJS.Timeout | undefined;
  try {
    const run = ingest(conn, dir, params, join(dir, 'quarantine'), quietLogger).then((result): Outcome => {
      for (const t of Object.values(result.tables)) if (t.read !== t.accepted + t.quarantined) return { kind: 'crash', error: `${t.table} does not reconcile` };
      return { kind: 'ok' };
    });
    const timeout = new Promise<Outcome>((resolve) => {
      timer = setTimeout(() => resolve({ kind: 'crash', error: 'hang' }), CASE_TIMEOUT_MS);
    });
    return await Promise.race([run, timeout]);
  } catch (e) {
    // An engine's internal error wrapped in an InputError is still a crash, not a clear message.
    if (e instanceof InputError && /INTERNAL Error/i.test([e.message, ...e.detail].join(' '))) return { kind: 'crash', error: `${e.message}: ${e.detail.join('; ')}` };
    if (e instanceof InputError) return { kind: 'input-error', message: e.message };
    return { kind: 'crash', error: String(e instanceof Error ? e.stack : e) };
  } finally {
    clearTimeout(timer);
    conn.closeSync();
  }
}

describe(`fuzz: ${CASES} seeded corruptions of valid files`, () => {
  beforeAll(async () => {
    const src = join(root, 'src');
    await generateDataset(src, { ...defaultGenerateParams, customers: 25, eventsPerCustomer: 2, seed: 31 }, 'csv', quietLogger);
    // Chinese region names give the encoding corruptions multi-byte text to break.
    const customers = readFileSync(join(src, 'customers.csv'), 'utf8').replace(/,(East|North|South)[^,]*China,/g, ',华东地区,');
    base['customers.csv'] = Buffer.from(customers);
    const txn = readFileSync(join(src, 'transactions.csv'), 'utf8').split('\n').slice(0, 120).join('\n') + '\n';
    base['transactions.csv'] = Buffer.from(txn);
    base['transactions.csv.gz'] = gzipSync(txn);
    const conn = await openDuck();
    writeFileSync(join(src, 't.csv'), txn);
    await conn.run(`COPY (SELECT * FROM read_csv(${sqlString(join(src, 't.csv'))})) TO ${sqlString(join(src, 't.parquet'))} (FORMAT parquet)`);
    await conn.run(`COPY (SELECT * FROM read_csv(${sqlString(join(src, 't.csv'))})) TO ${sqlString(join(src, 't.jsonl'))} (FORMAT json)`);
    conn.closeSync();
    base['transactions.parquet'] = readFileSync(join(src, 't.parquet'));
    base['transactions.jsonl'] = readFileSync(join(src, 't.jsonl'));
    const rows = txn.trim().split('\n').slice(1).map((l) => l.split(','));
    const table = tableFromArrays({
      customer_id: rows.map((r) => r[0]!),
      ts: rows.map((r) => r[1]!),
      amount: Float64Array.from(rows.map((r) => Number(r[2]))),
      currency: rows.map((r) => r[3]!),
      kind: rows.map((r) => r[4]!),
    });
    base['transactions.arrow'] = Buffer.from(tableToIPC(table, 'file'));
    base['transactions.arrows'] = Buffer.from(tableToIPC(table, 'stream'));
  }, 60_000);

  it('every case ends in a clear input error or a reconciled quarantine', async () => {
    // Draw every case first, in order, so the seeded sequence does not depend on run timing.
    const rng = makeRng(20261127);
    const cases = Array.from({ length: CASES }, (_, i) => {
      const binary = rng.next() < 0.3;
      const target = pick(rng, binary ? TARGETS.binary : TARGETS.text);
      const corruption = pick(rng, binary ? BINARY_CORRUPTIONS : TEXT_CORRUPTIONS);
      const bytes = corruption.apply(base[target]!, rng);
      // Half the cases let everything through the limit, so the quarantine path is exercised as much as the errors.
      const params: IngestParams = { ...defaultIngestParams, asOf: '2026-09-29', quarantineLimit: rng.next() < 0.5 ? 1 : 0.05, ...corruption.params };
      return { i, label: `${corruption.name} @ ${target}`, target, bytes, params };
    });
    const tally: Record<string, { ok: number; error: number }> = {};
    const crashes: string[] = [];
    const messages = new Set<string>();
    let next = 0;
    // Two cases at a time: each has its own DuckDB and folder, and the machine has two cores.
    const worker = async () => {
      while (next < cases.length) {
        const c = cases[next++]!;
        const outcome = await runCase(caseFolder(c.i, c.target, c.bytes), c.params);
        const t = (tally[c.label] ??= { ok: 0, error: 0 });
        if (outcome.kind === 'ok') t.ok++;
        else if (outcome.kind === 'input-error') {
          t.error++;
          messages.add(outcome.message);
          // A clear error is one line; its detail goes on the lines below it.
          if (outcome.message.includes('\n') || outcome.message.length === 0) crashes.push(`case ${c.i} (${c.label}): unclear message ${JSON.stringify(outcome.message)}`);
        } else crashes.push(`case ${c.i} (${c.label}): ${outcome.error}`);
        rmSync(join(root, `case-${c.i}`), { recursive: true, force: true });
      }
    };
    await Promise.all([worker(), worker()]);
    expect(crashes).toEqual([]);
    const total = Object.values(tally).reduce((s, t) => ({ ok: s.ok + t.ok, error: s.error + t.error }), { ok: 0, error: 0 });
    expect(total.ok + total.error).toBe(CASES);
    // Both endings occur often: the fuzz reaches the quarantine as well as the file-level errors.
    expect(total.ok).toBeGreaterThan(40);
    expect(total.error).toBeGreaterThan(40);
    expect(Object.keys(tally).length).toBeGreaterThan(30);
    expect(messages.size).toBeGreaterThan(10);
  }, 240_000);
});
