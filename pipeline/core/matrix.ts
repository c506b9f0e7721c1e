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
