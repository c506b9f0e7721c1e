import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { ingest, defaultIngestParams } from '../../pipeline/01-ingest/ingest.ts';
import { computeFeatures } from '../../pipeline/02-features/features.ts';
import { defaultFeatureParams } from '../../pipeline/02-features/params.ts';
import { readFeatureFile, writeFeatureTable, type FeatureFileOptions } from '../../pipeline/02-features/feature-file.ts';
import { FEATURE_NAMES } from '../../pipeline/02-features/catalog.ts';
import { openDuck, queryRows } from '../../pipeline/core/duck.ts';
import { InputError } from '../../pipeline/core/errors.ts';
import { quietLogger } from '../../pipeline/core/log.ts';
import { parsePartition, partitionBucket, partitionOf, partitionSql } from '../../pipeline/core/partition.ts';

const tiny = join(import.meta.dirname, '../fixtures/tiny');
const work = mkdtempSync(join(tmpdir(), 'finseg-feature-file-'));
let conn: DuckDBConnection;
beforeAll(async () => {
  conn = await openDuck();
});
afterAll(() => {
  conn.closeSync();
  rmSync(work, { recursive: true, force: true });
});

const options = (over: Partial<FeatureFileOptions> = {}): FeatureFileOptions => ({
  asOf: null,
  requiredFeatures: null,
  partition: null,
  missingValues: defaultIngestParams.missingValues,
  quarantineLimit: 1,
  quarantineDir: null,
  logger: quietLogger,
  ...over,
});

function csv(name: string, body: string): string {
  const path = join(work, name);
  writeFileSync(path, body);
  return path;
}

/** The InputError a promise rejects with (fails the test when it resolves or throws something else). */
async function inputError(p: Promise<unknown>): Promise<InputError> {
  const e = await p.then(
    () => null,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(InputError);
  return e as InputError;
}

describe('partitions of customer ids', () => {
  it('are md5(id)[first 4 bytes] mod n, the same in TypeScript and DuckDB SQL', async () => {
    // md5('C000001') = b343e4a7…, 0xb343e4a7 = 3007571111 (python3: int(hashlib.md5(b'C000001').hexdigest()[:8], 16))
    expect(partitionBucket('C000001')).toBe(3007571111);
    expect(partitionOf('C000001', 7)).toBe(3007571111 % 7);
    const ids = ['C000001', 'A', 'B', '客户-42', 'x'.repeat(100), ''];
    const rows = await queryRows(conn, `SELECT id, ${partitionSql('id', 13)} AS p FROM (VALUES ${ids.map((id) => `('${id}')`).join(', ')}) v(id)`);
    for (const r of rows) expect(r.p).toBe(partitionOf(String(r.id), 13));
  });

  it('spread 10,000 ids evenly (each of 8 partitions within 10% of 1,250)', () => {
    const counts = new Array<number>(8).fill(0);
    for (let i = 0; i < 10_000; i++) counts[partitionOf(`C${String(i).padStart(6, '0')}`, 8)]!++;
    for (const c of counts) expect(Math.abs(c - 1250)).toBeLessThan(125);
  });

  it('parses i/n and refuses anything else', () => {
    expect(parsePartition('3/8')).toEqual({ index: 3, count: 8 });
    expect(parsePartition('0/1')).toEqual({ index: 0, count: 1 });
    for (const bad of ['8/8', '-1/8', '1/0', '1', 'a/b', '1.5/4', '']) expect(() => parsePartition(bad)).toThrow(InputError);
    expect(() => parsePartition('8/8')).toThrow(/i must be between 0 and 7/);
  });
});

describe('the feature table of the tiny export, written and read back', () => {
  it('reads back exactly what computeFeatures gives: ids, every catalog feature, attributes, history, activity, as-of', async () => {
    await ingest(conn, tiny, { ...defaultIngestParams, asOf: '2026-09-30', quarantineLimit: 1 }, null, quietLogger);
    const direct = await computeFeatures(conn, '2026-09-30', defaultFeatureParams);
    const out = join(work, 'tiny-features.parquet');
    const written = await writeFeatureTable(conn, '2026-09-30', defaultFeatureParams, [], out);
    // A, B, C and E (kept with its bad head count nulled; D's signup date and B's repeat are quarantined).
    expect(written.rows).toBe(4);
    expect(written.columns).toContain('history');
    expect(written.columns).toContain('as_of');
    const read = await readFeatureFile(conn, out, options());
    expect(read.features.customerIds).toEqual(['A', 'B', 'C', 'E']);
    expect(read.features.featureNames).toEqual(direct.featureNames);
    expect(Array.from(read.features.X.data)).toEqual(Array.from(direct.X.data));
    expect(read.features.attributes).toEqual(direct.attributes);
    expect(read.features.asOf).toBe('2026-09-30');
    expect(read.features.activity).toEqual(direct.activity);
    expect(read.report).toMatchObject({ read: 4, accepted: 4, quarantined: 0, cellsNulled: 0, hasHistory: true });
    // history = usage events + transactions up to the as-of date, per customer
    const history = await queryRows(conn, `SELECT customer_id, history FROM read_parquet('${out}') ORDER BY customer_id`);
    expect(Array.from(read.features.history)).toEqual(history.map((r) => Number(r.history)));
  });
});

describe('a hand-written feature table', () => {
  it('takes numeric columns as features (catalog ones in catalog order, then its own), attributes by name, NA as missing', async () => {
    const path = csv('own.csv', 'my_score,customer_id,events_90,industry,employees,tenure_days\n1.5,B,10,retail,12,100\nNA,A,20,,,200\n');
    const { features, report } = await readFeatureFile(conn, path, options({ asOf: '2026-09-30' }));
    const history = features.history;
    expect(features.customerIds).toEqual(['A', 'B']);
    expect(features.featureNames).toEqual(['events_90', 'tenure_days', 'my_score']);
    expect(Array.from(features.X.data)).toEqual([20, 200, Number.NaN, 10, 100, 1.5]);
    expect(features.attributes.industry).toEqual([null, 'retail']);
    expect(Array.from(features.attributes.employees)).toEqual([Number.NaN, 12]);
    expect(features.attributes.buyerRole).toEqual([null, null]);
    expect(features.dropped.map((d) => d.feature)).toEqual(FEATURE_NAMES.filter((f) => f !== 'events_90' && f !== 'tenure_days'));
    expect(Array.from(history).every(Number.isNaN)).toBe(true);
    expect(report.hasHistory).toBe(false);
    expect(features.activity).toBeUndefined();
  });

  it('quarantines blank ids, unparseable and infinite numbers, a bad signup date and repeated ids (first kept); nulls bad optional attributes, rows kept', async () => {
    const path = csv(
      'dirty.csv',
      [
        'customer_id,events_90,deployment,founded_year,signup_date',
        'A,1,cloud,2001,2020-01-01', // line 2: kept
        ',2,cloud,2001,2020-01-01', // 3: missing_key
        'B,abc,cloud,2001,2020-01-01', // 4: unparseable events_90
        'C,inf,cloud,2001,2020-01-01', // 5: out_of_range events_90
        'D,4,mainframe,2001,2020-01-01', // 6: kept, deployment nulled (bad_enum)
        'E,5,on_prem,1700,2020-01-01', // 7: kept, founded_year nulled (out_of_range)
        'F,6,hybrid,2001,yesterday', // 8: unparseable signup_date
        'A,7,mainframe,2001,2020-01-01', // 9: duplicate_id (line 2 kept); its bad deployment goes with the row
        'G,8,Cloud,2001,2020-01-01', // 10: kept, enum compared in lower case
      ].join('\n'),
    );
    const quarantineDir = join(work, 'q-dirty');
    const { features, report } = await readFeatureFile(conn, path, options({ asOf: '2026-09-30', quarantineDir }));
    expect(features.customerIds).toEqual(['A', 'D', 'E', 'G']);
    expect(Array.from(features.X.data)).toEqual([1, 4, 5, 8]);
    expect(features.attributes.deployment).toEqual(['cloud', null, 'on_prem', 'cloud']);
    expect(Array.from(features.attributes.foundedYear)).toEqual([2001, 2001, Number.NaN, 2001]);
    expect(report).toMatchObject({ read: 9, accepted: 4, quarantined: 5, cellsNulled: 2, cellsByColumn: { deployment: 1, founded_year: 1 } });
    expect(report.byReason).toEqual({ missing_key: 1, unparseable: 2, out_of_range: 1, duplicate_id: 1 });
    const lines = readFileSync(report.quarantineFile!, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('source_file,line,reason,column,value,detail');
    expect(lines.slice(1).map((l) => l.split(',').slice(1, 5).join(','))).toEqual([
      '3,missing_key,customer_id,',
      '4,unparseable,events_90,abc',
      '5,out_of_range,events_90,inf',
      '8,unparseable,signup_date,yesterday',
      '9,duplicate_id,customer_id,A',
    ]);
    const cells = readFileSync(join(dirname(report.quarantineFile!), 'features.cells.csv'), 'utf8').trim().split('\n');
    expect(cells.slice(1).map((l) => l.split(',').slice(1, 5).join(','))).toEqual(['6,bad_enum,deployment,mainframe', '7,out_of_range,founded_year,1700']);
  });

  it('stops over the quarantine limit, naming the file, the reasons and the quarantine file', async () => {
    const path = csv('mostly-bad.csv', 'customer_id,events_90\nA,1\nA,2\nA,3\nB,4\n');
    const e = await inputError(readFeatureFile(conn, path, options({ asOf: '2026-09-30', quarantineLimit: 0.05, quarantineDir: join(work, 'q-limit') })));
    expect(e.message).toBe(`${path}: 2 of 4 rows quarantined (50.0%), over the limit of 5.0%`);
    expect(e.detail[0]).toBe('duplicate_id in customer_id: 2, e.g. "A", "A"');
  });

  it('refuses, naming file and column: no customer_id, a text feature column, a date feature column, no as-of date, two as-of dates, no file, a broken file', async () => {
    const noKey = csv('no-key.csv', 'CustomerID,events_90\nA,1\n');
    const e1 = await inputError(readFeatureFile(conn, noKey, options({ asOf: '2026-09-30' })));
    expect(e1.message).toBe(`${noKey}: required column "customer_id" is missing`);
    expect(e1.detail[0]).toMatch(/^closest: CustomerID/);

    const text = csv('text.csv', 'customer_id,events_90,segment_label\n' + ['A', 'B', 'C', 'D', 'E', 'F'].map((id, i) => `${id},${i},gold`).join('\n'));
    const e2 = await inputError(readFeatureFile(conn, text, options({ asOf: '2026-09-30' })));
    expect(e2.message).toBe(`${text}: column "segment_label" is not numeric: 6 of 6 values are not numbers`);

    await conn.run(`COPY (SELECT 'A' AS customer_id, 1.0 AS events_90, DATE '2026-01-01' AS last_seen) TO '${join(work, 'date.parquet')}' (FORMAT parquet)`);
    const e3 = await inputError(readFeatureFile(conn, join(work, 'date.parquet'), options({ asOf: '2026-09-30' })));
    expect(e3.message).toBe(`${join(work, 'date.parquet')}: column "last_seen" is DATE; a feature must be numeric`);

    const e4 = await inputError(readFeatureFile(conn, csv('no-asof.csv', 'customer_id,events_90\nA,1\n'), options()));
    expect(e4.message).toMatch(/no as-of date: the table has no "as_of" column and --as-of was not given$/);

    const e5 = await inputError(readFeatureFile(conn, csv('two-asof.csv', 'customer_id,events_90,as_of\nA,1,2026-09-30\nB,2,2026-10-31\n'), options()));
    expect(e5.message).toMatch(/column "as_of" must hold one date for the whole table, found 2026-/);

    const e6 = await inputError(readFeatureFile(conn, join(work, 'nowhere.parquet'), options()));
    expect(e6.message).toBe(`feature table ${join(work, 'nowhere.parquet')} not found`);

    writeFileSync(join(work, 'broken.parquet'), 'PAR1 not really');
    const e7 = await inputError(readFeatureFile(conn, join(work, 'broken.parquet'), options()));
    expect(e7.message).toBe(`cannot read feature table ${join(work, 'broken.parquet')}`);
  });

  it('when scoring: needs every model feature (a missing one is named), ignores the rest, keeps the model order', async () => {
    const path = csv('score.csv', 'customer_id,b,a,extra\nX,2,1,9\n');
    const { features, report } = await readFeatureFile(conn, path, options({ asOf: '2026-09-30', requiredFeatures: ['a', 'b'] }));
    expect(features.featureNames).toEqual(['a', 'b']);
    expect(Array.from(features.X.data)).toEqual([1, 2]);
    expect(report.ignoredColumns).toEqual(['extra']);
    const e = await inputError(readFeatureFile(conn, path, options({ asOf: '2026-09-30', requiredFeatures: ['a', 'b', 'c'] })));
    expect(e.message).toBe(`${path}: feature column "c" of the model is missing`);
  });

  it('reads a folder of part files as one table (as Spark writes it), and one partition of it', async () => {
    const dir = join(work, 'spark-out');
    mkdirSync(dir);
    writeFileSync(join(dir, '_SUCCESS'), '');
    const ids = Array.from({ length: 40 }, (_, i) => `C${i}`);
    await conn.run(`COPY (SELECT * FROM (VALUES ${ids.slice(0, 20).map((id, i) => `('${id}', ${i})`).join(', ')}) v(customer_id, events_90)) TO '${join(dir, 'part-00000.parquet')}' (FORMAT parquet)`);
    await conn.run(`COPY (SELECT * FROM (VALUES ${ids.slice(20).map((id, i) => `('${id}', ${i + 20})`).join(', ')}) v(customer_id, events_90)) TO '${join(dir, 'part-00001.parquet')}' (FORMAT parquet)`);
    const all = await readFeatureFile(conn, dir, options({ asOf: '2026-09-30' }));
    expect(all.report).toMatchObject({ files: 2, read: 40, accepted: 40 });
    const parts = [];
    for (let i = 0; i < 3; i++) parts.push(await readFeatureFile(conn, dir, options({ asOf: '2026-09-30', partition: { index: i, count: 3 } })));
    parts.forEach((p, i) => expect(p.features.customerIds.every((id) => partitionOf(id, 3) === i)).toBe(true));
    expect(parts.flatMap((p) => p.features.customerIds).sort()).toEqual([...all.features.customerIds].sort());
  });
});
