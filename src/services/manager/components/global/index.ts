/**
 * global is the site's side of several sites working together (docs/MULTISITE.md). When the
 * configuration has a `global` section, the active manager, every `global.reportMs`:
 * - reports the site's standing to the global coordinator (report.ts);
 * - carries out the coordinator's last view: as a lender it moves pool servers into the guest
 *   group of another site's customer (booting the customer's personality on the local replica
 *   of its data) and takes back the servers the borrower has let go; as a borrower it attaches
 *   the lent servers to its own edge pool, drains and detaches them when the loan ends, and
 *   records their minutes for billing at the extended level; as the replica site of a lost
 *   site it serves that site's customers at its own edge;
 * - copies every account's volume to its replica sites (every `global.replication.everyMs`).
 * The site goes on alone when the coordinator or the global bus is gone: the decision loop
 * never waits on either.
 */
import type { FastifyInstance } from 'fastify';
import { openBus } from '../../../../drivers/bus/index.js';
import type { Bus, Subscription } from '../../../../drivers/bus/index.js';
import { subjects } from '../../../../drivers/bus/subjects.js';
import * as db from '../../../../drivers/store/resources.js';
import { closeOffsiteUse, openOffsiteUse } from '../../../../drivers/store/offsite.js';
import type { Replicator } from '../../../../drivers/replication/index.js';
import { replicationLagMs } from '../../../../drivers/replication/index.js';
import type { Component, ManagerContext } from '../../context.js';
import { requireRole } from '../../auth.js';
import { principalOf } from '../../principal.js';
import type { DecisionLoop } from '../decision/index.js';
import {
  parseReport,
  parseView,
  remoteServerId,
  utcOffsetMinutes,
  type SiteReportMessage,
  type SiteView,
} from '../../../global/protocol.js';
import { askCount, buildReport } from './report.js';
import { applyGuest } from './guests.js';

/** GlobalDeps are what the site's global side reads and acts through. */
export type GlobalDeps = Pick<
  ManagerContext,
  'cfg' | 'siteId' | 'store' | 'log' | 'clock' | 'dispatcher' | 'edge' | 'volumes' | 'isLeader' | 'fence'
> & {
  readonly loop: () => DecisionLoop;
  /** replicators copy this site's volumes to each replica site, by site id. */
  readonly replicators: ReadonlyMap<string, Replicator>;
  /** urls are where the site's API and edge are reached (for the global view). */
  readonly urls: { readonly api: string; readonly edge: string };
};

/** GlobalComponent is the component, with what the decision loop and the edge reconciler read of it. */
export interface GlobalComponent extends Component {
  /** remoteRps is what servers of other sites serve for a group now (requests per second). */
  remoteRps(groupId: string): number;
  /** isRemote tells whether an edge pool's server is one lent by another site (the reconciler leaves it be). */
  isRemote(poolId: string, serverId: string): boolean;
  /** round runs one report-and-apply round now (tests). */
  round(): Promise<void>;
  /** view is the coordinator's last view of this site, and the other sites' last reports. */
  snapshot(): { view: SiteView | null; sites: SiteReportMessage[] };
}

interface Attached {
  readonly group: string;
  readonly lender: string;
  readonly server: string;
  readonly edgeId: string;
  readonly accountId: string;
}

/** createGlobal returns the site's global component; without a `global` section it does nothing. */
export function createGlobal(d: GlobalDeps): GlobalComponent {
  const g = d.cfg.global;
  let bus: Bus | null = null;
  const subs: Subscription[] = [];
  let view: SiteView | null = null;
  const sites = new Map<string, SiteReportMessage>();
  const attached = new Map<string, Attached>();
  const askHeld = new Map<string, { count: number; at: number }>();
  const served = new Map<string, { served: number; at: number; rps: number }>();
  const restored = new Set<string>();
  let timer: NodeJS.Timeout | null = null;
  let repTimer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  let replicating: Promise<void> | null = null;
  const now = () => d.clock.now().getTime();

  /** heldAsks holds each group's ask at its highest for askHoldMs, so a dip does not send loans back. */
  function heldAsks(raw: ReadonlyMap<string, number>): Map<string, number> {
    const t = now();
    const out = new Map<string, number>();
    for (const [group, n] of raw) {
      const h = askHeld.get(group);
      if (h === undefined || n >= h.count || t - h.at > (g?.askHoldMs ?? 0)) {
        askHeld.set(group, { count: n, at: t });
        out.set(group, n);
      } else out.set(group, h.count);
    }
    return out;
  }

  async function report(): Promise<void> {
    if (!bus || !g) return;
    const [servers, groups, accounts, slas] = await Promise.all([
      db.listServers(d.store),
      db.listGroups(d.store),
      db.listAccounts(d.store),
      db.listSlas(d.store),
    ]);
    const outlook = d.loop().outlook;
    const borrowed = new Map<string, number>();
    for (const a of attached.values()) borrowed.set(a.group, (borrowed.get(a.group) ?? 0) + 1);
    const raw = new Map<string, number>();
    for (const [group, o] of outlook?.groups ?? []) raw.set(group, askCount(o, borrowed.get(group) ?? 0));
    const byGroup = new Map<string, Map<string, string[]>>();
    for (const a of attached.values()) {
      const m = byGroup.get(a.group) ?? new Map<string, string[]>();
      m.set(a.lender, [...(m.get(a.lender) ?? []), a.server]);
      byGroup.set(a.group, m);
    }
    const msg = buildReport({
      site: d.siteId,
      utcOffsetMinutes: utcOffsetMinutes(d.cfg.site.timeZone, now()),
      now: now(),
      servers,
      groups,
      accounts,
      slas,
      outlook,
      keepIdle: g.keepIdle,
      asks: heldAsks(raw),
      lagOf: (account, site) => {
        const st = d.replicators.get(site)?.status(account) ?? null;
        return st === null ? null : replicationLagMs(st, d.clock.now());
      },
      replicaSites: [...d.replicators.keys()],
      attached: [...byGroup].flatMap(([group, m]) =>
        [...m].map(([lender, list]) => ({ group, lender, servers: list })),
      ),
      restored: [...restored],
      urls: d.urls,
    });
    await bus.publish(subjects.global(d.siteId, 'report'), msg);
  }

  /** applyRemote attaches the servers lent to this site's groups and drains the ones no longer lent. */
  async function applyRemote(v: SiteView): Promise<void> {
    const want = new Map<string, Attached & { address: string }>();
    const groups = new Map((await db.listGroups(d.store)).map((x) => [x.id, x]));
    for (const r of v.remote) {
      const grp = groups.get(r.group);
      if (!grp || grp.siteId !== d.siteId) continue;
      for (const s of r.servers) {
        const edgeId = remoteServerId(r.lender, s.id);
        want.set(`${r.group}/${edgeId}`, {
          group: r.group,
          lender: r.lender,
          server: s.id,
          edgeId,
          accountId: grp.accountId,
          address: s.address,
        });
      }
    }
    const at = d.clock.now();
    for (const [k, a] of want) {
      if (attached.has(k)) continue;
      await d.edge.attach(a.group, { id: a.edgeId, address: a.address });
      attached.set(k, a);
      await openOffsiteUse(d.store, {
        groupId: a.group,
        accountId: a.accountId,
        lender: a.lender,
        serverId: a.server,
        at,
      });
      d.log.info({ group: a.group, lender: a.lender, server: a.server }, 'global: lent server attached');
    }
    for (const [k, a] of [...attached]) {
      if (want.has(k)) continue;
      await d.edge.drain(a.group, a.edgeId, { timeoutMs: d.cfg.moves.drainTimeoutMs });
      await d.edge.detach(a.group, a.edgeId);
      attached.delete(k);
      await closeOffsiteUse(d.store, { groupId: a.group, lender: a.lender, serverId: a.server, at: d.clock.now() });
      d.log.info({ group: a.group, lender: a.lender, server: a.server }, 'global: lent server drained and let go');
    }
  }

  /** measureRemote reads what the lent servers served since the last round, from the edge's counters. */
  async function measureRemote(): Promise<void> {
    if (attached.size === 0) return;
    const t = now();
    const st = await d.edge.status();
    for (const p of st)
      for (const s of p.servers) {
        const k = `${p.id}/${s.id}`;
        if (!attached.has(k)) continue;
        const prev = served.get(k);
        const rps = prev && t > prev.at ? ((s.served - prev.served) * 1000) / (t - prev.at) : 0;
        served.set(k, { served: s.served, at: t, rps });
      }
    for (const k of [...served.keys()]) if (!attached.has(k)) served.delete(k);
  }

  /** restore copies back the data of accounts served elsewhere while this site was lost: the replica's copy wins. */
  async function restoreTakenOver(v: SiteView): Promise<void> {
    for (const t of v.takenOver) {
      // The takeover site first stops serving; then its copy, with every write it took, comes home.
      if (restored.has(t.account) || !t.stopped) continue;
      const rep = d.replicators.get(t.site);
      const acc = await db.getAccount(d.store, t.account);
      if (!rep || !acc) continue;
      await rep.restore(t.account, { uid: acc.uid, gid: acc.gid });
      restored.add(t.account);
      d.log.info({ account: t.account, from: t.site }, 'global: data copied back from the takeover site');
    }
    for (const a of [...restored]) if (!v.takenOver.some((t) => t.account === a)) restored.delete(a);
  }

  async function round(): Promise<void> {
    if (!d.isLeader()) return;
    const v = view;
    if (v !== null && now() - v.at < 10 * (g?.reportMs ?? 2000)) {
      for (const o of v.guests)
        await applyGuest(d, o).catch((e: unknown) =>
          d.log.warn({ err: e, home: o.home, group: o.spec.group }, 'global: could not serve a guest group'),
        );
      await applyRemote(v);
      await restoreTakenOver(v);
    } else if (attached.size > 0) {
      // No word from the coordinator: lent servers stay as they are (their lender keeps them for us).
    }
    await measureRemote();
    await report();
  }

  async function replicate(): Promise<void> {
    // No copy goes out before the coordinator's view has said which accounts were taken over
    // while this site was away: copying those would overwrite the writes made at their takeover site.
    if (!d.isLeader() || d.replicators.size === 0 || view === null) return;
    const groups = (await db.listGroups(d.store)).filter((x) => x.siteId === d.siteId);
    const accounts = await db.listAccounts(d.store);
    const own = accounts.filter((a) => groups.some((x) => x.accountId === a.id));
    for (const [site, rep] of d.replicators) {
      // An account taken over while this site was lost is copied back, never over.
      const skip = new Set(
        view?.takenOver.filter((t) => t.site === site && !restored.has(t.account)).map((t) => t.account),
      );
      for (const a of own) {
        if (skip.has(a.id)) continue;
        await rep
          .sync(a.id, { uid: a.uid, gid: a.gid })
          .catch((e: unknown) =>
            d.log.warn({ err: e, account: a.id, site }, 'replication: copy failed; the lag grows'),
          );
      }
    }
  }

  return {
    name: 'global',
    remoteRps(groupId) {
      let n = 0;
      for (const [k, s] of served) if (k.startsWith(`${groupId}/`)) n += s.rps;
      return n;
    },
    isRemote(poolId, serverId) {
      return attached.has(`${poolId}/${serverId}`);
    },
    round,
    snapshot() {
      return { view, sites: [...sites.values()].sort((a, b) => (a.site < b.site ? -1 : 1)) };
    },
    async routes(app: FastifyInstance) {
      app.get('/v1/global', { schema: { tags: ['global'] } }, async (req) => {
        requireRole(principalOf(req), ['operator']);
        return {
          site: d.siteId,
          enabled: g !== undefined,
          view,
          sites: [...sites.values()].sort((a, b) => (a.site < b.site ? -1 : 1)),
          attached: [...attached.values()].map(({ group, lender, server }) => ({ group, lender, server })),
        };
      });
    },
    async start() {
      if (!g) return;
      bus = await openBus({ url: g.bus.url, token: g.bus.token, name: `manager-${d.siteId}-global` });
      subs.push(
        await bus.subscribe(subjects.global(d.siteId, 'view'), (data) => {
          const v = parseView(data);
          if (v === null || v.site !== d.siteId) {
            d.log.warn('global: dropped a view that is not a valid view of this site');
            return;
          }
          view = v;
        }),
      );
      subs.push(
        await bus.subscribe(subjects.globalAll('report'), (data) => {
          const r = parseReport(data);
          if (r !== null) sites.set(r.site, r);
        }),
      );
      const tick = () => {
        if (running) return;
        running = round()
          .catch((e: unknown) => d.log.warn({ err: e }, 'global: round failed; retrying at the next one'))
          .finally(() => (running = null));
      };
      timer = setInterval(tick, g.reportMs);
      timer.unref();
      const rep = () => {
        if (replicating) return;
        replicating = replicate()
          .catch((e: unknown) => d.log.warn({ err: e }, 'replication round failed'))
          .finally(() => (replicating = null));
      };
      rep();
      repTimer = setInterval(rep, g.replication.everyMs);
      repTimer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      if (repTimer) clearInterval(repTimer);
      await running;
      await replicating;
      for (const s of subs) await s.unsubscribe().catch(() => undefined);
      for (const r of d.replicators.values()) await r.close().catch(() => undefined);
      await bus?.close();
    },
  };
}
