import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { checkStructure, formatViolation, type StructureViolation } from '../../scripts/structure.ts';

// Synthetic trees written to a temporary folder: each case plants exactly the violations it expects,
// so the checker cannot pass by finding nothing.
const made: string[] = [];
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'finseg-structure-'));
  made.push(root);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

const brief = (vs: StructureViolation[]) => vs.map((v) => `${v.file}:${v.line} ${v.rule}`);
const body = (n: number) => Array.from({ length: n }, (_, i) => `  const v${i} = ${i};`).join('\n');

describe('structure check on synthetic trees', () => {
  it('accepts a tree that follows every rule', () => {
    const root = tree({
      'core/errors.ts': 'export class InputError extends Error {}\n',
      'core/matrix.ts': "import { InputError } from './errors.ts';\nexport const m = InputError;\n",
      '01-ingest/ingest.ts': "import { m } from '../core/matrix.ts';\nexport const i = m;\n",
      '03-preprocess/pca.ts': "import type { i } from '../01-ingest/ingest.ts';\nimport { j } from './scale.ts';\nexport const p = j;\n",
      '03-preprocess/scale.ts': 'export const j = 1;\n',
      'config/config.ts': "import { p } from '../03-preprocess/pca.ts';\nexport const c = p;\n",
      'registry/bundle.ts': "import { m } from '../core/matrix.ts';\nexport const b = m;\n",
      'model/fit.ts': "import { c } from '../config/config.ts';\nimport { b } from '../registry/bundle.ts';\nexport const f = [c, b];\n",
      'io/read.ts': "import { f } from '../model/fit.ts';\nexport const r = f;\n",
      'jobs/train.ts': "import { r } from '../io/read.ts';\nimport { f } from '../model/fit.ts';\nexport const t = [r, f];\n",
      'jobs/score.ts': "import { f } from '../model/fit.ts';\nexport const s = f;\n",
      'cli/main.ts': "import { t } from '../jobs/train.ts';\nimport { s } from '../jobs/score.ts';\nimport { d } from './demo.ts';\nexport const x = [t, s, d];\n",
      'cli/demo.ts': "import { t } from '../jobs/train.ts';\nexport const d = t;\n",
      'generate/generate.ts': "import { c } from '../config/config.ts';\nimport { p } from '../03-preprocess/pca.ts';\nexport const g = [c, p];\n",
    });
    const report = checkStructure(root);
    expect(report.files).toBe(14);
    expect(report.violations).toEqual([]);
  });

  it('finds an import cycle, import type and export-from included, and names every edge of it', () => {
    const root = tree({
      '10-report/model.ts': "import type { S } from '../jobs/train.ts';\nexport type M = S;\n",
      'jobs/train.ts': "\n\nexport type { E as S } from '../10-report/exports.ts';\n",
      '10-report/exports.ts': "import type { M } from './model.ts';\nexport type E = M;\n",
      'core/self.ts': "import { a } from './self.ts';\nexport const a = 1; void a;\n",
    });
    const cycles = checkStructure(root).violations.filter((v) => v.rule === 'import-cycle');
    expect(brief(cycles)).toEqual([
      '10-report/exports.ts:1 import-cycle',
      '10-report/model.ts:1 import-cycle',
      'core/self.ts:1 import-cycle',
      'jobs/train.ts:3 import-cycle',
    ]);
    expect(cycles[0]!.message).toContain('cycle among 10-report/exports.ts, 10-report/model.ts, jobs/train.ts');
  });

  it('does not count a lazy import() towards a cycle, but does towards the layer rules', () => {
    const root = tree({
      'jobs/a.ts': "export async function f() { return import('./b.ts'); }\n",
      'jobs/b.ts': "import { f } from './a.ts';\nexport const g = f;\n",
    });
    const report = checkStructure(root);
    expect(brief(report.violations)).toEqual(['jobs/a.ts:1 job-imports-job', 'jobs/b.ts:1 job-imports-job']);
  });

  it('refuses a stage importing a later stage or anything but core/ and earlier stages', () => {
    const root = tree({
      '01-ingest/init.ts': "import { lenses } from '../06-categorize/lenses.ts';\nexport const i = lenses;\n",
      '06-categorize/lenses.ts': "import { c } from '../config/config.ts';\nimport { J } from '../jobs/train.ts';\nimport type { T } from '../model/types.ts';\nimport { b } from '../registry/bundle.ts';\nexport const lenses = [c, J, b] as unknown as T;\n",
      'config/config.ts': 'export const c = 1;\n',
      'jobs/train.ts': 'export const J = 1;\n',
      'model/types.ts': 'export type T = number;\n',
      'registry/bundle.ts': 'export const b = 1;\n',
    });
    const stage = checkStructure(root).violations.filter((v) => v.rule === 'stage-imports');
    expect(stage.map(formatViolation)).toEqual([
      '01-ingest/init.ts:1  stage-imports  imports 06-categorize/lenses.ts: a stage imports only core/ and stages numbered <= its own (01)',
      '06-categorize/lenses.ts:1  stage-imports  imports config/config.ts: a stage imports only core/ and stages numbered <= its own, not config/',
      '06-categorize/lenses.ts:2  stage-imports  imports jobs/train.ts: a stage imports only core/ and stages numbered <= its own, not jobs/',
      '06-categorize/lenses.ts:3  stage-imports  imports model/types.ts: a stage imports only core/ and stages numbered <= its own, not model/',
      '06-categorize/lenses.ts:4  stage-imports  imports registry/bundle.ts: a stage imports only core/ and stages numbered <= its own, not registry/',
    ]);
  });

  it('keeps core/, registry/, config/, model/, generate/ and io/ to what they may import', () => {
    const root = tree({
      'core/config-helper.ts': "import { s } from '../01-ingest/params.ts';\nexport const h = s;\n",
      '01-ingest/params.ts': 'export const s = 1;\n',
      'registry/bundle.ts': "import type { T } from '../model/types.ts';\nimport { h } from '../core/config-helper.ts';\nexport const b = h as T;\n",
      'model/types.ts': "import { t } from '../jobs/train.ts';\nexport type T = typeof t;\n",
      'config/config.ts': "import { b } from '../registry/bundle.ts';\nexport const c = b;\n",
      'generate/gen.ts': "import { r } from '../io/read.ts';\nexport const g = r;\n",
      'io/read.ts': "import { t } from '../jobs/train.ts';\nexport const r = t;\n",
      'jobs/train.ts': 'export const t = 1;\n',
    });
    expect(brief(checkStructure(root).violations)).toEqual([
      'config/config.ts:1 config-imports',
      'core/config-helper.ts:1 core-imports',
      'generate/gen.ts:1 generate-imports',
      'io/read.ts:1 io-imports',
      'model/types.ts:1 model-imports',
      'registry/bundle.ts:1 registry-imports',
    ]);
  });

  it('refuses a job importing a job and anything but cli/ importing cli/', () => {
    const root = tree({
      'jobs/retrain.ts': "import { t } from './train.ts';\nimport { parse } from '../cli/args.ts';\nexport const r = [t, parse];\n",
      'jobs/train.ts': 'export const t = 1;\n',
      'cli/args.ts': 'export const parse = 1;\n',
      'cli/main.ts': "import { parse } from './args.ts';\nimport { r } from '../jobs/retrain.ts';\nexport const m = [parse, r];\n",
      'model/fit.ts': "import { parse } from '../cli/args.ts';\nexport const f = parse;\n",
    });
    expect(brief(checkStructure(root).violations)).toEqual([
      'jobs/retrain.ts:1 job-imports-job',
      'jobs/retrain.ts:2 cli-imported',
      'model/fit.ts:1 cli-imported',
    ]);
  });

  it('counts every kind of function, 80 lines allowed and 81 not, comments before it aside', () => {
    const fn = (head: string, n: number, tail = '}') => `${head}\n${body(n - 2)}\n${tail}\n`;
    const root = tree({
      'core/fns.ts': [
        '// a leading comment is not part of the function\n',
        fn('export function ok() {', 80), // lines 2-81
        fn('export function declared() {', 81), // 82-162
        fn('export const arrow = () => {', 81, '};'), // 163-243
        fn('export const expression = function () {', 81, '};'), // 244-324
        fn('export class K {\n  method() {', 81, '  }\n}'), // class 325-407, method 326-406
        fn('describe("x", () => {', 81, '});'),
      ].join(''),
    });
    const fns = checkStructure(root).violations.filter((v) => v.rule === 'function-length');
    expect(fns.map((v) => `${v.line} ${v.message}`)).toEqual([
      '82 function declared has 81 lines (at most 80)',
      '163 function arrow has 81 lines (at most 80)',
      '244 function expression has 81 lines (at most 80)',
      '326 function method has 81 lines (at most 80)',
      '408 function (callback of describe) has 81 lines (at most 80)',
    ]);
  });

  it('refuses a file over 450 lines except data tables, and ignores imports in comments and strings', () => {
    const lines = (n: number) => Array.from({ length: n }, (_, i) => `export const c${i} = ${i};`).join('\n') + '\n';
    const root = tree({
      '07-map/fits.ts': lines(450),
      '07-map/long.ts': lines(451),
      '07-map/playbooks.ts': lines(900),
      '10-report/i18n.ts': lines(900),
      '02-features/catalog.ts': lines(900),
      'generate/archetypes.ts': lines(900),
      '06-categorize/lens-tables.ts': lines(900),
      '01-ingest/quiet.ts': "// import { x } from '../09-drift/psi.ts';\nexport const s = \"import { y } from '../jobs/train.ts'\";\n",
    });
    expect(checkStructure(root).violations.map(formatViolation)).toEqual(['07-map/long.ts:1  file-length  451 lines (at most 450)']);
  });
});

describe('structure of pipeline/', () => {
  it('follows the layout of issue 15: no cycle, no upward import, short functions and files', () => {
    const report = checkStructure(fileURLToPath(new URL('../../pipeline', import.meta.url)));
    expect(report.files).toBeGreaterThan(100);
    // One line per violation, `file:line  rule  message`: the list to fix.
    expect(report.violations.map(formatViolation)).toEqual([]);
  });
});
