/**
 * watch keeps the two outside views the failure judgement needs beside the agents' heartbeats:
 * since when each server has been down at the edge, and what each serving server's BMC says of
 * its power and health (polled at most every decision.powerPollMs per server).
 */
import type { StoredServer } from '../../../../core/model/server.js';
import type { DecisionDeps } from './loop.js';

/** EdgeWatch remembers since when each server has been down at the edge. */
export class EdgeWatch {
  private readonly down = new Map<string, number>();

  constructor(private readonly ctx: Pick<DecisionDeps, 'edge'>) {}

  /** observe reads the edge once; an unreachable edge says nothing about the servers behind it. */
  async observe(now: number): Promise<void> {
    let pools;
    try {
      pools = await this.ctx.edge.status();
    } catch {
      this.down.clear();
      return;
    }
    const seen = new Set<string>();
    for (const p of pools) {
      for (const s of p.servers) {
        seen.add(s.id);
        if (s.state !== 'down') this.down.delete(s.id);
        else if (!this.down.has(s.id)) this.down.set(s.id, now);
      }
    }
    for (const id of [...this.down.keys()]) if (!seen.has(id)) this.down.delete(id);
  }

  /** downSince is when the server went down at the edge, or null. */
  downSince(serverId: string): number | null {
    return this.down.get(serverId) ?? null;
  }

  /** forget drops a server (it left its group). */
  forget(serverId: string): void {
    this.down.delete(serverId);
  }
}

/** PowerReading is what a BMC last said of a machine; state is null when it did not answer. */
export interface PowerReading {
  readonly at: number;
  readonly state: 'On' | 'Off' | null;
  readonly critical: boolean;
}

/** PowerWatch asks the BMCs for the power state and health of serving servers. */
export class PowerWatch {
  private readonly readings = new Map<string, PowerReading>();

  constructor(private readonly ctx: Pick<DecisionDeps, 'bmcFor' | 'cfg'>) {}

  /** observe asks the BMC of every serving server not asked within powerPollMs, in parallel. */
  async observe(serving: readonly StoredServer[], now: number): Promise<void> {
    const due = serving.filter((s) => now - (this.readings.get(s.id)?.at ?? 0) >= this.ctx.cfg.decision.powerPollMs);
    const ids = new Set(serving.map((s) => s.id));
    for (const id of [...this.readings.keys()]) if (!ids.has(id)) this.readings.delete(id);
    await Promise.all(
      due.map(async (s) => {
        let state: 'On' | 'Off' | null;
        let critical = false;
        try {
          const sys = await this.ctx.bmcFor(s.bmcUrl).getSystem(s.systemId);
          state = sys.powerState === 'Off' ? 'Off' : sys.powerState === 'On' ? 'On' : null;
          critical = sys.health === 'Critical';
        } catch {
          state = null;
        }
        this.readings.set(s.id, { at: now, state, critical });
      }),
    );
  }

  /** of is the latest reading of a server, or undefined. */
  of(serverId: string): PowerReading | undefined {
    return this.readings.get(serverId);
  }

  /** forget drops a server (it left its group). */
  forget(serverId: string): void {
    this.readings.delete(serverId);
  }
}
