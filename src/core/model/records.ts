import type { Role } from './names.js';
import type { RuntimeConfig } from './personality.js';

/** SiteRecord is one site (a data centre) with its time zone. */
export interface SiteRecord {
  readonly id: string;
  readonly name: string;
  readonly timeZone: string;
}

/** AccountRecord is one customer account; uid/gid are the identity its workloads run as. */
export interface AccountRecord {
  readonly id: string;
  readonly displayName: string;
  readonly uid: number;
  readonly gid: number;
  readonly resellerId: string | null;
}

/** GroupRecord is the group of servers of one account in one role at one site. */
export interface GroupRecord {
  readonly id: string;
  readonly accountId: string;
  readonly siteId: string;
  readonly role: Role;
  readonly minSize: number;
  readonly maxSize: number;
  readonly runtime: RuntimeConfig;
  readonly image: string;
  readonly domains: readonly string[];
}

/** MOVE_STATUSES are the outcomes of a move workflow. */
export const MOVE_STATUSES = ['running', 'done', 'failed', 'rolled-back'] as const;
/** MoveStatus is one of MOVE_STATUSES. */
export type MoveStatus = (typeof MOVE_STATUSES)[number];

/** MoveRecord is a durable move workflow as the store records it. */
export interface MoveRecord {
  readonly id: string;
  readonly serverId: string;
  /** fromGroup is null when the server comes from the pool. */
  readonly fromGroup: string | null;
  /** toGroup is null when the server returns to the pool. */
  readonly toGroup: string | null;
  readonly step: string;
  readonly status: MoveStatus;
  readonly attempts: number;
  readonly reason: string;
  readonly requestedBy: string;
  readonly error: { readonly code: string; readonly message: string } | null;
  readonly bootTokenHash: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly finishedAt: string | null;
}

/** MoveEvent is one recorded step outcome of a move. */
export interface MoveEvent {
  readonly moveId: string;
  readonly step: string;
  readonly outcome: 'started' | 'done' | 'retry' | 'failed' | 'skipped' | 'rolled-back';
  readonly detail: Readonly<Record<string, unknown>> | null;
  readonly at: string;
}

/** API_ROLES are the roles an API caller can have. */
export const API_ROLES = ['operator', 'reseller', 'customer'] as const;
/** ApiRole is one of API_ROLES. */
export type ApiRole = (typeof API_ROLES)[number];

/** Principal is an authenticated API caller. */
export interface Principal {
  readonly tokenId: string;
  readonly role: ApiRole;
  /** accountId scopes a customer (their account) or a reseller (the reseller's own account). */
  readonly accountId: string | null;
  readonly name: string;
}
