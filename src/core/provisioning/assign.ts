/**
 * assign is 004's assignment program: each service an account wants goes to a service server
 * that offers it and has spare capacity. 004 prefers one service per server (a mail server, a
 * web server, an FTP server …), so servers dedicated to the service rank first; among equals,
 * the one with the most spare capacity, then the lowest id (deterministic, replayable).
 */
import type { ServiceKind } from './order.js';

/** ServiceServer is a server that can host accounts' services, as the assignment sees it. */
export interface ServiceServer {
  readonly id: string;
  readonly services: readonly ServiceKind[];
  /** capacity is how many account services the server may hold. */
  readonly capacity: number;
  /** used is how many it holds now. */
  readonly used: number;
}

/** ASSIGN_REASONS name why a server was not chosen (for explanations). */
export const ASSIGN_REASONS = ['does_not_offer', 'full'] as const;
/** AssignReason is one of ASSIGN_REASONS. */
export type AssignReason = (typeof ASSIGN_REASONS)[number];

/** Assignment is the outcome: a server per service, or the services no server can take and why. */
export type Assignment =
  | { readonly ok: true; readonly servers: Readonly<Partial<Record<ServiceKind, string>>> }
  | {
      readonly ok: false;
      readonly unplaced: readonly {
        readonly service: ServiceKind;
        readonly rejected: readonly { readonly server: string; readonly reason: AssignReason }[];
      }[];
    };

/** assignServices places each wanted service; a server taking one service has one unit less for the next. */
export function assignServices(wanted: readonly ServiceKind[], servers: readonly ServiceServer[]): Assignment {
  const used = new Map(servers.map((s) => [s.id, s.used]));
  const chosen: Partial<Record<ServiceKind, string>> = {};
  const unplaced: { service: ServiceKind; rejected: { server: string; reason: AssignReason }[] }[] = [];
  for (const service of wanted) {
    const rejected: { server: string; reason: AssignReason }[] = [];
    let best: ServiceServer | undefined;
    let bestKey: [number, number, string] | undefined;
    for (const s of servers) {
      if (!s.services.includes(service)) {
        rejected.push({ server: s.id, reason: 'does_not_offer' });
        continue;
      }
      const spare = s.capacity - (used.get(s.id) ?? 0);
      if (spare <= 0) {
        rejected.push({ server: s.id, reason: 'full' });
        continue;
      }
      // Smaller is better: dedicated first, then most spare, then id.
      const key: [number, number, string] = [s.services.length === 1 ? 0 : 1, -spare, s.id];
      if (
        !bestKey ||
        key[0] < bestKey[0] ||
        (key[0] === bestKey[0] && (key[1] < bestKey[1] || (key[1] === bestKey[1] && key[2] < bestKey[2])))
      ) {
        best = s;
        bestKey = key;
      }
    }
    if (!best) unplaced.push({ service, rejected });
    else {
      chosen[service] = best.id;
      used.set(best.id, (used.get(best.id) ?? 0) + 1);
    }
  }
  return unplaced.length > 0 ? { ok: false, unplaced } : { ok: true, servers: chosen };
}
