import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A throw-away PostgreSQL cluster for tests: initdb and pg_ctl on a free loopback port, its socket
 * and data in a temp folder, stopped and removed by `stop()`. PostgreSQL refuses to run as root,
 * so as root the server commands run as the `postgres` user the Debian package creates. Tests
 * skip when the binaries are absent, except in CI (CI=true, where .ci/run installs the package),
 * where they fail; a server that does not start fails everywhere, with its log.
 */
const PG_ROOT = '/usr/lib/postgresql';

/** The newest installed server's bin folder, or null. */
export function pgBin(): string | null {
  if (!existsSync(PG_ROOT)) return null;
  const versions = readdirSync(PG_ROOT).filter((v) => existsSync(join(PG_ROOT, v, 'bin', 'pg_ctl')) && existsSync(join(PG_ROOT, v, 'bin', 'psql')));
  versions.sort((a, b) => Number(b) - Number(a));
  return versions.length ? join(PG_ROOT, versions[0]!, 'bin') : null;
}

export const PG_MISSING = `PostgreSQL binaries not found under ${PG_ROOT}/<version>/bin (Debian package "postgresql"; .ci/run installs it)`;
/** Whether a PostgreSQL test should run: binaries present, or CI (where their absence is a failure). */
export const pgTestsRun = pgBin() !== null || process.env.CI === 'true';

const asRoot = process.getuid?.() === 0;

/** Runs a server binary, as `postgres` when we are root; its output, or an Error carrying stderr. */
function pgTool(bin: string, tool: string, args: string[], input?: string): string {
  const [cmd, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', join(bin, tool), ...args]] : [join(bin, tool), args];
  try {
    return execFileSync(cmd, argv, { input, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, stdio: ['pipe', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`${tool} ${args.slice(0, 4).join(' ')}…: ${err.stderr || err.message}`);
  }
}

/** A TCP port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

/** A running throw-away server. */
export interface TestPostgres {
  port: number;
  /** The folder holding the server's Unix socket (psql -h). */
  socketDir: string;
  /** psql as the superuser `postgres` over the socket; stops at the first error. */
  psql(sql: string, input?: string, database?: string): string;
  stop(): void;
}

/**
 * Starts a cluster. The superuser `postgres` is trusted over the Unix socket; TCP connections
 * (what node-postgres makes to 127.0.0.1) need a password (scram-sha-256) when `tcpPasswords`,
 * so a wrong password is refused as on a vendor's server, else they are trusted too.
 */
export async function startPostgres(options: { tcpPasswords?: boolean } = {}): Promise<TestPostgres> {
  const bin = pgBin();
  if (!bin) throw new Error(`${PG_MISSING}; CI=true, so this fails rather than skips`);
  const work = mkdtempSync(join(tmpdir(), 'finseg-pg-'));
  const dataDir = join(work, 'cluster');
  if (asRoot) chownSync(work, Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })), Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })));
  const hostAuth = options.tcpPasswords ? 'scram-sha-256' : 'trust';
  pgTool(bin, 'initdb', ['-D', dataDir, '--auth-local=trust', `--auth-host=${hostAuth}`, '-U', 'postgres', '-E', 'UTF8', '--no-locale', '--no-sync']);
  const port = await freePort();
  const log = join(work, 'server.log');
  try {
    pgTool(bin, 'pg_ctl', ['-D', dataDir, '-l', log, '-o', `-p ${port} -k ${work} -c listen_addresses=127.0.0.1 -c fsync=off`, '-w', 'start']);
  } catch (e) {
    const tail = existsSync(log) ? readFileSync(log, 'utf8').split('\n').slice(-15).join('\n') : '(no server log)';
    rmSync(work, { recursive: true, force: true });
    throw new Error(`PostgreSQL did not start on 127.0.0.1:${port}: ${(e as Error).message}\n${tail}`);
  }
  let stopped = false;
  return {
    port,
    socketDir: work,
    psql: (sql, input, database = 'postgres') => pgTool(bin, 'psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', work, '-p', String(port), '-U', 'postgres', '-d', database, '-c', sql], input),
    stop() {
      if (stopped) return;
      stopped = true;
      try {
        pgTool(bin, 'pg_ctl', ['-D', dataDir, '-m', 'immediate', 'stop']);
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    },
  };
}
