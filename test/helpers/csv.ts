/**
 * Fields of one CSV line: quotes open a field, `""` is a quote. Enough for the test fixtures and
 * finseg's own exports, none of which has a field spanning lines; an independent reader, so
 * tests do not check finseg's CSV with finseg's CSV code.
 */
export function csvFields(line: string): string[] {
  const out: string[] = [];
  let f = '';
  let q = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (q) {
      if (ch === '"' && line[i + 1] === '"') (f += '"'), i++;
      else if (ch === '"') q = false;
      else f += ch;
    } else if (ch === ',') out.push(f), (f = '');
    else if (ch === '"' && f === '') q = true;
    else f += ch;
  }
  out.push(f);
  return out;
}
