/** token checks the global view's bearer token in constant time. */
import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** tokenMatches compares digests, so the comparison takes the same time whatever the guess's length. */
export function tokenMatches(got: string, want: string): boolean {
  return timingSafeEqual(digest(got), digest(want));
}
