/**
 * billing is the billing database on top of a Store (migration 005): facts derived from the
 * allocation history, usage samples and the counters they are differences of
 * (billing-facts.ts), price plans and each account's plan (billing-plans.ts), the daily
 * allotment process (billing-allotment.ts), payments and restrictions (billing-payments.ts).
 * Every function takes a Sql so callers compose them in one transaction, and every write is
 * idempotent: a manager that fails over and repeats what it was doing never bills anything
 * twice. This module is their common surface.
 */
export * from './billing-facts.js';
export * from './billing-plans.js';
export * from './billing-allotment.js';
export * from './billing-payments.js';
