/**
 * provisioning-tasks holds the task log (each task handed out to a service server, its attempts
 * and outcome) and the key pair that signs the nudges telling a server to fetch its tasks.
 */
import type { ServiceKind } from '../../core/provisioning/index.js';
import type { Row } from './rows.js';
import type { Sql } from './store.js';

/** TaskRecord is a task handed out (state sent) or its outcome. */
export interface TaskRecord {
  readonly accountId: string;
  readonly service: ServiceKind;
  readonly action: 'put' | 'remove';
  readonly version: number;
  readonly state: 'sent' | 'done' | 'failed';
  readonly error?: string | null;
}

/** recordTasks logs tasks handed out to a server (each attempt counted) or their outcomes, in one statement. */
export async function recordTasks(sql: Sql, serverId: string, tasks: readonly TaskRecord[]): Promise<void> {
  const rows = [...new Map(tasks.map((t) => [`${t.accountId}/${t.service}`, t])).values()];
  if (rows.length === 0) return;
  await sql.query(
    `INSERT INTO prov_tasks (server_id, account_id, service, action, version, state, attempts, error)
      SELECT $1, a, s, act, v, st, CASE WHEN st = 'sent' THEN 1 ELSE 0 END, e
      FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::text[]) AS x(a, s, act, v, st, e)
    ON CONFLICT (server_id, account_id, service) DO UPDATE SET action = EXCLUDED.action, state = EXCLUDED.state, error = EXCLUDED.error, updated_at = now(),
      attempts = CASE WHEN EXCLUDED.state <> 'sent' THEN prov_tasks.attempts WHEN prov_tasks.version = EXCLUDED.version AND prov_tasks.action = EXCLUDED.action THEN prov_tasks.attempts + 1 ELSE 1 END,
      version = EXCLUDED.version`,
    [
      serverId,
      rows.map((t) => t.accountId),
      rows.map((t) => t.service),
      rows.map((t) => t.action),
      rows.map((t) => t.version),
      rows.map((t) => t.state),
      rows.map((t) => t.error ?? null),
    ],
  );
}

/** TaskRow is one task's last known state. */
export interface TaskRow {
  readonly serverId: string;
  readonly accountId: string;
  readonly service: ServiceKind;
  readonly action: string;
  readonly version: number;
  readonly state: string;
  readonly attempts: number;
  readonly error: string | null;
}

/** tasksOfAccount returns the task log of an account's services. */
export async function tasksOfAccount(sql: Sql, accountId: string): Promise<TaskRow[]> {
  const r = await sql.query<Row>('SELECT * FROM prov_tasks WHERE account_id = $1 ORDER BY service', [accountId]);
  return r.rows.map((x) => ({
    serverId: String(x.server_id),
    accountId: String(x.account_id),
    service: String(x.service) as ServiceKind,
    action: String(x.action),
    version: Number(x.version),
    state: String(x.state),
    attempts: Number(x.attempts),
    error: x.error === null ? null : String(x.error),
  }));
}

/** signingKey returns the stored nudge signing key pair, storing gen()'s when there is none. */
export async function signingKey(
  sql: Sql,
  gen: () => { privatePem: string; publicPem: string },
): Promise<{ privatePem: string; publicPem: string }> {
  const r = await sql.query<Row>("SELECT private_pem, public_pem FROM prov_keys WHERE id = 'nudge'");
  if (r.rows[0]) return { privatePem: String(r.rows[0].private_pem), publicPem: String(r.rows[0].public_pem) };
  const k = gen();
  await sql.query(
    "INSERT INTO prov_keys (id, private_pem, public_pem) VALUES ('nudge', $1, $2) ON CONFLICT (id) DO NOTHING",
    [k.privatePem, k.publicPem],
  );
  return signingKey(sql, () => k);
}
