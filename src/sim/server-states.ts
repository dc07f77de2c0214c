/**
 * server-states are the simulated server states: the lifecycle of src/core/model/server.ts
 * folded to what changes a count, numbered for the fleet's typed arrays.
 */

/** SIM_STATES are the simulated server states. */
export const SIM_STATES = ['pool-cold', 'pool-warm', 'joining', 'active', 'leaving', 'failed'] as const;
/** SimState is one of SIM_STATES. */
export type SimState = (typeof SIM_STATES)[number];

// The states' numbers are their indexes in SIM_STATES, as stored in Fleet.state.
/** COLD is pool-cold's number. */
export const COLD = 0;
/** WARM is pool-warm's number. */
export const WARM = 1;
/** JOINING is joining's number. */
export const JOINING = 2;
/** ACTIVE is active's number. */
export const ACTIVE = 3;
/** LEAVING is leaving's number. */
export const LEAVING = 4;
/** FAILED is failed's number. */
export const FAILED = 5;

/** FleetCounts is a conservation snapshot: servers per state (sums to the fleet size). */
export type FleetCounts = Readonly<Record<SimState, number>>;
