/**
 * dispatcher carries out moves: it admits each requested move (dispatch/admission.ts), runs the
 * steps that src/core/dispatch decides through the BMC, edge and volume drivers
 * (dispatch/steps.ts), and records each step in the store before moving on, so a manager that
 * dies mid-move resumes from the record (resume() at start-up). Every step is idempotent:
 * re-running the step a crash interrupted does nothing twice. A step that keeps failing ends
 * the move rolled back or failed (dispatch/endings.ts).
 */
import type { Logger } from 'pino';
import { HostfleetError, isHostfleetError } from '../../core/errors.js';
import { nextStep, onStepFailure, positionAfter } from '../../core/dispatch/move.js';
import type { MoveKind, MoveStep } from '../../core/dispatch/move.js';
import type { MoveRecord } from '../../core/model/records.js';
import type { Sql, Store } from '../../drivers/store/index.js';
import * as db from '../../drivers/store/resources.js';
import * as wdb from '../../drivers/store/warm.js';
import type { BmcDriver } from '../../drivers/bmc/index.js';
import type { EdgeDriver } from '../../drivers/edge/index.js';
import type { VolumeDriver } from '../../drivers/volumes/index.js';
import type { Clock } from '../../drivers/clock/index.js';
import type { BootService } from './boot.js';
import type { ManagerConfig } from './config.js';
import { admitMove, admitWarm } from './dispatch/admission.js';
import { allocate, fail, finish, rollback } from './dispatch/endings.js';
import { StepRunner } from './dispatch/steps.js';
import type { HealthProbe } from './dispatch/waits.js';
import type { ManagerMetrics } from './metrics.js';

export { httpHealthProbe, WARM_CHECK_MS } from './dispatch/waits.js';
export type { HealthAnswer, HealthProbe } from './dispatch/waits.js';

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

/** Dispatcher runs move workflows; one loop per move in flight. */
export class Dispatcher {
  private readonly loops = new Map<string, Promise<void>>();
  private readonly waiters = new Map<string, ((m: MoveRecord) => void)[]>();
  private readonly abort = new AbortController();
  private readonly steps: StepRunner;

  constructor(private readonly d: DispatcherDeps) {
    this.steps = new StepRunner(d, this.abort.signal);
  }

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
    if (this.abort.signal.aborted)
      throw new HostfleetError('E_CONFLICT', 'the manager is shutting down; try again on the active manager');
    const move = await this.d.store.transaction(async (tx) => {
      await this.d.fence?.(tx);
      return admitMove(tx, r);
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
    if (this.abort.signal.aborted)
      throw new HostfleetError('E_CONFLICT', 'the manager is shutting down; try again on the active manager');
    const kind: MoveKind = r.groupId === null ? 'cool-down' : 'warm-up';
    const move = await this.d.store.transaction(async (tx) => {
      await this.d.fence?.(tx);
      return admitWarm(tx, r, kind);
    });
    this.d.log.info(
      { move: move.id, server: move.serverId, kind, group: r.groupId },
      kind === 'warm-up' ? 'warm-up requested' : 'cool-down requested',
    );
    this.spawn(move.id);
    return move;
  }

  /** wait resolves with the move's final record once it is no longer running. */
  async wait(moveId: string, timeoutMs = 120_000): Promise<MoveRecord> {
    const m = await db.getMove(this.d.store, moveId);
    if (!m) throw new HostfleetError('E_NOT_FOUND', `move ${moveId} does not exist`);
    if (m.status !== 'running') return m;
    return new Promise<MoveRecord>((resolve, reject) => {
      const t = setTimeout(
        () => reject(new HostfleetError('E_CONFLICT', `move ${moveId} still running after ${timeoutMs} ms`)),
        timeoutMs,
      );
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
      .catch((e: unknown) =>
        this.d.log.error({ move: moveId, err: e }, 'move loop crashed; it resumes at the next start'),
      )
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
        const fin = this.notify(await finish(this.d, move));
        this.d.metrics?.moveFinished(fin.status, (this.d.clock.now().getTime() - started) / 1000);
        return;
      }
      const server = await db.getServer(this.d.store, move.serverId);
      if (!server) throw new Error(`server ${move.serverId} of move ${move.id} vanished`);
      const t0 = this.d.clock.now().getTime();
      try {
        const out = await this.steps.execute(step, move, server, kind);
        await this.d.store.transaction(async (tx) => {
          await this.d.fence?.(tx);
          const pos = positionAfter(
            step,
            move.fromGroup,
            move.toGroup,
            { state: server.state, groupId: server.groupId },
            kind,
          );
          await db.setServerPosition(tx, server.id, { ...pos, moveId: move.id });
          const now = this.d.clock.now();
          if (step === 'detach') await db.closeAllocation(tx, server.id, now);
          if (step === 'attach' && move.toGroup !== null) await allocate(tx, server.id, move.toGroup, now);
          await db.updateMove(tx, move.id, {
            step: nextStep(move.fromGroup, move.toGroup, step, kind),
            attempts: 0,
            ...(out.bootTokenHash ? { bootTokenHash: out.bootTokenHash } : {}),
          });
          await db.addMoveEvent(tx, {
            moveId: move.id,
            step,
            outcome: out.skipped ? 'skipped' : 'done',
            detail: { ms: this.d.clock.now().getTime() - t0, ...out.detail },
          });
        });
        this.d.metrics?.stepDone(step, (this.d.clock.now().getTime() - t0) / 1000);
      } catch (e) {
        if (this.abort.signal.aborted) return;
        const attempts = move.attempts + 1;
        const err = isHostfleetError(e)
          ? { code: e.code, message: e.message }
          : { code: 'E_INTERNAL', message: (e as Error).message };
        if (step === 'wait-healthy' && isHostfleetError(e) && (e.details?.rewind === true || kind === 'warm-join')) {
          // A failed boot is retried from a fresh boot pointer, a bounded number of times; a warm
          // server that no longer answers as the group's is booted like a cold one.
          const rewinds = (await db.listMoveEvents(this.d.store, move.id)).filter(
            (ev) => ev.detail?.rewindTo !== undefined,
          ).length;
          if (rewinds + 1 < this.d.moves.maxAttempts) {
            const was = kind;
            if (kind === 'warm-join') kind = 'move';
            this.d.log.warn(
              { move: move.id, server: server.id, err, kind: was },
              was === 'warm-join'
                ? 'warm server did not answer; booting it'
                : 'boot failed; retrying the boot with a new pointer',
            );
            await this.d.store.transaction(async (tx) => {
              await this.d.fence?.(tx);
              if (was !== kind) await wdb.setMoveKind(tx, move.id, kind);
              await db.setServerPosition(tx, server.id, {
                ...positionAfter('set-boot-pointer', move.fromGroup, move.toGroup, server, kind),
                moveId: move.id,
              });
              await db.updateMove(tx, move.id, {
                step: 'set-boot-pointer',
                attempts: 0,
                error: err,
                bootTokenHash: null,
              });
              await db.addMoveEvent(tx, {
                moveId: move.id,
                step,
                outcome: 'retry',
                detail: { rewindTo: 'set-boot-pointer', ...err },
              });
            });
            await this.d.clock.sleep(this.d.moves.retryBaseMs, this.abort.signal).catch(() => undefined);
            continue;
          }
        }
        // Waiting for a boot already spent the whole boot timeout: retrying it would only wait again.
        const action = onStepFailure(step, step === 'wait-healthy' ? Number.MAX_SAFE_INTEGER : attempts, {
          maxAttempts: this.d.moves.maxAttempts,
          retryBaseMs: this.d.moves.retryBaseMs,
        });
        this.d.log.warn(
          { move: move.id, server: server.id, step, attempts, err, action: action.kind },
          'move step failed',
        );
        await this.d.store.transaction(async (tx) => {
          await this.d.fence?.(tx);
          await db.updateMove(tx, move.id, { attempts, error: err });
          await db.addMoveEvent(tx, {
            moveId: move.id,
            step,
            outcome: action.kind === 'retry' ? 'retry' : 'failed',
            detail: { attempts, ...err },
          });
        });
        if (action.kind === 'retry') {
          await this.d.clock.sleep(action.delayMs, this.abort.signal).catch(() => undefined);
          continue;
        }
        const fin = this.notify(
          action.kind === 'rollback' ? await rollback(this.d, move, server) : await fail(this.d, move, server, err),
        );
        this.d.metrics?.moveFinished(fin.status, (this.d.clock.now().getTime() - started) / 1000);
        return;
      }
    }
  }

  /** notify hands a move's final record to those waiting for it, and returns it. */
  private notify(m: MoveRecord): MoveRecord {
    for (const w of this.waiters.get(m.id) ?? []) w(m);
    this.waiters.delete(m.id);
    return m;
  }
}
