import { afterAll, describe, expect, it } from 'vitest';
import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ingest, defaultIngestParams } from '../../pipeline/01-ingest/ingest.ts';
import { openDuck, queryRows } from '../../pipeline/core/duck.ts';
import { quietLogger } from '../../pipeline/core/log.ts';
import { MODULES } from '../../pipeline/01-ingest/contract.ts';

/**
 * Large inputs stream: a CSV of 1.5 million events goes through ingestion while the JS heap (plus
 * Node buffers) grows by a small, bounded amount. Held as JS objects, 1.5M rows of 6 fields would
 * take several hundred MB; the normaliser holds one 1 MB chunk and one record at a time.
 */
const root = mkdtempSync(join(tmpdir(), 'finseg-stream-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const EVENTS = 1_500_000;
const CUSTOMERS = 2_000;

function writeBig(): void {
  const customers = openSync(join(root, 'customers.csv'), 'w');
  writeSync(customers, 'customer_id,signup_date\n');
  for (let c = 0; c < CUSTOMERS; c++) writeSync(customers, `C${c},2025-01-0${1 + (c % 9)}\n`);
  closeSync(customers);
  const events = openSync(join(root, 'usage_events.csv'), 'w');
  writeSync(events, 'customer_id,ts,module,device,user_id,count\n');
  const devices = ['web', 'desktop', 'mobile', 'api'];
  let chunk = '';
  for (let i = 0; i < EVENTS; i++) {
    const day = 1 + (i % 28);
    chunk += `C${i % CUSTOMERS},2026-09-${day < 10 ? `0${day}` : day} ${10 + (i % 12)}:00:00,${MODULES[i % MODULES.length]},${devices[i % 4]},u${i % 7},${1 + (i % 3)}\n`;
    if (chunk.length > 1 << 20) {
      writeSync(events, chunk);
      chunk = '';
    }
  }
  writeSync(events, chunk);
  closeSync(events);
}

describe('streaming a large CSV', () => {
  it('ingests 1.5M events with the JS heap growing by far less than the rows would take as objects', async () => {
    writeBig();
    expect(statSync(join(root, 'usage_events.csv')).size).toBeGreaterThan(60 << 20);
    global.gc?.();
    const used = () => {
      const m = process.memoryUsage();
      return m.heapUsed + m.arrayBuffers;
    };
    const before = used();
    let peak = before;
    const sampler = setInterval(() => {
      peak = Math.max(peak, used());
    }, 20);
    const conn = await openDuck();
    try {
      const result = await ingest(conn, root, { ...defaultIngestParams, asOf: '2026-09-30' }, null, quietLogger);
      peak = Math.max(peak, used());
      expect(result.tables.usage_events).toMatchObject({ read: EVENTS, accepted: EVENTS, quarantined: 0 });
      const [row] = await queryRows(conn, `SELECT count(DISTINCT customer_id) AS customers, sum("count") AS actions FROM usage_events`);
      expect(row).toEqual({ customers: CUSTOMERS, actions: EVENTS * 2 });
    } finally {
      clearInterval(sampler);
      conn.closeSync();
    }
    expect(peak - before).toBeLessThan(120 << 20);
  }, 120_000);
});
