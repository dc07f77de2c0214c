/**
 * report builds what the site tells the global coordinator each round: the idle servers it can
 * lend (its cold and warm pool, less what its own groups are short of and what it keeps idle),
 * the servers it wants back, what its groups ask of other sites, its customers' accounts with
 * where their data is copied, and the groups it serves for other sites. Pure: the component
 * reads the store and the drivers, this turns what it read into the message.
 */
import type { GroupRecord, AccountRecord } from '../../../../core/model/records.js';
import type { StoredServer } from '../../../../core/model/server.js';
import { defaultSla, serverLevels, type Sla } from '../../../../core/model/sla.js';
import type { SiteOutlook } from '../decision/index.js';
import { PROTOCOL_VERSION, type SiteReportMessage } from '../../../global/protocol.js';

/** ReportInput is what one round read. */
export interface ReportInput {
  readonly site: string;
  readonly utcOffsetMinutes: number;
  readonly now: number;
  readonly servers: readonly StoredServer[];
  readonly groups: readonly GroupRecord[];
  readonly accounts: readonly AccountRecord[];
  readonly slas: readonly Sla[];
  readonly outlook: SiteOutlook | null;
  readonly keepIdle: number;
  /** asks are the held asks per group (after the hold against flapping). */
  readonly asks: ReadonlyMap<string, number>;
  /** lagOf is the replication lag of an account's copy at a site (null: never copied). */
  readonly lagOf: (account: string, site: string) => number | null;
  readonly replicaSites: readonly string[];
  /** attached are the lent servers the site's edge sends traffic to, per group and lender. */
  readonly attached: readonly {
    readonly group: string;
    readonly lender: string;
    readonly servers: readonly string[];
  }[];
  readonly restored: readonly string[];
  readonly urls: { readonly api: string; readonly edge: string };
}

/** isIdle tells whether a server is in the pool, not moving, so it could be lent. */
const isIdle = (s: StoredServer) => s.moveId === null && (s.state === 'pool-cold' || s.state === 'pool-warm');

/** askCount is what a group asks of other sites now: wanted less held here, while it is short of supply or borrows already. */
export function askCount(o: { want: number; held: number; unmet: number }, borrowed: number): number {
  if (o.unmet <= 0 && borrowed <= 0) return 0;
  return Math.max(0, o.want - o.held);
}

/** buildReport turns one round's reading into the site's report. */
export function buildReport(x: ReportInput): SiteReportMessage {
  const own = x.groups.filter((g) => g.siteId === x.site);
  const guestGroups = x.groups.filter((g) => g.siteId !== x.site);
  const ownAccounts = new Set(own.map((g) => g.accountId));
  const slaOf = new Map(x.slas.map((s) => [s.groupId, s]));
  const idle = x.servers.filter(isIdle).length;
  let short = 0;
  let unmet = 0;
  for (const o of x.outlook?.groups.values() ?? []) {
    short += Math.max(0, o.want - o.held);
    unmet += o.unmet;
  }
  const lentOut = x.servers.filter((s) => s.groupId !== null && guestGroups.some((g) => g.id === s.groupId)).length;
  // A site uses its own idle servers before it borrows: what it could serve itself is not asked for.
  const asks: SiteReportMessage['asks'] = [];
  let ownIdle = idle;
  for (const g of own) {
    const wanted = x.asks.get(g.id) ?? 0;
    const n = Math.max(0, wanted - ownIdle);
    ownIdle = Math.max(0, ownIdle - wanted);
    if (n > 0)
      asks.push({
        group: g.id,
        account: g.accountId,
        count: n,
        priority: (slaOf.get(g.id) ?? defaultSla(g.id)).priority,
      });
  }
  const held = new Map<string, number>();
  for (const s of x.servers)
    if (s.groupId !== null && s.state !== 'failed') held.set(s.groupId, (held.get(s.groupId) ?? 0) + 1);
  const accounts: SiteReportMessage['accounts'] = x.accounts
    .filter((a) => ownAccounts.has(a.id))
    .map((a) => ({
      account: a.id,
      uid: a.uid,
      displayName: a.displayName,
      groups: own
        .filter((g) => g.accountId === a.id)
        .map((g) => ({
          group: g.id,
          held: held.get(g.id) ?? 0,
          extended: serverLevels(slaOf.get(g.id) ?? defaultSla(g.id)).extended,
          role: g.role,
          image: g.image,
          runtime: g.runtime as unknown as Record<string, unknown>,
          domains: [...g.domains],
        })),
      replicas: x.replicaSites.map((site) => ({ site, lagMs: x.lagOf(a.id, site) })),
    }));
  const guests: SiteReportMessage['guests'] = guestGroups.map((g) => {
    const mine = x.servers.filter((s) => s.groupId === g.id);
    return {
      home: g.siteId,
      group: g.id.slice(g.siteId.length + 1),
      ready: mine
        .filter((s) => s.moveId === null && s.state === 'active')
        .map((s) => ({ id: s.id, address: s.address })),
      busy: mine.filter((s) => s.moveId !== null).length,
    };
  });
  return {
    v: PROTOCOL_VERSION,
    site: x.site,
    utcOffsetMinutes: x.utcOffsetMinutes,
    at: x.now,
    spare: Math.max(0, idle - short - x.keepIdle),
    recall: Math.min(lentOut, unmet),
    asks,
    accounts,
    guests,
    attached: x.attached.map((a) => ({ group: a.group, lender: a.lender, servers: [...a.servers] })),
    restored: [...x.restored],
    urls: x.urls,
  };
}
