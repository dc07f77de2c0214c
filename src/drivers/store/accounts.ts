/**
 * accounts holds the customers' side of the resource database: sites, accounts (each with its
 * own uid and gid for its workloads) and the API tokens scoped to them. Every function takes a
 * Sql, so callers compose them inside one transaction.
 */
import { HostfleetError } from '../../core/errors.js';
import type { AccountRecord, ApiRole, SiteRecord } from '../../core/model/records.js';
import { isUniqueViolation, type Row } from './rows.js';
import type { Sql } from './store.js';

/** upsertSite creates a site or updates its name and time zone. */
export async function upsertSite(sql: Sql, s: SiteRecord): Promise<void> {
  await sql.query(
    `INSERT INTO sites (id, name, time_zone) VALUES ($1, $2, $3)
     ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, time_zone = EXCLUDED.time_zone`,
    [s.id, s.name, s.timeZone],
  );
}

/** listSites returns every site. */
export async function listSites(sql: Sql): Promise<SiteRecord[]> {
  const r = await sql.query<Row>('SELECT id, name, time_zone FROM sites ORDER BY id');
  return r.rows.map((x) => ({ id: String(x.id), name: String(x.name), timeZone: String(x.time_zone) }));
}

/** FIRST_ACCOUNT_UID is the first uid given to a customer account's workloads. */
export const FIRST_ACCOUNT_UID = 200_001;

/**
 * UID_RANGE is how many uids one site gives out from its first (site.firstUid). Sites that hold
 * each other's data must have disjoint ranges: a guest account keeps its home uid.
 */
export const UID_RANGE = 100_000;

const accountOf = (x: Row): AccountRecord => ({
  id: String(x.id),
  displayName: String(x.display_name),
  uid: Number(x.uid),
  gid: Number(x.gid),
  resellerId: x.reseller_id === null ? null : String(x.reseller_id),
});

/** createAccount creates an account with the next free uid (gid = uid); E_CONFLICT if the id exists. */
export async function createAccount(
  sql: Sql,
  a: { id: string; displayName: string; resellerId?: string | null },
  firstUid: number = FIRST_ACCOUNT_UID,
): Promise<AccountRecord> {
  // Guest accounts (another site's customers served here) keep their home uids; this site's own
  // uids come from its own range.
  const next = await sql.query<{ uid: number }>(
    'SELECT COALESCE(MAX(uid) + 1, $1)::int AS uid FROM accounts WHERE uid >= $1 AND uid < $2',
    [firstUid, firstUid + UID_RANGE],
  );
  const uid = next.rows[0]?.uid ?? firstUid;
  if (uid >= firstUid + UID_RANGE)
    throw new HostfleetError('E_CONFLICT', `the site has given out all ${UID_RANGE} uids from ${firstUid}`);
  try {
    const r = await sql.query<Row>(
      'INSERT INTO accounts (id, display_name, uid, gid, reseller_id) VALUES ($1, $2, $3, $3, $4) RETURNING *',
      [a.id, a.displayName, uid, a.resellerId ?? null],
    );
    return accountOf(r.rows[0] as Row);
  } catch (e) {
    if (isUniqueViolation(e))
      throw new HostfleetError('E_CONFLICT', `account ${a.id} already exists; choose another id`, {
        details: { account: a.id },
      });
    throw e;
  }
}

/**
 * ensureGuestAccount creates (or finds) the account under which this site serves another
 * site's customer, with the customer's home uid. E_CONFLICT when that uid belongs to another
 * account here: serving it would let one customer read another's data.
 */
export async function ensureGuestAccount(
  sql: Sql,
  a: { id: string; displayName: string; uid: number; homeSite: string },
): Promise<AccountRecord> {
  const clash = await sql.query<Row>('SELECT id, home_site FROM accounts WHERE uid = $1 AND id <> $2', [a.uid, a.id]);
  if (clash.rows.length > 0)
    throw new HostfleetError(
      'E_CONFLICT',
      `uid ${a.uid} of ${a.homeSite}'s account belongs to account ${String(clash.rows[0]?.id)} here; give the sites disjoint uid ranges (site.firstUid)`,
    );
  await sql.query(
    `INSERT INTO accounts (id, display_name, uid, gid, home_site) VALUES ($1, $2, $3, $3, $4)
     ON CONFLICT (id) DO NOTHING`,
    [a.id, a.displayName, a.uid, a.homeSite],
  );
  const r = await sql.query<Row>('SELECT * FROM accounts WHERE id = $1', [a.id]);
  const got = accountOf(r.rows[0] as Row);
  if (got.uid !== a.uid)
    throw new HostfleetError('E_CONFLICT', `account ${a.id} exists here with uid ${got.uid}, not ${a.uid}`);
  return got;
}

/** getAccount returns an account or null. */
export async function getAccount(sql: Sql, id: string): Promise<AccountRecord | null> {
  const r = await sql.query<Row>('SELECT * FROM accounts WHERE id = $1', [id]);
  return r.rows[0] ? accountOf(r.rows[0]) : null;
}

/** listAccounts returns every account. */
export async function listAccounts(sql: Sql): Promise<AccountRecord[]> {
  return (await sql.query<Row>('SELECT * FROM accounts ORDER BY id')).rows.map(accountOf);
}

/** insertApiToken stores the hash of an API token with its role and account scope. */
export async function insertApiToken(
  sql: Sql,
  t: { id: string; tokenHash: string; role: ApiRole; accountId: string | null; name: string },
): Promise<void> {
  await sql.query('INSERT INTO api_tokens (id, token_hash, role, account_id, name) VALUES ($1, $2, $3, $4, $5)', [
    t.id,
    t.tokenHash,
    t.role,
    t.accountId,
    t.name,
  ]);
}

/** findApiToken returns the token row whose hash matches, or null. */
export async function findApiToken(
  sql: Sql,
  tokenHash: string,
): Promise<{ id: string; role: ApiRole; accountId: string | null; name: string } | null> {
  const r = await sql.query<Row>('SELECT id, role, account_id, name FROM api_tokens WHERE token_hash = $1', [
    tokenHash,
  ]);
  const x = r.rows[0];
  return x
    ? {
        id: String(x.id),
        role: String(x.role) as ApiRole,
        accountId: x.account_id === null ? null : String(x.account_id),
        name: String(x.name),
      }
    : null;
}
