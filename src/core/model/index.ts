/**
 * model is the vocabulary of the resource and SLA databases: sites, accounts, groups,
 * servers and their lifecycle, moves, personalities. Pure types and rules only.
 */
export * from './server.js';
export * from './names.js';
export * from './personality.js';
export * from './check-personality.js';
export * from './records.js';
export * from './sla.js';
