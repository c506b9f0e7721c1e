// The structure check of pipeline/: the import rules of the layout (which folder may import which),
// no import cycle, functions of at most 80 lines and files of at most 450 (data tables aside).
// `npm run structure` prints the report; test/structure/structure.test.ts runs it in `npm test`.
//
// It reads the sources with the TypeScript parser rather than regular expressions so that comments,
// strings and template literals can neither hide nor fake an import or a function.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';

/** The rules a violation can break; each names one sentence of the layout. */
export type StructureRule =
  | 'import-cycle'
  | 'stage-imports'
  | 'core-imports'
  | 'config-imports'
  | 'model-imports'
  | 'io-imports'
  | 'registry-imports'
  | 'job-imports-job'
  | 'generate-imports'
  | 'cli-imported'
  | 'function-length'
  | 'file-length';

/** One broken rule, at a file (relative to the checked root) and a 1-based line. */
export interface StructureViolation {
  file: string;
  line: number;
  rule: StructureRule;
  message: string;
}

/** The limits; the defaults are the project's. */
export interface StructureLimits {
  maxFunctionLines: number;
  maxFileLines: number;
}

/** What the check found: the files it read and every violation, sorted by file and line. */
export interface StructureReport {
  files: number;
  violations: StructureViolation[];
}

const DEFAULT_LIMITS: StructureLimits = { maxFunctionLines: 80, maxFileLines: 450 };

// Data tables (translations, archetypes, playbooks, the feature catalog) are long by nature: one
// entry per row of a table, nothing to split.
const DATA_TABLE = /(^|[-_.])(i18n|archetypes|playbooks|catalog|tables?)\.m?[tj]s$/;
const SOURCE = /\.(ts|mts|mjs|js)$/;

interface ImportEdge {
  /** Resolved absolute path of the imported file (or of the specifier when it resolves to no file). */
  target: string;
  line: number;
  specifier: string;
  /** `import('./x')` at run time: counts for the layer rules, not for cycles (it loads lazily). */
  dynamic: boolean;
}

interface SourceFacts {
  path: string;
  imports: ImportEdge[];
  lines: number;
  longFunctions: Array<{ name: string; line: number; lines: number }>;
}

/** Check the tree under `root` (normally `pipeline/`); pure apart from reading the files. */
export function checkStructure(root: string, limits: Partial<StructureLimits> = {}): StructureReport {
  const lim = { ...DEFAULT_LIMITS, ...limits };
  const absRoot = resolve(root);
  const paths = listSources(absRoot);
  const known = new Set(paths);
  const facts = paths.map((p) => readFacts(p, known, lim.maxFunctionLines));
  const rel = (p: string) => relative(absRoot, p).split(sep).join('/');
  const violations: StructureViolation[] = [];
  for (const f of facts) {
    const file = rel(f.path);
    for (const edge of f.imports) {
      const target = rel(edge.target);
      const broken = layerRule(file, target);
      if (broken) violations.push({ file, line: edge.line, rule: broken.rule, message: `imports ${target}: ${broken.why}` });
    }
    for (const fn of f.longFunctions) {
      violations.push({
        file,
        line: fn.line,
        rule: 'function-length',
        message: `function ${fn.name} has ${fn.lines} lines (at most ${lim.maxFunctionLines})`,
      });
    }
    if (f.lines > lim.maxFileLines && !DATA_TABLE.test(basename(f.path))) {
      violations.push({ file, line: 1, rule: 'file-length', message: `${f.lines} lines (at most ${lim.maxFileLines})` });
    }
  }
  violations.push(...cycleViolations(facts, rel));
  violations.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.rule.localeCompare(b.rule));
  return { files: paths.length, violations };
}

/** One line per violation: `file:line  rule  message`. */
export function formatViolation(v: StructureViolation): string {
  return `${v.file}:${v.line}  ${v.rule}  ${v.message}`;
}

function listSources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...listSources(p));
    else if (SOURCE.test(name) && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

// A relative specifier names a file with its extension ('./x.ts'), or without it, or a folder.
function resolveSpecifier(fromFile: string, specifier: string, known: Set<string>): string {
  const base = resolve(dirname(fromFile), specifier);
  const stem = base.replace(/\.(ts|mts|js|mjs)$/, '');
  const candidates = [base, `${stem}.ts`, `${stem}.mts`, `${stem}.mjs`, `${stem}.js`, join(base, 'index.ts')];
  return candidates.find((c) => known.has(c)) ?? base;
}

function readFacts(path: string, known: Set<string>, maxFunctionLines: number): SourceFacts {
  const text = readFileSync(path, 'utf8');
  const sf = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
  const imports: ImportEdge[] = [];
  const longFunctions: SourceFacts['longFunctions'] = [];
  const lineOf = (pos: number) => sf.getLineAndCharacterOfPosition(pos).line + 1;
  const addImport = (spec: ts.Node, dynamic: boolean) => {
    if (!ts.isStringLiteralLike(spec) || !spec.text.startsWith('.')) return;
    imports.push({ target: resolveSpecifier(path, spec.text, known), line: lineOf(spec.getStart()), specifier: spec.text, dynamic });
  };
  const visit = (n: ts.Node): void => {
    if ((ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) && n.moduleSpecifier) addImport(n.moduleSpecifier, false);
    else if (ts.isImportEqualsDeclaration(n) && ts.isExternalModuleReference(n.moduleReference)) {
      addImport(n.moduleReference.expression, false);
    } else if (ts.isImportTypeNode(n) && ts.isLiteralTypeNode(n.argument)) addImport(n.argument.literal, false);
    else if (ts.isCallExpression(n) && n.expression.kind === ts.SyntaxKind.ImportKeyword && n.arguments[0]) {
      addImport(n.arguments[0], true);
    }
    if (isFunctionLike(n)) {
      // Counted from the first token (leading comments excluded) to the closing brace, both inclusive.
      const first = lineOf(n.getStart(sf));
      const lines = lineOf(n.getEnd()) - first + 1;
      if (lines > maxFunctionLines) longFunctions.push({ name: functionName(n), line: first, lines });
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  const lines = text.length === 0 ? 0 : text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
  return { path, imports, lines, longFunctions };
}

type FunctionLike = ts.FunctionDeclaration | ts.MethodDeclaration | ts.ArrowFunction | ts.FunctionExpression
  | ts.ConstructorDeclaration | ts.GetAccessorDeclaration | ts.SetAccessorDeclaration;

function isFunctionLike(n: ts.Node): n is FunctionLike {
  return ts.isFunctionDeclaration(n) || ts.isMethodDeclaration(n) || ts.isArrowFunction(n) || ts.isFunctionExpression(n)
    || ts.isConstructorDeclaration(n) || ts.isGetAccessorDeclaration(n) || ts.isSetAccessorDeclaration(n);
}

// The name a reader would search for: the declaration's own, else the variable or property it is
// assigned to, else the call it is an argument of ("(callback of describe)").
function functionName(n: FunctionLike): string {
  if (ts.isConstructorDeclaration(n)) return 'constructor';
  if (n.name) return n.name.getText();
  const parent = n.parent;
  if ((ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent))
    && parent.name) return parent.name.getText();
  if (ts.isCallExpression(parent)) return `(callback of ${parent.expression.getText().slice(0, 40)})`;
  return '(anonymous)';
}

const TOP_FOLDERS = ['core', 'config', 'model', 'io', 'registry', 'jobs', 'cli', 'generate'] as const;

// The folder of a path relative to the root: a stage number, a named layer, or 'other'.
function placeOf(file: string): { stage: number } | { folder: string } {
  const top = file.split('/')[0] ?? '';
  const stage = /^(\d\d)-/.exec(top);
  if (stage && file.includes('/')) return { stage: Number(stage[1]) };
  if (file.includes('/') && (TOP_FOLDERS as readonly string[]).includes(top)) return { folder: top };
  return { folder: file.startsWith('..') ? 'outside' : 'other' };
}

const isFolder = (p: ReturnType<typeof placeOf>, ...names: string[]) => 'folder' in p && names.includes(p.folder);
const isStage = (p: ReturnType<typeof placeOf>) => 'stage' in p;

// The import rules of the layout (notes: interfaces15.md). Returns the broken rule, if any.
function layerRule(file: string, target: string): { rule: StructureRule; why: string } | null {
  const from = placeOf(file);
  const to = placeOf(target);
  if (isFolder(to, 'cli') && !isFolder(from, 'cli')) return { rule: 'cli-imported', why: 'only cli/ imports cli/' };
  if ('stage' in from) {
    if (isFolder(to, 'core')) return null;
    if ('stage' in to && to.stage <= from.stage) return null;
    const why = 'stage' in to
      ? `a stage imports only core/ and stages numbered <= its own (${pad(from.stage)})`
      : `a stage imports only core/ and stages numbered <= its own, not ${describe(to)}`;
    return { rule: 'stage-imports', why };
  }
  const allowed = (rule: StructureRule, ok: boolean, why: string) => (ok ? null : { rule, why });
  if (isFolder(from, 'core')) return allowed('core-imports', isFolder(to, 'core'), 'core/ imports only core/');
  if (isFolder(from, 'registry')) {
    return allowed('registry-imports', isFolder(to, 'core', 'registry'), 'registry/ imports only core/ and registry/');
  }
  if (isFolder(from, 'config')) {
    return allowed('config-imports', isFolder(to, 'core', 'config') || isStage(to), 'config/ imports only core/, config/ and the stages');
  }
  if (isFolder(from, 'generate')) {
    return allowed('generate-imports', isFolder(to, 'core', 'config', 'generate') || isStage(to),
      'generate/ imports only core/, config/, generate/ and the stages');
  }
  if (isFolder(from, 'model')) {
    return allowed('model-imports', isFolder(to, 'core', 'config', 'model', 'registry') || isStage(to),
      'model/ imports only core/, config/, registry/, model/ and the stages');
  }
  if (isFolder(from, 'io')) return allowed('io-imports', !isFolder(to, 'jobs'), 'io/ imports no job');
  if (isFolder(from, 'jobs') && isFolder(to, 'jobs')) return { rule: 'job-imports-job', why: 'a job imports no other job' };
  return null;
}

const pad = (n: number) => String(n).padStart(2, '0');
const describe = (p: ReturnType<typeof placeOf>) => ('stage' in p ? `stage ${pad(p.stage)}` : `${p.folder}/`);

// Tarjan's strongly connected components over the static imports; every import inside a component
// of two or more files (or of a file importing itself) closes a cycle.
function cycleViolations(facts: SourceFacts[], rel: (p: string) => string): StructureViolation[] {
  const edges = new Map(facts.map((f) => [f.path, f.imports.filter((e) => !e.dynamic)]));
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  let counter = 0;
  const strong = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const { target: w } of edges.get(v) ?? []) {
      if (!edges.has(w)) continue;
      if (!index.has(w)) {
        strong(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    components.push(component);
  };
  for (const f of facts) if (!index.has(f.path)) strong(f.path);
  const out: StructureViolation[] = [];
  for (const component of components) {
    const members = new Set(component);
    const names = component.map(rel).sort();
    for (const file of component) {
      for (const e of edges.get(file) ?? []) {
        if (!members.has(e.target) || (component.length === 1 && e.target !== file)) continue;
        out.push({
          file: rel(file),
          line: e.line,
          rule: 'import-cycle',
          message: `imports ${rel(e.target)}, which leads back here (cycle among ${names.join(', ')})`,
        });
      }
    }
  }
  return out;
}

/** Print the report of `pipeline/` (or the folder given) and exit 1 when a rule is broken. */
function main(argv: string[]): void {
  const root = argv[0] ?? 'pipeline';
  const report = checkStructure(root);
  const byRule = new Map<StructureRule, number>();
  for (const v of report.violations) {
    console.log(formatViolation(v));
    byRule.set(v.rule, (byRule.get(v.rule) ?? 0) + 1);
  }
  const counts = [...byRule].map(([rule, n]) => `${rule} ${n}`).join(', ');
  console.log(`${report.files} files in ${root}/: ${report.violations.length} violations${counts ? ` (${counts})` : ''}`);
  process.exitCode = report.violations.length > 0 ? 1 : 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) main(process.argv.slice(2));
