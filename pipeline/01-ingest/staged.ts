import type { QuarantineReason, TableName } from './contract.ts';
import type { ColumnPlan } from './checks.ts';
import type { RejectedDetail } from './quarantine-rows.ts';
import type { CsvShape } from './normalise.ts';
import type { SourceFile } from './sources.ts';

/** The shapes ingestion passes between its steps (stage.ts, derive.ts, accept.ts) and reports. */

/** Quarantined rows of one reason and column, with up to three example values. */
export type QuarantineDetail = RejectedDetail<QuarantineReason>;

/** What ingestion did with one table: `read = accepted + quarantined`. */
export interface TableIngestReport {
  table: TableName;
  /** The file or folder read (for derived customers: the table they were derived from). */
  source: string;
  format: string;
  files: number;
  read: number;
  accepted: number;
  quarantined: number;
  byReason: Partial<Record<QuarantineReason, number>>;
  details: QuarantineDetail[];
  /** Optional values that failed their check and were read as missing, the row kept (cells.ts); set by accept.ts. */
  cellsNulled?: number;
  /** Nulled cells per column. */
  cellsByColumn?: Record<string, number>;
  /** Nulled cells by reason and column, with up to three example values. */
  cellDetails?: QuarantineDetail[];
  /**
   * Rows of this table quarantined as `customer_quarantined`, by the reason their customer's row
   * was quarantined for; the counts add up to `byReason.customer_quarantined`.
   */
  followed?: Partial<Record<QuarantineReason, number>>;
  /** Optional contract columns no file has (their features are computed from NULLs). */
  missingOptionalColumns: string[];
  /** Customers derived from another table's rows (`ingest.deriveCustomers`). */
  derivedFrom?: TableName;
  /** For derived customers: the source rows with a customer id, folded into `read` customers. */
  sourceRows?: number;
}

/** A table staged as `raw_<table>`: text (or native Parquet) columns with file index and line. */
export interface Staged {
  table: TableName;
  plans: ColumnPlan[];
  /** Customer attributes staged alongside (prefix `__c_`) when customers are derived from this table. */
  extra: ColumnPlan[];
  files: string[];
  /** The files read, in the order of their index (`__file`): the quarantine reads its rows' original columns back from them. */
  sources: readonly SourceFile[];
  /** By file index, the shape staging read each CSV file in (null for other formats), so the quarantine reads rows back without sniffing again. */
  csvShapes: readonly (CsvShape | null)[];
  report: TableIngestReport;
  /** For each contract column, the source column names per file (for messages). */
  sourceNames: Map<string, string>;
  /** Rows already known to be malformed (in `malformed_<table>`). */
  malformed: number;
  /** `raw_<table>` is a view over Parquet files rather than a staged copy; the accepted table is then a view too. */
  inPlace: boolean;
}
