/**
 * coordinator is the `hostfleet global` process: the seed's global decision routine run live.
 * It hears every site's report on the global bus, runs one round of `planGlobal`
 * (src/core/global) every `roundMs`, and answers each site with its view: the groups it serves
 * for other sites (loans, takeovers of a lost site) and the servers of other sites its own
 * groups may send traffic to. Sites go on alone when it is gone; it keeps nothing a restart
 * would lose that the sites do not report again (loans are rebuilt from the lenders' reports).
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import {
  DEFAULT_GLOBAL_SETTINGS,
  newGlobalState,
  planGlobal,
  type GlobalReason,
  type GlobalSettings,
  type GlobalState,
  type SiteReport,
  type SiteSeen,
} from '../../core/global/index.js';
import type { Bus, Subscription } from '../../drivers/bus/index.js';
import { subjects } from '../../drivers/bus/subjects.js';
import type { Clock } from '../../drivers/clock/index.js';
import { tokenMatches } from './token.js';
import { PROTOCOL_VERSION, parseReport, type GuestOrder, type SiteReportMessage, type SiteView } from './protocol.js';

/** CoordinatorOptions configure the global process. */
export interface CoordinatorOptions {
  readonly bus: Bus;
  readonly clock: Clock;
  readonly log: Logger;
  readonly settings?: GlobalSettings;
  /** roundMs is how often a round runs (default 2000). */
  readonly roundMs?: number;
  /** listen, when given, serves GET /v1/global (the global view) with the bearer token. */
  readonly listen?: { readonly host: string; readonly port: number; readonly token: string };
}

/** GlobalStatus is the global view: sites, loans, takeovers and the last reasons. */
export interface GlobalStatus {
  readonly at: string;
  readonly sites: readonly {
    readonly site: string;
    readonly alive: boolean;
    readonly lost: boolean;
    readonly lastReportAgeMs: number;
    readonly utcOffsetMinutes: number;
    readonly localTime: string;
    readonly spare: number;
    readonly lentOut: number;
    readonly borrowed: number;
    readonly urls: { readonly api: string; readonly edge: string };
    readonly replicas: readonly { readonly account: string; readonly site: string; readonly lagMs: number | null }[];
  }[];
  readonly loans: GlobalState['loans'];
  readonly takeovers: GlobalState['takeovers'];
  readonly reasons: readonly (GlobalReason & { readonly at: string })[];
}

/** REASONS_KEPT bounds the reasons the status keeps (newest last). */
const REASONS_KEPT = 200;

/** Coordinator is a running global routine. */
export interface Coordinator {
  readonly url: string | null;
  /** round runs one round now (the timer runs them too) and returns the views it sent. */
  round(): Promise<SiteView[]>;
  status(): GlobalStatus;
  close(): Promise<void>;
}

/** coreReport is the part of a site's report the pure routine reads. */
function coreReport(r: SiteReportMessage, state: GlobalState): SiteReport {
  // A lender has handed a loan over as far as its ready guest servers go, oldest loan first.
  const lending: { loanId: string; servers: number }[] = [];
  for (const g of r.guests) {
    let ready = g.ready.length;
    for (const l of state.loans.filter((x) => x.lender === r.site && x.to.home === g.home && x.to.group === g.group)) {
      const k = Math.min(ready, l.count);
      lending.push({ loanId: l.id, servers: k });
      ready -= k;
    }
  }
  return {
    site: r.site,
    utcOffsetMinutes: r.utcOffsetMinutes,
    at: r.at,
    spare: r.spare,
    recall: r.recall,
    asks: r.asks,
    accounts: r.accounts.map((a) => ({
      account: a.account,
      groups: a.groups.map((g) => ({ group: g.group, held: g.held, extended: g.extended })),
      replicas: a.replicas,
    })),
    lending,
    restored: r.restored,
  };
}

/**
 * chosen are the lender's ready servers a loan of `count` uses: the ones the borrower has
 * attached already first (a loan never swaps a serving server for a newly booted one), then by id.
 */
export function chosen<T extends { readonly id: string }>(
  ready: readonly T[],
  attached: ReadonlySet<string>,
  count: number,
): T[] {
  return [...ready]
    .sort((a, b) => Number(attached.has(b.id)) - Number(attached.has(a.id)) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .slice(0, Math.max(0, count));
}

/**
 * viewsOf turns the routine's state and the sites' reports into each site's view. A lender
 * serves, per group, the sum of its loans (and takeovers); the borrower is given the first
 * `count` ready servers by id, and a lender may take back a server only once the borrower no
 * longer has it attached (its edge drained it first).
 */
export function viewsOf(
  state: GlobalState,
  reports: ReadonlyMap<string, SiteReportMessage>,
  alive: ReadonlySet<string>,
  at: number,
): SiteView[] {
  const spec = (home: string, group: string) => {
    for (const a of reports.get(home)?.accounts ?? []) {
      const g = a.groups.find((x) => x.group === group);
      if (g) return { a, g };
    }
    return null;
  };
  const attachedAt = (home: string, group: string, lender: string): Set<string> =>
    new Set(
      (reports.get(home)?.attached ?? [])
        .filter((x) => x.group === group && x.lender === lender)
        .flatMap((x) => x.servers),
    );
  const views: SiteView[] = [];
  for (const site of alive) {
    const r = reports.get(site) as SiteReportMessage;
    const targets = new Map<string, { home: string; group: string; kind: GuestOrder['kind']; count: number }>();
    const key = (home: string, group: string) => `${home}\u0000${group}`;
    for (const l of state.loans.filter((x) => x.lender === site)) {
      const k = key(l.to.home, l.to.group);
      const t = targets.get(k) ?? { home: l.to.home, group: l.to.group, kind: 'loan' as const, count: 0 };
      targets.set(k, { ...t, count: t.count + l.count });
    }
    // A takeover serves while its home is lost; once the home is back it stops, so the home can
    // copy the data back with every write made here (and none made after).
    for (const t of state.takeovers.filter((x) => x.site === site))
      for (const g of t.groups)
        targets.set(key(t.home, g.group), {
          home: t.home,
          group: g.group,
          kind: 'takeover',
          count: alive.has(t.home) ? 0 : g.count,
        });
    for (const g of r.guests)
      if (!targets.has(key(g.home, g.group)))
        targets.set(key(g.home, g.group), { home: g.home, group: g.group, kind: 'loan', count: 0 });
    const guests: GuestOrder[] = [];
    for (const t of targets.values()) {
      const s = spec(t.home, t.group);
      if (!s) continue;
      // A borrower's attachments hold its servers; a takeover's servers serve at this site's own edge.
      const inUse = t.kind === 'loan' ? attachedAt(t.home, t.group, site) : new Set<string>();
      const ready = r.guests.find((g) => g.home === t.home && g.group === t.group)?.ready ?? [];
      const keep = new Set(chosen(ready, inUse, t.count).map((x) => x.id));
      const release = ready.map((x) => x.id).filter((id) => !keep.has(id) && !inUse.has(id));
      guests.push({
        kind: t.kind,
        home: t.home,
        account: s.a.account,
        uid: s.a.uid,
        displayName: s.a.displayName,
        spec: s.g,
        count: t.count,
        release,
      });
    }
    const remote: SiteView['remote'] = [];
    const byLender = new Map<string, { group: string; lender: string; count: number }>();
    for (const l of state.loans.filter((x) => x.to.home === site && alive.has(x.lender))) {
      const k = `${l.to.group}\u0000${l.lender}`;
      const e = byLender.get(k) ?? { group: l.to.group, lender: l.lender, count: 0 };
      byLender.set(k, { ...e, count: e.count + l.count });
    }
    for (const e of byLender.values()) {
      const ready = reports.get(e.lender)?.guests.find((g) => g.home === site && g.group === e.group)?.ready ?? [];
      remote.push({
        group: e.group,
        lender: e.lender,
        servers: chosen(ready, attachedAt(site, e.group, e.lender), e.count),
      });
    }
    const takenOver = state.takeovers
      .filter((t) => t.home === site)
      .map((t) => {
        const at = reports.get(t.site);
        const serving = t.groups.some((g) => {
          const guest = at?.guests.find((x) => x.home === t.home && x.group === g.group);
          return guest !== undefined && guest.ready.length + guest.busy > 0;
        });
        return { account: t.account, site: t.site, stopped: alive.has(t.site) && !serving };
      });
    views.push({ v: PROTOCOL_VERSION, site, at, guests, remote, takenOver });
  }
  return views;
}

/** startCoordinator starts the global routine on the bus (and its HTTP view when asked). */
export async function startCoordinator(o: CoordinatorOptions): Promise<Coordinator> {
  const settings = o.settings ?? DEFAULT_GLOBAL_SETTINGS;
  const roundMs = o.roundMs ?? 2000;
  const seen = new Map<string, { report: SiteReportMessage; receivedAt: number }>();
  let state = newGlobalState();
  const reasons: (GlobalReason & { at: string })[] = [];
  const now = () => o.clock.now().getTime();

  const sub: Subscription = await o.bus.subscribe(subjects.globalAll('report'), (data, msg) => {
    const r = parseReport(data);
    const site = msg.subject.split('.')[1];
    if (r === null || r.site !== site) {
      o.log.warn({ subject: msg.subject }, 'global: dropped a report that is not a valid site report of its subject');
      return;
    }
    seen.set(r.site, { report: r, receivedAt: now() });
  });

  let running: Promise<SiteView[]> | null = null;
  async function round(): Promise<SiteView[]> {
    const t = now();
    const list: SiteSeen[] = [...seen.values()].map((s) => ({
      report: coreReport(s.report, state),
      receivedAt: s.receivedAt,
    }));
    const plan = planGlobal(state, list, t, settings);
    state = plan.state;
    const stamp = o.clock.now().toISOString();
    for (const r of plan.reasons) {
      if (r.code === 'no-offer' || r.code === 'no-replica' || r.code === 'replica-stale') continue;
      reasons.push({ ...r, at: stamp });
      o.log.info({ reason: r }, `global: ${r.code}`);
    }
    if (reasons.length > REASONS_KEPT) reasons.splice(0, reasons.length - REASONS_KEPT);
    const alive = new Set(
      [...seen.values()].filter((s) => t - s.receivedAt <= settings.lostAfterMs).map((s) => s.report.site),
    );
    const reports = new Map([...seen.values()].map((s) => [s.report.site, s.report]));
    const views = viewsOf(state, reports, alive, t);
    for (const v of views) await o.bus.publish(subjects.global(v.site, 'view'), v);
    return views;
  }
  const timer = setInterval(() => {
    if (running) return;
    running = round()
      .catch((e: unknown) => {
        o.log.warn({ err: e }, 'global: round failed; retrying at the next one');
        return [];
      })
      .finally(() => (running = null));
  }, roundMs);
  timer.unref();

  function status(): GlobalStatus {
    const t = now();
    const reportsOf = [...seen.values()].sort((a, b) => (a.report.site < b.report.site ? -1 : 1));
    return {
      at: o.clock.now().toISOString(),
      sites: reportsOf.map(({ report: r, receivedAt }) => ({
        site: r.site,
        alive: t - receivedAt <= settings.lostAfterMs,
        lost: state.lost.includes(r.site),
        lastReportAgeMs: t - receivedAt,
        utcOffsetMinutes: r.utcOffsetMinutes,
        localTime: new Intl.DateTimeFormat('en-GB', { timeZone: 'UTC', hour: '2-digit', minute: '2-digit' }).format(
          t + r.utcOffsetMinutes * 60_000,
        ),
        spare: r.spare,
        lentOut: state.loans.filter((l) => l.lender === r.site).reduce((n, l) => n + l.count, 0),
        borrowed: state.loans.filter((l) => l.to.home === r.site).reduce((n, l) => n + l.count, 0),
        urls: r.urls,
        replicas: r.accounts.flatMap((a) =>
          a.replicas.map((x) => ({ account: a.account, site: x.site, lagMs: x.lagMs })),
        ),
      })),
      loans: state.loans,
      takeovers: state.takeovers,
      reasons: [...reasons],
    };
  }

  let app: FastifyInstance | null = null;
  let url: string | null = null;
  if (o.listen) {
    const token = o.listen.token;
    app = Fastify({ logger: false });
    app.addHook('onRequest', async (req, reply) => {
      const h = req.headers.authorization ?? '';
      if (!h.startsWith('Bearer ') || !tokenMatches(h.slice(7), token))
        return reply
          .code(401)
          .send({ error: { code: 'E_UNAUTHENTICATED', message: 'a valid bearer token is required' } });
    });
    app.get('/v1/global', async () => status());
    url = await app.listen({ host: o.listen.host, port: o.listen.port });
  }

  return {
    url,
    round,
    status,
    async close() {
      clearInterval(timer);
      await running;
      await sub.unsubscribe();
      await app?.close();
    },
  };
}
