/** The valibot building blocks every schema file of the bundle shares (schema.ts, schema-manifest.ts). */
import * as v from 'valibot';

/** A finite number (JSON has no NaN or Infinity; null here means a corrupt value). */
export const finite = v.pipe(v.number(), v.finite('expected a finite number'));
/** A number the stage may store as NaN: JSON wrote it as null, which reads back as NaN. */
export const nanable = v.pipe(v.nullable(v.number()), v.transform((x): number => x ?? Number.NaN));
/** An integer >= min. */
export const integer = (min = 0) => v.pipe(v.number(), v.integer('expected an integer'), v.minValue(min, `expected an integer >= ${min}`));
export const positive = integer(1);
export const strings = v.array(v.string());
export const numbers = v.array(finite);
export const nullableNumber = v.nullable(v.number());
export const bilingual = v.object({ en: v.string(), zh: v.string() });
export const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
/** A JSON object whose fields are display data passed on as written (the report reads them); typed by the stage. */
export const displayObject = <T>() => v.custom<T>(isRecord, 'expected a JSON object');
