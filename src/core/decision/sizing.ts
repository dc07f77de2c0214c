/**
 * sizing turns an agent's "add a server" into how many servers the group needs now. An agent
 * asks for one server at a time and then waits out its cool-down (about the time a server needs
 * to join); under a spike of several times the group's capacity that would add one server a
 * minute. The manager knows each server's capacity from the group's runtime, and the group's
 * decider reports the arrival rate it measured, so the request is sized to carry that rate at
 * a target utilisation — the decision logic still caps it at the SLA's levels.
 */

/** SizeInput is what sizing an add request needs. */
export interface SizeInput {
  /** arrivalRps is the group's arrival rate the decider measured; null when unknown. */
  readonly arrivalRps: number | null;
  /** perServerRps is one server's capacity in requests per second. */
  readonly perServerRps: number;
  /** held is the servers the group holds now (moves to it in flight included). */
  readonly held: number;
  /** targetUtilisation is the utilisation the group should run at after the add, in (0, 1]. */
  readonly targetUtilisation: number;
}

/** TARGET_UTILISATION keeps headroom: M/M/c queueing delay grows fast past about 80 %. */
export const TARGET_UTILISATION = 0.7;

/** perServerRps is a demo runtime's capacity: concurrency workers each serving one request per serviceTimeMs. */
export function perServerRps(runtime: { readonly serviceTimeMs: number; readonly concurrency: number }): number {
  return runtime.serviceTimeMs > 0 ? (runtime.concurrency * 1000) / runtime.serviceTimeMs : Infinity;
}

/** serversFor is how many servers carry arrivalRps at the target utilisation; null when the rate or capacity is unknown. */
export function serversFor(arrivalRps: number | null, perServer: number, targetUtilisation: number): number | null {
  if (arrivalRps === null || !Number.isFinite(arrivalRps) || !(perServer > 0) || !Number.isFinite(perServer))
    return null;
  return Math.ceil(arrivalRps / (perServer * targetUtilisation) - 1e-9);
}

/** sizeAdd is how many servers to add: enough for the measured rate at the target utilisation, and at least one (the agent asked). */
export function sizeAdd(x: SizeInput): number {
  const need = serversFor(x.arrivalRps, x.perServerRps, x.targetUtilisation);
  return need === null ? 1 : Math.max(1, need - x.held);
}
