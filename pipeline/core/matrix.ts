/** A dense row-major matrix: element (i, j) is `data[i * cols + j]`. */
export interface Matrix {
  readonly rows: number;
  readonly cols: number;
  readonly data: Float64Array;
}

/** A zero matrix of shape (rows, cols). */
export function zeros(rows: number, cols: number): Matrix {
  return { rows, cols, data: new Float64Array(rows * cols) };
}

/**
 * zeros in memory a worker thread can share (a SharedArrayBuffer): for the matrices score splits
 * between threads (model/score-threads.ts). Otherwise an ordinary Float64Array.
 */
export function sharedZeros(rows: number, cols: number): Matrix {
  return { rows, cols, data: new Float64Array(new SharedArrayBuffer(rows * cols * Float64Array.BYTES_PER_ELEMENT)) };
}

/** A copy of M in shared memory (sharedZeros). */
export function sharedCopy(m: Matrix): Matrix {
  const out = sharedZeros(m.rows, m.cols);
  out.data.set(m.data);
  return out;
}

/** Wraps row arrays (shape (rows, cols)) as a Matrix; for tests and small data. */
export function fromRows(rowArrays: readonly (readonly number[])[]): Matrix {
  const rows = rowArrays.length;
  const cols = rows === 0 ? 0 : rowArrays[0]!.length;
  const m = zeros(rows, cols);
  rowArrays.forEach((r, i) => {
    if (r.length !== cols) throw new Error(`fromRows: row ${i} has ${r.length} values, expected ${cols}`);
    m.data.set(r, i * cols);
  });
  return m;
}

/** Row i as an array copy; for small consumers such as ml-kmeans input. */
export function rowOf(m: Matrix, i: number): number[] {
  return Array.from(m.data.subarray(i * m.cols, (i + 1) * m.cols));
}

/** The matrix as arrays of rows, shape (rows, cols). Only for samples handed to ml.js libraries. */
export function toRows(m: Matrix): number[][] {
  const out: number[][] = new Array(m.rows);
  for (let i = 0; i < m.rows; i++) out[i] = rowOf(m, i);
  return out;
}

/**
 * Columns [from, to) of m, each as its own array of length rows, in one pass over the rows:
 * copying a million-row matrix's 37 columns one strided column at a time read the matrix 37
 * times and took ~0.7 s. Callers take a few columns at a time to bound the memory.
 */
export function columnsOf(m: Matrix, from = 0, to = m.cols): Float64Array[] {
  const { rows, cols, data } = m;
  const out = Array.from({ length: to - from }, () => new Float64Array(rows));
  for (let i = 0; i < rows; i++) {
    const o = i * cols + from;
    for (let j = 0; j < to - from; j++) out[j]![i] = data[o + j]!;
  }
  return out;
}

/** The rows listed in `indices`, in that order: shape (indices.length, cols). */
export function takeRows(m: Matrix, indices: ArrayLike<number>): Matrix {
  const out = zeros(indices.length, m.cols);
  for (let r = 0; r < indices.length; r++) {
    const i = indices[r]!;
    out.data.set(m.data.subarray(i * m.cols, (i + 1) * m.cols), r * m.cols);
  }
  return out;
}

/** Squared Euclidean distance between row i of a and row j of b (same cols). */
export function sqDist(a: Matrix, i: number, b: Matrix, j: number): number {
  const cols = a.cols;
  const ao = i * cols;
  const bo = j * cols;
  let s = 0;
  for (let c = 0; c < cols; c++) {
    const d = a.data[ao + c]! - b.data[bo + c]!;
    s += d * d;
  }
  return s;
}

/**
 * out[outOffset + r] = squared Euclidean distance from x[xo, xo + d) to row `first + r` of the
 * row-major block (rows of width d), for r in [0, count). Each sum runs over features in index
 * order, so it is bit-identical to a plain loop; four rows at a time because the four sums are
 * independent chains the CPU overlaps. The hot loop of k-means assignment and of silhouette.
 */
export function sqDistancesToRows(
  x: Float64Array,
  xo: number,
  block: Float64Array,
  first: number,
  count: number,
  d: number,
  out: Float64Array,
  outOffset: number,
): void {
  let r = 0;
  for (; r + 4 <= count; r += 4) {
    const o0 = (first + r) * d;
    const o1 = o0 + d;
    const o2 = o1 + d;
    const o3 = o2 + d;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    for (let j = 0; j < d; j++) {
      const v = x[xo + j]!;
      const e0 = v - block[o0 + j]!;
      const e1 = v - block[o1 + j]!;
      const e2 = v - block[o2 + j]!;
      const e3 = v - block[o3 + j]!;
      s0 += e0 * e0;
      s1 += e1 * e1;
      s2 += e2 * e2;
      s3 += e3 * e3;
    }
    out[outOffset + r] = s0;
    out[outOffset + r + 1] = s1;
    out[outOffset + r + 2] = s2;
    out[outOffset + r + 3] = s3;
  }
  for (; r < count; r++) {
    const o = (first + r) * d;
    let s = 0;
    for (let j = 0; j < d; j++) {
      const e = x[xo + j]! - block[o + j]!;
      s += e * e;
    }
    out[outOffset + r] = s;
  }
}
