/**
 * `finseg generate`: a seeded synthetic data set, a later snapshot of one (--drift), vendor-shaped
 * exports (--shape) or a data set with planted defects (--dirty). Returns what the CLI prints.
 */
import { join } from 'node:path';
import type { Logger } from '../core/log.ts';
import { generateDirtyDataset } from '../generate/dirty.ts';
import { generateDriftSnapshot, type DriftParams } from '../generate/drift.ts';
import { generateDataset, type Format, type GenerateParams } from '../generate/generate.ts';
import { defaultVendorExportParams, generateVendorExports, type ExportShape } from '../generate/vendor-export.ts';

/** One generate run, by mode. */
export type GenerateRequest =
  | { mode: 'dataset'; out: string; params: GenerateParams; format: Format }
  /** A later snapshot of the generated base in `from`; `format` defaults to the base's. */
  | { mode: 'drift'; from: string; out: string; options: Partial<DriftParams>; format?: Format }
  | { mode: 'shape'; out: string; shapes: ExportShape[]; params: GenerateParams; months: number }
  /** `rate`: the share of rows given each planted defect. */
  | { mode: 'dirty'; out: string; params: GenerateParams; format: Format; rate: number };

/** Generates what the request asks for; returns the summary lines the CLI prints. */
export async function generateJob(request: GenerateRequest, logger: Logger): Promise<string> {
  switch (request.mode) {
    case 'drift': {
      const summary = await generateDriftSnapshot(request.from, request.out, request.options, logger, request.format);
      return `${JSON.stringify(summary.rows)} → ${summary.dir}\nas of ${summary.asOf} (${summary.elapsedDays} days after ${summary.asOfBefore}); movements ${JSON.stringify(summary.counts)} → ${join(summary.dir, 'movements.csv')}\n`;
    }
    case 'shape': {
      const summary = await generateVendorExports(request.out, request.shapes, request.params, { ...defaultVendorExportParams, seed: request.params.seed }, logger, request.months);
      return summary.exports.map((e) => `${e.shape}: ${e.dir} (outcomes: ${e.outcomes})\n`).join('');
    }
    case 'dirty': {
      const summary = await generateDirtyDataset(request.out, request.params, request.format, request.rate, logger);
      return `${JSON.stringify(summary.rows)} → ${summary.dir}\nplanted defects ${JSON.stringify(summary.dirty.counts)} → ${summary.dirty.file}\ncheck with: finseg validate --data ${summary.dir} --as-of ${summary.dirty.asOf}\n` +
        `(the planted unknown subscription plans count as bad_enum under a config with "ingest": {"plans": ${JSON.stringify(summary.dirty.plans)}}; without it every plan is accepted)\n`;
    }
    case 'dataset': {
      const summary = await generateDataset(request.out, request.params, request.format, logger);
      return `${JSON.stringify(summary.rows)} → ${summary.dir}\n`;
    }
  }
}
