/**
 * server holds the server lifecycle: the states a server can be in, the legal transitions
 * between them, and the one place (group, pool, moving, failed) every server is in.
 */
import { HostfleetError } from '../errors.js';

/** SERVER_STATES are the lifecycle states of a server. */
export const SERVER_STATES = [
  'off',
  'pool-cold',
  'pool-warm',
  'booting',
  'active',
  'draining',
  'moving',
  'failed',
] as const;
/** ServerState is one lifecycle state. */
export type ServerState = (typeof SERVER_STATES)[number];

/**
 * TRANSITIONS lists, for every state, the states it may go to. A move goes
 * active → draining → moving → booting → active; from the pool it starts at moving.
 * Any state may fail; a failed server is power-cycled back to the pool or quarantined (off).
 * A boot that failed goes back to moving, to be booted again from a fresh pointer.
 */
export const TRANSITIONS: Readonly<Record<ServerState, readonly ServerState[]>> = {
  off: ['pool-cold', 'failed'],
  'pool-cold': ['moving', 'booting', 'off', 'failed'],
  'pool-warm': ['moving', 'pool-cold', 'failed'],
  booting: ['active', 'pool-warm', 'moving', 'failed'],
  active: ['draining', 'failed'],
  draining: ['active', 'moving', 'failed'],
  moving: ['booting', 'active', 'pool-cold', 'failed'],
  failed: ['off', 'pool-cold', 'moving'],
};

/** canTransition tells whether a server may go from one state to another. */
export function canTransition(from: ServerState, to: ServerState): boolean {
  return from === to || TRANSITIONS[from].includes(to);
}

/** assertTransition throws E_ILLEGAL_TRANSITION unless the transition is legal. */
export function assertTransition(serverId: string, from: ServerState, to: ServerState): void {
  if (!canTransition(from, to)) {
    throw new HostfleetError(
      'E_ILLEGAL_TRANSITION',
      `server ${serverId} cannot go from ${from} to ${to}; allowed from ${from}: ${TRANSITIONS[from].join(', ') || 'none'}`,
      {
        details: { server: serverId, from, to, allowed: TRANSITIONS[from] },
      },
    );
  }
}

/** PLACES are where a server can be: in exactly one of these at any time. */
export const PLACES = ['group', 'pool', 'moving', 'failed'] as const;
/** Place is one of PLACES. */
export type Place = (typeof PLACES)[number];

/** ServerRecord is a server as the resource database holds it. */
export interface ServerRecord {
  readonly id: string;
  readonly siteId: string;
  readonly state: ServerState;
  /** groupId is the group the server serves (or boots for); null in the pool. */
  readonly groupId: string | null;
  /** moveId is the move in flight for this server, if any. */
  readonly moveId: string | null;
  /** bmcUrl is the Redfish service root of the server's BMC; systemId its ComputerSystem. */
  readonly bmcUrl: string;
  readonly systemId: string;
  /** address is host:port of the server on the data plane (where the edge sends traffic). */
  readonly address: string;
  readonly capacity: number;
}

/** StoredServer is a server record with its optimistic-concurrency version and machine UUID. */
export interface StoredServer extends ServerRecord {
  readonly uuid: string;
  readonly version: number;
  readonly updatedAt: string;
  /**
   * warmFor is the group whose personality a warm pool server holds (or is being warmed with);
   * null otherwise (optional so records built by hand before the warm pool still type-check).
   */
  readonly warmFor?: string | null;
}

/** placeOf derives the one place of a server from its record. */
export function placeOf(s: Pick<ServerRecord, 'state' | 'groupId' | 'moveId'>): Place {
  if (s.moveId !== null || s.state === 'moving') return 'moving';
  if (s.state === 'failed') return 'failed';
  if (s.groupId !== null && (s.state === 'active' || s.state === 'draining' || s.state === 'booting')) return 'group';
  return 'pool';
}

/** ServerInvariantViolation names a server whose fields contradict each other. */
export interface ServerInvariantViolation {
  readonly server: string;
  readonly reason: 'group-state-without-group' | 'pool-state-with-group' | 'moving-without-move';
}

/** checkServerInvariants returns every server whose state and group disagree. */
export function checkServerInvariants(
  servers: readonly Pick<ServerRecord, 'id' | 'state' | 'groupId' | 'moveId'>[],
): ServerInvariantViolation[] {
  const out: ServerInvariantViolation[] = [];
  for (const s of servers) {
    if ((s.state === 'active' || s.state === 'draining') && s.groupId === null)
      out.push({ server: s.id, reason: 'group-state-without-group' });
    if ((s.state === 'pool-cold' || s.state === 'off') && s.groupId !== null && s.moveId === null)
      out.push({ server: s.id, reason: 'pool-state-with-group' });
    if (s.state === 'moving' && s.moveId === null) out.push({ server: s.id, reason: 'moving-without-move' });
  }
  return out;
}
