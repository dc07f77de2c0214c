/**
 * admission checks a requested move against the resource database, inside the transaction that
 * records it, so two requests for one server (or one free place in a group) cannot both pass:
 * the server is locked, not in another move, in a group or the pool; its target group exists
 * and has room; its source group keeps its minimum size unless forced. The move is recorded
 * with its first step, its kind and its started event.
 */
import { HostfleetError } from '../../../core/errors.js';
import { count } from '../../../core/count.js';
import { firstStep, moveKindFor } from '../../../core/dispatch/move.js';
import type { MoveKind } from '../../../core/dispatch/move.js';
import type { MoveRecord } from '../../../core/model/records.js';
import type { StoredServer } from '../../../core/model/server.js';
import { newId } from '../../../drivers/clock/index.js';
import type { Sql } from '../../../drivers/store/index.js';
import * as db from '../../../drivers/store/resources.js';
import * as wdb from '../../../drivers/store/warm.js';
import type { MoveRequest, WarmRequest } from '../dispatcher.js';

/** idleServer locks a server and returns it, unless it does not exist or is in a move already. */
async function idleServer(tx: Sql, serverId: string): Promise<StoredServer> {
  const server = await db.getServer(tx, serverId, true);
  if (!server)
    throw new HostfleetError('E_NOT_FOUND', `server ${serverId} does not exist; list servers with hostfleet status`, {
      details: { server: serverId },
    });
  if (server.moveId !== null)
    throw new HostfleetError(
      'E_MOVE_IN_PROGRESS',
      `server ${server.id} is already being moved (move ${server.moveId}); wait for it to finish`,
      { details: { server: server.id, move: server.moveId } },
    );
  return server;
}

/** admitMove checks and records a move of a server to a group or to the pool. */
export async function admitMove(tx: Sql, r: MoveRequest): Promise<MoveRecord> {
  const server = await idleServer(tx, r.serverId);
  const inGroup = server.state === 'active' || server.state === 'draining';
  const inPool = server.state === 'pool-cold' || server.state === 'pool-warm';
  if (!inGroup && !inPool)
    throw new HostfleetError(
      'E_CONFLICT',
      `server ${server.id} is ${server.state}; only active servers and servers in the pool can be moved`,
      { details: { server: server.id, state: server.state } },
    );
  const from = inGroup ? server.groupId : null;
  if (from === r.toGroup)
    throw new HostfleetError('E_CONFLICT', `server ${server.id} is already in ${r.toGroup ?? 'the pool'}`, {
      details: { server: server.id },
    });
  const all = await db.listServers(tx);
  if (r.toGroup !== null) {
    const g = await db.getGroup(tx, r.toGroup);
    if (!g)
      throw new HostfleetError('E_NOT_FOUND', `group ${r.toGroup} does not exist`, {
        details: { group: r.toGroup },
      });
    const joining = (await db.listMoves(tx, { status: 'running', limit: 1000 })).filter(
      (m) => m.toGroup === g.id,
    ).length;
    const members = all.filter((s) => s.groupId === g.id).length;
    if (members + joining >= g.maxSize)
      throw new HostfleetError('E_CONFLICT', `group ${g.id} is at its maximum size of ${count(g.maxSize, 'server')}`, {
        details: { group: g.id, maxSize: g.maxSize, members, joining },
      });
  }
  if (from !== null && !r.force) {
    const g = await db.getGroup(tx, from);
    const members = all.filter((s) => s.groupId === from && s.state === 'active').length;
    if (g && members - 1 < g.minSize)
      throw new HostfleetError(
        'E_CONFLICT',
        `moving ${server.id} would leave group ${from} below its minimum of ${count(g.minSize, 'active server')}; pass force to do it anyway`,
        {
          details: { group: from, minSize: g.minSize, active: members },
          fields: [{ field: 'body.force', problem: `must be true to leave ${from} below its minimum` }],
        },
      );
  }
  // A server warm for the target group joins without a boot; one warm for another group boots as usual.
  const kind = moveKindFor(server.state, server.warmFor ?? null, r.toGroup);
  const m = await db.insertMove(tx, {
    id: newId(),
    serverId: server.id,
    fromGroup: from,
    toGroup: r.toGroup,
    step: firstStep(from, r.toGroup, kind),
    reason: r.reason,
    requestedBy: r.requestedBy,
  });
  await wdb.setMoveKind(tx, m.id, kind);
  if (kind === 'move' && (server.warmFor ?? null) !== null) await wdb.setWarmFor(tx, server.id, null);
  await db.setServerPosition(tx, server.id, { state: server.state, groupId: server.groupId, moveId: m.id });
  await db.addMoveEvent(tx, {
    moveId: m.id,
    step: m.step,
    outcome: 'started',
    detail: { from, to: r.toGroup, reason: r.reason, ...(kind === 'move' ? {} : { kind }) },
  });
  return m;
}

/** admitWarm checks and records a warm-up (a cold pool server) or a cool-down (a warm one). */
export async function admitWarm(tx: Sql, r: WarmRequest, kind: MoveKind): Promise<MoveRecord> {
  const server = await idleServer(tx, r.serverId);
  const want = kind === 'warm-up' ? 'pool-cold' : 'pool-warm';
  if (server.state !== want)
    throw new HostfleetError(
      'E_CONFLICT',
      `server ${server.id} is ${server.state}; only ${want} servers can be ${kind === 'warm-up' ? 'warmed' : 'cooled'}`,
      { details: { server: server.id, state: server.state } },
    );
  if (r.groupId !== null && !(await db.getGroup(tx, r.groupId)))
    throw new HostfleetError('E_NOT_FOUND', `group ${r.groupId} does not exist`, { details: { group: r.groupId } });
  const m = await db.insertMove(tx, {
    id: newId(),
    serverId: server.id,
    fromGroup: null,
    toGroup: null,
    step: firstStep(null, null, kind),
    reason: r.reason,
    requestedBy: r.requestedBy,
  });
  await wdb.setMoveKind(tx, m.id, kind);
  await db.setServerPosition(tx, server.id, { state: server.state, groupId: null, moveId: m.id });
  if (r.groupId !== null) await wdb.setWarmFor(tx, server.id, r.groupId);
  await db.addMoveEvent(tx, {
    moveId: m.id,
    step: m.step,
    outcome: 'started',
    detail: { kind, warmFor: r.groupId ?? server.warmFor ?? null, reason: r.reason },
  });
  return m;
}
