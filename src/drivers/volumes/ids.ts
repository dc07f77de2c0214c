/**
 * ids holds the grammar of the ids the volume drivers turn into paths.
 */
import { invalid } from '../../core/errors.js';

/**
 * VOLUME_ID_RE is the grammar of volume and machine ids at this boundary: slugs (SLUG_RE in
 * src/core/model/names.ts) and lower-case UUIDs both match, and no id can name a path outside
 * the driver's root.
 */
export const VOLUME_ID_RE = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** checkVolumeId throws E_VALIDATION when value is not a valid volume or machine id. */
export function checkVolumeId(field: string, value: unknown): string {
  if (typeof value !== 'string' || !VOLUME_ID_RE.test(value)) {
    throw invalid([
      {
        field,
        problem: `must be 1–63 characters of lower-case letters, digits and hyphens, starting with a letter or digit (a slug or a UUID); got ${JSON.stringify(value)}`,
      },
    ]);
  }
  return value;
}
