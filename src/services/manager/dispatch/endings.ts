/**
 * endings are the three ways a move ends, each recorded in one transaction: done; rolled back
 * (a step before the reset failed for good: the server returns to where it was); failed (a
 * step after the reset failed: the server is marked failed, out of every group).
 */
import { rollbackPosition, stepsFor } from '../../../core/dispatch/move.js';
import type { MoveRecord } from '../../../core/model/records.js';
import type { StoredServer } from '../../../core/model/server.js';
import type { Sql } from '../../../drivers/store/index.js';
import * as db from '../../../drivers/store/resources.js';
import type { DispatcherDeps } from '../dispatcher.js';

/**
 * allocate opens a server's allocation to a group's account from `at` (billing meters the
 * allocations); a group deleted meanwhile gets none.
 */
export async function allocate(tx: Sql, serverId: string, groupId: string, at: Date): Promise<void> {
  const g = await db.getGroup(tx, groupId);
  if (g) await db.openAllocation(tx, { serverId, accountId: g.accountId, groupId: g.id, role: g.role, at });
}

/** finish ends a move whose steps are all done. */
export async function finish(d: DispatcherDeps, move: MoveRecord): Promise<MoveRecord> {
  const fin = await d.store.transaction(async (tx) => {
    await d.fence?.(tx);
    const s = await db.getServer(tx, move.serverId, true);
    if (s) await db.setServerPosition(tx, s.id, { state: s.state, groupId: s.groupId, moveId: null });
    await db.addMoveEvent(tx, { moveId: move.id, step: 'done', outcome: 'done', detail: null });
    return db.updateMove(tx, move.id, { status: 'done', step: 'done', error: null });
  });
  d.log.info({ move: move.id, server: move.serverId, to: move.toGroup }, 'move done');
  return fin;
}

/** rollback returns a server whose move failed before its reset to where it was. */
export async function rollback(d: DispatcherDeps, move: MoveRecord, server: StoredServer): Promise<MoveRecord> {
  const bmc = d.bmcFor(server.bmcUrl);
  const steps = stepsFor(move.fromGroup, move.toGroup);
  try {
    await bmc.clearBootPointer(server.systemId);
  } catch (e) {
    d.log.warn({ move: move.id, err: e }, 'could not clear the boot pointer during rollback');
  }
  if (move.fromGroup !== null) {
    const from = await db.getGroup(d.store, move.fromGroup);
    const account = from ? await db.getAccount(d.store, from.accountId) : null;
    if (account && steps.includes('switch-volume'))
      await d.volumes.exportTo(account.id, server.uuid).catch(() => undefined);
    if (from) {
      // An edge that cannot be reached now is repaired by the edge reconciler (components/edge-sync.ts).
      await d.edge
        .upsertPool({ id: from.id, domains: from.domains })
        .then(() => d.edge.attach(from.id, { id: server.id, address: server.address }))
        .catch((e: unknown) =>
          d.log.warn(
            { move: move.id, err: e },
            'could not re-attach the server at the edge during rollback; the edge reconciler will',
          ),
        );
    }
  } else {
    await d.volumes.unexport(server.uuid).catch(() => undefined);
  }
  const fin = await d.store.transaction(async (tx) => {
    await d.fence?.(tx);
    const pos = rollbackPosition(move.fromGroup);
    await db.setServerPosition(tx, server.id, { ...pos, moveId: null });
    if (move.fromGroup !== null) await allocate(tx, server.id, move.fromGroup, d.clock.now());
    await db.addMoveEvent(tx, {
      moveId: move.id,
      step: move.step,
      outcome: 'rolled-back',
      detail: pos as unknown as Record<string, unknown>,
    });
    return db.updateMove(tx, move.id, { status: 'rolled-back' });
  });
  d.log.warn({ move: move.id, server: server.id }, 'move rolled back');
  return fin;
}

/** fail marks a server whose move failed after its reset as failed, out of every group. */
export async function fail(
  d: DispatcherDeps,
  move: MoveRecord,
  server: StoredServer,
  err: { code: string; message: string },
): Promise<MoveRecord> {
  if (move.toGroup !== null) await d.edge.detach(move.toGroup, server.id).catch(() => undefined);
  const fin = await d.store.transaction(async (tx) => {
    await d.fence?.(tx);
    await db.setServerPosition(tx, server.id, { state: 'failed', groupId: null, moveId: null });
    await db.closeAllocation(tx, server.id, d.clock.now());
    return db.updateMove(tx, move.id, { status: 'failed', error: err });
  });
  d.log.error({ move: move.id, server: server.id, err }, 'move failed; server marked failed');
  return fin;
}
