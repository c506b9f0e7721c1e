/** Defensive readers of parsed JSON: a value of the wrong type reads as absent (null, or an empty list). */

/** A JSON object. */
export type Json = Record<string, unknown>;

/** The value as an object, or null when it is not one (arrays included). */
export const obj = (x: unknown): Json | null => (typeof x === 'object' && x !== null && !Array.isArray(x) ? (x as Json) : null);

/** The value as a finite number, or null. */
export const num = (x: unknown): number | null => (typeof x === 'number' && Number.isFinite(x) ? x : null);

/** The value as a string, or null. */
export const str = (x: unknown): string | null => (typeof x === 'string' ? x : null);

/** The value as an array, or an empty one. */
export const arr = (x: unknown): unknown[] => (Array.isArray(x) ? x : []);
