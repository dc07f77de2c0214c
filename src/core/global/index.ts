/**
 * global is the seed's global decision routine: it coordinates the managers of several sites,
 * lending idle servers of one site to customers of another (borrowing first from the site at a
 * later time zone), only where a current replica of the customer's data lives, and serving a
 * lost site's customers from their replica sites. docs/MULTISITE.md explains the rules.
 */
export * from './types.js';
export * from './plan.js';
