/**
 * guests is the lender's side of a loan and the takeover site's side of a lost site: it serves
 * another site's group with the number of servers the coordinator's view asks for, booted on
 * the local copy of the customer's data, and takes back the servers the borrower has let go.
 */
import * as db from '../../../../drivers/store/resources.js';
import type { GuestOrder } from '../../../global/protocol.js';
import { guestName } from '../../../global/protocol.js';
import type { ManagerContext } from '../../context.js';

/** GuestDeps are what serving another site's group reads and acts through. */
export type GuestDeps = Pick<ManagerContext, 'store' | 'log' | 'dispatcher' | 'volumes' | 'fence'>;

/** applyGuest makes the site serve `count` servers of another site's group, and takes back the released ones. */
export async function applyGuest(d: GuestDeps, o: GuestOrder): Promise<void> {
  const accountId = guestName(o.home, o.account);
  const groupId = guestName(o.home, o.spec.group);
  if (o.count > 0) {
    const acc = await d.store.transaction(async (tx) => {
      await d.fence?.(tx);
      await db.upsertSite(tx, { id: o.home, name: o.home, timeZone: 'UTC' });
      return db.ensureGuestAccount(tx, { id: accountId, displayName: o.displayName, uid: o.uid, homeSite: o.home });
    });
    if (!(await db.getGroup(d.store, groupId))) {
      await d.store.transaction(async (tx) =>
        db.createGroup(tx, {
          id: groupId,
          accountId: acc.id,
          siteId: o.home,
          role: o.spec.role as never,
          minSize: 0,
          maxSize: Math.max(1, o.spec.extended),
          runtime: o.spec.runtime as never,
          image: o.spec.image,
          domains: o.kind === 'takeover' ? o.spec.domains : [],
        }),
      );
    } else if (o.kind === 'takeover')
      await d.store.transaction((tx) => db.setGroupDomains(tx, groupId, o.spec.domains));
  }
  // A takeover handed back leaves the group serving nothing here: its domains go back home.
  if (o.kind === 'loan') {
    const grp = await db.getGroup(d.store, groupId);
    if (grp && grp.domains.length > 0) await d.store.transaction((tx) => db.setGroupDomains(tx, groupId, []));
  }
  const servers = await db.listServers(d.store);
  const mine = servers.filter((s) => s.groupId === groupId);
  const moving = await db.listMoves(d.store, { status: 'running', limit: 1000 });
  const joining = moving.filter((m) => m.toGroup === groupId).length;
  // A lent server that failed no longer counts: another takes its place.
  let missing = o.count - mine.filter((s) => s.moveId === null && s.state !== 'failed').length - joining;
  if (missing > 0) {
    // The guest account's volume is the replica of its data copied here; ensure keeps the data
    // and makes it the account's alone.
    await d.volumes.ensure(accountId, { uid: o.uid, gid: o.uid });
    const idle = servers
      .filter((s) => s.moveId === null && (s.state === 'pool-warm' || s.state === 'pool-cold'))
      .sort((a, b) => (a.state === b.state ? (a.id < b.id ? -1 : 1) : a.state === 'pool-warm' ? -1 : 1));
    for (const s of idle) {
      if (missing <= 0) break;
      await d.dispatcher
        .request({
          serverId: s.id,
          toGroup: groupId,
          reason: `global: ${o.kind === 'loan' ? 'lent to' : 'takes over'} ${o.home}/${o.spec.group}`,
          requestedBy: 'global',
        })
        .then(() => missing--)
        .catch((e: unknown) => d.log.warn({ err: e, server: s.id, group: groupId }, 'global: could not start a move'));
    }
  }
  for (const id of o.release) {
    const s = servers.find((x) => x.id === id);
    if (!s || s.groupId !== groupId || s.moveId !== null) continue;
    await d.dispatcher
      .request({
        serverId: id,
        toGroup: null,
        reason: `global: back from ${o.home}/${o.spec.group}`,
        requestedBy: 'global',
      })
      .catch((e: unknown) => d.log.warn({ err: e, server: id }, 'global: could not take a lent server back'));
  }
}
