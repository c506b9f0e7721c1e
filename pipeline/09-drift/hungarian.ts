/**
 * The Hungarian (Kuhn–Munkres) assignment: the pairing of rows with columns of a cost matrix that
 * minimises the total cost, each row and column used at most once. O(n² m) with row and column
 * potentials (the shortest-augmenting-path form), exact for any real costs.
 */

/**
 * Minimum-cost assignment for a cost matrix of shape (rows, cols), row-major. Returns, for each
 * row, its column, or -1 when there are more rows than columns and the row is left out.
 */
export function hungarian(cost: ArrayLike<number>, rows: number, cols: number): Int32Array {
  if (cost.length !== rows * cols) throw new Error(`hungarian: ${cost.length} costs for a ${rows} x ${cols} matrix`);
  if (rows === 0 || cols === 0) return new Int32Array(rows).fill(-1);
  // The algorithm below needs rows <= cols; solve the transpose otherwise.
  if (rows > cols) {
    const transposed = new Float64Array(rows * cols);
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) transposed[j * rows + i] = cost[i * cols + j]!;
    const colToRow = hungarian(transposed, cols, rows);
    const out = new Int32Array(rows).fill(-1);
    colToRow.forEach((i, j) => {
      if (i >= 0) out[i] = j;
    });
    return out;
  }
  const n = rows;
  const m = cols;
  // 1-based arrays as in the textbook form; index 0 is the virtual start of each augmenting path.
  const u = new Float64Array(n + 1);
  const v = new Float64Array(m + 1);
  const match = new Int32Array(m + 1); // match[j] = row assigned to column j (0 = none)
  const way = new Int32Array(m + 1);
  for (let i = 1; i <= n; i++) {
    match[0] = i;
    let j0 = 0;
    const minv = new Float64Array(m + 1).fill(Infinity);
    const used = new Uint8Array(m + 1);
    do {
      used[j0] = 1;
      const i0 = match[j0]!;
      let delta = Infinity;
      let j1 = 0;
      for (let j = 1; j <= m; j++) {
        if (used[j]) continue;
        const reduced = cost[(i0 - 1) * m + (j - 1)]! - u[i0]! - v[j]!;
        if (reduced < minv[j]!) {
          minv[j] = reduced;
          way[j] = j0;
        }
        if (minv[j]! < delta) {
          delta = minv[j]!;
          j1 = j;
        }
      }
      for (let j = 0; j <= m; j++) {
        if (used[j]) {
          u[match[j]!]! += delta;
          v[j]! -= delta;
        } else {
          minv[j]! -= delta;
        }
      }
      j0 = j1;
    } while (match[j0] !== 0);
    do {
      const j1 = way[j0]!;
      match[j0] = match[j1]!;
      j0 = j1;
    } while (j0 !== 0);
  }
  const out = new Int32Array(n).fill(-1);
  for (let j = 1; j <= m; j++) if (match[j]! > 0) out[match[j]! - 1] = j - 1;
  return out;
}
