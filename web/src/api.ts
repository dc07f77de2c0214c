/**
 * api is the page's only data source: the manager's /v1 routes, called with the session cookie
 * (same origin, so the browser adds it and the Origin header the manager checks on changes).
 */

/** ApiError is a refused call, with the catalogue code and the manager's message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** call sends one request and returns the parsed answer or throws ApiError. */
export async function call<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T> {
  const r = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await r.text();
  const json = text ? (JSON.parse(text) as unknown) : {};
  if (!r.ok) {
    const e = (json as { error?: { code?: string; message?: string } }).error;
    throw new ApiError(r.status, e?.code ?? 'E_INTERNAL', e?.message ?? `HTTP ${r.status}`);
  }
  return json as T;
}

/** tryGet returns null instead of throwing when a route is absent (a feature not yet on this manager). */
export async function tryGet<T>(path: string): Promise<T | null> {
  try {
    return await call<T>('GET', path);
  } catch (e) {
    if (e instanceof ApiError && (e.status === 404 || e.status === 403)) return null;
    throw e;
  }
}

/** User is who is logged in. */
export interface User {
  readonly name: string;
  readonly role: 'operator' | 'reseller' | 'customer';
  readonly accountId: string | null;
}

/** Meter is a server's latest load as the console samples it. */
export interface Meter {
  readonly busy: number;
  readonly queue: number;
  readonly rps: number;
  readonly p95Ms: number | null;
}

/** Server is a server as /v1/events shows it. */
export interface Server {
  readonly id: string;
  readonly state: string;
  readonly place: 'group' | 'pool' | 'moving' | 'failed';
  readonly groupId: string | null;
  readonly moveId: string | null;
  readonly address?: string;
  readonly meter: Meter | null;
}

/** Group is a group with its servers and service state. */
export interface Group {
  readonly id: string;
  readonly accountId: string;
  readonly role: string;
  readonly minSize: number;
  readonly maxSize: number;
  readonly domains: readonly string[];
  readonly service: 'active' | 'disabled';
  readonly servers: readonly Server[];
}

/** Move is a move with its recorded steps. */
export interface Move {
  readonly id: string;
  readonly serverId: string;
  readonly fromGroup: string | null;
  readonly toGroup: string | null;
  readonly step: string;
  readonly status: 'running' | 'done' | 'failed' | 'rolled-back';
  readonly reason?: string;
  readonly requestedBy?: string;
  readonly createdAt: string;
  readonly finishedAt: string | null;
  readonly error: { code: string; message: string } | null;
  readonly steps: readonly { step: string; outcome: string; at: string }[];
}

/** Status is the `status` event of /v1/events. */
export interface Status {
  readonly groups: readonly Group[];
  readonly accounts: readonly { id: string; displayName: string; resellerId: string | null }[];
  readonly pool: readonly Server[];
  readonly failed: readonly Server[];
  readonly moving: readonly Server[];
  readonly running: readonly Move[];
  readonly recent: readonly Move[];
}

/** Sample is one chart point of a group. */
export interface Sample {
  readonly t: number;
  readonly servers: number;
  readonly rps: number;
  readonly p95Ms: number | null;
  /** targetMs is the p95 target of the group's SLA; null draws no target line. */
  readonly targetMs: number | null;
  readonly busy: number;
}

/** MOVE_STEPS are the steps of a move, in order (src/core/dispatch). */
export const MOVE_STEPS = [
  'drain',
  'detach',
  'set-boot-pointer',
  'switch-volume',
  'reset',
  'wait-healthy',
  'attach',
  'power-off',
  'done',
] as const;

/** Restriction is a billing restriction in force on an account (a cut-off or failed payments). */
export interface Restriction {
  readonly action: string;
  readonly reason: string;
  readonly resource: string | null;
  readonly day: string;
}

/** Usage is GET /v1/accounts/{id}/usage: a period's metered usage (docs/BILLING.md). */
export interface Usage {
  readonly period: string;
  readonly asOf: string;
  readonly draft: boolean;
  readonly roles: readonly {
    readonly role: string;
    readonly serverHours: string;
    readonly ramGbHours: string;
    /** levels are server-minutes per SLA level, when the account's price plan states levels. */
    readonly levels: {
      readonly committed: number;
      readonly burst: number;
      readonly extended: number;
      readonly peakServers: number;
    } | null;
  }[];
  readonly ramGbHours: string;
  readonly metrics: readonly {
    readonly metric: string;
    readonly kind: 'counter' | 'gauge';
    readonly total: string;
    readonly peak: number;
  }[];
  readonly restriction: Restriction | null;
}

/** Money is an amount as the API sends it (decimal text with the currency's minor digits). */
export interface Money {
  readonly amount: string;
  readonly currency: string;
}

/** Invoice is GET /v1/accounts/{id}/invoice (hostfleet.invoice/v1). */
export interface Invoice {
  readonly period: { readonly label: string };
  readonly currency: string;
  readonly lines: readonly {
    readonly kind: string;
    readonly description: string;
    readonly date: string | null;
    readonly quantity: string;
    readonly unit: string;
    readonly rate: string;
    readonly amount: Money;
  }[];
  readonly total: Money;
  readonly recommendations: readonly {
    readonly kind: string;
    readonly text: string;
    readonly detail: { readonly from?: unknown; readonly to?: unknown };
  }[];
  readonly draft: boolean;
  readonly asOf: string;
}

/** PricePlan is a stored price plan as the operator wrote it: an SLA plan or an allotment plan. */
export interface PricePlan {
  readonly id: string;
  readonly kind: 'sla' | 'allotment';
  readonly name?: string;
  readonly currency: string;
  readonly burstMultiple?: number | string;
  readonly extendedMultiple?: number | string;
  readonly burstEntryFee?: number | string;
  readonly extendedEntryFee?: number | string;
  readonly servers?: Readonly<
    Record<
      string,
      { readonly committed: number; readonly burst: number; readonly extended: number; readonly rate: number | string }
    >
  >;
  readonly price?: number | string;
  readonly allotments?: readonly {
    readonly resource: string;
    readonly included: number | string;
    readonly overageRate: number | string;
    readonly cutOffAt?: number | string | null;
  }[];
  readonly cutOffAction?: string;
}

/** AccountPlan is GET /v1/accounts/{id}/plan. */
export interface AccountPlan {
  readonly assignment: { readonly planId: string; readonly assignedAt: string } | null;
  readonly plan: PricePlan | null;
  readonly restriction: Restriction | null;
}

/** PlanReason is one line of a planned move's trace (src/core/decision/reasons.ts). */
export type PlanReason =
  | { readonly kind: 'request'; readonly source: string; readonly urgency: number; readonly wanted: number }
  | {
      readonly kind: 'tier';
      readonly tier: string;
      readonly held: number;
      readonly committed: number;
      readonly burst: number;
      readonly extended: number;
      readonly priority: number;
    }
  | { readonly kind: 'source'; readonly source: string; readonly group: string | null }
  | {
      readonly kind: 'donor';
      readonly group: string;
      readonly held: number;
      readonly committed: number;
      readonly priority: number;
      readonly offered: boolean;
    }
  | { readonly kind: 'skipped'; readonly code: string; readonly group: string | null; readonly count: number };

/** DecisionRequest is an agent's (or the loop's own) request for servers in a plan. */
export interface DecisionRequest {
  readonly id: string;
  readonly groupId: string;
  readonly kind: 'add' | 'release';
  readonly count: number;
  readonly urgency: number;
  readonly source: string;
  readonly serverId?: string | null;
}

/** StoredPlan is one decision tick as GET /v1/plans returns it. */
export interface StoredPlan {
  readonly id: string;
  readonly at: string;
  readonly moves: number;
  readonly plan: {
    readonly plan: {
      readonly moves: readonly {
        readonly serverId: string;
        readonly fromGroup: string | null;
        readonly toGroup: string | null;
        readonly tier: string;
        readonly source: string;
        readonly reasons: readonly PlanReason[];
      }[];
      readonly unmet: readonly {
        readonly groupId: string;
        readonly wanted: number;
        readonly granted: number;
        readonly code: string;
      }[];
      readonly skipped: Readonly<Record<string, number>>;
    };
    readonly outcomes: readonly {
      readonly serverId: string;
      readonly moveId: string | null;
      readonly error: { readonly code: string; readonly message: string } | null;
    }[];
    readonly failures: readonly {
      readonly serverId: string;
      readonly groupId: string | null;
      readonly causes: readonly string[];
      readonly action: string;
    }[];
    readonly requests?: readonly DecisionRequest[];
  };
}

/** LoopState is GET /v1/decision: the decision loop on this manager. */
export interface LoopState {
  readonly active: boolean;
  readonly enabled: boolean;
  readonly pendingRequests: number;
  readonly agentsHeard: number;
  readonly lastTick: { readonly at: number; readonly moves: number } | null;
}

/** GlobalReplica is the copy of an account's data at one replica site; lagMs null: never copied. */
export interface GlobalReplica {
  readonly site: string;
  readonly lagMs: number | null;
}

/** SiteReport is a site's last report heard on the global bus (src/services/global/protocol.ts). */
export interface SiteReport {
  readonly site: string;
  readonly utcOffsetMinutes: number;
  /** at is when the site sent it (ms since the epoch, the site's clock). */
  readonly at: number;
  readonly spare: number;
  readonly recall: number;
  readonly asks: readonly { readonly group: string; readonly account: string; readonly count: number }[];
  readonly accounts: readonly {
    readonly account: string;
    readonly displayName: string;
    readonly groups: readonly { readonly group: string }[];
    readonly replicas: readonly GlobalReplica[];
  }[];
  /** guests are the groups the site serves for other sites, with their servers ready to serve. */
  readonly guests: readonly {
    readonly home: string;
    readonly group: string;
    readonly ready: readonly { readonly id: string }[];
    readonly busy: number;
  }[];
  /** attached lists, per own group, the servers of other sites its edge sends traffic to. */
  readonly attached: readonly {
    readonly group: string;
    readonly lender: string;
    readonly servers: readonly string[];
  }[];
  readonly urls: { readonly api: string; readonly edge: string };
}

/** SiteView is the coordinator's last view of this site. */
export interface SiteView {
  readonly site: string;
  readonly at: number;
  readonly guests: readonly {
    readonly kind: 'loan' | 'takeover';
    readonly home: string;
    readonly account: string;
    readonly displayName: string;
    readonly spec: { readonly group: string };
    readonly count: number;
    readonly release: readonly string[];
  }[];
  readonly remote: readonly {
    readonly group: string;
    readonly lender: string;
    readonly servers: readonly { readonly id: string; readonly address: string }[];
  }[];
  /** takenOver are this site's accounts served elsewhere since it was lost; stopped: that site no longer serves them. */
  readonly takenOver: readonly { readonly account: string; readonly site: string; readonly stopped?: boolean }[];
}

/** GlobalAnswer is GET /v1/global: this site's part in several sites working together. */
export interface GlobalAnswer {
  readonly site: string;
  readonly enabled: boolean;
  readonly view: SiteView | null;
  readonly sites: readonly SiteReport[];
  /** attached are the lent servers this site's edge sends traffic to now. */
  readonly attached: readonly { readonly group: string; readonly lender: string; readonly server: string }[];
}
