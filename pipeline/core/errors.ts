/**
 * An error in what the user gave us (a file, a column, a flag, a config value). The CLI prints
 * its message and detail without a stack trace and exits with code 2.
 */
export class InputError extends Error {
  constructor(
    message: string,
    readonly detail: string[] = [],
  ) {
    super(message);
    this.name = 'InputError';
  }
}

/** For exhaustive switches over unions: a compile error when a case is missed. */
export function assertUnreachable(x: never): never {
  throw new Error(`unreachable: ${JSON.stringify(x)}`);
}
