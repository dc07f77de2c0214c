/**
 * router.ts routes core messages to subscriptions with NATS semantics (wildcards, queue
 * groups, a 503 status to the reply subject when nobody listens). The memory bus and the
 * loopback hub share it, so both route exactly alike.
 */
import type { BusMessage } from './bus.js';
import { STATUS_HEADER } from './codec.js';
import { SubjectIndex } from './subjects.js';

/** RouteTarget receives the messages routed to one subscription; deliver must not throw. */
export interface RouteTarget {
  deliver(m: BusMessage): void;
}

interface Entry {
  readonly pattern: string;
  readonly group: string | undefined;
  readonly target: RouteTarget;
}

/** NO_RESPONDERS_HEADERS mark the status message a requester gets when nobody listens. */
export const NO_RESPONDERS_HEADERS: Readonly<Record<string, string>> = Object.freeze({ [STATUS_HEADER]: '503' });

/** Router holds subscriptions by subject pattern and routes published messages to them. */
export class Router {
  private readonly index = new SubjectIndex<Entry>();
  private readonly turn = new Map<string, number>();
  private readonly members = new Map<string, number>();

  /** size is the number of subscriptions. */
  get size(): number {
    return this.index.size;
  }

  /**
   * subscribe adds target under pattern (already validated); queue makes it a member of the
   * queue group named queue on that pattern. It returns the function that removes it.
   */
  subscribe(pattern: string, queue: string | undefined, target: RouteTarget): () => void {
    // A queue group is identified by pattern and name together, as in NATS.
    const entry: Entry = { pattern, group: queue === undefined ? undefined : `${pattern} ${queue}`, target };
    this.index.add(pattern, entry);
    let removed = false;
    if (entry.group !== undefined) this.members.set(entry.group, (this.members.get(entry.group) ?? 0) + 1);
    return () => {
      if (removed) return;
      removed = true;
      this.index.remove(pattern, entry);
      if (entry.group === undefined) return;
      // Forget a queue group's turn counter with its last member, so churn does not leak.
      const left = (this.members.get(entry.group) ?? 1) - 1;
      if (left > 0) this.members.set(entry.group, left);
      else {
        this.members.delete(entry.group);
        this.turn.delete(entry.group);
      }
    };
  }

  /**
   * publish routes m and returns how many subscriptions got it. When nobody got a message that
   * expects a reply, the reply subject gets a 503 status, so the requester fails fast.
   */
  publish(m: BusMessage): number {
    const matches = this.index.match(m.subject);
    let n = 0;
    let groups: Map<string, Entry[]> | undefined;
    for (const e of matches) {
      if (e.group === undefined) {
        e.target.deliver(m);
        n++;
      } else {
        groups ??= new Map();
        const members = groups.get(e.group);
        if (members) members.push(e);
        else groups.set(e.group, [e]);
      }
    }
    if (groups) {
      for (const [group, members] of groups) {
        // Round-robin rather than NATS's random pick: fair, and deterministic for the simulator.
        const t = this.turn.get(group) ?? 0;
        this.turn.set(group, t + 1);
        (members[t % members.length] as Entry).target.deliver(m);
        n++;
      }
    }
    if (n === 0 && m.reply !== undefined) {
      this.publish({ subject: m.reply, data: new Uint8Array(0), headers: NO_RESPONDERS_HEADERS });
    }
    return n;
  }
}
