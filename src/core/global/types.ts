/**
 * types are the global routine's data: what each site's manager reports (the servers it can
 * offer, the off-site capacity it asks for, where its customers' data is replicated), the loans
 * and takeovers in force, and the orders and reasons one round of `planGlobal` returns.
 *
 * Names: a group is named by its home site and its id there (`GroupRef`), because group ids
 * are unique only within a site.
 */

/** GroupRef names a group at its home site. */
export interface GroupRef {
  readonly home: string;
  readonly group: string;
}

/** ReplicaView is how current one account's copy at one remote site is, as its home site last measured. */
export interface ReplicaView {
  readonly site: string;
  /** lagMs is how far the copy trails the working data (now − start of the last good sync); null: never synced. */
  readonly lagMs: number | null;
}

/** HomeAccount is one account whose home is the reporting site: its groups and where its data is copied. */
export interface HomeAccount {
  readonly account: string;
  readonly groups: readonly HomeGroup[];
  readonly replicas: readonly ReplicaView[];
}

/** HomeGroup is one of a home account's groups: how many servers serve it at home now. */
export interface HomeGroup {
  readonly group: string;
  readonly held: number;
  /** extended is the SLA's extended level (servers), the ceiling of what the group may hold with loans. */
  readonly extended: number;
}

/**
 * OffsiteAsk is a site asking for capacity it cannot supply (the seed's "request additional
 * off-site services"): `count` is how many servers the group wants from other sites in all,
 * the ones already lent to it included, so an ask that falls lets loans go back.
 */
export interface OffsiteAsk {
  readonly group: string;
  readonly account: string;
  readonly count: number;
  /** priority is the SLA priority (0–1): who is served first when offers run short. */
  readonly priority: number;
}

/** SiteReport is what one site's manager tells the global routine every round. */
export interface SiteReport {
  readonly site: string;
  /** utcOffsetMinutes is the site's local time offset now (east of Greenwich positive). */
  readonly utcOffsetMinutes: number;
  /** at is when the report was made (ms since the epoch, the site's clock). */
  readonly at: number;
  /** spare is how many idle servers the site can lend now: its pool less what it keeps for itself. */
  readonly spare: number;
  /** recall is how many of the servers it has lent it wants back for its own customers. */
  readonly recall: number;
  readonly asks: readonly OffsiteAsk[];
  readonly accounts: readonly HomeAccount[];
  /** lending lists the loans this site serves as lender and how many of their servers it has handed over. */
  readonly lending: readonly { readonly loanId: string; readonly servers: number }[];
  /** restored lists accounts taken over while this site was lost whose data it has copied back. */
  readonly restored: readonly string[];
}

/** SiteSeen is a site's last report and when the global routine received it (its own clock). */
export interface SiteSeen {
  readonly report: SiteReport;
  readonly receivedAt: number;
}

/** Loan is servers of one site lent to a group of another site. */
export interface Loan {
  readonly id: string;
  readonly lender: string;
  readonly to: GroupRef;
  readonly account: string;
  readonly count: number;
  /** since is when the loan was ordered. */
  readonly since: number;
}

/**
 * Takeover is a lost site's account served from its replica site: the replica's copy becomes
 * the working data until the home site is back and has taken the copy back (`restored`).
 */
export interface Takeover {
  readonly account: string;
  readonly home: string;
  readonly site: string;
  readonly groups: readonly { readonly group: string; readonly count: number }[];
  /** since is when the home site was declared lost. */
  readonly since: number;
  /** rpoMs is the data-loss window: the replica's lag in the home site's last report (null: unknown). */
  readonly rpoMs: number | null;
}

/** GlobalState is what the global routine keeps between rounds. */
export interface GlobalState {
  readonly loans: readonly Loan[];
  readonly takeovers: readonly Takeover[];
  /** lost lists the sites declared lost and not yet back. */
  readonly lost: readonly string[];
  /** nextId numbers loans. */
  readonly nextId: number;
}

/** GlobalSettings tune the routine; DEFAULT_GLOBAL_SETTINGS are the defaults. */
export interface GlobalSettings {
  /** maxLagMs: a replica trailing more than this is not current enough to serve from. */
  readonly maxLagMs: number;
  /** lostAfterMs: a site silent this long is lost; its customers are served from their replicas. */
  readonly lostAfterMs: number;
  /** maxLendPerRound bounds the servers lent in one round (a burst of asks is met over a few rounds). */
  readonly maxLendPerRound: number;
}

/** DEFAULT_GLOBAL_SETTINGS: replicas within 5 minutes serve, a site silent 10 s is lost, 20 servers a round. */
export const DEFAULT_GLOBAL_SETTINGS: GlobalSettings = {
  maxLagMs: 300_000,
  lostAfterMs: 10_000,
  maxLendPerRound: 20,
};

/** GLOBAL_CODES name what a round did or why it did not. */
export const GLOBAL_CODES = [
  'lend',
  'return-ask-fell',
  'return-recall',
  'return-replica-stale',
  'return-site-lost',
  'no-offer',
  'no-replica',
  'replica-stale',
  'at-extended',
  'round-limit',
  'site-lost',
  'takeover',
  'takeover-no-replica',
  'site-back',
  'restored',
] as const;
/** GlobalCode is one of GLOBAL_CODES. */
export type GlobalCode = (typeof GLOBAL_CODES)[number];

/** GlobalReason is one line of a round's trace: what happened to which group, and why. */
export interface GlobalReason {
  readonly code: GlobalCode;
  readonly site: string;
  readonly group?: GroupRef | undefined;
  /** lender is the site that lends (or would have), where it matters. */
  readonly lender?: string | undefined;
  readonly count?: number | undefined;
  /** rank is the lender's place in the borrower's order of preference (0: first choice). */
  readonly rank?: number | undefined;
  readonly detail?: string | undefined;
}

/** LendOrder tells a lender to give count servers to a group of another site (a new or grown loan). */
export interface LendOrder {
  readonly loanId: string;
  readonly lender: string;
  readonly to: GroupRef;
  readonly account: string;
  readonly count: number;
}

/** ReturnOrder tells a borrower to drain count servers of a loan and the lender to take them back. */
export interface ReturnOrder {
  readonly loanId: string;
  readonly lender: string;
  readonly to: GroupRef;
  readonly count: number;
  readonly code: GlobalCode;
}

/** GlobalPlan is one round's outcome. */
export interface GlobalPlan {
  readonly state: GlobalState;
  readonly lend: readonly LendOrder[];
  readonly returns: readonly ReturnOrder[];
  /** takeovers started this round (a site was lost). */
  readonly takeovers: readonly Takeover[];
  /** handbacks are takeovers whose home site is back and has restored its data: the replica site stops serving. */
  readonly handbacks: readonly Takeover[];
  readonly reasons: readonly GlobalReason[];
}
