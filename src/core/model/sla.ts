/**
 * sla is a group's service level agreement (the seed's SLA database, Figure 12): three levels —
 * committed, guaranteed burst, extended (served with servers from other sites) — written in a
 * metric such as simultaneous connections, converted into servers; a priority; and the
 * response-time target the agents steer by.
 */

/** SLA_METRICS are the measures an SLA can be written in. */
export const SLA_METRICS = ['servers', 'connections', 'hits', 'bytes', 'transactions'] as const;
/** SlaMetric is one of SLA_METRICS. */
export type SlaMetric = (typeof SLA_METRICS)[number];

/** Sla is one group's agreement. Levels are in the metric's units. */
export interface Sla {
  readonly groupId: string;
  readonly metric: SlaMetric;
  /** unitsPerServer is how many metric units one server delivers (1 for 'servers'). */
  readonly unitsPerServer: number;
  readonly committed: number;
  readonly burst: number;
  readonly extended: number;
  /** priority in [0, 1]: the FIS's priority input and the tie-break when supply is short. */
  readonly priority: number;
  readonly responseTargetMs: number;
}

/** SlaLevels are an SLA's levels in servers. */
export interface SlaLevels {
  readonly committed: number;
  readonly burst: number;
  readonly extended: number;
}

/** serverLevels converts an SLA's levels into whole servers (rounding up: a level is a promise). */
export function serverLevels(s: Pick<Sla, 'unitsPerServer' | 'committed' | 'burst' | 'extended'>): SlaLevels {
  const n = (u: number) => Math.ceil(u / s.unitsPerServer - 1e-9);
  return { committed: n(s.committed), burst: n(s.burst), extended: n(s.extended) };
}

/** DEFAULT_SLA is the agreement of a group that has none recorded. */
export function defaultSla(groupId: string): Sla {
  return {
    groupId,
    metric: 'servers',
    unitsPerServer: 1,
    committed: 1,
    burst: 2,
    extended: 4,
    priority: 0.5,
    responseTargetMs: 200,
  };
}
