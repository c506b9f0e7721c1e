import { maskedUrl } from '../01-ingest/postgres.ts';
import { resolve } from 'node:path';
import { ingest } from '../01-ingest/ingest.ts';
import { validateIngestParams, type IngestParams } from '../01-ingest/params.ts';
import { formatValidation, overLimit } from '../01-ingest/summary.ts';
import { openDuck } from '../core/duck.ts';
import { InputError } from '../core/errors.ts';
import { quietLogger } from '../core/log.ts';

/** The data folder of a command: `--data` when given, else the config's `ingest.dataDir`. */
export function dataDirFrom(flag: string | undefined, params: IngestParams, command: string): string {
  if (params.postgres) {
    if (flag) throw new InputError(`finseg ${command}: --data ${flag} and "ingest.postgres" in the config both name the data; give one`);
    // ingest reads the tables from PostgreSQL into a folder of its own; this names the source in messages and the manifest.
    return maskedUrl(params.postgres.url);
  }
  if (flag) return flag;
  if (params.dataDir) return params.dataDir;
  throw new InputError(`finseg ${command}: --data is required`, ['or name the folder in the config: "ingest": {"dataDir": "path/relative/to/the/config"}', 'run finseg --help for usage']);
}

/** The ingest settings with the as-of date of an `--as-of` flag, checked like the config's. */
export function withAsOf(params: IngestParams, asOf: string): IngestParams {
  const out = { ...params, asOf };
  validateIngestParams(out, '--as-of');
  return out;
}

/**
 * `finseg validate`: ingests the folder under the contract without the limit stopping it, writes
 * the quarantined rows to `<quarantineRoot>/<input fingerprint>/` (once per input, shared with
 * train and score), and returns the printed report and the exit code (2 when a table is over the
 * quarantine limit).
 */
export async function validateCommand(dataDir: string, params: IngestParams, quarantineRoot: string): Promise<{ text: string; exitCode: number }> {
  const conn = await openDuck();
  try {
    const result = await ingest(conn, dataDir, { ...params, quarantineLimit: Number.POSITIVE_INFINITY }, resolve(quarantineRoot), quietLogger, { command: 'validate', now: () => new Date() });
    const over = overLimit(result, params.quarantineLimit);
    const verdict = over ? '\nresult: over the quarantine limit (exit code 2)\n' : '\nresult: every table within the quarantine limit\n';
    return { text: formatValidation(result, params.quarantineLimit) + verdict, exitCode: over ? 2 : 0 };
  } finally {
    conn.closeSync();
  }
}
