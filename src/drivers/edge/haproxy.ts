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
 */
import { rename, writeFile } from 'node:fs/promises';
import { HostfleetError, invalid } from '../../core/errors.js';
import { assertPool, assertPoolId, assertServer, assertServerId, assertTimeoutMs, parseAddress } from './validate.js';
import { parseCsvStat, parseMap, parseServersState, runtimeCommand } from './haproxy-runtime.js';
import type { RuntimeTarget } from './haproxy-runtime.js';
import type { BalancePolicy, DrainResult, EdgeDriver, EdgePoolStatus, EdgeServerState, EdgeServerStatus } from './types.js';

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
}

// HAProxy's srv_admin_state bits (src/server.h): forced/inherited/config/resolution/health maintenance, and drain.
const ADMIN_MAINT = 0x01 | 0x02 | 0x04 | 0x20 | 0x40;
const ADMIN_DRAIN = 0x08 | 0x10;
// HAProxy's srv_op_state values.
const OP_STOPPED = 0;
const OP_STOPPING = 3;

const POLL_MS = 50;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** haproxyEdge returns a driver for the HAProxy whose Runtime API is at opts.socket. */
export function haproxyEdge(opts: HaproxyEdgeOptions): EdgeDriver {
  const prefix = opts.backendPrefix ?? 'hf_pool_';
  const slots = opts.slots ?? 64;
  const inter = opts.healthIntervalMs ?? 1000;
  const timeoutMs = opts.commandTimeoutMs ?? 5000;
  const detachTimeoutMs = opts.detachTimeoutMs ?? 10_000;
  const pathOk = (p: string): boolean => /^\/[A-Za-z0-9._/-]{1,200}$/.test(p) && !p.includes('..');
  if (!pathOk(opts.hostsMap) || !pathOk(opts.poolsMap) || (opts.ratesMap !== undefined && !pathOk(opts.ratesMap))) throw new HostfleetError('E_CONFIG', 'hostsMap, poolsMap and ratesMap must be the absolute map paths of the HAProxy configuration (letters, digits and . _ / -)');
  if (!/^[a-z][a-z0-9_]{0,30}$/.test(prefix) || !Number.isInteger(slots) || slots < 1) throw new HostfleetError('E_CONFIG', 'backendPrefix must be lower-case letters, digits and _; slots a positive whole number');
  if (!Number.isInteger(inter) || inter < 100 || inter > 600_000) throw new HostfleetError('E_CONFIG', 'healthIntervalMs must be a whole number from 100 to 600000');
  const rrSlots = opts.roundRobinSlots ?? 16;
  const slotRe = new RegExp(`^${prefix}(rr)?(\\d{1,5})$`);
  const isSlot = (s: string): boolean => {
    const m = slotRe.exec(s);
    return m !== null && Number(m[2]) < (m[1] ? rrSlots : slots);
  };
  const balanceOf = (slot: string): BalancePolicy => (slotRe.exec(slot)?.[1] ? 'round-robin' : 'least-connections');
  // Stickiness is the pools map entry "<slot> on", which the slot's ignore-persist rule reads
  // (a slot name holds '_', a pool id never does, so the keys cannot collide).

  const cmd = (c: string): Promise<string> => runtimeCommand(opts.socket, c, timeoutMs);
  /** expectQuiet runs a command that answers nothing on success. */
  const expectQuiet = async (c: string): Promise<void> => {
    const answer = (await cmd(c)).trim();
    if (answer !== '') throw new HostfleetError('E_EDGE', `HAProxy refused "${c}": ${answer}`, { details: { command: c, answer } });
  };
  const readMap = async (file: string): Promise<Array<{ key: string; value: string }>> => {
    const text = await cmd(`show map ${file}`);
    if (/Unknown map|can't find/i.test(text)) throw new HostfleetError('E_CONFIG', `HAProxy does not know the map ${file}; generate its configuration with haproxyConfig and pass the same paths`);
    return parseMap(text);
  };
  const poolSlots = async (): Promise<Map<string, string>> => new Map((await readMap(opts.poolsMap)).filter((e) => isSlot(e.value) && !e.key.includes('_')).map((e) => [e.key, e.value]));
  // A pool's rate limit is the rates map entry "<slot> N", which the slot's rules read.
  const ratesMap = opts.ratesMap;
  const rateLimits = async (): Promise<Map<string, number>> => (ratesMap === undefined ? new Map() : new Map((await readMap(ratesMap)).filter((e) => isSlot(e.key)).map((e) => [e.key, Number(e.value)])));
  const setRateLimit = async (slot: string, limit: number | null): Promise<void> => {
    if (ratesMap === undefined) {
      if (limit === null) return;
      throw new HostfleetError('E_CONFIG', 'this HAProxy edge has no rates map, so pools cannot be rate-limited; generate the configuration again (haproxyConfig writes rates.map) and set edge.ratesMap');
    }
    const had = (await rateLimits()).get(slot);
    if (limit === null) {
      if (had !== undefined) await cmd(`del map ${ratesMap} ${slot}`);
    } else if (had !== limit) {
      await setMapEntry(ratesMap, slot, String(limit), had !== undefined);
    }
  };
  const stickySlots = async (): Promise<Set<string>> => new Set((await readMap(opts.poolsMap)).filter((e) => isSlot(e.key) && e.value === 'on').map((e) => e.key));
  const freeSlot = (pools: Map<string, string>, balance: BalancePolicy): string => {
    const used = new Set(pools.values());
    const names = balance === 'round-robin' ? Array.from({ length: rrSlots }, (_, i) => `${prefix}rr${i}`) : Array.from({ length: slots }, (_, i) => `${prefix}${i}`);
    const free = names.find((s) => !used.has(s));
    if (!free) throw new HostfleetError('E_CONFLICT', `all ${names.length} HAProxy backend slots for ${balance} pools hold pools; remove a pool or regenerate the configuration with more slots`, { details: { slots: names.length, balance } });
    return free;
  };
  const addServer = async (slot: string, name: string, host: string, port: number): Promise<void> => {
    const ref = `${slot}/${name}`;
    const added = (await cmd(`add server ${ref} ${host}:${port} check inter ${inter} fall 2 rise 1 observe layer4 error-limit 1 on-error mark-down`)).trim();
    if (!/New server registered/i.test(added)) throw new HostfleetError('E_EDGE', `HAProxy refused to add ${ref}: ${added}`);
    await expectQuiet(`enable health ${ref}`);
    // HAProxy computes dynamic cookies when they are enabled, not when a server is added.
    await expectQuiet(`enable dynamic-cookie backend ${slot}`);
  };
  const setMapEntry = async (file: string, key: string, value: string, present: boolean): Promise<void> => {
    await expectQuiet(present ? `set map ${file} ${key} ${value}` : `add map ${file} ${key} ${value}`);
  };
  const serversOf = async (slot: string): Promise<Array<Record<string, string>>> => parseServersState(await cmd(`show servers state ${slot}`));

  const persist = async (): Promise<void> => {
    if (!opts.persistMaps) return;
    for (const file of [opts.hostsMap, opts.poolsMap, ...(ratesMap !== undefined ? [ratesMap] : [])]) {
      const entries = await readMap(file);
      await writeFile(`${file}.tmp`, entries.map((e) => `${e.key} ${e.value}\n`).join(''));
      await rename(`${file}.tmp`, file);
    }
  };

  /** removeServer takes a server out of rotation and deletes it once its connections are gone (bounded). */
  const removeServer = async (slot: string, name: string): Promise<void> => {
    const ref = `${slot}/${name}`;
    const setMaint = (await cmd(`set server ${ref} state maint`)).trim();
    if (/no such server/i.test(setMaint)) return;
    const deadline = Date.now() + detachTimeoutMs;
    let cut = false;
    // Bounded: polls until the deadline, then cuts the sessions once and tries for one more second.
    for (;;) {
      const answer = (await cmd(`del server ${ref}`)).trim();
      if (/^Server deleted/i.test(answer) || /no such server/i.test(answer)) return;
      if (!/connection|still|used|attached|queue/i.test(answer)) throw new HostfleetError('E_EDGE', `HAProxy refused to delete ${ref}: ${answer}`);
      if (Date.now() > deadline) {
        if (cut) throw new HostfleetError('E_EDGE', `HAProxy kept connections to ${ref} after they were cut: ${answer}`);
        cut = true;
        await cmd(`shutdown sessions server ${ref}`);
      }
      await sleep(POLL_MS);
    }
  };

  // One change at a time: a slot is chosen by reading the maps, so two upserts must not interleave.
  let chain: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = chain.then(fn, fn);
    chain = run.catch(() => {});
    return run;
  };

  const checkIpv4 = (address: string): { host: string; port: number } => {
    const a = parseAddress(address)!;
    if (!/^\d+\.\d+\.\d+\.\d+$/.test(a.host)) throw invalid([{ field: 'address', problem: 'the HAProxy edge needs an IPv4 address and port, such as 10.0.0.7:8080' }]);
    return a;
  };

  const serverStatus = (row: Record<string, string>, stat: Record<string, string> | undefined): EdgeServerStatus => {
    const admin = Number(row.srv_admin_state);
    const op = Number(row.srv_op_state);
    let state: EdgeServerState = 'up';
    if (admin & ADMIN_DRAIN || op === OP_STOPPING) state = 'draining';
    else if (admin & ADMIN_MAINT || op === OP_STOPPED) state = 'down';
    const n = (k: string): number => Number(stat?.[k] ?? 0) || 0;
    return {
      id: row.srv_name ?? '',
      address: `${row.srv_addr}:${row.srv_port}`,
      state,
      outstanding: n('scur') + n('qcur'),
      served: n('hrsp_1xx') + n('hrsp_2xx') + n('hrsp_3xx') + n('hrsp_4xx') + n('hrsp_5xx') + n('hrsp_other'),
      failures: n('econ') + n('eresp') + n('chkfail'),
    };
  };

  const outstandingOf = async (slot: string, name: string): Promise<number | undefined> => {
    const row = parseCsvStat(await cmd('show stat -1 4 -1')).find((r) => r.pxname === slot && r.svname === name);
    if (!row) return undefined;
    return (Number(row.scur) || 0) + (Number(row.qcur) || 0);
  };

  /** setState pauses (drain) or plays (ready) an attached server; absent is E_NOT_FOUND. */
  const setState = async (poolId: string, serverId: string, state: 'drain' | 'ready'): Promise<void> => {
    const id = assertPoolId(poolId);
    const sid = assertServerId(serverId);
    return serial(async () => {
      const slot = (await poolSlots()).get(id);
      const answer = slot ? (await cmd(`set server ${slot}/${sid} state ${state}`)).trim() : 'No such server.';
      if (/no such server/i.test(answer)) throw new HostfleetError('E_NOT_FOUND', `server ${sid} is not attached to pool ${id}; attach it first`, { details: { pool: id, server: sid } });
      if (answer !== '') throw new HostfleetError('E_EDGE', `HAProxy refused to set ${slot}/${sid} to ${state}: ${answer}`);
    });
  };

  return {
    async upsertPool(pool) {
      const p = assertPool(pool);
      return serial(async () => {
        const pools = await poolSlots();
        const hosts = await readMap(opts.hostsMap);
        let slot = pools.get(p.id);
        const poolOfSlot = new Map([...pools].map(([id, s]) => [s, id]));
        for (const d of p.domains) {
          const owner = hosts.find((h) => h.key === d);
          if (owner && owner.value !== slot) {
            const other = poolOfSlot.get(owner.value) ?? owner.value;
            throw new HostfleetError('E_CONFLICT', `domain ${d} already routes to pool ${other}; remove it there first`, { details: { domain: d, pool: other } });
          }
        }
        const balance = p.balance ?? (slot ? balanceOf(slot) : 'least-connections');
        if (!slot || balanceOf(slot) !== balance) {
          const fresh = freeSlot(pools, balance);
          // Clean what a crash may have left in the slot before the pool owns it.
          for (const h of hosts.filter((e) => e.value === fresh)) await cmd(`del map ${opts.hostsMap} ${h.key}`);
          for (const s of await serversOf(fresh)) if (s.srv_name) await removeServer(fresh, s.srv_name);
          await cmd(`del map ${opts.poolsMap} ${fresh}`);
          await setRateLimit(fresh, null);
          if (slot) {
            // A policy change: the servers move to a slot of the other kind, in the same state,
            // then the domains follow, then the old slot is emptied.
            for (const r of await serversOf(slot)) {
              if (!r.srv_name) continue;
              await addServer(fresh, r.srv_name, r.srv_addr ?? '', Number(r.srv_port));
              const draining = (Number(r.srv_admin_state) & ADMIN_DRAIN) !== 0;
              await expectQuiet(`set server ${fresh}/${r.srv_name} state ${draining ? 'drain' : 'ready'}`);
              if (Number(r.srv_op_state) !== OP_STOPPED) await expectQuiet(`set server ${fresh}/${r.srv_name} health up`);
            }
          }
          await setMapEntry(opts.poolsMap, p.id, fresh, slot !== undefined);
          for (const h of hosts) if (slot && h.value === slot && p.domains.includes(h.key)) await expectQuiet(`set map ${opts.hostsMap} ${h.key} ${fresh}`);
          if (slot) {
            for (const h of hosts) if (h.value === slot && !p.domains.includes(h.key)) await cmd(`del map ${opts.hostsMap} ${h.key}`);
            for (const r of await serversOf(slot)) if (r.srv_name) await removeServer(slot, r.srv_name);
            if ((await stickySlots()).has(slot)) {
              await cmd(`del map ${opts.poolsMap} ${slot}`);
              await expectQuiet(`add map ${opts.poolsMap} ${fresh} on`);
            }
            const limit = (await rateLimits()).get(slot);
            if (limit !== undefined) {
              await setRateLimit(fresh, limit);
              await setRateLimit(slot, null);
            }
          }
          slot = fresh;
        }
        const current = await readMap(opts.hostsMap);
        for (const h of current) if (h.value === slot && !p.domains.includes(h.key)) await cmd(`del map ${opts.hostsMap} ${h.key}`);
        for (const d of p.domains) if (!current.some((h) => h.key === d && h.value === slot)) await expectQuiet(`add map ${opts.hostsMap} ${d} ${slot}`);
        const wasSticky = (await stickySlots()).has(slot);
        const sticky = p.sticky ?? wasSticky;
        if (sticky && !wasSticky) await expectQuiet(`add map ${opts.poolsMap} ${slot} on`);
        if (!sticky && wasSticky) await cmd(`del map ${opts.poolsMap} ${slot}`);
        if (p.rateLimit !== undefined) await setRateLimit(slot, p.rateLimit);
        await persist();
      });
    },

    async removePool(poolId) {
      const id = assertPoolId(poolId);
      return serial(async () => {
        const slot = (await poolSlots()).get(id);
        if (!slot) return;
        for (const h of await readMap(opts.hostsMap)) if (h.value === slot) await cmd(`del map ${opts.hostsMap} ${h.key}`);
        for (const s of await serversOf(slot)) if (s.srv_name) await removeServer(slot, s.srv_name);
        await cmd(`del map ${opts.poolsMap} ${id}`);
        await cmd(`del map ${opts.poolsMap} ${slot}`);
        await setRateLimit(slot, null);
        await persist();
      });
    },

    async attach(poolId, server) {
      const id = assertPoolId(poolId);
      const s = assertServer(server);
      const a = checkIpv4(s.address);
      return serial(async () => {
        const slot = (await poolSlots()).get(id);
        if (!slot) throw new HostfleetError('E_NOT_FOUND', `pool ${id} does not exist; upsert the pool before attaching servers`, { details: { pool: id } });
        const ref = `${slot}/${s.id}`;
        const existing = (await serversOf(slot)).find((r) => r.srv_name === s.id);
        if (!existing) {
          await addServer(slot, s.id, a.host, a.port);
        } else if (existing.srv_addr !== a.host || existing.srv_port !== String(a.port)) {
          const answer = (await cmd(`set server ${ref} addr ${a.host} port ${a.port}`)).trim();
          if (answer !== '' && !/changed/i.test(answer)) throw new HostfleetError('E_EDGE', `HAProxy refused to move ${ref} to ${s.address}: ${answer}`);
        }
        await expectQuiet(`set server ${ref} state ready`);
        // The manager checked the server's health: it takes traffic now, not after HAProxy's next check.
        await expectQuiet(`set server ${ref} health up`);
      });
    },

    async drain(poolId, serverId, o): Promise<DrainResult> {
      const id = assertPoolId(poolId);
      const sid = assertServerId(serverId);
      const t = assertTimeoutMs(o.timeoutMs);
      const slot = await serial(async () => {
        const sl = (await poolSlots()).get(id);
        if (!sl) return undefined;
        const answer = (await cmd(`set server ${sl}/${sid} state drain`)).trim();
        if (/no such server/i.test(answer)) return undefined;
        if (answer !== '') throw new HostfleetError('E_EDGE', `HAProxy refused to drain ${sl}/${sid}: ${answer}`);
        return sl;
      });
      if (!slot) return { drained: true, inflight: 0 };
      const deadline = Date.now() + t;
      // Bounded by the timeout: polls the server's sessions until none are left.
      for (;;) {
        const inflight = await outstandingOf(slot, sid);
        if (inflight === undefined || inflight === 0) return { drained: true, inflight: 0 };
        if (Date.now() >= deadline) return { drained: false, inflight };
        await sleep(Math.min(POLL_MS, Math.max(1, deadline - Date.now())));
      }
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
        const slot = (await poolSlots()).get(id);
        if (!slot) return;
        await removeServer(slot, sid);
      });
    },

    async status(): Promise<EdgePoolStatus[]> {
      const pools = await poolSlots();
      const hosts = await readMap(opts.hostsMap);
      const stats = parseCsvStat(await cmd('show stat -1 4 -1'));
      const sticky = await stickySlots();
      const limits = await rateLimits();
      const out: EdgePoolStatus[] = [];
      for (const [id, slot] of [...pools].sort((x, y) => (x[0] < y[0] ? -1 : 1))) {
        const rows = await serversOf(slot);
        out.push({
          id,
          domains: hosts.filter((h) => h.value === slot).map((h) => h.key).sort(),
          balance: balanceOf(slot),
          sticky: sticky.has(slot),
          rateLimit: limits.get(slot) ?? null,
          servers: rows
            .map((r) => serverStatus(r, stats.find((st) => st.pxname === slot && st.svname === r.srv_name)))
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
