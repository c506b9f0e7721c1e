import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CustomerLenses } from '../../pipeline/06-categorize/lenses.ts';
import { mapSegments } from '../../pipeline/07-map/segments.ts';
import { openDuck, queryRows, sqlString } from '../../pipeline/core/duck.ts';
import { fromRows } from '../../pipeline/core/matrix.ts';
import { segmentsCsv, writeAssignments } from '../../pipeline/10-report/exports.ts';
import { reportModel } from '../../pipeline/10-report/model.ts';
import { segmentsExport } from '../../pipeline/10-report/report.ts';
import { twoSegments } from './hand-model.ts';

/**
 * Customer ids leave the report exactly as ingest delivered them: text, never re-read as numbers
 * (a leading zero, a decimal point, an exponent or 20 digits would not survive that).
 */
const IDS = ['17850', '0042', '1.50', '1e3', '12345678901234567890', 'C-9'];
const work = mkdtempSync(join(tmpdir(), 'finseg-ids-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const lenses = (n: number) => {
  const all = (v: string) => Array.from({ length: n }, () => v);
  return { size: all('small'), industry: all('retail'), lifecycle: all('mature'), technology: all('high'), buyerRole: all('owner') } as CustomerLenses;
};

describe('customer ids in the exports', () => {
  it('writes assignments.csv and assignments.parquet with the ids as given', async () => {
    const segment = Int32Array.from([0, 0, 0, 1, 1, 1]);
    const conn = await openDuck();
    try {
      const { csv, parquet } = await writeAssignments(conn, work, { customerIds: IDS, segment, distance: new Float64Array(6), lenses: lenses(6) }, [{ en: 'a', zh: '甲' }, { en: 'b', zh: '乙' }]);
      expect(readFileSync(csv, 'utf8').split('\n').slice(1, 7).map((l) => l.split(',')[0])).toEqual(IDS);
      const rows = await queryRows(conn, `SELECT customer_id, typeof(customer_id) AS type FROM read_parquet(${sqlString(parquet)})`);
      expect(rows.map((r) => r.customer_id)).toEqual(IDS);
      expect(new Set(rows.map((r) => r.type))).toEqual(new Set(['VARCHAR']));
    } finally {
      conn.closeSync();
    }
  });

  it('lists example ids as given in segments.json and segments.csv', () => {
    const mapped = mapSegments({ labels: Int32Array.from([0, 0, 0, 1, 1, 1]), k: 2, lenses: lenses(6), features: fromRows(IDS.map((_, i) => [i])), featureNames: ['events_90'], customerIds: IDS });
    const { manifest } = twoSegments(false);
    const segments = { kind: 'finseg.segments' as const, version: 1 as const, cards: mapped.cards, cramersV: mapped.cramersV };
    const exported = JSON.parse(JSON.stringify(segmentsExport(manifest, segments))) as { segments: { exampleCustomerIds: string[] }[] };
    expect(exported.segments.flatMap((s) => s.exampleCustomerIds)).toEqual(IDS);
    const csv = segmentsCsv(reportModel(manifest, segments).segments);
    expect(csv).toContain(',17850;0042;1.50\n');
    expect(csv).toContain(',1e3;12345678901234567890;C-9\n');
  });
});
