/**
 * context is everything the plugins need about the component being placed, computed once per
 * component so the per-node work is a few typed-array reads: its request, its behaviour
 * surplus, its mix and licence class, its risk, and which nodes already hold its tier and its
 * configuration.
 */
import type { Fleet } from './fleet.js';
import { OS_COUNT, R, osIndex } from './fleet.js';
import { RESOURCES, isRisky, type Component, type Configuration, type Tier } from './model.js';
import type { SchedulerSettings } from './settings.js';

/** BEHAVIOUR_FACTORS scale a component's request to its expected peak, per traffic level (003: heavy traffic needs more bandwidth and CPU). */
export const BEHAVIOUR_FACTORS = {
  light: { bandwidth: 1, cpu: 1 },
  normal: { bandwidth: 1.25, cpu: 1.1 },
  heavy: { bandwidth: 2, cpu: 1.5 },
} as const;

/** COMPRESSION_FACTORS scale CPU and RAM for components that (de)compress data (003: extra cycles to decompress, extra RAM to hold both copies). */
export const COMPRESSION_FACTORS = { cpu: 1.25, ram: 1.2 } as const;

/** INTENSITY_CODE encodes intensities for the hot path. */
export const INTENSITY_CODE = { network: 1, storage: 2, neutral: 0 } as const;

/** peakSurplus returns, per resource, how much a component may need above its request at its expected peak (behaviour hints). */
export function peakSurplus(c: Component): number[] {
  const b = c.behaviour;
  const f = BEHAVIOUR_FACTORS[b.traffic];
  const req = c.resources;
  const packetMbps = (b.packetRate * b.packetSize * 8) / 1e6;
  const peak = {
    ram: req.ram * (b.compression ? COMPRESSION_FACTORS.ram : 1),
    cpu: req.cpu * f.cpu * (b.compression ? COMPRESSION_FACTORS.cpu : 1),
    disk: req.disk,
    bandwidth: Math.max(req.bandwidth * f.bandwidth, packetMbps),
  };
  return RESOURCES.map((r) => Math.max(0, peak[r] - req[r]));
}

/** PlacementContext is the per-component state the filter and score plugins read. */
export interface PlacementContext {
  readonly fleet: Fleet;
  readonly configuration: string;
  readonly tier: string;
  readonly component: string;
  readonly req: Float64Array;
  readonly surplus: Float64Array;
  readonly surplusCount: number;
  readonly intensity: number;
  readonly osSlot: number;
  readonly licensed: boolean;
  readonly risky: boolean;
  readonly antiAffinity: boolean;
  /** availWeight[k] is resource k's availability weight divided by the sum of the weights. */
  readonly availWeight: Float64Array;
  /** tierNodes maps a node that holds a component of the same tier to that component. */
  readonly tierNodes: ReadonlyMap<number, string>;
  /** configNodes are the nodes that hold any component of the configuration (placed or planned). */
  readonly configNodes: ReadonlySet<number>;
  /** openedOs holds node * OS_COUNT + os for every licence this decision has already opened. */
  readonly openedOs: ReadonlySet<number>;
}

/** DecisionState is what one decision has planned so far: it feeds anti-affinity, spread and licence. */
export interface DecisionState {
  readonly tierNodes: Map<string, Map<number, string>>;
  readonly configNodes: Set<number>;
  readonly openedOs: Set<number>;
}

/** newDecisionState seeds a decision with where the configuration's already-placed components are. */
export function newDecisionState(fleet: Fleet, config: Configuration, exclude: ReadonlySet<string>): DecisionState {
  const tierNodes = new Map<string, Map<number, string>>();
  const configNodes = new Set<number>();
  const placed = fleet.placementOf(config.id);
  for (const tier of config.tiers) {
    const m = new Map<number, string>();
    for (const c of tier.components) {
      const n = placed.get(c.id);
      if (n === undefined || exclude.has(c.id)) continue;
      m.set(n, c.id);
      configNodes.add(n);
    }
    tierNodes.set(tier.name, m);
  }
  return { tierNodes, configNodes, openedOs: new Set() };
}

/** availabilityWeights normalises the settings' per-resource weights to sum to 1. */
export function availabilityWeights(settings: SchedulerSettings): Float64Array {
  const w = new Float64Array(R);
  let sum = 0;
  RESOURCES.forEach((r, k) => {
    w[k] = settings.availabilityWeights[r];
    sum += w[k]!;
  });
  for (let k = 0; k < R; k++) w[k]! /= sum;
  return w;
}

/** contextFor builds the context of one component of a configuration. */
export function contextFor(
  fleet: Fleet,
  settings: SchedulerSettings,
  availWeight: Float64Array,
  config: Configuration,
  tier: Tier,
  component: Component,
  decision: DecisionState,
): PlacementContext {
  const req = new Float64Array(R);
  RESOURCES.forEach((r, k) => (req[k] = component.resources[r]));
  const s = peakSurplus(component);
  const surplus = new Float64Array(s);
  return {
    fleet,
    configuration: config.id,
    tier: tier.name,
    component: component.id,
    req,
    surplus,
    surplusCount: s.filter((x) => x > 0).length,
    intensity: INTENSITY_CODE[component.intensity],
    osSlot: osIndex(component.os),
    licensed: settings.licensedOs.includes(component.os),
    risky: isRisky(config.risk, settings.riskThreshold),
    antiAffinity: tier.antiAffinity,
    availWeight,
    tierNodes: decision.tierNodes.get(tier.name) ?? new Map(),
    configNodes: decision.configNodes,
    openedOs: decision.openedOs,
  };
}

/** OS_STRIDE re-exports OS_COUNT for plugins that index osCount. */
export const OS_STRIDE = OS_COUNT;
