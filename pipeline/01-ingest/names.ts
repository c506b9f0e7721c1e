/** Levenshtein distance, for "did you mean" suggestions on missing columns, tables and settings. */
export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

/** A name reduced to what matters for matching: lower case letters, digits and CJK characters. */
export function nameKey(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9\u4e00-\u9fff]/g, '');
}

/** The closest names to `wanted`, best first. */
export function closestNames(wanted: string, available: readonly string[], count = 3): string[] {
  return [...available]
    // A name that contains the wanted one (or is contained in it) ranks before any edit distance.
    .map((name) => {
      const [w, n] = [nameKey(wanted), nameKey(name)];
      const contains = w.length > 0 && n.length > 0 && (n.includes(w) || w.includes(n));
      return { name, d: editDistance(w, n) - (contains ? 1000 : 0) };
    })
    .sort((x, y) => x.d - y.d || x.name.localeCompare(y.name))
    .slice(0, count)
    .map((x) => x.name);
}
