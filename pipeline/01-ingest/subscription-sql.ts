/**
 * The data contract's one definition of an active subscription (docs/data-contract.md,
 * Subscriptions), as SQL: value per segment, the churn labels and `finseg evaluate` all measure
 * MRR with it, so they cannot drift apart.
 */

/**
 * A subscriptions row is active on `day` (a SQL date expression) when it started on or before
 * that day and had not ended by it: start_date <= day and (no end_date or end_date > day).
 * `row` qualifies the columns (`'s.'`); a customer's MRR on a day is the summed mrr of its rows
 * active on it.
 */
export function activeOnSql(day: string, row = ''): string {
  return `(${row}start_date <= ${day} AND (${row}end_date IS NULL OR ${row}end_date > ${day}))`;
}
