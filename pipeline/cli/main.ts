/**
 * The finseg command line: parses the arguments, dispatches to the command's handler
 * (cli/commands.ts) and turns an error into its message and exit code.
 */
import { parseArgs } from 'node:util';
import { InputError } from '../core/errors.ts';
import { quietLogger, stderrLogger, type Logger } from '../core/log.ts';
import { RegistryBusyError } from '../registry/registry.ts';
import { LockLostError } from '../registry/lock.ts';
import { RETRAIN_EXIT } from '../jobs/retrain.ts';
import { COMMANDS } from './commands.ts';
import { OPTIONS, type Flags } from './flags.ts';
import { ScheduleBusyError } from './schedule.ts';

const HELP = `finseg — customer segmentation for a financial-software vendor

Usage: finseg <command> [options]

Commands:
  demo        generate data, train, score new customers and write the report (what npm start runs)
  generate    write a seeded synthetic data set        --out DIR [--customers N] [--seed S] [--format parquet|csv] [--dirty RATE]
  init        write a commented starting config        --data DIR [--out finseg.config.json]
  validate    check a data folder against the contract --data DIR [--config FILE]   (exit 2 over the quarantine limit)
  train       train a model bundle                     --data DIR [--out models/] [--config FILE] [--k N]
              (--data may be left out when the config names "ingest.dataDir")
              or from a precomputed feature table      --features FILE.parquet|.csv|DIR [--as-of YYYY-MM-DD] …
  score       score customers with a bundle            --model DIR --data DIR --out FILE.parquet|.csv
              or one partition of the customers        ... --partition i/n|auto --out FILE   (auto: JOB_COMPLETION_INDEX
              of JOB_COMPLETIONS, a Kubernetes Indexed Job; {i} and {n} in --out name the part: part-{i}-of-{n}.csv)
              checks the batch for drift against the bundle (PSI per input, novel, ambiguous, segment mix)
              into FILE.drift.json, a warning over the drift.scoring limits   [--strict: then exit 5]
  merge-scores  join a partitioned run's files into one  --parts DIR --out FILE   (exit 2: a partition missing or twice)
  drift       show a scored batch's drift summary      --model DIR --scores FILE [--json] [--strict]
  features    write the feature table of a data folder --data DIR --out FILE.parquet|.csv [--config FILE] [--as-of D]
              [--model DIR: a table to score with this bundle, measured with its feature settings and home currency]
  features-sql  print the feature SQL for an engine  --as-of YYYY-MM-DD --dialect duckdb|spark|trino|postgres [--config FILE] [--model DIR]   (docs/scale-out.md)
  report      write the HTML report and its exports    --model DIR [--lang en|zh] [--open] [--evaluation FILE]
              (--lang en: index.html + report.md; zh: index.zh.html + report.zh.md; train writes both)
  evaluate    measure each action's effect (treatment − control) per segment, with 95% intervals
                                                       --model DIR --data DIR [--actions FILE] [--scores FILE] [--out FILE]
              (adoption, churn, NPS after the action; writes evaluation.json + .md, default in the
              bundle's report folder, where finseg report shows it; report --evaluation FILE names another)
  retrain     train a candidate, compare it with production, promote it if the gates pass
                                                       --data DIR [--registry models/] [--config FILE]
  schedule    run retrain on a cron expression, one JSON line per run
                                                       --cron "0 3 * * 1" retrain --data DIR [--registry models/] [--max-runs N]
  models      the registry: list | show V | promote V | rollback | prune   [--registry models/] [--json]
  quarantine  the quarantine folders: list [--json] | prune --keep N [--dry-run]   [--quarantine data/quarantine]
  generate --drift  a later snapshot of a generated base  --from DIR --out DIR [--months 3] [--seed S] [--take-up 0.2]
  generate --shape  vendor-shaped exports + outcomes.csv  --shape usage-only|transactions-only|both|all --out DIR
                    [--customers N] [--seed S]   (docs/export-shapes.md)

Common options: --quiet (no progress), --debug (stack traces), --help; validate, train, score and features take --as-of YYYY-MM-DD
and --quarantine DIR (where quarantined rows go; default data/quarantine)
Exit codes: 0 success, 1 failure, 2 bad usage or input; retrain: 0 promoted, 3 not promoted
(gates failed, production unchanged), 4 another writer holds the registry (or took its lock over
while this run was paused past its lease); schedule: 4 when
another scheduler runs for the registry; score --strict and drift --strict: 5 the batch drifted
over a drift.scoring limit (the scores are written all the same).
Examples:
  finseg generate --out data/generated/demo --customers 20000
  finseg train --data data/generated/demo --out models/
  finseg score --model models/ --data data/new --out data/scores/new.parquet
  finseg report --model models/latest-version-folder
`;

/** Runs one CLI invocation and returns its exit code; all output goes to stdout/stderr. */
export async function main(argv: string[]): Promise<number> {
  let flags: Flags = {};
  let logger: Logger | null = null;
  try {
    const parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
    flags = parsed.values as Flags;
    const [command] = parsed.positionals;
    if (!command || flags.help || command === 'help') {
      process.stdout.write(HELP);
      return command || flags.help ? 0 : 2;
    }
    logger = flags.quiet ? quietLogger : stderrLogger();
    return await run(command, flags, logger, parsed.positionals.slice(1));
  } catch (e) {
    // A bar left on screen by the failed stage would run into the error message.
    logger?.endProgress?.();
    return reportError(e, flags.debug === true);
  } finally {
    logger?.endProgress?.();
  }
}

function reportError(e: unknown, debug: boolean): number {
  // One writer per registry, one scheduler per registry: the second exits at once, naming the first.
  if (e instanceof RegistryBusyError || e instanceof ScheduleBusyError) {
    process.stderr.write(`finseg: ${e.message}\n  nothing was changed; try again when it has finished\n`);
    return RETRAIN_EXIT.busy;
  }
  // Taken over while paused past its lease: another writer now holds the registry, as for busy.
  if (e instanceof LockLostError) {
    process.stderr.write(`finseg: ${e.message}\n`);
    return RETRAIN_EXIT.busy;
  }
  if (e instanceof InputError) {
    process.stderr.write(`finseg: ${e.message}\n`);
    for (const d of e.detail) process.stderr.write(`  ${d}\n`);
    if (debug) process.stderr.write(`${e.stack}\n`);
    return 2;
  }
  const code = (e as { code?: string }).code;
  if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) {
    process.stderr.write(`finseg: ${(e as Error).message}\n  run finseg --help for usage\n`);
    return 2;
  }
  process.stderr.write(`finseg: ${e instanceof Error ? e.message : String(e)}\n`);
  if (debug && e instanceof Error) process.stderr.write(`${e.stack}\n`);
  else process.stderr.write('  (run with --debug for the stack trace)\n');
  return 1;
}

/** Runs one command; an unknown name is bad usage. */
async function run(command: string, flags: Flags, logger: Logger, args: string[] = []): Promise<number> {
  const handler = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  if (!handler) throw new InputError(`unknown command "${command}"`, ['commands: demo, generate, init, validate, train, score, drift, features, features-sql, report, evaluate, retrain, schedule, models, quarantine; run finseg --help']);
  return handler(flags, logger, args);
}
