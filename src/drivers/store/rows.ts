/**
 * rows holds what the store modules share to read query results: the row type, the
 * conversions of timestamp and JSON columns, and the test for a unique-key conflict.
 */

/** Row is one result row as the driver returns it. */
export type Row = Record<string, unknown>;

/** iso reads a timestamp column as ISO text (PostgreSQL and PGlite return Dates; text passes through). */
export const iso = (v: unknown): string => (v instanceof Date ? v.toISOString() : String(v));

/** isoOrNull is iso for a nullable column. */
export const isoOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : iso(v));

/** msOf reads a timestamp column as milliseconds since the epoch (text is parsed). */
export const msOf = (v: unknown): number => (v instanceof Date ? v.getTime() : Date.parse(String(v)));

/** isoOfMs reads a timestamp column as ISO text, normalising text to the same form as a Date would give. */
export const isoOfMs = (v: unknown): string => new Date(msOf(v)).toISOString();

/** json reads a JSON column, which a driver may hand over as text or already parsed. */
export const json = <T>(v: unknown): T => (typeof v === 'string' ? (JSON.parse(v) as T) : (v as T));

/** isUniqueViolation tells whether a database error is a unique-key conflict (SQLSTATE 23505). */
export function isUniqueViolation(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { code?: unknown }).code === '23505';
}
