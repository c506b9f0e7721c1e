import { createHash } from 'node:crypto';
import { InputError } from './errors.ts';

/**
 * Customer partitions for fanning `score` out: customer `id` is in partition
 * `bucket(id) mod count`, where bucket(id) is the first 4 bytes of MD5 over the id's UTF-8
 * bytes read as an unsigned big-endian integer (0 … 2^32 − 1), i.e. the first 8 hex digits of
 * md5(id). MD5 is chosen because DuckDB, Spark SQL, Trino, BigQuery, Postgres and Python all
 * have it, so an engine can reproduce the partitions exactly (docs/scale-out.md).
 */
export interface Partition {
  /** 0 ≤ index < count. */
  index: number;
  count: number;
}

/** The partition bucket of one id: first 32 bits of md5(utf8(id)), unsigned. */
export function partitionBucket(customerId: string): number {
  return createHash('md5').update(customerId, 'utf8').digest().readUInt32BE(0);
}

/** The partition (0 … count − 1) a customer id falls into. */
export function partitionOf(customerId: string, count: number): number {
  return partitionBucket(customerId) % count;
}

/** DuckDB SQL for the partition of a VARCHAR expression: the same number as partitionOf. */
export function partitionSql(idExpr: string, count: number): string {
  return `(CAST(('0x' || substr(md5(${idExpr}), 1, 8)) AS BIGINT) % ${count})`;
}

/** The same expression in other engines' SQL, for the docs and `finseg features-sql`. */
export const PORTABLE_PARTITION_SQL: Readonly<Record<string, string>> = {
  'DuckDB': `CAST(('0x' || substr(md5(customer_id), 1, 8)) AS BIGINT) % n`,
  'Spark SQL': `pmod(CAST(conv(substr(md5(customer_id), 1, 8), 16, 10) AS BIGINT), n)`,
  'Trino': `from_base(substr(lower(to_hex(md5(to_utf8(customer_id)))), 1, 8), 16) % n`,
  'Python': `int(hashlib.md5(customer_id.encode("utf-8")).hexdigest()[:8], 16) % n`,
};

/** Parses `--partition i/n` (0 ≤ i < n, n ≥ 1); anything else is an InputError (exit 2). */
export function parsePartition(text: string): Partition {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const usage = ['--partition i/n scores the customers whose id hashes into partition i of n, 0 ≤ i < n (e.g. 0/8 … 7/8)'];
  if (!m) throw new InputError(`--partition must be i/n with whole numbers, got ${JSON.stringify(text)}`, usage);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (!Number.isSafeInteger(count) || count < 1) throw new InputError(`--partition ${text}: n must be at least 1`, usage);
  if (!Number.isSafeInteger(index) || index >= count) throw new InputError(`--partition ${text}: i must be between 0 and ${count - 1}`, usage);
  return { index, count };
}

/**
 * The environment variables `--partition auto` reads. Kubernetes sets JOB_COMPLETION_INDEX in
 * every pod of an Indexed Job but does not pass the Job's completion count to its pods, so the
 * Job's manifest sets JOB_COMPLETIONS to the same number as `spec.completions`
 * (deploy/k8s/score-indexed-job.yaml).
 */
export const PARTITION_ENV = { index: 'JOB_COMPLETION_INDEX', count: 'JOB_COMPLETIONS' } as const;

/** `--partition auto`: this pod's partition from the Indexed Job's environment; a missing or bad variable is an InputError naming it. */
export function partitionFromEnv(env: Readonly<Record<string, string | undefined>>): Partition {
  const index = env[PARTITION_ENV.index];
  const count = env[PARTITION_ENV.count];
  const how = [
    `--partition auto reads ${PARTITION_ENV.index} (set by Kubernetes in each pod of an Indexed Job) and ${PARTITION_ENV.count} (set in the Job's manifest to spec.completions)`,
  ];
  if (index === undefined || index.trim() === '') throw new InputError(`--partition auto: ${PARTITION_ENV.index} is not set`, how);
  if (count === undefined || count.trim() === '') throw new InputError(`--partition auto: ${PARTITION_ENV.count} is not set`, how);
  return parsePartition(`${index}/${count}`);
}

/** `--partition i/n` or `--partition auto` (from the environment). */
export function partitionFlag(text: string, env: Readonly<Record<string, string | undefined>>): Partition {
  return text.trim() === 'auto' ? partitionFromEnv(env) : parsePartition(text);
}

/** An output name with `{i}` and `{n}` replaced by the partition's index and count, so one pod template names every part. */
export function partitionOutName(name: string, partition: Partition | null): string {
  if (!partition) {
    if (/\{[in]\}/.test(name)) throw new InputError(`--out ${name}: {i} and {n} name a partition's file; give --partition i/n or --partition auto`);
    return name;
  }
  return name.replaceAll('{i}', String(partition.index)).replaceAll('{n}', String(partition.count));
}
