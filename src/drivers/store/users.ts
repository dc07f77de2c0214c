/**
 * users is the console's part of the store: the people who log in (argon2id password hashes,
 * role, account scope), their sessions (only a SHA-256 of the cookie's secret is kept) and the
 * services a reseller or operator disabled. Every function takes a Sql, so callers compose them
 * inside one transaction.
 */
import type { ApiRole } from '../../core/model/records.js';
import type { Sql } from './store.js';

type Row = Record<string, unknown>;

/** UserRecord is one console login, without its password hash. */
export interface UserRecord {
  readonly id: string;
  readonly name: string;
  readonly role: ApiRole;
  /** accountId scopes a reseller or customer; null for operators. */
  readonly accountId: string | null;
  readonly disabled: boolean;
  readonly createdAt: string;
}

/** StoredUser is a user with the PHC string of its password hash (only login reads it). */
export interface StoredUser extends UserRecord {
  readonly passwordHash: string;
}

/** SERVICE_STATES are the states a reseller or operator sets on a customer's service. */
export const SERVICE_STATES = ['active', 'disabled'] as const;
/** ServiceState is one of SERVICE_STATES. */
export type ServiceState = (typeof SERVICE_STATES)[number];

const iso = (v: unknown): string => (v instanceof Date ? v.toISOString() : String(v));

const userOf = (x: Row): StoredUser => ({
  id: String(x.id),
  name: String(x.name),
  role: String(x.role) as ApiRole,
  accountId: x.account_id === null ? null : String(x.account_id),
  disabled: x.disabled === true,
  createdAt: iso(x.created_at),
  passwordHash: String(x.password_hash),
});

/** publicUser drops the password hash, for anything that leaves the manager. */
export function publicUser(u: StoredUser): UserRecord {
  return { id: u.id, name: u.name, role: u.role, accountId: u.accountId, disabled: u.disabled, createdAt: u.createdAt };
}

/** insertUser stores a new user; a taken name fails with a unique violation (isUniqueViolation). */
export async function insertUser(
  sql: Sql,
  u: { id: string; name: string; passwordHash: string; role: ApiRole; accountId: string | null },
): Promise<UserRecord> {
  const r = await sql.query<Row>(
    'INSERT INTO users (id, name, password_hash, role, account_id) VALUES ($1, $2, $3, $4, $5) RETURNING *',
    [u.id, u.name, u.passwordHash, u.role, u.accountId],
  );
  return publicUser(userOf(r.rows[0] as Row));
}

/** findUserByName returns the user of a login name, hash included, or null. */
export async function findUserByName(sql: Sql, name: string): Promise<StoredUser | null> {
  const r = await sql.query<Row>('SELECT * FROM users WHERE name = $1', [name]);
  return r.rows[0] ? userOf(r.rows[0]) : null;
}

/** listUsers returns every user, by name. */
export async function listUsers(sql: Sql): Promise<UserRecord[]> {
  const r = await sql.query<Row>('SELECT * FROM users ORDER BY name');
  return r.rows.map((x) => publicUser(userOf(x)));
}

/** setPassword replaces a user's password hash and ends every session of that user but keepTokenHash's (the one that changed it). */
export async function setPassword(
  sql: Sql,
  userId: string,
  passwordHash: string,
  keepTokenHash: string | null = null,
): Promise<void> {
  await sql.query('UPDATE users SET password_hash = $2 WHERE id = $1', [userId, passwordHash]);
  await sql.query('DELETE FROM sessions WHERE user_id = $1 AND token_hash IS DISTINCT FROM $2', [
    userId,
    keepTokenHash,
  ]);
}

/** insertSession records a session by the hash of its secret. */
export async function insertSession(
  sql: Sql,
  s: { tokenHash: string; userId: string; expiresAt: Date },
): Promise<void> {
  await sql.query('INSERT INTO sessions (token_hash, user_id, expires_at) VALUES ($1, $2, $3)', [
    s.tokenHash,
    s.userId,
    s.expiresAt.toISOString(),
  ]);
}

/** findSession returns the user of a live session (not expired, user not disabled), or null. */
export async function findSession(sql: Sql, tokenHash: string, now: Date): Promise<UserRecord | null> {
  const r = await sql.query<Row>(
    'SELECT u.* FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1 AND s.expires_at > $2 AND NOT u.disabled',
    [tokenHash, now.toISOString()],
  );
  return r.rows[0] ? publicUser(userOf(r.rows[0])) : null;
}

/** deleteSession ends one session (logout); ending an unknown session does nothing. */
export async function deleteSession(sql: Sql, tokenHash: string): Promise<void> {
  await sql.query('DELETE FROM sessions WHERE token_hash = $1', [tokenHash]);
}

/** deleteExpiredSessions removes sessions that ended before `before` and returns how many. */
export async function deleteExpiredSessions(sql: Sql, before: Date): Promise<number> {
  const r = await sql.query('DELETE FROM sessions WHERE expires_at <= $1', [before.toISOString()]);
  return r.rowCount;
}

/** getServiceStates returns the recorded state of every group that has one (others are active). */
export async function getServiceStates(sql: Sql): Promise<Map<string, ServiceState>> {
  const r = await sql.query<Row>('SELECT group_id, state FROM service_states');
  return new Map(r.rows.map((x) => [String(x.group_id), String(x.state) as ServiceState]));
}

/** setServiceState records a group's service state and who set it. */
export async function setServiceState(sql: Sql, groupId: string, state: ServiceState, by: string): Promise<void> {
  await sql.query(
    `INSERT INTO service_states (group_id, state, changed_by) VALUES ($1, $2, $3)
     ON CONFLICT (group_id) DO UPDATE SET state = EXCLUDED.state, changed_by = EXCLUDED.changed_by, changed_at = now()`,
    [groupId, state, by],
  );
}
