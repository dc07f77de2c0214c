/**
 * decision is the master decision logic (the seed's master decision program): each tick it
 * balances add and release requests against the resource and SLA snapshots (plan), judges
 * failures (failures), keeps the pool's warm mix (pool), and checks its own promises
 * (invariants). docs/DECISION.md explains the rules.
 */
export * from './input.js';
export * from './reasons.js';
export * from './demand.js';
export { donorEligible, floorOf, tierOf } from './tiers.js';
export * from './plan.js';
export * from './invariants.js';
export * from './failures.js';
export * from './pool.js';
export * from './capacity.js';
export * from './cost.js';
export * from './outlook.js';
export * from './tick.js';
