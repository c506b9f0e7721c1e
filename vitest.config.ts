import { defineConfig } from 'vitest/config';

// Two projects (docs/testing.md): "unit" is every test that runs no CLI in a subprocess and trains
// nothing large, so `npm run test:unit` stays under a minute; "e2e" is the rest. `npm test` runs both.
const E2E = [
  'test/e2e/**/*.test.ts',
  'test/data-quality/**/*.test.ts',
  'test/browser/**/*.test.ts',
  // The CLI in a subprocess, killed at every failpoint or run twice at once.
  'test/registry/crash.test.ts',
  'test/registry/writers.test.ts',
  // Lock holders in PID namespaces of their own, waiting out the stale time (about 11 s).
  'test/registry/cross-host.test.ts',
  // A whole train on a real export.
  'test/06-categorize/transactions-only.test.ts',
  // Measured at 10 s or more of one worker each (docs/testing.md): generated data sets of
  // thousands of customers, real exports, a report rendered end to end.
  'test/01-ingest/init.test.ts',
  'test/02-features/reference-sql.test.ts',
  // Loading dt-sql-parser's Spark and Trino grammars alone takes 10 s or more.
  'test/02-features/dialect-grammar.test.ts',
  'test/02-features/vendor-modules.test.ts',
  'test/02-features/profile-table.test.ts',
  'test/06-categorize/lifecycle-truth.test.ts',
  'test/07-map/planted-names.test.ts',
  'test/08-explain/explain.test.ts',
  'test/10-report/report.test.ts',
  'test/10-report/html.test.ts',
  'test/10-report/export-shapes.test.ts',
  'test/generate/generate.test.ts',
  'test/generate/subscriptions.test.ts',
  'test/e2e/evaluate.test.ts',
  // The churn model on the 7,043 Telco customers (5-fold CV).
  'test/05-classify/churn-telco.test.ts',
];

export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 300_000,
    // DuckDB and tfjs-wasm are heavy per worker; two cores here.
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: E2E, isolate: false } },
      { extends: true, test: { name: 'e2e', include: E2E } },
    ],
  },
});
