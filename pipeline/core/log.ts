/** Progress and messages go through a Logger passed in from the CLI, so tests can run quietly. */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
}

export const quietLogger: Logger = { info: () => {}, warn: () => {} };

/** Logs to stderr with the elapsed seconds since creation, so stdout stays clean for data. */
export function stderrLogger(): Logger {
  const t0 = Date.now();
  const stamp = (): string => `[${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s]`;
  return {
    info: (m) => process.stderr.write(`${stamp()} ${m}\n`),
    warn: (m) => process.stderr.write(`${stamp()} warning: ${m}\n`),
  };
}
