/**
 * api is the page's only data source: the manager's /v1 routes, called with the session cookie
 * (same origin, so the browser adds it and the Origin header the manager checks on changes).
 */

/** ApiError is a refused call, with the catalogue code and the manager's message. */
export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
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
  readonly targetMs: number;
  readonly busy: number;
}

/** MOVE_STEPS are the steps of a move, in order (src/core/dispatch). */
export const MOVE_STEPS = ['drain', 'detach', 'set-boot-pointer', 'switch-volume', 'reset', 'wait-healthy', 'attach', 'power-off', 'done'] as const;
