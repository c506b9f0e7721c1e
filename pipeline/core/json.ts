/** JSON with a trailing newline and stable two-space indentation: the one text form of every state file and export, so equal values give equal bytes. */
export function toJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
