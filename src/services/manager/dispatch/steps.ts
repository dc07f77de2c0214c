/**
 * steps carries out one step of a move through the drivers (the step sequence itself is
 * src/core/dispatch's). Every step is idempotent: re-running the step a crash interrupted does
 * nothing twice, and what a repeat would only cost (a second boot) is skipped.
 */
import { HostfleetError } from '../../../core/errors.js';
import type { MoveKind, MoveStep } from '../../../core/dispatch/move.js';
import type { AccountRecord, GroupRecord, MoveRecord } from '../../../core/model/records.js';
import type { StoredServer } from '../../../core/model/server.js';
import type { BmcDriver } from '../../../drivers/bmc/index.js';
import * as db from '../../../drivers/store/resources.js';
import { personalityFor } from '../boot.js';
import type { DispatcherDeps } from '../dispatcher.js';
import { WARM_CHECK_MS, waitHealthy, waitPowerOff } from './waits.js';

/** StepOutcome is what a step did: skipped, a new boot pointer's hash, and details for its event. */
export interface StepOutcome {
  readonly skipped?: boolean;
  readonly bootTokenHash?: string;
  readonly detail?: Record<string, unknown>;
}

/** StepRunner performs move steps for one dispatcher; signal aborts waits when the manager stops. */
export class StepRunner {
  constructor(
    private readonly d: DispatcherDeps,
    private readonly signal: AbortSignal,
  ) {}

  /** execute performs one step's action; it must be safe to repeat. */
  async execute(
    step: MoveStep,
    move: MoveRecord,
    server: StoredServer,
    kind: MoveKind,
  ): Promise<{ skipped?: boolean; bootTokenHash?: string; detail?: Record<string, unknown> }> {
    const bmc = this.d.bmcFor(server.bmcUrl);
    // A warm-up boots the personality of the group the server is warmed for (its warmFor).
    const target = () => (kind === 'warm-up' ? this.warmTarget(move, server) : this.target(move));
    switch (step) {
      case 'drain': {
        const r = await this.d.edge.drain(move.fromGroup as string, server.id, {
          timeoutMs: this.d.moves.drainTimeoutMs,
        });
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
        if (move.bootTokenHash !== null && (await db.bootPointerUsed(this.d.store, move.bootTokenHash)))
          return { skipped: true };
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
        return {
          ...(reissued ? { bootTokenHash: reissued } : {}),
          detail: { resetType: type, ...(reissued ? { pointerReissued: true } : {}) },
        };
      }
      case 'wait-healthy': {
        const { group } = await target();
        const ms = await waitHealthy(
          this.d,
          this.signal,
          server,
          move,
          group.id,
          kind === 'warm-join' ? Math.min(WARM_CHECK_MS, this.d.moves.bootTimeoutMs) : this.d.moves.bootTimeoutMs,
        );
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
        const waitedMs = await waitPowerOff(this.d, this.signal, bmc, server);
        return { detail: { waitedMs } };
      }
      case 'done':
        return {};
    }
  }

  /** pointAt issues a one-time boot pointer to the group's personality, sets it on the BMC, and returns its token hash. */
  private async pointAt(
    bmc: BmcDriver,
    server: StoredServer,
    group: GroupRecord,
    account: AccountRecord,
  ): Promise<string> {
    const { uri, tokenHash } = await this.d.boot.issue(this.d.store, server, personalityFor(server, group, account));
    await bmc.setBootPointer(server.systemId, uri, 'Once');
    return tokenHash;
  }

  /** warmTarget is the group (and its account) a warm-up boots the server for: its warmFor. */
  private async warmTarget(move: MoveRecord, server: StoredServer) {
    if (server.warmFor === null || server.warmFor === undefined)
      throw new HostfleetError(
        'E_NOT_FOUND',
        `server ${server.id} of warm-up ${move.id} is warm for no group (was it deleted?)`,
        { details: { server: server.id } },
      );
    const group = await db.getGroup(this.d.store, server.warmFor);
    if (!group)
      throw new HostfleetError('E_NOT_FOUND', `group ${server.warmFor} of warm-up ${move.id} no longer exists`);
    const account = await db.getAccount(this.d.store, group.accountId);
    if (!account)
      throw new HostfleetError('E_NOT_FOUND', `account ${group.accountId} of group ${group.id} no longer exists`);
    return { group, account };
  }

  private async target(move: MoveRecord) {
    if (move.toGroup === null) throw new Error(`move ${move.id} has no target group`);
    const group = await db.getGroup(this.d.store, move.toGroup);
    if (!group) throw new HostfleetError('E_NOT_FOUND', `group ${move.toGroup} of move ${move.id} no longer exists`);
    const account = await db.getAccount(this.d.store, group.accountId);
    if (!account)
      throw new HostfleetError('E_NOT_FOUND', `account ${group.accountId} of group ${group.id} no longer exists`);
    return { group, account };
  }
}
