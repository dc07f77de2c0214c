/**
 * auth turns a bearer token into a Principal and checks what that principal may see. API
 * tokens are 256-bit random secrets, so the store keeps their SHA-256 (a slow password hash
 * adds nothing for secrets of that entropy; passwords of people use argon2id elsewhere).
 */
import { createHash } from 'node:crypto';
import { HostfleetError } from '../../core/errors.js';
import type { ApiRole, Principal } from '../../core/model/records.js';
import { findApiToken, insertApiToken, listAccounts } from '../../drivers/store/resources.js';
import type { Sql } from '../../drivers/store/index.js';
import { findSession } from '../../drivers/store/users.js';
import { newId, newSecret } from '../../drivers/clock/index.js';

/** hashToken is the stored form of an API token or boot token. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** issueApiToken creates a new API token for a role (and account scope) and returns it once. */
export async function issueApiToken(
  sql: Sql,
  t: { role: ApiRole; accountId: string | null; name: string; token?: string },
): Promise<string> {
  const token = t.token ?? `hf_${newSecret(32)}`;
  await insertApiToken(sql, {
    id: newId(),
    tokenHash: hashToken(token),
    role: t.role,
    accountId: t.accountId,
    name: t.name,
  });
  return token;
}

/** ensureApiToken stores a configured token's hash unless it is stored already (idempotent). */
export async function ensureApiToken(
  sql: Sql,
  t: { role: ApiRole; accountId: string | null; name: string; token: string },
): Promise<void> {
  if ((await findApiToken(sql, hashToken(t.token))) === null) await issueApiToken(sql, t);
}

/**
 * Authenticator resolves bearer tokens, caching hits briefly to keep the store off the hot path.
 * One per manager (the manager builds it and hands it to the API and to the components that
 * check tokens), so revoking an account's tokens clears every route's cache at once; another
 * manager of the same site may trust a revoked token for at most ttlMs.
 */
export class Authenticator {
  private readonly cache = new Map<string, { p: Principal; until: number }>();
  // The cache's lifetime is measured on the monotonic clock: it bounds how long a revoked token
  // may be trusted, whatever the wall clock (or a test's clock) does.
  constructor(
    private readonly sql: Sql,
    private readonly ttlMs = 5000,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** forgetAccount drops the cached tokens of an account (its tokens were revoked). */
  forgetAccount(accountId: string): void {
    for (const [k, v] of this.cache) if (v.p.accountId === accountId) this.cache.delete(k);
  }

  /** authenticate returns the principal of an Authorization header or throws E_UNAUTHENTICATED. */
  async authenticate(header: string | undefined): Promise<Principal> {
    const m = header === undefined ? null : /^Bearer\s+([A-Za-z0-9_\-.~+/]{16,200}=*)$/.exec(header);
    if (!m)
      throw new HostfleetError(
        'E_UNAUTHENTICATED',
        'send an API token as "Authorization: Bearer <token>" (hostfleet up writes the operator token to <data dir>/operator-token)',
      );
    const hash = hashToken(m[1] as string);
    const hit = this.cache.get(hash);
    if (hit && hit.until > this.now()) return hit.p;
    const row = await findApiToken(this.sql, hash);
    if (!row)
      throw new HostfleetError('E_UNAUTHENTICATED', 'the API token is not known; ask an operator for a valid token');
    const p: Principal = { tokenId: row.id, role: row.role, accountId: row.accountId, name: row.name };
    this.cache.set(hash, { p, until: this.now() + this.ttlMs });
    return p;
  }
}

/** SESSION_COOKIE is the name of the console's session cookie (HttpOnly, SameSite=Strict). */
export const SESSION_COOKIE = 'hf_session';

/** sessionSecretOf returns the console session secret of a Cookie header, or null. */
export function sessionSecretOf(cookie: string | undefined): string | null {
  for (const part of (cookie ?? '').split(';')) {
    const [k, v] = part.trim().split('=', 2);
    if (k === SESSION_COOKIE && v !== undefined && /^[A-Za-z0-9_-]{16,200}$/.test(v)) return v;
  }
  return null;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * authenticateRequest accepts a bearer token or, without one, the console's session cookie.
 * Cookies ride along on cross-site requests, so a state-changing request authenticated by
 * cookie must also carry an Origin naming this very host (SameSite=Strict is the first guard,
 * this is the second, for browsers and proxies that do not honour it). Sessions end at `now`
 * (the manager's clock).
 */
export async function authenticateRequest(
  auth: Authenticator,
  sql: Sql,
  req: { method: string; headers: Record<string, string | string[] | undefined> },
  now: Date,
): Promise<Principal> {
  const h = req.headers;
  const secret =
    typeof h.authorization === 'string' ? null : sessionSecretOf(typeof h.cookie === 'string' ? h.cookie : undefined);
  if (secret === null) return auth.authenticate(typeof h.authorization === 'string' ? h.authorization : undefined);
  if (!SAFE_METHODS.has(req.method) && !sameOrigin(h.origin, h.host)) {
    throw new HostfleetError(
      'E_FORBIDDEN',
      'a request that changes something must come from the console page itself (its Origin header must name this host)',
    );
  }
  const u = await findSession(sql, hashToken(secret), now);
  if (!u) throw new HostfleetError('E_UNAUTHENTICATED', 'your session has ended; log in again');
  return { tokenId: `session:${u.id}`, role: u.role, accountId: u.accountId, name: u.name };
}

/** sameOrigin tells whether an Origin header names the host the request was sent to. */
export function sameOrigin(origin: string | string[] | undefined, host: string | string[] | undefined): boolean {
  if (typeof origin !== 'string' || typeof host !== 'string') return false;
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

/** requireRole throws E_FORBIDDEN unless the principal has one of the roles. */
export function requireRole(p: Principal, roles: readonly ApiRole[]): void {
  if (!roles.includes(p.role))
    throw new HostfleetError(
      'E_FORBIDDEN',
      `this needs the role ${roles.join(' or ')}; your token has the role ${p.role}`,
    );
}

/**
 * visibleAccounts returns the account ids a principal may see: all for operators, their own
 * and their customers' for resellers, their own for customers.
 */
export async function visibleAccounts(sql: Sql, p: Principal): Promise<Set<string> | 'all'> {
  if (p.role === 'operator') return 'all';
  if (p.accountId === null) return new Set();
  if (p.role === 'customer') return new Set([p.accountId]);
  const all = await listAccounts(sql);
  return new Set(all.filter((a) => a.id === p.accountId || a.resellerId === p.accountId).map((a) => a.id));
}

/** canSee tells whether an account is visible to a principal (from visibleAccounts' answer). */
export function canSee(visible: Set<string> | 'all', accountId: string): boolean {
  return visible === 'all' || visible.has(accountId);
}
