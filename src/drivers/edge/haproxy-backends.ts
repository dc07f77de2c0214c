/**
 * haproxy-backends is the HAProxy edge's view of its pre-declared backend slots through the
 * Runtime API: which pool holds which slot (the pools map), which slots are sticky or
 * rate-limited, the dynamic servers of a slot, and the commands that add and remove them. The
 * driver (haproxy.ts) composes these into the EdgeDriver's idempotent operations.
 */
import { rename, writeFile } from 'node:fs/promises';
import { HostfleetError } from '../../core/errors.js';
import type { Clock } from '../clock/index.js';
import { parseCsvStat, parseMap, parseServersState, runtimeCommand } from './haproxy-runtime.js';
import type { HaproxyEdgeOptions } from './haproxy.js';
import type { BalancePolicy } from './types.js';

const POLL_MS = 50;

/** HaproxyBackends reads and changes the slots of one HAProxy. */
export class HaproxyBackends {
  private readonly prefix: string;
  private readonly slots: number;
  private readonly inter: number;
  private readonly timeoutMs: number;
  private readonly detachTimeoutMs: number;
  private readonly rrSlots: number;
  private readonly slotRe: RegExp;
  private readonly ratesMap: string | undefined;

  /** The constructor checks the options that name the maps and slots (E_CONFIG). */
  constructor(
    private readonly opts: HaproxyEdgeOptions,
    private readonly clock: Clock,
  ) {
    const prefix = opts.backendPrefix ?? 'hf_pool_';
    const slots = opts.slots ?? 64;
    const inter = opts.healthIntervalMs ?? 1000;
    const pathOk = (p: string): boolean => /^\/[A-Za-z0-9._/-]{1,200}$/.test(p) && !p.includes('..');
    if (!pathOk(opts.hostsMap) || !pathOk(opts.poolsMap) || (opts.ratesMap !== undefined && !pathOk(opts.ratesMap)))
      throw new HostfleetError(
        'E_CONFIG',
        'hostsMap, poolsMap and ratesMap must be the absolute map paths of the HAProxy configuration (letters, digits and . _ / -)',
      );
    if (!/^[a-z][a-z0-9_]{0,30}$/.test(prefix) || !Number.isInteger(slots) || slots < 1)
      throw new HostfleetError(
        'E_CONFIG',
        'backendPrefix must be lower-case letters, digits and _; slots a positive whole number',
      );
    if (!Number.isInteger(inter) || inter < 100 || inter > 600_000)
      throw new HostfleetError('E_CONFIG', 'healthIntervalMs must be a whole number from 100 to 600000');
    this.prefix = prefix;
    this.slots = slots;
    this.inter = inter;
    this.timeoutMs = opts.commandTimeoutMs ?? 5000;
    this.detachTimeoutMs = opts.detachTimeoutMs ?? 10_000;
    this.rrSlots = opts.roundRobinSlots ?? 16;
    this.slotRe = new RegExp(`^${prefix}(rr)?(\\d{1,5})$`);
    this.ratesMap = opts.ratesMap;
    // Stickiness is the pools map entry "<slot> on", which the slot's ignore-persist rule reads
    // (a slot name holds '_', a pool id never does, so the keys cannot collide).
  }

  private isSlot(s: string): boolean {
    const m = this.slotRe.exec(s);
    return m !== null && Number(m[2]) < (m[1] ? this.rrSlots : this.slots);
  }

  /** balanceOf tells a slot's policy from its name (round-robin slots are `${prefix}rrN`). */
  balanceOf(slot: string): BalancePolicy {
    return this.slotRe.exec(slot)?.[1] ? 'round-robin' : 'least-connections';
  }

  /** cmd runs one Runtime API command and returns HAProxy's answer. */
  cmd(c: string): Promise<string> {
    return runtimeCommand(this.opts.socket, c, this.timeoutMs);
  }

  /** expectQuiet runs a command that answers nothing on success. */
  async expectQuiet(c: string): Promise<void> {
    const answer = (await this.cmd(c)).trim();
    if (answer !== '')
      throw new HostfleetError('E_EDGE', `HAProxy refused "${c}": ${answer}`, { details: { command: c, answer } });
  }

  /** readMap returns a map file's entries as HAProxy holds them now. */
  async readMap(file: string): Promise<Array<{ key: string; value: string }>> {
    const text = await this.cmd(`show map ${file}`);
    if (/Unknown map|can't find/i.test(text))
      throw new HostfleetError(
        'E_CONFIG',
        `HAProxy does not know the map ${file}; generate its configuration with haproxyConfig and pass the same paths`,
      );
    return parseMap(text);
  }

  /** poolSlots maps each pool id to its slot. */
  async poolSlots(): Promise<Map<string, string>> {
    return new Map(
      (await this.readMap(this.opts.poolsMap))
        .filter((e) => this.isSlot(e.value) && !e.key.includes('_'))
        .map((e) => [e.key, e.value]),
    );
  }

  /** rateLimits maps each rate-limited slot to its requests per second (the rates map entry "<slot> N", which the slot's rules read). */
  async rateLimits(): Promise<Map<string, number>> {
    const ratesMap = this.ratesMap;
    return ratesMap === undefined
      ? new Map()
      : new Map((await this.readMap(ratesMap)).filter((e) => this.isSlot(e.key)).map((e) => [e.key, Number(e.value)]));
  }

  /** setRateLimit sets a slot's limit, or removes it (null); E_CONFIG when the configuration has no rates map. */
  async setRateLimit(slot: string, limit: number | null): Promise<void> {
    const ratesMap = this.ratesMap;
    if (ratesMap === undefined) {
      if (limit === null) return;
      throw new HostfleetError(
        'E_CONFIG',
        'this HAProxy edge has no rates map, so pools cannot be rate-limited; generate the configuration again (haproxyConfig writes rates.map) and set edge.ratesMap',
      );
    }
    const had = (await this.rateLimits()).get(slot);
    if (limit === null) {
      if (had !== undefined) await this.cmd(`del map ${ratesMap} ${slot}`);
    } else if (had !== limit) {
      await this.setMapEntry(ratesMap, slot, String(limit), had !== undefined);
    }
  }

  /** stickySlots are the slots whose pools send a client back to the server that answered it. */
  async stickySlots(): Promise<Set<string>> {
    return new Set(
      (await this.readMap(this.opts.poolsMap)).filter((e) => this.isSlot(e.key) && e.value === 'on').map((e) => e.key),
    );
  }

  /** freeSlot picks a slot of the balance policy's kind that no pool holds (E_CONFLICT when all do). */
  freeSlot(pools: Map<string, string>, balance: BalancePolicy): string {
    const used = new Set(pools.values());
    const names =
      balance === 'round-robin'
        ? Array.from({ length: this.rrSlots }, (_, i) => `${this.prefix}rr${i}`)
        : Array.from({ length: this.slots }, (_, i) => `${this.prefix}${i}`);
    const free = names.find((s) => !used.has(s));
    if (!free)
      throw new HostfleetError(
        'E_CONFLICT',
        `all ${names.length} HAProxy backend slots for ${balance} pools hold pools; remove a pool or regenerate the configuration with more slots`,
        { details: { slots: names.length, balance } },
      );
    return free;
  }

  /** addServer adds a dynamic server to a slot, health-checked by HAProxy (2 failures down, 1 success up). */
  async addServer(slot: string, name: string, host: string, port: number): Promise<void> {
    const ref = `${slot}/${name}`;
    const added = (
      await this.cmd(
        `add server ${ref} ${host}:${port} check inter ${this.inter} fall 2 rise 1 observe layer4 error-limit 1 on-error mark-down`,
      )
    ).trim();
    if (!/New server registered/i.test(added))
      throw new HostfleetError('E_EDGE', `HAProxy refused to add ${ref}: ${added}`);
    await this.expectQuiet(`enable health ${ref}`);
    // HAProxy computes dynamic cookies when they are enabled, not when a server is added.
    await this.expectQuiet(`enable dynamic-cookie backend ${slot}`);
  }

  /** setMapEntry sets a map entry, adding it when it is not present. */
  async setMapEntry(file: string, key: string, value: string, present: boolean): Promise<void> {
    await this.expectQuiet(present ? `set map ${file} ${key} ${value}` : `add map ${file} ${key} ${value}`);
  }

  /** serversOf returns the `show servers state` rows of a slot's servers. */
  async serversOf(slot: string): Promise<Array<Record<string, string>>> {
    return parseServersState(await this.cmd(`show servers state ${slot}`));
  }

  /** persist rewrites the map files from HAProxy's runtime state, when persistMaps is on, so a reload keeps pools and domains. */
  async persist(): Promise<void> {
    if (!this.opts.persistMaps) return;
    const ratesMap = this.ratesMap;
    for (const file of [this.opts.hostsMap, this.opts.poolsMap, ...(ratesMap !== undefined ? [ratesMap] : [])]) {
      const entries = await this.readMap(file);
      await writeFile(`${file}.tmp`, entries.map((e) => `${e.key} ${e.value}\n`).join(''));
      await rename(`${file}.tmp`, file);
    }
  }

  /** removeServer takes a server out of rotation and deletes it once its connections are gone (bounded). */
  async removeServer(slot: string, name: string): Promise<void> {
    const ref = `${slot}/${name}`;
    const setMaint = (await this.cmd(`set server ${ref} state maint`)).trim();
    if (/no such server/i.test(setMaint)) return;
    const deadline = this.clock.now().getTime() + this.detachTimeoutMs;
    let cut = false;
    // Bounded: polls until the deadline, then cuts the sessions once and tries for one more second.
    for (;;) {
      const answer = (await this.cmd(`del server ${ref}`)).trim();
      if (/^Server deleted/i.test(answer) || /no such server/i.test(answer)) return;
      if (!/connection|still|used|attached|queue/i.test(answer))
        throw new HostfleetError('E_EDGE', `HAProxy refused to delete ${ref}: ${answer}`);
      if (this.clock.now().getTime() > deadline) {
        if (cut)
          throw new HostfleetError('E_EDGE', `HAProxy kept connections to ${ref} after they were cut: ${answer}`);
        cut = true;
        await this.cmd(`shutdown sessions server ${ref}`);
      }
      await this.clock.sleep(POLL_MS);
    }
  }

  /** outstandingOf returns a server's sessions plus queued requests, or undefined when HAProxy does not list it. */
  async outstandingOf(slot: string, name: string): Promise<number | undefined> {
    const row = parseCsvStat(await this.cmd('show stat -1 4 -1')).find((r) => r.pxname === slot && r.svname === name);
    if (!row) return undefined;
    return (Number(row.scur) || 0) + (Number(row.qcur) || 0);
  }

  /**
   * waitDrained polls a draining server's sessions until none are left or timeoutMs has passed
   * (bounded by the timeout).
   */
  async waitDrained(slot: string, name: string, timeoutMs: number): Promise<{ drained: boolean; inflight: number }> {
    const deadline = this.clock.now().getTime() + timeoutMs;
    for (;;) {
      const inflight = await this.outstandingOf(slot, name);
      if (inflight === undefined || inflight === 0) return { drained: true, inflight: 0 };
      if (this.clock.now().getTime() >= deadline) return { drained: false, inflight };
      await this.clock.sleep(Math.min(POLL_MS, Math.max(1, deadline - this.clock.now().getTime())));
    }
  }
}
