/**
 * The migration matrix: where each customer of production's training went in the candidate.
 * Rows are production's segment ids as they stood when production was trained (its stored
 * assignments), plus `new` for customers production never saw; columns are the candidate's ids
 * (after ids are carried over), plus `gone` for production's customers absent from today's data.
 * So the matrix shows customer movement and model change together, in ids a CRM stores.
 */

/** A row or column label: a segment id, or one of the two margins. */
export type MigrationLabel = number | 'new' | 'gone';

/** Counts and row shares of customers moving between segment ids. */
export interface MigrationMatrix {
  /** Row labels: production ids (ascending), then 'new'. */
  from: MigrationLabel[];
  /** Column labels: candidate ids (ascending), then 'gone'. */
  to: MigrationLabel[];
  /** counts[r][c], shape (from.length, to.length). */
  counts: number[][];
  /** counts / row total; an empty row is all 0. */
  shares: number[][];
  /** Customers present in both with the same id, and customers present in both. */
  sameId: number;
  inBoth: number;
}

/**
 * Builds the matrix from production's training assignments (customer → id) and the candidate's
 * current ones (customer ids and their ids, same length). `productionIds` / `candidateIds` list
 * every segment id of each model, so empty rows and columns still appear.
 */
export function migrationMatrix(
  before: ReadonlyMap<string, number>,
  customerIds: readonly string[],
  afterIds: ArrayLike<number>,
  productionIds: readonly number[],
  candidateIds: readonly number[],
): MigrationMatrix {
  const from: MigrationLabel[] = [...[...productionIds].sort((a, b) => a - b), 'new'];
  const to: MigrationLabel[] = [...[...candidateIds].sort((a, b) => a - b), 'gone'];
  const row = new Map(from.map((l, r) => [l, r]));
  const col = new Map(to.map((l, c) => [l, c]));
  const counts = from.map(() => to.map(() => 0));
  const seen = new Set<string>();
  let sameId = 0;
  let inBoth = 0;
  customerIds.forEach((id, i) => {
    const after = afterIds[i]!;
    const prior = before.get(id);
    const r = prior === undefined ? row.get('new')! : row.get(prior);
    const c = col.get(after);
    if (r === undefined) throw new Error(`migrationMatrix: production id ${prior} of customer ${id} is not among its segments`);
    if (c === undefined) throw new Error(`migrationMatrix: candidate id ${after} of customer ${id} is not among its segments`);
    counts[r]![c]!++;
    if (prior !== undefined) {
      seen.add(id);
      inBoth++;
      if (prior === after) sameId++;
    }
  });
  const gone = col.get('gone')!;
  for (const [id, prior] of before) {
    if (seen.has(id)) continue;
    const r = row.get(prior);
    if (r === undefined) throw new Error(`migrationMatrix: production id ${prior} of customer ${id} is not among its segments`);
    counts[r]![gone]!++;
  }
  const shares = counts.map((r) => {
    const total = r.reduce((s, x) => s + x, 0);
    return r.map((x) => (total === 0 ? 0 : x / total));
  });
  return { from, to, counts, shares, sameId, inBoth };
}
