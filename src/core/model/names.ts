/**
 * names holds the strict grammars every identifier and domain passes before it is stored or
 * written anywhere (config files, paths, Redfish bodies). Nothing outside these grammars is
 * ever accepted, so no generated file or path can be injected into.
 */
import type { FieldProblem } from '../errors.js';

/** SLUG_RE is the grammar of names: lower-case letters, digits and inner hyphens, 1–40 long. */
export const SLUG_RE = /^[a-z](?:[a-z0-9-]{0,38}[a-z0-9])?$/;

/** DOMAIN_RE is the grammar of a DNS host name (RFC 1123 labels, at least two labels, ≤ 253). */
export const DOMAIN_RE = /^(?=.{4,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/;

/** ROLES are the roles a group's servers can play. */
export const ROLES = ['front-end', 'back-end', 'web', 'app', 'db'] as const;
/** Role is one of ROLES. */
export type Role = (typeof ROLES)[number];

/** checkSlug returns a problem for field when value is not a slug, or null. */
export function checkSlug(field: string, value: unknown): FieldProblem | null {
  if (typeof value !== 'string' || !SLUG_RE.test(value)) {
    return {
      field,
      problem:
        'must be 1–40 characters: lower-case letters, digits and hyphens, starting with a letter and not ending with a hyphen',
    };
  }
  return null;
}

/** checkDomain returns a problem for field when value is not a lower-case DNS host name, or null. */
export function checkDomain(field: string, value: unknown): FieldProblem | null {
  if (typeof value !== 'string' || !DOMAIN_RE.test(value)) {
    return {
      field,
      problem:
        'must be a lower-case DNS name such as shop.example.com (labels of letters, digits and inner hyphens, at least two labels)',
    };
  }
  return null;
}
