/**
 * plan is the global decision routine of seed 001 (Figures 9, 10 and 13): each round it takes
 * every site's last report and matches the off-site capacity sites ask for with the servers
 * other sites offer, the way a site's manager matches its agents' add and release requests.
 *
 * Rules, in the order a round applies them:
 * 1. A site silent for `lostAfterMs` is lost. Its loans end (a lost lender's servers are gone;
 *    a lost borrower's are taken back), and each of its accounts is taken over by the alive
 *    site holding the freshest replica of its data; the data-loss window is that replica's lag
 *    in the lost site's last report. A lost site that reports again is back; an account it has
 *    copied back from its takeover site (`restored`) is handed back.
 * 2. Loans go back when the borrower's ask falls below what it holds (least preferred lender
 *    and youngest loan first), when the lender recalls servers for its own customers (youngest
 *    first), and when the lender's replica of the account is no longer current.
 * 3. Asks are served by SLA priority, then by the size of what is missing. A group may hold
 *    up to its extended level with loans. A lender must hold a current replica (lag at most
 *    `maxLagMs`) of the account's data. Lenders are tried in the seed's order: first the
 *    site whose local time is latest (east of the borrower), then westward; between sites at
 *    the same offset, the one with most spare first.
 *
 * Pure: no clock, no I/O; `now` and the reports are the inputs, the next state one output.
 */
import {
  DEFAULT_GLOBAL_SETTINGS,
  type GlobalPlan,
  type GlobalReason,
  type GlobalSettings,
  type GlobalState,
  type GroupRef,
  type LendOrder,
  type Loan,
  type ReturnOrder,
  type SiteReport,
  type SiteSeen,
  type Takeover,
} from './types.js';

/** MINUTES_PER_DAY wraps time-zone offsets. */
const MINUTES_PER_DAY = 1440;

/** newGlobalState is the state before the first round. */
export function newGlobalState(): GlobalState {
  return { loans: [], takeovers: [], lost: [], nextId: 1 };
}

/** eastOf is how many minutes later the lender's local time is than the borrower's, in [0, 1440). */
export function eastOf(lenderOffsetMin: number, borrowerOffsetMin: number): number {
  return (((lenderOffsetMin - borrowerOffsetMin) % MINUTES_PER_DAY) + MINUTES_PER_DAY) % MINUTES_PER_DAY;
}

/**
 * lenderOrder sorts candidate lenders for a borrower by the seed's preference: the site at the
 * next later time zone first (east), then on round the globe to the west; equal offsets by
 * spare, most first, then by name so the order is stable.
 */
export function lenderOrder(
  borrower: SiteReport,
  lenders: readonly SiteReport[],
  spare: (site: string) => number,
): SiteReport[] {
  return [...lenders].sort(
    (a, b) =>
      eastOf(a.utcOffsetMinutes, borrower.utcOffsetMinutes) - eastOf(b.utcOffsetMinutes, borrower.utcOffsetMinutes) ||
      spare(b.site) - spare(a.site) ||
      (a.site < b.site ? -1 : a.site > b.site ? 1 : 0),
  );
}

/** sameGroup tells whether two references name one group. */
function sameGroup(a: GroupRef, b: GroupRef): boolean {
  return a.home === b.home && a.group === b.group;
}

/** replicaLag is the lag of account's copy at site as its home reported it: undefined when there is no copy. */
export function replicaLag(home: SiteReport, account: string, site: string): number | null | undefined {
  const acc = home.accounts.find((a) => a.account === account);
  const r = acc?.replicas.find((x) => x.site === site);
  return r === undefined ? undefined : r.lagMs;
}

/** planGlobal runs one round of the global routine; see the module comment for its rules. */
export function planGlobal(
  state: GlobalState,
  seen: readonly SiteSeen[],
  now: number,
  settings: GlobalSettings = DEFAULT_GLOBAL_SETTINGS,
): GlobalPlan {
  const reasons: GlobalReason[] = [];
  const reports = new Map(seen.map((s) => [s.report.site, s.report]));
  const alive = new Set(seen.filter((s) => now - s.receivedAt <= settings.lostAfterMs).map((s) => s.report.site));
  let lost = state.lost.filter((s) => !alive.has(s));
  for (const s of state.lost) if (alive.has(s)) reasons.push({ code: 'site-back', site: s });
  const newlyLost = seen.map((s) => s.report.site).filter((s) => !alive.has(s) && !state.lost.includes(s));
  lost = [...lost, ...newlyLost];
  for (const s of newlyLost)
    reasons.push({ code: 'site-lost', site: s, detail: `silent over ${settings.lostAfterMs} ms` });

  // 1. Takeovers: hand back what the home has restored; take over the newly lost sites' accounts.
  const handbacks: Takeover[] = [];
  let takeovers = state.takeovers.filter((t) => {
    const home = reports.get(t.home);
    if (alive.has(t.home) && home?.restored.includes(t.account)) {
      handbacks.push(t);
      reasons.push({ code: 'restored', site: t.home, detail: `${t.account} handed back by ${t.site}` });
      return false;
    }
    return true;
  });
  const started: Takeover[] = [];
  for (const s of newlyLost) {
    const last = reports.get(s) as SiteReport;
    for (const acc of last.accounts) {
      if (takeovers.some((t) => t.account === acc.account && t.home === s)) continue;
      const candidates = acc.replicas
        .filter((r) => alive.has(r.site) && r.lagMs !== null)
        .sort((a, b) => (a.lagMs as number) - (b.lagMs as number) || (a.site < b.site ? -1 : 1));
      const best = candidates[0];
      if (best === undefined) {
        reasons.push({ code: 'takeover-no-replica', site: s, detail: `${acc.account}: no alive site holds a copy` });
        continue;
      }
      const t: Takeover = {
        account: acc.account,
        home: s,
        site: best.site,
        groups: acc.groups.map((g) => ({ group: g.group, count: Math.max(1, g.held) })),
        since: now,
        rpoMs: best.lagMs,
      };
      started.push(t);
      reasons.push({
        code: 'takeover',
        site: best.site,
        detail: `${acc.account} of ${s}, data-loss window ${best.lagMs} ms`,
      });
    }
  }
  takeovers = [...takeovers, ...started];

  // 2. Returns.
  const returns: ReturnOrder[] = [];
  let loans: Loan[] = [...state.loans];
  const giveBack = (loan: Loan, count: number, code: ReturnOrder['code']) => {
    returns.push({ loanId: loan.id, lender: loan.lender, to: loan.to, count, code });
    reasons.push({ code, site: loan.to.home, group: loan.to, lender: loan.lender, count });
    loans = loans.flatMap((l) => (l.id !== loan.id ? [l] : l.count > count ? [{ ...l, count: l.count - count }] : []));
  };
  for (const l of [...loans])
    if (!alive.has(l.lender) || !alive.has(l.to.home)) giveBack(l, l.count, 'return-site-lost');
  for (const l of [...loans]) {
    const home = reports.get(l.to.home) as SiteReport;
    const lag = replicaLag(home, l.account, l.lender);
    if (lag === undefined || lag === null || lag > settings.maxLagMs) giveBack(l, l.count, 'return-replica-stale');
  }
  for (const site of alive) {
    const r = reports.get(site) as SiteReport;
    let want = r.recall;
    const mine = loans.filter((l) => l.lender === site).sort((a, b) => b.since - a.since || (a.id < b.id ? 1 : -1));
    for (const l of mine) {
      if (want <= 0) break;
      const k = Math.min(want, l.count);
      giveBack(l, k, 'return-recall');
      want -= k;
    }
  }
  const askOf = (g: GroupRef): number => reports.get(g.home)?.asks.find((a) => a.group === g.group)?.count ?? 0;
  const groupsLent = new Map<string, GroupRef>();
  for (const l of loans) groupsLent.set(`${l.to.home}\u0000${l.to.group}`, l.to);
  for (const g of groupsLent.values()) {
    let excess = loans.filter((l) => sameGroup(l.to, g)).reduce((n, l) => n + l.count, 0) - askOf(g);
    if (excess <= 0) continue;
    const borrower = reports.get(g.home) as SiteReport;
    const pref = lenderOrder(
      borrower,
      [...alive].map((s) => reports.get(s) as SiteReport),
      () => 0,
    ).map((r) => r.site);
    const mine = loans
      .filter((l) => sameGroup(l.to, g))
      .sort((a, b) => pref.indexOf(b.lender) - pref.indexOf(a.lender) || b.since - a.since);
    for (const l of mine) {
      if (excess <= 0) break;
      const k = Math.min(excess, l.count);
      giveBack(l, k, 'return-ask-fell');
      excess -= k;
    }
  }

  // 3. Lends. A lender's spare is its report's idle servers less what it was told to lend and has not yet handed over.
  const spareLeft = new Map<string, number>();
  for (const site of alive) {
    const r = reports.get(site) as SiteReport;
    const handed = new Map(r.lending.map((x) => [x.loanId, x.servers]));
    const pending = state.loans
      .filter((l) => l.lender === site)
      .reduce((n, l) => n + Math.max(0, l.count - (handed.get(l.id) ?? 0)), 0);
    spareLeft.set(site, r.recall > 0 ? 0 : Math.max(0, r.spare - pending));
  }
  const lend: LendOrder[] = [];
  let roundLeft = settings.maxLendPerRound;
  let nextId = state.nextId;
  const asks = [...alive]
    .flatMap((site) => (reports.get(site) as SiteReport).asks.map((a) => ({ site, a })))
    .map(({ site, a }) => {
      const to = { home: site, group: a.group };
      const held = loans.filter((l) => sameGroup(l.to, to)).reduce((n, l) => n + l.count, 0);
      return { site, a, to, missing: a.count - held };
    })
    .filter((x) => x.missing > 0)
    .sort((x, y) => y.a.priority - x.a.priority || y.missing - x.missing || (x.site < y.site ? -1 : 1));
  for (const { site, a, to, missing } of asks) {
    const borrower = reports.get(site) as SiteReport;
    const home = borrower.accounts.find((x) => x.account === a.account)?.groups.find((g) => g.group === a.group);
    const lent = loans.filter((l) => sameGroup(l.to, to)).reduce((n, l) => n + l.count, 0);
    const room = home === undefined ? missing : Math.max(0, home.extended - home.held - lent);
    let want = Math.min(missing, room);
    if (want < missing) reasons.push({ code: 'at-extended', site, group: to, count: missing - want });
    const order = lenderOrder(
      borrower,
      [...alive].filter((s) => s !== site).map((s) => reports.get(s) as SiteReport),
      (s) => spareLeft.get(s) ?? 0,
    );
    for (let rank = 0; rank < order.length && want > 0 && roundLeft > 0; rank++) {
      const lender = (order[rank] as SiteReport).site;
      const lag = replicaLag(borrower, a.account, lender);
      if (lag === undefined || lag === null) {
        reasons.push({ code: 'no-replica', site, group: to, lender, rank });
        continue;
      }
      if (lag > settings.maxLagMs) {
        reasons.push({ code: 'replica-stale', site, group: to, lender, rank, detail: `lag ${lag} ms` });
        continue;
      }
      const can = Math.min(want, spareLeft.get(lender) ?? 0, roundLeft);
      if (can <= 0) {
        reasons.push({ code: 'no-offer', site, group: to, lender, rank });
        continue;
      }
      const loan: Loan = { id: `loan-${nextId++}`, lender, to, account: a.account, count: can, since: now };
      loans.push(loan);
      lend.push({ loanId: loan.id, lender, to, account: a.account, count: can });
      reasons.push({ code: 'lend', site, group: to, lender, count: can, rank });
      spareLeft.set(lender, (spareLeft.get(lender) ?? 0) - can);
      roundLeft -= can;
      want -= can;
    }
    // The limit can fall after the last lender that had servers: what it leaves waits for the next round.
    if (want > 0 && roundLeft <= 0) reasons.push({ code: 'round-limit', site, group: to, count: want });
  }

  return {
    state: { loans, takeovers, lost, nextId },
    lend,
    returns,
    takeovers: started,
    handbacks,
    reasons,
  };
}
