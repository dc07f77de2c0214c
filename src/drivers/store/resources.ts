/**
 * resources is the resource database of a site on top of a Store: sites, accounts and API
 * tokens (accounts.ts), groups and their SLAs (groups.ts), servers, boot pointers and
 * allocations (servers.ts), moves and their events (moves.ts). Every function takes a Sql, so
 * callers compose them inside one transaction; this module is their common surface.
 */
export { isUniqueViolation } from './rows.js';
export * from './accounts.js';
export * from './groups.js';
export * from './servers.js';
export * from './moves.js';
