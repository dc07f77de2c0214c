/**
 * sweep runs each policy across its dial — HPA's target utilisation, hostfleet's price of a
 * violating minute — so the report can draw what each trades: server-hours against
 * SLA-violating minutes. A single setting is one point; comparing two policies at their
 * defaults says little when one could buy fewer violations with more servers. Points run one
 * after another in this process (a run already uses the machine), each with the same seed, so
 * they differ only by the dial. Policies without a dial (static) and the bounds are one point.
 */
import { isBound } from './optimum.js';
import type { PolicyResult, SimResult } from './run.js';
import { runScenario } from './run.js';
import { ticksOf } from './scenario.js';
import type { PolicyName, Scenario } from './scenario.js';

/** DialName names a setting a sweep varies. */
export type DialName = 'hpa.targetUtilisation' | 'hostfleet.violationCost';

/** DIALS are the swept policies' dials and their default ranges. */
export const DIALS: Readonly<
  Partial<Record<PolicyName, { readonly dial: DialName; readonly values: readonly number[] }>>
> = {
  hpa: { dial: 'hpa.targetUtilisation', values: [0.4, 0.5, 0.6, 0.7, 0.8, 0.9] },
  // about geometric (×2, ×2.5) around the default of 1: from violations nearly free to twenty server-hours a minute
  hostfleet: { dial: 'hostfleet.violationCost', values: [0.25, 0.5, 1, 2, 4, 8, 16, 32] },
};

/** SweepPoint is one run of one policy at one dial value (dial and value null: a policy without a dial, or a bound). */
export interface SweepPoint {
  readonly policy: PolicyName;
  readonly dial: DialName | null;
  readonly value: number | null;
  /** isDefault: the scenario's own setting (the point `hostfleet sim` reports without --sweep). */
  readonly isDefault: boolean;
  readonly serverHours: number;
  readonly violationMinutes: number;
}

/** SweepJob is one call of runScenario a sweep makes: a dial's value for one policy, or the policies without a dial. */
export interface SweepJob {
  readonly policies: readonly PolicyName[];
  readonly dial: DialName | null;
  readonly value: number | null;
  readonly isDefault: boolean;
}

/** SweepOptions tune a sweep. */
export interface SweepOptions {
  /** values overrides a policy's dial values; the scenario's own value is always added. */
  readonly values?: Partial<Record<PolicyName, readonly number[]>>;
  readonly seed?: number;
  /** base is a run of the scenario as it is: its policies give the default and dial-less points, which are not run again. */
  readonly base?: SimResult;
  /** onProgress is called with (done, total) ticks summed over the sweep's runs. */
  readonly onProgress?: (done: number, total: number) => void;
}

/** SweepResult is every point, in policy order then dial order. */
export interface SweepResult {
  readonly points: readonly SweepPoint[];
  /** runs is how many simulations the sweep did (the base's are not counted). */
  readonly runs: number;
}

/** dialValue reads a dial's value in a scenario. */
export function dialValue(s: Scenario, dial: DialName): number {
  return dial === 'hpa.targetUtilisation' ? s.hpa.targetUtilisation : s.hostfleet.violationCost;
}

/** withDial is the scenario with one dial set. */
export function withDial(s: Scenario, dial: DialName, value: number): Scenario {
  return dial === 'hpa.targetUtilisation'
    ? { ...s, hpa: { ...s.hpa, targetUtilisation: value } }
    : { ...s, hostfleet: { ...s.hostfleet, violationCost: value } };
}

/** sweepJobs lists what a sweep of the scenario's policies will run (nothing the base already has). */
export function sweepJobs(s: Scenario, opts: Pick<SweepOptions, 'values' | 'base'> = {}): SweepJob[] {
  const has = (p: PolicyName) => opts.base?.policies.some((r) => r.policy === p) ?? false;
  const fixed = s.policies.filter((p) => DIALS[p] === undefined && !has(p));
  const jobs: SweepJob[] = fixed.length > 0 ? [{ policies: fixed, dial: null, value: null, isDefault: true }] : [];
  for (const policy of s.policies) {
    const d = DIALS[policy];
    if (d === undefined) continue;
    const own = dialValue(s, d.dial);
    for (const value of dialValues(s, policy, opts.values?.[policy]))
      if (value !== own || !has(policy))
        jobs.push({ policies: [policy], dial: d.dial, value, isDefault: value === own });
  }
  return jobs;
}

/** dialValues are the values a policy's dial is swept over: the given ones or the default range, with the scenario's own. */
function dialValues(s: Scenario, policy: PolicyName, given?: readonly number[]): number[] {
  const d = DIALS[policy];
  if (d === undefined) return [];
  return [...new Set([...(given ?? d.values), dialValue(s, d.dial)])].sort((a, b) => a - b);
}

/** simulations counts the policy runs of a sweep's jobs (bounds are computed, not simulated). */
export function simulations(jobs: readonly SweepJob[]): number {
  return jobs.reduce((n, j) => n + j.policies.filter((p) => !isBound(p)).length, 0);
}

const point = (p: PolicyResult, dial: DialName | null, value: number | null, isDefault: boolean): SweepPoint => ({
  policy: p.policy,
  dial,
  value,
  isDefault,
  serverHours: Math.round(p.serverHours * 10) / 10,
  violationMinutes: Math.round(p.violationMinutes * 10) / 10,
});

/** runSweep runs the scenario's policies across their dials and returns every point. */
export async function runSweep(s: Scenario, opts: SweepOptions = {}): Promise<SweepResult> {
  const jobs = sweepJobs(s, opts);
  const ticks = ticksOf(s);
  const total = simulations(jobs) * ticks;
  let offset = 0;
  const points: SweepPoint[] = [];
  for (const p of opts.base?.policies ?? []) {
    const d = DIALS[p.policy];
    if (s.policies.includes(p.policy)) points.push(point(p, d?.dial ?? null, d ? dialValue(s, d.dial) : null, true));
  }
  for (const job of jobs) {
    const scenario = job.dial === null || job.value === null ? s : withDial(s, job.dial, job.value);
    const res = await runScenario(scenario, {
      billing: false,
      policies: job.policies,
      ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
      onProgress: (done) => opts.onProgress?.(offset + done, total),
    });
    offset += simulations([job]) * ticks;
    for (const p of res.policies) points.push(point(p, job.dial, job.value, job.isDefault));
  }
  const order = (p: SweepPoint) => s.policies.indexOf(p.policy);
  points.sort((a, b) => order(a) - order(b) || (a.value ?? 0) - (b.value ?? 0));
  return { points, runs: simulations(jobs) };
}
