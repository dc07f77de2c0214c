/**
 * billing is the pure core of metering, rating and invoicing: the allocation history and
 * usage samples in, exact money out. The store, API and CLI (`hostfleet usage`,
 * `hostfleet invoice`) use only this surface. See docs/BILLING.md for the model and formulas.
 */
// Exact arithmetic under a namespace (its add/sub/min/max are too generic to export flat).
export * as exact from './ratio.js';
export { type Ratio, ratio, parseDecimal, toDecimal, toPlainDecimal } from './ratio.js';
export * from './money.js';
export * from './period.js';
export * from './events.js';
export * from './meter.js';
export * from './levels.js';
export * from './ram-hours.js';
export * from './metric-meter.js';
export * from './usage-report.js';
export * from './plan.js';
export * from './line.js';
export * from './offsite.js';
export * from './rate.js';
export * from './allotment-plan.js';
export * from './allotment-projection.js';
export * from './allotment.js';
export * from './recommend.js';
export * from './invoice.js';
