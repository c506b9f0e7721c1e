import { defaultGenerateParams, type GenerateParams } from '../pipeline/generate/generate.ts';

/** The benchmark's data sets (issue 7): S = 100k customers, 5M events, 1M transactions; L = 1M, 50M, 5M. */
export const BENCH_SIZES: Record<string, GenerateParams> = {
  S: { ...defaultGenerateParams, customers: 100_000, eventsPerCustomer: 50, transactionsPerCustomer: 10 },
  L: { ...defaultGenerateParams, customers: 1_000_000, eventsPerCustomer: 50, transactionsPerCustomer: 5 },
};
