/**
 * scheduler is the placement scheduler (seed 003): it maps multi-tier virtual server
 * configurations onto hardware nodes through a pipeline of filter and score plugins and
 * returns plans; the deployer carries them out and commits them. Pure: no I/O, no clock, and
 * randomness only from an Rng seeded by the decision id.
 */
export * from './model.js';
export * from './model-parse.js';
export * from './settings.js';
export * from './rng.js';
export * from './fleet.js';
export * from './reasons.js';
export * from './context.js';
export * from './filters.js';
export * from './scores.js';
export * from './pipeline.js';
export * from './plans.js';
export { placementOrder } from './place-items.js';
export * from './place.js';
export * from './repair.js';
export * from './change.js';
export * from './commit.js';
export * from './objective.js';
export * from './explain.js';
