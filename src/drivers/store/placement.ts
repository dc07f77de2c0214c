/**
 * placement holds the queries of component placement (seed 003): hardware nodes, customers'
 * configurations, where every component runs, the scheduler's decisions and the collector's
 * snapshots. `loadFleet` reads everything the scheduler's Fleet is built from; the deployer
 * calls it inside a transaction after `lockNodes`, so a plan is verified and reserved against
 * the grid as it is at that moment (seed 003: verify, then allocate).
 */
import type { HardwareNode, HostedComponent, NodeState, ResourceVector } from '../../core/scheduler/index.js';
import type { Sql } from './store.js';

/** NodeRecord is a registered hardware node. */
export interface NodeRecord {
  readonly id: string;
  readonly url: string;
  readonly token: string;
  readonly capacity: ResourceVector;
  readonly reserved: ResourceVector;
  readonly isolated: boolean;
  readonly state: NodeState;
}

/** CONFIG_STATES are a configuration's states: deploying, running, degraded (some component could not be re-placed or started). */
export const CONFIG_STATES = ['deploying', 'running', 'degraded'] as const;
/** ConfigState is one of CONFIG_STATES. */
export type ConfigState = (typeof CONFIG_STATES)[number];

/** COMPONENT_STATES are a placed component's states. */
export const COMPONENT_STATES = ['starting', 'running', 'failed'] as const;
/** ComponentState is one of COMPONENT_STATES. */
export type ComponentState = (typeof COMPONENT_STATES)[number];

/** ConfigRecord is a stored configuration: the validated spec (core Configuration) and its edge settings. */
export interface ConfigRecord {
  readonly id: string;
  readonly accountId: string;
  readonly spec: unknown;
  readonly edge: unknown;
  readonly state: ConfigState;
}

/** ComponentRecord is where one component runs. */
export interface ComponentRecord {
  readonly configId: string;
  readonly component: string;
  readonly tier: string;
  readonly nodeId: string;
  readonly hosted: HostedComponent;
  readonly address: string | null;
  readonly state: ComponentState;
  /** moves counts re-placements (failures and switch-overs). */
  readonly moves: number;
}

/** SnapshotRecord is one collector sample of a component. */
export interface SnapshotRecord {
  readonly configId: string;
  readonly component: string;
  readonly nodeId: string;
  readonly at: Date;
  readonly cpuSeconds: number;
  readonly rssBytes: number;
  readonly requests: number;
  readonly errors: number;
}

type Row = Record<string, unknown>;
const obj = <T>(v: unknown): T => (typeof v === 'string' ? JSON.parse(v) : v) as T;

const nodeOf = (r: Row): NodeRecord => ({
  id: r.id as string,
  url: r.url as string,
  token: r.token as string,
  capacity: obj(r.capacity),
  reserved: obj(r.reserved),
  isolated: r.isolated as boolean,
  state: r.state as NodeState,
});

const componentOf = (r: Row): ComponentRecord => ({
  configId: r.config_id as string,
  component: r.component as string,
  tier: r.tier as string,
  nodeId: r.node_id as string,
  hosted: obj(r.hosted),
  address: (r.address as string | null) ?? null,
  state: r.state as ComponentState,
  moves: Number(r.moves),
});

const configOf = (r: Row): ConfigRecord => ({
  id: r.id as string,
  accountId: r.account_id as string,
  spec: obj(r.spec),
  edge: obj(r.edge),
  state: r.state as ConfigState,
});

/** upsertNode registers a node or updates its address, token, capacity and isolation (its state and components stay). */
export async function upsertNode(sql: Sql, n: Omit<NodeRecord, 'state'>): Promise<NodeRecord> {
  const r = await sql.query(
    `INSERT INTO hw_nodes (id, url, token, capacity, reserved, isolated) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (id) DO UPDATE SET url = EXCLUDED.url, token = EXCLUDED.token, capacity = EXCLUDED.capacity, reserved = EXCLUDED.reserved, isolated = EXCLUDED.isolated, updated_at = now()
     RETURNING *`,
    [n.id, n.url, n.token, JSON.stringify(n.capacity), JSON.stringify(n.reserved), n.isolated],
  );
  return nodeOf(r.rows[0]!);
}

/** listNodes lists the registered nodes by id. */
export async function listNodes(sql: Sql): Promise<NodeRecord[]> {
  return (await sql.query('SELECT * FROM hw_nodes ORDER BY id')).rows.map(nodeOf);
}

/** lockNodes takes a row lock on every node (PostgreSQL; PGlite runs one transaction at a time anyway), so one deployer verifies and reserves at a time. */
export async function lockNodes(sql: Sql): Promise<void> {
  await sql.query('SELECT id FROM hw_nodes ORDER BY id FOR UPDATE');
}

/** setNodeState records a node's state; it returns false when the node was already in it. */
export async function setNodeState(sql: Sql, id: string, state: NodeState): Promise<boolean> {
  const r = await sql.query('UPDATE hw_nodes SET state = $2, updated_at = now() WHERE id = $1 AND state <> $2', [
    id,
    state,
  ]);
  return r.rowCount > 0;
}

/** loadFleet returns every node with the components it hosts, as the scheduler's Fleet.from reads them. */
export async function loadFleet(sql: Sql): Promise<HardwareNode[]> {
  const nodes = await listNodes(sql);
  const comps = await listComponents(sql);
  const by = new Map<string, HostedComponent[]>();
  for (const c of comps) {
    const l = by.get(c.nodeId) ?? [];
    l.push(c.hosted);
    by.set(c.nodeId, l);
  }
  return nodes.map((n) => ({
    id: n.id,
    capacity: n.capacity,
    reserved: n.reserved,
    isolated: n.isolated,
    state: n.state,
    hosted: by.get(n.id) ?? [],
  }));
}

/** insertConfig stores a new configuration; a duplicate id fails with a unique violation. */
export async function insertConfig(sql: Sql, c: ConfigRecord): Promise<void> {
  await sql.query('INSERT INTO placement_configs (id, account_id, spec, edge, state) VALUES ($1, $2, $3, $4, $5)', [
    c.id,
    c.accountId,
    JSON.stringify(c.spec),
    JSON.stringify(c.edge),
    c.state,
  ]);
}

/** updateConfig sets a configuration's spec and state. */
export async function updateConfig(sql: Sql, id: string, u: { spec?: unknown; state?: ConfigState }): Promise<void> {
  await sql.query(
    'UPDATE placement_configs SET spec = COALESCE($2, spec), state = COALESCE($3, state), updated_at = now() WHERE id = $1',
    [id, u.spec === undefined ? null : JSON.stringify(u.spec), u.state ?? null],
  );
}

/** getConfig returns a configuration, or null. */
export async function getConfig(sql: Sql, id: string): Promise<ConfigRecord | null> {
  const r = await sql.query('SELECT * FROM placement_configs WHERE id = $1', [id]);
  return r.rows[0] ? configOf(r.rows[0]) : null;
}

/** listConfigs lists configurations by id, of one account or all. */
export async function listConfigs(sql: Sql, accountId?: string): Promise<ConfigRecord[]> {
  const r =
    accountId === undefined
      ? await sql.query('SELECT * FROM placement_configs ORDER BY id')
      : await sql.query('SELECT * FROM placement_configs WHERE account_id = $1 ORDER BY id', [accountId]);
  return r.rows.map(configOf);
}

/** deleteConfig removes a configuration (its components and snapshots go with it). */
export async function deleteConfig(sql: Sql, id: string): Promise<void> {
  await sql.query('DELETE FROM placement_configs WHERE id = $1', [id]);
}

/** putComponent records where a component runs (insert or move), with its state. */
export async function putComponent(sql: Sql, c: Omit<ComponentRecord, 'moves'> & { moved?: boolean }): Promise<void> {
  await sql.query(
    `INSERT INTO placement_components (config_id, component, tier, node_id, hosted, address, state) VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (config_id, component) DO UPDATE SET tier = EXCLUDED.tier, node_id = EXCLUDED.node_id, hosted = EXCLUDED.hosted, address = EXCLUDED.address, state = EXCLUDED.state,
       moves = placement_components.moves + (CASE WHEN $8 THEN 1 ELSE 0 END), updated_at = now()`,
    [c.configId, c.component, c.tier, c.nodeId, JSON.stringify(c.hosted), c.address, c.state, c.moved === true],
  );
}

/** setComponentRuntime records a component's address and state once its node answered. */
export async function setComponentRuntime(
  sql: Sql,
  configId: string,
  component: string,
  nodeId: string,
  u: { address: string | null; state: ComponentState },
): Promise<void> {
  // Guarded by the node: a late answer from the node a component already left changes nothing.
  await sql.query(
    'UPDATE placement_components SET address = $4, state = $5, updated_at = now() WHERE config_id = $1 AND component = $2 AND node_id = $3',
    [configId, component, nodeId, u.address, u.state],
  );
}

/** deleteComponent removes a component's placement. */
export async function deleteComponent(sql: Sql, configId: string, component: string): Promise<void> {
  await sql.query('DELETE FROM placement_components WHERE config_id = $1 AND component = $2', [configId, component]);
}

/** listComponents lists placed components, of one configuration or all, by configuration then component. */
export async function listComponents(sql: Sql, configId?: string): Promise<ComponentRecord[]> {
  const r =
    configId === undefined
      ? await sql.query('SELECT * FROM placement_components ORDER BY config_id, component')
      : await sql.query('SELECT * FROM placement_components WHERE config_id = $1 ORDER BY component', [configId]);
  return r.rows.map(componentOf);
}

/** insertDecision records a scheduler decision with its status and explanation lines. */
export async function insertDecision(
  sql: Sql,
  d: { id: string; configId: string | null; kind: string; status: unknown; explain: readonly string[] },
): Promise<void> {
  await sql.query(
    'INSERT INTO placement_decisions (id, config_id, kind, status, explain) VALUES ($1, $2, $3, $4, $5)',
    [d.id, d.configId, d.kind, JSON.stringify(d.status), JSON.stringify(d.explain)],
  );
}

/** listDecisions returns a configuration's decisions, newest first. */
export async function listDecisions(
  sql: Sql,
  configId: string,
  limit = 20,
): Promise<Array<{ id: string; kind: string; status: unknown; explain: string[]; at: Date }>> {
  const r = await sql.query(
    'SELECT * FROM placement_decisions WHERE config_id = $1 ORDER BY created_at DESC, id LIMIT $2',
    [configId, limit],
  );
  return r.rows.map((x) => ({
    id: x.id as string,
    kind: x.kind as string,
    status: obj(x.status),
    explain: obj<string[]>(x.explain),
    at: new Date(x.created_at as string),
  }));
}

/** insertSnapshot stores one collector sample. */
export async function insertSnapshot(sql: Sql, s: SnapshotRecord): Promise<void> {
  await sql.query(
    'INSERT INTO placement_snapshots (config_id, component, node_id, at, cpu_seconds, rss_bytes, requests, errors) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
    [
      s.configId,
      s.component,
      s.nodeId,
      s.at,
      s.cpuSeconds,
      Math.round(s.rssBytes),
      Math.round(s.requests),
      Math.round(s.errors),
    ],
  );
}

/** listSnapshots returns a configuration's latest samples, newest first. */
export async function listSnapshots(sql: Sql, configId: string, limit = 100): Promise<SnapshotRecord[]> {
  const r = await sql.query('SELECT * FROM placement_snapshots WHERE config_id = $1 ORDER BY id DESC LIMIT $2', [
    configId,
    limit,
  ]);
  return r.rows.map((x) => ({
    configId: x.config_id as string,
    component: x.component as string,
    nodeId: x.node_id as string,
    at: new Date(x.at as string),
    cpuSeconds: Number(x.cpu_seconds),
    rssBytes: Number(x.rss_bytes),
    requests: Number(x.requests),
    errors: Number(x.errors),
  }));
}
