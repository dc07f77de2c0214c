/**
 * settings holds the scheduler's tunables: the weight of every score plugin, the per-resource
 * weights of the availability vector, which operating systems cost a licence per node, the
 * risk threshold for isolated nodes, and the limit on how many feasible nodes are scored.
 * parseSettings runs at start-up so bad configuration fails there (E_CONFIG), never mid-decision.
 */
import { HostfleetError, type FieldProblem } from '../errors.js';
import { settleProblems, unknownKeys } from '../keys.js';
import {
  OPERATING_SYSTEMS,
  RESOURCES,
  RISK_LEVELS,
  type OperatingSystem,
  type Resource,
  type RiskLevel,
} from './model.js';

/** SCORE_PLUGINS are the score plugins, in the order the pipeline runs them. */
export const SCORE_PLUGINS = ['availability', 'balance', 'behaviour', 'licence', 'spread'] as const;
/** ScorePluginName is one of SCORE_PLUGINS. */
export type ScorePluginName = (typeof SCORE_PLUGINS)[number];

/** FILTER_PLUGINS are the filter plugins, in the order the pipeline runs them (cheapest, most selective first). */
export const FILTER_PLUGINS = ['node-state', 'isolation', 'fits', 'anti-affinity'] as const;
/** FilterPluginName is one of FILTER_PLUGINS. */
export type FilterPluginName = (typeof FILTER_PLUGINS)[number];

/**
 * Limit bounds the nodes scored per component, as Nomad's limit iterator and kube-scheduler's
 * percentageOfNodesToScore do: the feasibility scan stops once max(minNodes, percentage% of the
 * fleet) feasible nodes are found. percentage 'adaptive' is kube-scheduler's rule,
 * max(5, 50 − nodes/125) per cent. percentage 100 scores every feasible node (exact greedy).
 */
export interface Limit {
  readonly minNodes: number;
  readonly percentage: number | 'adaptive';
}

/** SchedulerSettings are the scheduler's tunables. */
export interface SchedulerSettings {
  readonly weights: Readonly<Record<ScorePluginName, number>>;
  readonly availabilityWeights: Readonly<Record<Resource, number>>;
  readonly licensedOs: readonly OperatingSystem[];
  readonly riskThreshold: RiskLevel;
  readonly limit: Limit;
}

/**
 * DEFAULT_SETTINGS: spread weighs most because losing one node should take down as little of
 * one configuration as possible (003's fault tolerance); availability next (003's first score);
 * the mix, behaviour and licence terms steer among nodes that are otherwise alike.
 */
export const DEFAULT_SETTINGS: SchedulerSettings = {
  weights: { availability: 1, balance: 0.3, behaviour: 0.5, licence: 0.4, spread: 1 },
  availabilityWeights: { ram: 1, cpu: 1, disk: 1, bandwidth: 1 },
  licensedOs: ['rhel', 'windows-server'],
  riskThreshold: 'high',
  limit: { minNodes: 100, percentage: 'adaptive' },
};

/** limitFor returns how many feasible nodes to score in a fleet of `nodes` nodes. */
export function limitFor(limit: Limit, nodes: number): number {
  const pct = limit.percentage === 'adaptive' ? Math.max(5, 50 - nodes / 125) : limit.percentage;
  return Math.min(nodes, Math.max(limit.minNodes, Math.ceil((nodes * pct) / 100)));
}

// The keys the settings and their limit may hold: those of the defaults, so they cannot drift.
const SETTINGS_KEYS = Object.keys(DEFAULT_SETTINGS);
const LIMIT_KEYS = Object.keys(DEFAULT_SETTINGS.limit);

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * parseSettings merges user settings over DEFAULT_SETTINGS and validates them; it throws
 * E_CONFIG naming every bad field and unknown key. Weights are non-negative and at least one
 * is positive.
 */
export function parseSettings(input: unknown = {}): SchedulerSettings {
  const problems: FieldProblem[] = [];
  const inObj = isObj(input) ? input : (problems.push({ field: 'scheduler', problem: 'must be an object' }), {});
  problems.push(...unknownKeys(inObj, SETTINGS_KEYS, ''));
  const num = (field: string, v: unknown, dflt: number, max: number): number => {
    if (v === undefined) return dflt;
    if (typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= max) return v;
    problems.push({ field, problem: `must be a number from 0 to ${max}` });
    return dflt;
  };
  const wIn = isObj(inObj.weights) ? inObj.weights : {};
  if (inObj.weights !== undefined && !isObj(inObj.weights))
    problems.push({ field: 'weights', problem: `must be an object with ${SCORE_PLUGINS.join(', ')}` });
  problems.push(...unknownKeys(wIn, SCORE_PLUGINS, 'weights'));
  const weights = Object.fromEntries(
    SCORE_PLUGINS.map((p) => [p, num(`weights.${p}`, wIn[p], DEFAULT_SETTINGS.weights[p], 1000)]),
  ) as Record<ScorePluginName, number>;
  if (SCORE_PLUGINS.every((p) => weights[p] === 0))
    problems.push({ field: 'weights', problem: 'at least one weight must be positive' });
  const aIn = isObj(inObj.availabilityWeights) ? inObj.availabilityWeights : {};
  problems.push(...unknownKeys(aIn, RESOURCES, 'availabilityWeights'));
  const availabilityWeights = Object.fromEntries(
    RESOURCES.map((r) => [r, num(`availabilityWeights.${r}`, aIn[r], DEFAULT_SETTINGS.availabilityWeights[r], 1000)]),
  ) as Record<Resource, number>;
  if (RESOURCES.every((r) => availabilityWeights[r] === 0))
    problems.push({ field: 'availabilityWeights', problem: 'at least one resource weight must be positive' });
  let licensedOs = DEFAULT_SETTINGS.licensedOs;
  if (inObj.licensedOs !== undefined) {
    if (
      Array.isArray(inObj.licensedOs) &&
      inObj.licensedOs.every((o) => (OPERATING_SYSTEMS as readonly unknown[]).includes(o))
    )
      licensedOs = inObj.licensedOs as OperatingSystem[];
    else problems.push({ field: 'licensedOs', problem: `must be a list of ${OPERATING_SYSTEMS.join(', ')}` });
  }
  let riskThreshold = DEFAULT_SETTINGS.riskThreshold;
  if (inObj.riskThreshold !== undefined) {
    if ((RISK_LEVELS as readonly unknown[]).includes(inObj.riskThreshold) && inObj.riskThreshold !== 'none')
      riskThreshold = inObj.riskThreshold as RiskLevel;
    else problems.push({ field: 'riskThreshold', problem: 'must be low, medium or high' });
  }
  const lIn = isObj(inObj.limit) ? inObj.limit : {};
  problems.push(...unknownKeys(lIn, LIMIT_KEYS, 'limit'));
  const minNodes = Math.floor(num('limit.minNodes', lIn.minNodes, DEFAULT_SETTINGS.limit.minNodes, 1e7));
  let percentage: number | 'adaptive' = DEFAULT_SETTINGS.limit.percentage;
  if (lIn.percentage !== undefined) {
    if (lIn.percentage === 'adaptive') percentage = 'adaptive';
    else if (typeof lIn.percentage === 'number' && lIn.percentage > 0 && lIn.percentage <= 100)
      percentage = lIn.percentage;
    else
      problems.push({ field: 'limit.percentage', problem: "must be 'adaptive' or a number above 0 and at most 100" });
  }
  if (minNodes < 1) problems.push({ field: 'limit.minNodes', problem: 'must be at least 1' });
  if (problems.length > 0) {
    const fields = settleProblems(problems);
    throw new HostfleetError(
      'E_CONFIG',
      `invalid scheduler settings: ${fields.map((p) => `${p.field}: ${p.problem}`).join('; ')}`,
      { fields },
    );
  }
  return { weights, availabilityWeights, licensedOs, riskThreshold, limit: { minNodes, percentage } };
}
