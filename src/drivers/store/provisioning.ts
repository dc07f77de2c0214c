/**
 * provisioning is the store of 004's database server: orders (provisioning-orders.ts), hosting
 * accounts (provisioning-accounts.ts), service servers with the desired and held spec of every
 * account service (provisioning-services.ts), and the task log with the nudge signing key
 * (provisioning-tasks.ts). Every function takes a Sql, so the manager composes them in one
 * transaction (an account is created with all its services, or not at all); this module is
 * their common surface.
 */
export * from './provisioning-orders.js';
export * from './provisioning-accounts.js';
export * from './provisioning-services.js';
export * from './provisioning-tasks.js';
