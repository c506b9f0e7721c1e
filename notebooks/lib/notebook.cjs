/**
 * What the finseg notebooks share: where the demo data and bundle are, how to import a pipeline
 * module, and how to turn a vega-lite spec or a list of records into something to display.
 *
 * CommonJS on purpose. The tslab kernel compiles every cell to CommonJS, so an `import()` written
 * in a cell becomes `require()`, which cannot load the pipeline (ESM TypeScript with `.ts`
 * import paths). A `.cjs` file required from a cell is plain Node, and its `import()` is the
 * real one: it loads tsx's API, and tsx loads the pipeline exactly as `bin/finseg.mjs` does.
 * Nothing here re-implements pipeline logic; what the notebooks compute lives in `pipeline/`.
 */
const { mkdirSync } = require('node:fs');
const { join, resolve } = require('node:path');
const { pathToFileURL } = require('node:url');

const root = resolve(__dirname, '..', '..');

/**
 * Inputs and outputs of the notebooks, overridable from the environment so an analyst can point
 * them at another bundle or data folder without editing a cell.
 */
const paths = {
  root,
  /** A bundle folder, or a registry folder whose `production`/`latest` pointer names one. */
  models: resolve(process.env.FINSEG_MODEL ?? join(root, 'models')),
  /** The data the demo bundle was trained on. */
  trainData: resolve(process.env.FINSEG_TRAIN_DATA ?? join(root, 'data/generated/demo/train')),
  /** New customers the demo scores (another seed, ids prefixed N). */
  newData: resolve(process.env.FINSEG_NEW_DATA ?? join(root, 'data/generated/demo/new')),
  /** Files the notebooks write (gitignored), next to the executed copies. */
  output: join(root, 'notebooks/output'),
};

let scope = null;

/**
 * Imports `pipeline/<modulePath>` (e.g. 'jobs/score.ts'). Every module goes through one tsx
 * namespace, so modules shared by several imports (DuckDB, tfjs, config) load once.
 */
async function pipeline(modulePath) {
  if (!scope) {
    const { register } = await import('tsx/esm/api');
    scope = register({ namespace: 'finseg-notebooks' });
  }
  return scope.import(pathToFileURL(join(root, 'pipeline', modulePath)).href, pathToFileURL(__filename).href);
}

/** Renders a vega-lite spec to SVG markup with vega's headless renderer (no browser, no canvas). */
async function svg(spec) {
  const [vega, vegaLite] = await Promise.all([import('vega'), import('vega-lite')]);
  const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

const escapeHtml = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);

function formatCell(value, digits) {
  if (value === null || value === undefined) return '';
  if (value instanceof Date) return value.toISOString().replace(/T00:00:00\.000Z$/, '');
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return 'NaN';
    // Grouped thousands for counts, not for four-digit values such as years.
    if (Number.isInteger(value)) return Math.abs(value) >= 10000 ? value.toLocaleString('en-US') : String(value);
    if (Math.abs(value) >= 1000) return value.toLocaleString('en-US', { maximumFractionDigits: 0 });
    return value.toPrecision(digits).replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '');
  }
  if (Array.isArray(value)) return value.map((v) => formatCell(v, digits)).join(', ');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/**
 * An HTML table of records (plain objects): columns are `options.columns`, or every key seen in
 * the records in first-seen order, so a record with fields added upstream still shows whole.
 */
function table(records, options = {}) {
  const digits = options.digits ?? 3;
  const columns = options.columns ?? [...new Set(records.flatMap((r) => Object.keys(r)))];
  const head = columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('');
  const body = records
    .map((r) => `<tr>${columns.map((c) => `<td${typeof r[c] === 'number' ? ' style="text-align:right"' : ''}>${escapeHtml(formatCell(r[c], digits))}</td>`).join('')}</tr>`)
    .join('\n');
  const caption = options.caption ? `<caption style="caption-side:top;text-align:left">${escapeHtml(options.caption)}</caption>` : '';
  return `<table>${caption}<thead><tr>${head}</tr></thead>\n<tbody>${body}</tbody></table>`;
}

/** Rows `indices` of a row-major matrix (`{rows, cols, data}`) as records keyed by `names`. */
function records(matrix, names, indices) {
  return Array.from(indices, (i) => Object.fromEntries(names.map((name, j) => [name, matrix.data[i * matrix.cols + j]])));
}

/** The output folder, created on first use. */
function outputDir() {
  mkdirSync(paths.output, { recursive: true });
  return paths.output;
}

module.exports = { paths, pipeline, svg, table, records, outputDir };
