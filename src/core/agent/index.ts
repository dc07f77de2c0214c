/**
 * agent is the pure core of the local decision software (the seed's Figure 15): probes' specs,
 * the aggregator (B_k), the predictor (Holt-Winters + M/M/c), the Mamdani FIS with its rule
 * language and .fis format, the request hysteresis and the decision surface. The agent service
 * and the simulator both call these same functions.
 */
export * from './probes.js';
export * from './ring-window.js';
export * from './aggregator.js';
export * from './membership.js';
export * from './defuzz.js';
export * from './fis-spec.js';
export * from './fis-engine.js';
export * from './rules.js';
export * from './fis-format.js';
export * from './default-fis.js';
export * from './decide.js';
export * from './holt-winters.js';
export * from './erlang.js';
export * from './predictor.js';
export * from './fis-inputs.js';
export * from './surface.js';
export * from './decision-step.js';
