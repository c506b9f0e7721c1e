// A vitest reporter that prints each test file's wall time including collection and hooks
// (`beforeAll` data generation, describe-level fits), which the JSON reporter leaves out. It is how
// the unit / e2e split of docs/testing.md was measured:
//   npx vitest run --project unit --reporter=default --reporter=./scripts/test-timings.ts
import { relative } from 'node:path';
import type { Reporter, TestModule } from 'vitest/node';

interface Row {
  file: string;
  total: number;
  run: number;
  collect: number;
  state: string;
}

/** Prints one line per test file, slowest first: total, run and collect seconds. */
export default class TestTimings implements Reporter {
  private readonly rows: Row[] = [];

  onTestModuleEnd(module: TestModule): void {
    const d = module.diagnostic();
    const total = d.duration + d.collectDuration + d.setupDuration + d.prepareDuration;
    this.rows.push({ file: relative(process.cwd(), module.moduleId), total: total / 1000, run: d.duration / 1000, collect: d.collectDuration / 1000, state: module.state() });
  }

  onTestRunEnd(): void {
    const s = (x: number) => x.toFixed(1).padStart(6);
    console.log('\n  total    run collect  file');
    for (const r of [...this.rows].sort((a, b) => b.total - a.total)) console.log(`${s(r.total)} ${s(r.run)} ${s(r.collect)}  ${r.file}${r.state === 'passed' ? '' : ` (${r.state})`}`);
  }
}
