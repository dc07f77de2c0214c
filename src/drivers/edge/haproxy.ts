/**
 * haproxy is the EdgeDriver for production fleets: it programs a running HAProxy through its
 * Runtime API, with the configuration from haproxy-config.ts. HAProxy cannot create backends
 * at run time, so each pool is given one of the pre-declared backend slots; the pools map
 * (pool id → slot) records which, and the hosts map (domain → slot) routes. Servers are HAProxy
 * dynamic servers (`add server`), health-checked by HAProxy itself (2 failures down, 1 success
 * up, like the built-in edge), drained with `set server … state drain`, removed with
 * `del server` once their connections are gone.
 *
 * Changes are serialised inside one driver; run one driver per HAProxy (the active manager's).
 * HAProxy forgets runtime changes when it reloads: with `persistMaps` the driver rewrites the
 * two map files after each change (it must share HAProxy's file system), so domains and slots
 * survive; dynamic servers never do, and the manager re-attaches them (attach is idempotent).
 * The slots and the Runtime API commands on them are haproxy-backends.ts.
 */
import { HostfleetError, invalid } from '../../core/errors.js';
import { systemClock, type Clock } from '../clock/index.js';
import { HaproxyBackends } from './haproxy-backends.js';
import { parseCsvStat } from './haproxy-runtime.js';
import type { RuntimeTarget } from './haproxy-runtime.js';
import { ADMIN_DRAIN, OP_STOPPED, serverStatus } from './haproxy-status.js';
import { assertPool, assertPoolId, assertServer, assertServerId, assertTimeoutMs, parseAddress } from './validate.js';
import type { DrainResult, EdgeDriver, EdgePoolStatus } from './types.js';

/** HaproxyEdgeOptions locate HAProxy's Runtime API and name what haproxyConfig generated. */
export interface HaproxyEdgeOptions {
  /** socket is the Runtime API: a Unix socket path, or { host, port } of a TCP `stats socket`. */
  readonly socket: RuntimeTarget;
  /** hostsMap and poolsMap are the map files' paths exactly as the configuration names them. */
  readonly hostsMap: string;
  readonly poolsMap: string;
  /** ratesMap is the slot → requests-per-second map of rate-limited pools (haproxyConfig's rates.map); without it pools cannot be rate-limited. */
  readonly ratesMap?: string;
  /** backendPrefix and slots name the pre-declared backends (defaults as haproxyConfig: hf_pool_, 64). */
  readonly backendPrefix?: string;
  readonly slots?: number;
  /** roundRobinSlots is the number of round-robin slots (`${backendPrefix}rrN`; default as haproxyConfig: 16). */
  readonly roundRobinSlots?: number;
  /** healthIntervalMs is the health-check interval of attached servers (default 1000). */
  readonly healthIntervalMs?: number;
  /** commandTimeoutMs bounds one Runtime API command (default 5000). */
  readonly commandTimeoutMs?: number;
  /** detachTimeoutMs bounds how long detach waits for a server's connections to end before cutting them (default 10000). */
  readonly detachTimeoutMs?: number;
  /** persistMaps rewrites the map files after each change so a reload keeps pools and domains. */
  readonly persistMaps?: boolean;
  /** clock bounds the waits for a server's connections to end; default the system clock. */
  readonly clock?: Clock;
}

/** haproxyEdge returns a driver for the HAProxy whose Runtime API is at opts.socket. */
export function haproxyEdge(opts: HaproxyEdgeOptions): EdgeDriver {
  const b = new HaproxyBackends(opts, opts.clock ?? systemClock);

  // One change at a time: a slot is chosen by reading the maps, so two upserts must not interleave.
  let chain: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = chain.then(fn, fn);
    chain = run.catch(() => {});
    return run;
  };

  const checkIpv4 = (address: string): { host: string; port: number } => {
    const a = parseAddress(address)!;
    if (!/^\d+\.\d+\.\d+\.\d+$/.test(a.host))
      throw invalid([
        { field: 'address', problem: 'the HAProxy edge needs an IPv4 address and port, such as 10.0.0.7:8080' },
      ]);
    return a;
  };

  /** setState pauses (drain) or plays (ready) an attached server; absent is E_NOT_FOUND. */
  const setState = async (poolId: string, serverId: string, state: 'drain' | 'ready'): Promise<void> => {
    const id = assertPoolId(poolId);
    const sid = assertServerId(serverId);
    return serial(async () => {
      const slot = (await b.poolSlots()).get(id);
      const answer = slot ? (await b.cmd(`set server ${slot}/${sid} state ${state}`)).trim() : 'No such server.';
      if (/no such server/i.test(answer))
        throw new HostfleetError('E_NOT_FOUND', `server ${sid} is not attached to pool ${id}; attach it first`, {
          details: { pool: id, server: sid },
        });
      if (answer !== '')
        throw new HostfleetError('E_EDGE', `HAProxy refused to set ${slot}/${sid} to ${state}: ${answer}`);
    });
  };

  return {
    async upsertPool(pool) {
      const p = assertPool(pool);
      return serial(async () => {
        const pools = await b.poolSlots();
        const hosts = await b.readMap(opts.hostsMap);
        let slot = pools.get(p.id);
        const poolOfSlot = new Map([...pools].map(([id, s]) => [s, id]));
        for (const d of p.domains) {
          const owner = hosts.find((h) => h.key === d);
          if (owner && owner.value !== slot) {
            const other = poolOfSlot.get(owner.value) ?? owner.value;
            throw new HostfleetError(
              'E_CONFLICT',
              `domain ${d} already routes to pool ${other}; remove it there first`,
              { details: { domain: d, pool: other } },
            );
          }
        }
        const balance = p.balance ?? (slot ? b.balanceOf(slot) : 'least-connections');
        if (!slot || b.balanceOf(slot) !== balance) {
          const fresh = b.freeSlot(pools, balance);
          // Clean what a crash may have left in the slot before the pool owns it.
          for (const h of hosts.filter((e) => e.value === fresh)) await b.cmd(`del map ${opts.hostsMap} ${h.key}`);
          for (const s of await b.serversOf(fresh)) if (s.srv_name) await b.removeServer(fresh, s.srv_name);
          await b.cmd(`del map ${opts.poolsMap} ${fresh}`);
          await b.setRateLimit(fresh, null);
          if (slot) {
            // A policy change: the servers move to a slot of the other kind, in the same state,
            // then the domains follow, then the old slot is emptied.
            for (const r of await b.serversOf(slot)) {
              if (!r.srv_name) continue;
              await b.addServer(fresh, r.srv_name, r.srv_addr ?? '', Number(r.srv_port));
              const draining = (Number(r.srv_admin_state) & ADMIN_DRAIN) !== 0;
              await b.expectQuiet(`set server ${fresh}/${r.srv_name} state ${draining ? 'drain' : 'ready'}`);
              if (Number(r.srv_op_state) !== OP_STOPPED)
                await b.expectQuiet(`set server ${fresh}/${r.srv_name} health up`);
            }
          }
          await b.setMapEntry(opts.poolsMap, p.id, fresh, slot !== undefined);
          for (const h of hosts)
            if (slot && h.value === slot && p.domains.includes(h.key))
              await b.expectQuiet(`set map ${opts.hostsMap} ${h.key} ${fresh}`);
          if (slot) {
            for (const h of hosts)
              if (h.value === slot && !p.domains.includes(h.key)) await b.cmd(`del map ${opts.hostsMap} ${h.key}`);
            for (const r of await b.serversOf(slot)) if (r.srv_name) await b.removeServer(slot, r.srv_name);
            if ((await b.stickySlots()).has(slot)) {
              await b.cmd(`del map ${opts.poolsMap} ${slot}`);
              await b.expectQuiet(`add map ${opts.poolsMap} ${fresh} on`);
            }
            const limit = (await b.rateLimits()).get(slot);
            if (limit !== undefined) {
              await b.setRateLimit(fresh, limit);
              await b.setRateLimit(slot, null);
            }
          }
          slot = fresh;
        }
        const current = await b.readMap(opts.hostsMap);
        for (const h of current)
          if (h.value === slot && !p.domains.includes(h.key)) await b.cmd(`del map ${opts.hostsMap} ${h.key}`);
        for (const d of p.domains)
          if (!current.some((h) => h.key === d && h.value === slot))
            await b.expectQuiet(`add map ${opts.hostsMap} ${d} ${slot}`);
        const wasSticky = (await b.stickySlots()).has(slot);
        const sticky = p.sticky ?? wasSticky;
        if (sticky && !wasSticky) await b.expectQuiet(`add map ${opts.poolsMap} ${slot} on`);
        if (!sticky && wasSticky) await b.cmd(`del map ${opts.poolsMap} ${slot}`);
        if (p.rateLimit !== undefined) await b.setRateLimit(slot, p.rateLimit);
        await b.persist();
      });
    },

    async removePool(poolId) {
      const id = assertPoolId(poolId);
      return serial(async () => {
        const slot = (await b.poolSlots()).get(id);
        if (!slot) return;
        for (const h of await b.readMap(opts.hostsMap))
          if (h.value === slot) await b.cmd(`del map ${opts.hostsMap} ${h.key}`);
        for (const s of await b.serversOf(slot)) if (s.srv_name) await b.removeServer(slot, s.srv_name);
        await b.cmd(`del map ${opts.poolsMap} ${id}`);
        await b.cmd(`del map ${opts.poolsMap} ${slot}`);
        await b.setRateLimit(slot, null);
        await b.persist();
      });
    },

    async attach(poolId, server) {
      const id = assertPoolId(poolId);
      const s = assertServer(server);
      const a = checkIpv4(s.address);
      return serial(async () => {
        const slot = (await b.poolSlots()).get(id);
        if (!slot)
          throw new HostfleetError(
            'E_NOT_FOUND',
            `pool ${id} does not exist; upsert the pool before attaching servers`,
            { details: { pool: id } },
          );
        const ref = `${slot}/${s.id}`;
        const existing = (await b.serversOf(slot)).find((r) => r.srv_name === s.id);
        if (!existing) {
          await b.addServer(slot, s.id, a.host, a.port);
        } else if (existing.srv_addr !== a.host || existing.srv_port !== String(a.port)) {
          const answer = (await b.cmd(`set server ${ref} addr ${a.host} port ${a.port}`)).trim();
          if (answer !== '' && !/changed/i.test(answer))
            throw new HostfleetError('E_EDGE', `HAProxy refused to move ${ref} to ${s.address}: ${answer}`);
        }
        await b.expectQuiet(`set server ${ref} state ready`);
        // The manager checked the server's health: it takes traffic now, not after HAProxy's next check.
        await b.expectQuiet(`set server ${ref} health up`);
      });
    },

    async drain(poolId, serverId, o): Promise<DrainResult> {
      const id = assertPoolId(poolId);
      const sid = assertServerId(serverId);
      const t = assertTimeoutMs(o.timeoutMs);
      const slot = await serial(async () => {
        const sl = (await b.poolSlots()).get(id);
        if (!sl) return undefined;
        const answer = (await b.cmd(`set server ${sl}/${sid} state drain`)).trim();
        if (/no such server/i.test(answer)) return undefined;
        if (answer !== '') throw new HostfleetError('E_EDGE', `HAProxy refused to drain ${sl}/${sid}: ${answer}`);
        return sl;
      });
      if (!slot) return { drained: true, inflight: 0 };
      return b.waitDrained(slot, sid, t);
    },

    async pause(poolId, serverId) {
      return setState(poolId, serverId, 'drain');
    },

    async play(poolId, serverId) {
      return setState(poolId, serverId, 'ready');
    },

    async detach(poolId, serverId) {
      const id = assertPoolId(poolId);
      const sid = assertServerId(serverId);
      return serial(async () => {
        const slot = (await b.poolSlots()).get(id);
        if (!slot) return;
        await b.removeServer(slot, sid);
      });
    },

    async status(): Promise<EdgePoolStatus[]> {
      const pools = await b.poolSlots();
      const hosts = await b.readMap(opts.hostsMap);
      const stats = parseCsvStat(await b.cmd('show stat -1 4 -1'));
      const sticky = await b.stickySlots();
      const limits = await b.rateLimits();
      const out: EdgePoolStatus[] = [];
      for (const [id, slot] of [...pools].sort((x, y) => (x[0] < y[0] ? -1 : 1))) {
        const rows = await b.serversOf(slot);
        out.push({
          id,
          domains: hosts
            .filter((h) => h.value === slot)
            .map((h) => h.key)
            .sort(),
          balance: b.balanceOf(slot),
          sticky: sticky.has(slot),
          rateLimit: limits.get(slot) ?? null,
          servers: rows
            .map((r) =>
              serverStatus(
                r,
                stats.find((st) => st.pxname === slot && st.svname === r.srv_name),
              ),
            )
            .sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0)),
        });
      }
      return out;
    },

    async close() {
      await chain;
    },
  };
}
