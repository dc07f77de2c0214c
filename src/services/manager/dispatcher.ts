/**
 * dispatcher carries out moves: it runs the steps that src/core/dispatch decides, through the
 * BMC, edge and volume drivers, and records each step in the store before moving on, so a
 * manager that dies mid-move resumes from the record (resume() at start-up). Every step is
 * idempotent: re-running the step a crash interrupted does nothing twice.
 */
import type { Logger } from 'pino';
import { request as httpRequest } from 'undici';
import { HostfleetError, isHostfleetError } from '../../core/errors.js';
import { count } from '../../core/count.js';
import { firstStep, moveKindFor, nextStep, onStepFailure, positionAfter, rollbackPosition, stepsFor } from '../../core/dispatch/move.js';
import type { MoveKind, MoveStep } from '../../core/dispatch/move.js';
import type { AccountRecord, GroupRecord, MoveRecord } from '../../core/model/records.js';
import type { Sql, Store } from '../../drivers/store/index.js';
import * as db from '../../drivers/store/resources.js';
import type { StoredServer } from '../../drivers/store/resources.js';
import * as wdb from '../../drivers/store/warm.js';
import type { BmcDriver } from '../../drivers/bmc/index.js';
import type { EdgeDriver } from '../../drivers/edge/index.js';
import type { VolumeDriver } from '../../drivers/volumes/index.js';
import type { Clock } from '../../drivers/clock/index.js';
import { newId } from '../../drivers/clock/index.js';
import type { BootService} from './boot.js';
import { personalityFor } from './boot.js';
import type { ManagerConfig } from './config.js';
import type { ManagerMetrics } from './metrics.js';

/** DispatcherDeps are the drivers and settings the dispatcher acts through. */
export interface DispatcherDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly log: Logger;
  readonly bmcFor: (bmcUrl: string) => BmcDriver;
  readonly edge: EdgeDriver;
  readonly volumes: VolumeDriver;
  readonly boot: BootService;
  readonly moves: ManagerConfig['moves'];
  readonly metrics?: ManagerMetrics;
  /** health asks a booting server whether it serves its new group; default httpHealthProbe. */
  readonly health?: HealthProbe;
  /**
   * fence, when set, runs first in every write transaction and throws E_NOT_LEADER once this
   * manager no longer holds the site lease: a deposed manager's late step records are rejected.
   */
  readonly fence?: (tx: Sql) => Promise<void>;
}

/** HealthAnswer is what a server's health endpoint said: its HTTP status and the group it says it serves. */
export interface HealthAnswer {
  readonly statusCode: number;
  readonly group: string | null;
}

/** HealthProbe asks the server at address (host:port on the data plane) for its health; it throws when nothing answers. */
export type HealthProbe = (address: string, timeoutMs: number) => Promise<HealthAnswer>;

/** httpHealthProbe GETs http://address/healthz, where the server runtime answers with its personality's group. */
export const httpHealthProbe: HealthProbe = async (address, timeoutMs) => {
  const r = await httpRequest(`http://${address}/healthz`, { method: 'GET', headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  const body = (await r.body.json().catch(() => null)) as { group?: unknown } | null;
  return { statusCode: r.statusCode, group: typeof body?.group === 'string' ? body.group : null };
};

/** MoveRequest asks for one server to go to a group, or to the pool (toGroup null). */
export interface MoveRequest {
  readonly serverId: string;
  readonly toGroup: string | null;
  readonly reason: string;
  readonly requestedBy: string;
  /** force allows leaving a group below its minimum size. */
  readonly force?: boolean;
}

/** WarmRequest asks for a pool server to be warmed for a group (warm-up) or switched off (cool-down, groupId null). */
export interface WarmRequest {
  readonly serverId: string;
  readonly groupId: string | null;
  readonly reason: string;
  readonly requestedBy: string;
}

/**
 * WARM_CHECK_MS bounds the health check of a warm join: a warm server answers at once, and one
 * that does not is booted afresh instead of being waited for.
 */
export const WARM_CHECK_MS = 2000;

/** Dispatcher runs move workflows; one loop per move in flight. */
export class Dispatcher {
  private readonly loops = new Map<string, Promise<void>>();
  private readonly waiters = new Map<string, ((m: MoveRecord) => void)[]>();
  private readonly abort = new AbortController();

  constructor(private readonly d: DispatcherDeps) {}

  /** resume restarts every move the store records as running (after a crash or restart). */
  async resume(): Promise<string[]> {
    const running = await db.listMoves(this.d.store, { status: 'running', limit: 1000 });
    for (const m of running) {
      this.d.log.info({ move: m.id, server: m.serverId, step: m.step }, 'resuming move');
      this.spawn(m.id);
    }
    return running.map((m) => m.id);
  }

  /** request validates and records a move, starts it, and returns its record at once. */
  async request(r: MoveRequest): Promise<MoveRecord> {
    if (this.abort.signal.aborted) throw new HostfleetError('E_CONFLICT', 'the manager is shutting down; try again on the active manager');
    const move = await this.d.store.transaction(async (tx) => {
      await this.d.fence?.(tx);
      const server = await db.getServer(tx, r.serverId, true);
      if (!server) throw new HostfleetError('E_NOT_FOUND', `server ${r.serverId} does not exist; list servers with hostfleet status`, { details: { server: r.serverId } });
      if (server.moveId !== null) throw new HostfleetError('E_MOVE_IN_PROGRESS', `server ${server.id} is already being moved (move ${server.moveId}); wait for it to finish`, { details: { server: server.id, move: server.moveId } });
      const inGroup = server.state === 'active' || server.state === 'draining';
      const inPool = server.state === 'pool-cold' || server.state === 'pool-warm';
      if (!inGroup && !inPool) throw new HostfleetError('E_CONFLICT', `server ${server.id} is ${server.state}; only active servers and servers in the pool can be moved`, { details: { server: server.id, state: server.state } });
      const from = inGroup ? server.groupId : null;
      if (from === r.toGroup) throw new HostfleetError('E_CONFLICT', `server ${server.id} is already in ${r.toGroup ?? 'the pool'}`, { details: { server: server.id } });
      const all = await db.listServers(tx);
      if (r.toGroup !== null) {
        const g = await db.getGroup(tx, r.toGroup);
        if (!g) throw new HostfleetError('E_NOT_FOUND', `group ${r.toGroup} does not exist`, { details: { group: r.toGroup } });
        const joining = (await db.listMoves(tx, { status: 'running', limit: 1000 })).filter((m) => m.toGroup === g.id).length;
        const members = all.filter((s) => s.groupId === g.id).length;
        if (members + joining >= g.maxSize) throw new HostfleetError('E_CONFLICT', `group ${g.id} is at its maximum size of ${count(g.maxSize, 'server')}`, { details: { group: g.id, maxSize: g.maxSize, members, joining } });
      }
      if (from !== null && !r.force) {
        const g = await db.getGroup(tx, from);
        const members = all.filter((s) => s.groupId === from && s.state === 'active').length;
        if (g && members - 1 < g.minSize) throw new HostfleetError('E_CONFLICT', `moving ${server.id} would leave group ${from} below its minimum of ${count(g.minSize, 'active server')}; pass force to do it anyway`, { details: { group: from, minSize: g.minSize, active: members }, fields: [{ field: 'body.force', problem: `must be true to leave ${from} below its minimum` }] });
      }
      // A server warm for the target group joins without a boot; one warm for another group boots as usual.
      const kind = moveKindFor(server.state, server.warmFor ?? null, r.toGroup);
      const m = await db.insertMove(tx, { id: newId(), serverId: server.id, fromGroup: from, toGroup: r.toGroup, step: firstStep(from, r.toGroup, kind), reason: r.reason, requestedBy: r.requestedBy });
      await wdb.setMoveKind(tx, m.id, kind);
      if (kind === 'move' && (server.warmFor ?? null) !== null) await wdb.setWarmFor(tx, server.id, null);
      await db.setServerPosition(tx, server.id, { state: server.state, groupId: server.groupId, moveId: m.id });
      await db.addMoveEvent(tx, { moveId: m.id, step: m.step, outcome: 'started', detail: { from, to: r.toGroup, reason: r.reason, ...(kind === 'move' ? {} : { kind }) } });
      return m;
    });
    this.d.log.info({ move: move.id, server: move.serverId, from: move.fromGroup, to: move.toGroup }, 'move requested');
    this.spawn(move.id);
    return move;
  }

  /**
   * warm starts a warm-up (groupId set: a cold pool server boots the group's personality and
   * stays in the pool, warm, not attached) or a cool-down (groupId null: a warm pool server is
   * switched off and its volume withdrawn). Both are moves from the pool to the pool, recorded
   * and resumed like any other.
   */
  async warm(r: WarmRequest): Promise<MoveRecord> {
    if (this.abort.signal.aborted) throw new HostfleetError('E_CONFLICT', 'the manager is shutting down; try again on the active manager');
    const kind: MoveKind = r.groupId === null ? 'cool-down' : 'warm-up';
    const move = await this.d.store.transaction(async (tx) => {
      await this.d.fence?.(tx);
      const server = await db.getServer(tx, r.serverId, true);
      if (!server) throw new HostfleetError('E_NOT_FOUND', `server ${r.serverId} does not exist; list servers with hostfleet status`, { details: { server: r.serverId } });
      if (server.moveId !== null) throw new HostfleetError('E_MOVE_IN_PROGRESS', `server ${server.id} is already being moved (move ${server.moveId}); wait for it to finish`, { details: { server: server.id, move: server.moveId } });
      const want = kind === 'warm-up' ? 'pool-cold' : 'pool-warm';
      if (server.state !== want) throw new HostfleetError('E_CONFLICT', `server ${server.id} is ${server.state}; only ${want} servers can be ${kind === 'warm-up' ? 'warmed' : 'cooled'}`, { details: { server: server.id, state: server.state } });
      if (r.groupId !== null && !(await db.getGroup(tx, r.groupId))) throw new HostfleetError('E_NOT_FOUND', `group ${r.groupId} does not exist`, { details: { group: r.groupId } });
      const m = await db.insertMove(tx, { id: newId(), serverId: server.id, fromGroup: null, toGroup: null, step: firstStep(null, null, kind), reason: r.reason, requestedBy: r.requestedBy });
      await wdb.setMoveKind(tx, m.id, kind);
      await db.setServerPosition(tx, server.id, { state: server.state, groupId: null, moveId: m.id });
      if (r.groupId !== null) await wdb.setWarmFor(tx, server.id, r.groupId);
      await db.addMoveEvent(tx, { moveId: m.id, step: m.step, outcome: 'started', detail: { kind, warmFor: r.groupId ?? server.warmFor ?? null, reason: r.reason } });
      return m;
    });
    this.d.log.info({ move: move.id, server: move.serverId, kind, group: r.groupId }, kind === 'warm-up' ? 'warm-up requested' : 'cool-down requested');
    this.spawn(move.id);
    return move;
  }

  /** wait resolves with the move's final record once it is no longer running. */
  async wait(moveId: string, timeoutMs = 120_000): Promise<MoveRecord> {
    const m = await db.getMove(this.d.store, moveId);
    if (!m) throw new HostfleetError('E_NOT_FOUND', `move ${moveId} does not exist`);
    if (m.status !== 'running') return m;
    return new Promise<MoveRecord>((resolve, reject) => {
      const t = setTimeout(() => reject(new HostfleetError('E_CONFLICT', `move ${moveId} still running after ${timeoutMs} ms`)), timeoutMs);
      const list = this.waiters.get(moveId) ?? [];
      list.push((rec) => {
        clearTimeout(t);
        resolve(rec);
      });
      this.waiters.set(moveId, list);
    });
  }

  /** inFlight is the number of move loops running in this manager. */
  get inFlight(): number {
    return this.loops.size;
  }

  /** close stops every loop at its next step boundary; the records let the next manager resume. */
  async close(): Promise<void> {
    this.abort.abort();
    await Promise.allSettled([...this.loops.values()]);
  }

  private spawn(moveId: string): void {
    if (this.loops.has(moveId)) return;
    const p = this.run(moveId)
      .catch((e: unknown) => this.d.log.error({ move: moveId, err: e }, 'move loop crashed; it resumes at the next start'))
      .finally(() => this.loops.delete(moveId));
    this.loops.set(moveId, p);
  }

  private async run(moveId: string): Promise<void> {
    const started = this.d.clock.now().getTime();
    let kind = await wdb.getMoveKind(this.d.store, moveId);
    for (;;) {
      if (this.abort.signal.aborted) return;
      const move = await db.getMove(this.d.store, moveId);
      if (!move || move.status !== 'running') return;
      const step = move.step as MoveStep;
      if (step === 'done') {
        const fin = await this.finish(move);
        this.d.metrics?.moveFinished(fin.status, (this.d.clock.now().getTime() - started) / 1000);
        return;
      }
      const server = await db.getServer(this.d.store, move.serverId);
      if (!server) throw new Error(`server ${move.serverId} of move ${move.id} vanished`);
      const t0 = this.d.clock.now().getTime();
      try {
        const out = await this.execute(step, move, server, kind);
        await this.d.store.transaction(async (tx) => {
          await this.d.fence?.(tx);
          const pos = positionAfter(step, move.fromGroup, move.toGroup, { state: server.state, groupId: server.groupId }, kind);
          await db.setServerPosition(tx, server.id, { ...pos, moveId: move.id });
          const now = this.d.clock.now();
          if (step === 'detach') await db.closeAllocation(tx, server.id, now);
          if (step === 'attach' && move.toGroup !== null) {
            const g = await db.getGroup(tx, move.toGroup);
            if (g) await db.openAllocation(tx, { serverId: server.id, accountId: g.accountId, groupId: g.id, role: g.role, at: now });
          }
          await db.updateMove(tx, move.id, { step: nextStep(move.fromGroup, move.toGroup, step, kind), attempts: 0, ...(out.bootTokenHash ? { bootTokenHash: out.bootTokenHash } : {}) });
          await db.addMoveEvent(tx, { moveId: move.id, step, outcome: out.skipped ? 'skipped' : 'done', detail: { ms: this.d.clock.now().getTime() - t0, ...out.detail } });
        });
        this.d.metrics?.stepDone(step, (this.d.clock.now().getTime() - t0) / 1000);
      } catch (e) {
        if (this.abort.signal.aborted) return;
        const attempts = move.attempts + 1;
        const err = isHostfleetError(e) ? { code: e.code, message: e.message } : { code: 'E_INTERNAL', message: (e as Error).message };
        if (step === 'wait-healthy' && isHostfleetError(e) && (e.details?.rewind === true || kind === 'warm-join')) {
          // A failed boot is retried from a fresh boot pointer, a bounded number of times; a warm
          // server that no longer answers as the group's is booted like a cold one.
          const rewinds = (await db.listMoveEvents(this.d.store, move.id)).filter((ev) => ev.detail?.rewindTo !== undefined).length;
          if (rewinds + 1 < this.d.moves.maxAttempts) {
            const was = kind;
            if (kind === 'warm-join') kind = 'move';
            this.d.log.warn({ move: move.id, server: server.id, err, kind: was }, was === 'warm-join' ? 'warm server did not answer; booting it' : 'boot failed; retrying the boot with a new pointer');
            await this.d.store.transaction(async (tx) => {
              await this.d.fence?.(tx);
              if (was !== kind) await wdb.setMoveKind(tx, move.id, kind);
              await db.setServerPosition(tx, server.id, { ...positionAfter('set-boot-pointer', move.fromGroup, move.toGroup, server, kind), moveId: move.id });
              await db.updateMove(tx, move.id, { step: 'set-boot-pointer', attempts: 0, error: err, bootTokenHash: null });
              await db.addMoveEvent(tx, { moveId: move.id, step, outcome: 'retry', detail: { rewindTo: 'set-boot-pointer', ...err } });
            });
            await this.d.clock.sleep(this.d.moves.retryBaseMs, this.abort.signal).catch(() => undefined);
            continue;
          }
        }
        // Waiting for a boot already spent the whole boot timeout: retrying it would only wait again.
        const action = onStepFailure(step, step === 'wait-healthy' ? Number.MAX_SAFE_INTEGER : attempts, { maxAttempts: this.d.moves.maxAttempts, retryBaseMs: this.d.moves.retryBaseMs });
        this.d.log.warn({ move: move.id, server: server.id, step, attempts, err, action: action.kind }, 'move step failed');
        await this.d.store.transaction(async (tx) => {
          await this.d.fence?.(tx);
          await db.updateMove(tx, move.id, { attempts, error: err });
          await db.addMoveEvent(tx, { moveId: move.id, step, outcome: action.kind === 'retry' ? 'retry' : 'failed', detail: { attempts, ...err } });
        });
        if (action.kind === 'retry') {
          await this.d.clock.sleep(action.delayMs, this.abort.signal).catch(() => undefined);
          continue;
        }
        const fin = action.kind === 'rollback' ? await this.rollback(move, server) : await this.fail(move, server, err);
        this.d.metrics?.moveFinished(fin.status, (this.d.clock.now().getTime() - started) / 1000);
        return;
      }
    }
  }

  /** execute performs one step's action; it must be safe to repeat. */
  private async execute(step: MoveStep, move: MoveRecord, server: StoredServer, kind: MoveKind): Promise<{ skipped?: boolean; bootTokenHash?: string; detail?: Record<string, unknown> }> {
    const bmc = this.d.bmcFor(server.bmcUrl);
    // A warm-up boots the personality of the group the server is warmed for (its warmFor).
    const target = () => (kind === 'warm-up' ? this.warmTarget(move, server) : this.target(move));
    switch (step) {
      case 'drain': {
        const r = await this.d.edge.drain(move.fromGroup as string, server.id, { timeoutMs: this.d.moves.drainTimeoutMs });
        return { detail: { drained: r.drained, inflight: r.inflight } };
      }
      case 'detach':
        await this.d.edge.detach(move.fromGroup as string, server.id);
        return {};
      case 'set-boot-pointer': {
        const { group, account } = await target();
        const tokenHash = await this.pointAt(bmc, server, group, account);
        return { bootTokenHash: tokenHash, detail: { personality: { account: account.id, group: group.id } } };
      }
      case 'switch-volume': {
        if (move.toGroup === null && kind !== 'warm-up') {
          await this.d.volumes.unexport(server.uuid);
          return { detail: { volume: null } };
        }
        const { account } = await target();
        await this.d.volumes.ensure(account.id, { uid: account.uid, gid: account.gid });
        await this.d.volumes.exportTo(account.id, server.uuid);
        return { detail: { volume: account.id } };
      }
      case 'reset': {
        // A crash after the reset but before its record: the machine already fetched the new
        // pointer, so resetting again would only cost a boot.
        if (move.bootTokenHash !== null && (await db.bootPointerUsed(this.d.store, move.bootTokenHash))) return { skipped: true };
        const sys = await bmc.getSystem(server.systemId);
        let reissued: string | undefined;
        if (sys.boot.enabled === 'Disabled' || sys.boot.target !== 'UefiHttp' || sys.boot.httpBootUri === null) {
          // The one-time pointer is gone without having been fetched: a boot consumed it while
          // the manager was away (the fetch failed), or someone cleared it. Resetting now would
          // boot nothing, so the machine gets a fresh pointer first.
          const { group, account } = await target();
          reissued = await this.pointAt(bmc, server, group, account);
        }
        const type = sys.powerState === 'Off' ? 'On' : 'ForceRestart';
        await bmc.reset(server.systemId, type);
        return { ...(reissued ? { bootTokenHash: reissued } : {}), detail: { resetType: type, ...(reissued ? { pointerReissued: true } : {}) } };
      }
      case 'wait-healthy': {
        const { group } = await target();
        const ms = await this.waitHealthy(server, move, group.id, kind === 'warm-join' ? Math.min(WARM_CHECK_MS, this.d.moves.bootTimeoutMs) : this.d.moves.bootTimeoutMs);
        return { detail: { waitedMs: ms } };
      }
      case 'attach': {
        const { group } = await this.target(move);
        await this.d.edge.upsertPool({ id: group.id, domains: group.domains });
        await this.d.edge.attach(group.id, { id: server.id, address: server.address });
        return {};
      }
      case 'power-off': {
        await bmc.clearBootPointer(server.systemId);
        await bmc.reset(server.systemId, 'ForceOff');
        // The step ends when the BMC reports Off: the machine's workload is stopped and its
        // scratch wiped before its volume moves or anyone counts it as a cold server.
        const waitedMs = await this.waitPowerOff(bmc, server);
        return { detail: { waitedMs } };
      }
      case 'done':
        return {};
    }
  }

  /** pointAt issues a one-time boot pointer to the group's personality, sets it on the BMC, and returns its token hash. */
  private async pointAt(bmc: BmcDriver, server: StoredServer, group: GroupRecord, account: AccountRecord): Promise<string> {
    const { uri, tokenHash } = await this.d.boot.issue(this.d.store, server, personalityFor(server, group, account));
    await bmc.setBootPointer(server.systemId, uri, 'Once');
    return tokenHash;
  }

  /** warmTarget is the group (and its account) a warm-up boots the server for: its warmFor. */
  private async warmTarget(move: MoveRecord, server: StoredServer) {
    if (server.warmFor === null || server.warmFor === undefined) throw new HostfleetError('E_NOT_FOUND', `server ${server.id} of warm-up ${move.id} is warm for no group (was it deleted?)`, { details: { server: server.id } });
    const group = await db.getGroup(this.d.store, server.warmFor);
    if (!group) throw new HostfleetError('E_NOT_FOUND', `group ${server.warmFor} of warm-up ${move.id} no longer exists`);
    const account = await db.getAccount(this.d.store, group.accountId);
    if (!account) throw new HostfleetError('E_NOT_FOUND', `account ${group.accountId} of group ${group.id} no longer exists`);
    return { group, account };
  }

  private async target(move: MoveRecord) {
    if (move.toGroup === null) throw new Error(`move ${move.id} has no target group`);
    const group = await db.getGroup(this.d.store, move.toGroup);
    if (!group) throw new HostfleetError('E_NOT_FOUND', `group ${move.toGroup} of move ${move.id} no longer exists`);
    const account = await db.getAccount(this.d.store, group.accountId);
    if (!account) throw new HostfleetError('E_NOT_FOUND', `account ${group.accountId} of group ${group.id} no longer exists`);
    return { group, account };
  }

  /** waitPowerOff polls the BMC until the system reports PowerState Off, at most drainTimeoutMs (a retryable E_BMC then). */
  private async waitPowerOff(bmc: BmcDriver, server: StoredServer): Promise<number> {
    const t0 = this.d.clock.now().getTime();
    const deadline = t0 + Math.max(this.d.moves.drainTimeoutMs, 1000);
    let state = 'unknown';
    while (this.d.clock.now().getTime() < deadline) {
      if (this.abort.signal.aborted) throw new Error('manager shutting down');
      state = (await bmc.getSystem(server.systemId)).powerState;
      if (state === 'Off') return this.d.clock.now().getTime() - t0;
      await this.d.clock.sleep(this.d.moves.healthPollMs, this.abort.signal).catch(() => undefined);
    }
    throw new HostfleetError('E_BMC', `server ${server.id} did not reach PowerState Off after ForceOff (still ${state})`, { details: { server: server.id, powerState: state } });
  }

  /**
   * waitHealthy polls the server's health endpoint until it answers as a server of the group.
   * It also watches the BMC: a machine whose boot failed (Health Critical — e.g. it could not
   * fetch its pointer while the manager was down) will never answer, so the move is rewound
   * to a fresh boot pointer instead of waiting out the timeout.
   */
  private async waitHealthy(server: StoredServer, move: MoveRecord, groupId: string, timeoutMs: number): Promise<number> {
    const t0 = this.d.clock.now().getTime();
    const deadline = t0 + timeoutMs;
    let last = 'no answer';
    let nextBmcCheck = t0 + 500;
    while (this.d.clock.now().getTime() < deadline) {
      if (this.abort.signal.aborted) throw new Error('manager shutting down');
      try {
        const r = await (this.d.health ?? httpHealthProbe)(server.address, 1000);
        if (r.statusCode === 200 && r.group === groupId) return this.d.clock.now().getTime() - t0;
        last = `HTTP ${r.statusCode}, group ${r.group ?? '?'}`;
      } catch (e) {
        last = (e as Error).message;
      }
      if (this.d.clock.now().getTime() >= nextBmcCheck) {
        nextBmcCheck = this.d.clock.now().getTime() + 500;
        const sys = await this.d.bmcFor(server.bmcUrl).getSystem(server.systemId).catch(() => null);
        if (sys && sys.health === 'Critical') {
          const fetched = move.bootTokenHash !== null && (await db.bootPointerUsed(this.d.store, move.bootTokenHash));
          throw new HostfleetError('E_BOOT_TIMEOUT', `server ${server.id} failed to boot (BMC health Critical; boot pointer ${fetched ? 'fetched' : 'never fetched'})`, { details: { rewind: true, fetched } });
        }
      }
      await this.d.clock.sleep(this.d.moves.healthPollMs, this.abort.signal).catch(() => undefined);
    }
    throw new HostfleetError('E_BOOT_TIMEOUT', `server at ${server.address} did not answer its health check as a server of ${groupId} within ${timeoutMs} ms (last: ${last})`, { details: { address: server.address, group: groupId } });
  }

  private async finish(move: MoveRecord): Promise<MoveRecord> {
    const fin = await this.d.store.transaction(async (tx) => {
      await this.d.fence?.(tx);
      const s = await db.getServer(tx, move.serverId, true);
      if (s) await db.setServerPosition(tx, s.id, { state: s.state, groupId: s.groupId, moveId: null });
      await db.addMoveEvent(tx, { moveId: move.id, step: 'done', outcome: 'done', detail: null });
      return db.updateMove(tx, move.id, { status: 'done', step: 'done', error: null });
    });
    this.d.log.info({ move: move.id, server: move.serverId, to: move.toGroup }, 'move done');
    this.notify(fin);
    return fin;
  }

  /** rollback returns a server whose move failed before its reset to where it was. */
  private async rollback(move: MoveRecord, server: StoredServer): Promise<MoveRecord> {
    const bmc = this.d.bmcFor(server.bmcUrl);
    const steps = stepsFor(move.fromGroup, move.toGroup);
    try {
      await bmc.clearBootPointer(server.systemId);
    } catch (e) {
      this.d.log.warn({ move: move.id, err: e }, 'could not clear the boot pointer during rollback');
    }
    if (move.fromGroup !== null) {
      const from = await db.getGroup(this.d.store, move.fromGroup);
      const account = from ? await db.getAccount(this.d.store, from.accountId) : null;
      if (account && steps.includes('switch-volume')) await this.d.volumes.exportTo(account.id, server.uuid).catch(() => undefined);
      if (from) {
        // An edge that cannot be reached now is repaired by the edge reconciler (components/edge-sync.ts).
        await this.d.edge
          .upsertPool({ id: from.id, domains: from.domains })
          .then(() => this.d.edge.attach(from.id, { id: server.id, address: server.address }))
          .catch((e: unknown) => this.d.log.warn({ move: move.id, err: e }, 'could not re-attach the server at the edge during rollback; the edge reconciler will'));
      }
    } else {
      await this.d.volumes.unexport(server.uuid).catch(() => undefined);
    }
    const fin = await this.d.store.transaction(async (tx) => {
      await this.d.fence?.(tx);
      const pos = rollbackPosition(move.fromGroup);
      await db.setServerPosition(tx, server.id, { ...pos, moveId: null });
      if (move.fromGroup !== null) {
        const g = await db.getGroup(tx, move.fromGroup);
        if (g) await db.openAllocation(tx, { serverId: server.id, accountId: g.accountId, groupId: g.id, role: g.role, at: this.d.clock.now() });
      }
      await db.addMoveEvent(tx, { moveId: move.id, step: move.step, outcome: 'rolled-back', detail: pos as unknown as Record<string, unknown> });
      return db.updateMove(tx, move.id, { status: 'rolled-back' });
    });
    this.d.log.warn({ move: move.id, server: server.id }, 'move rolled back');
    this.notify(fin);
    return fin;
  }

  /** fail marks a server whose move failed after its reset as failed, out of every group. */
  private async fail(move: MoveRecord, server: StoredServer, err: { code: string; message: string }): Promise<MoveRecord> {
    if (move.toGroup !== null) await this.d.edge.detach(move.toGroup, server.id).catch(() => undefined);
    const fin = await this.d.store.transaction(async (tx) => {
      await this.d.fence?.(tx);
      await db.setServerPosition(tx, server.id, { state: 'failed', groupId: null, moveId: null });
      await db.closeAllocation(tx, server.id, this.d.clock.now());
      return db.updateMove(tx, move.id, { status: 'failed', error: err });
    });
    this.d.log.error({ move: move.id, server: server.id, err }, 'move failed; server marked failed');
    this.notify(fin);
    return fin;
  }

  private notify(m: MoveRecord): void {
    for (const w of this.waiters.get(m.id) ?? []) w(m);
    this.waiters.delete(m.id);
  }
}
