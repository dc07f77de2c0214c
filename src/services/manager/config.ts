/**
 * config is the manager's configuration: its schema (the reference in docs/CONFIGURATION.md
 * is written from it), environment bindings, and loading.
 */
import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import { loadConfig } from '../shared/config.js';
import type { EnvBinding } from '../shared/config.js';

const Slug = Type.String({ pattern: '^[a-z](?:[a-z0-9-]{0,38}[a-z0-9])?$', description: 'lower-case letters, digits and inner hyphens' });

/** ManagerConfigSchema is the manager's configuration. */
export const ManagerConfigSchema = Type.Object({
  site: Type.Object({
    id: Slug,
    name: Type.String({ minLength: 1, maxLength: 100, default: 'Local site', description: 'display name of the site' }),
    timeZone: Type.String({ default: 'UTC', description: 'IANA time zone of the site (for cross-site lending)' }),
  }),
  dataDir: Type.String({ minLength: 1, description: 'where PGlite and other local state live' }),
  listen: Type.Object({
    host: Type.String({ default: '127.0.0.1', description: 'address of the API and boot service; put it on the management network' }),
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 7070, description: 'port of the API and boot service (0 = any free port)' }),
  }, { default: {} }),
  publicUrl: Type.Optional(Type.String({ pattern: '^https?://[^\\s]+$', description: 'URL at which machines reach the boot service; default http://listen.host:listen.port' })),
  databaseUrl: Type.Optional(Type.String({ pattern: '^postgres(ql)?://', description: 'PostgreSQL URL; absent = embedded PGlite under dataDir' })),
  databaseSchema: Type.Optional(Type.String({ pattern: '^[a-z_][a-z0-9_]{0,62}$', description: 'PostgreSQL schema to use (created if absent); lets sites share a server' })),
  bmcs: Type.Array(Type.Object({
    url: Type.String({ pattern: '^https?://[^\\s]+$', description: 'Redfish service URL of a BMC (servers registered with this bmcUrl use these credentials)' }),
    username: Type.String({ minLength: 1, description: 'Redfish user' }),
    password: Type.String({ minLength: 1, description: 'Redfish password' }),
    auth: Type.Union([Type.Literal('basic'), Type.Literal('session')], { default: 'session', description: 'HTTP basic auth on every request, or a Redfish session (X-Auth-Token)' }),
  }), { default: [] }),
  edge: Type.Union([
    Type.Object({
      kind: Type.Literal('builtin', { description: 'the built-in edge' }),
      adminUrl: Type.String({ pattern: '^https?://[^\\s]+$', description: "URL of the edge's admin API" }),
      token: Type.String({ minLength: 16, description: "the edge admin API's bearer token (HOSTFLEET_EDGE_TOKEN of the edge)" }),
      publicUrl: Type.Optional(Type.String({ pattern: '^https?://[^\\s]+$', description: 'where customers reach the edge (shown to operators)' })),
    }),
    Type.Object({
      kind: Type.Literal('haproxy', { description: 'HAProxy driven through its Runtime API (see docs/EDGE.md)' }),
      socket: Type.String({ minLength: 1, description: 'Runtime API: a Unix socket path, or host:port of a TCP stats socket' }),
      hostsMap: Type.String({ minLength: 1, description: 'path of the domain → pool map file, exactly as haproxy.cfg names it' }),
      poolsMap: Type.String({ minLength: 1, description: 'path of the pool → backend slot map file, exactly as haproxy.cfg names it' }),
      ratesMap: Type.Optional(Type.String({ minLength: 1, description: "path of the slot → requests-per-second map file, exactly as haproxy.cfg names it (needed for billing's throttle)" })),
      slots: Type.Integer({ minimum: 1, maximum: 10_000, default: 64, description: 'backend slots declared in haproxy.cfg (hf_pool_1 …)' }),
      persistMaps: Type.Boolean({ default: true, description: 'rewrite the map files after each change, so a reload keeps pools and domains' }),
    }),
  ]),
  bus: Type.Union([
    Type.Object({
      kind: Type.Literal('loopback', { description: "the manager hosts the embedded fleet's bus hub; agents connect over TCP" }),
      host: Type.String({ default: '127.0.0.1', description: 'address of the hub (loopback only: the wire is not encrypted)' }),
      port: Type.Integer({ minimum: 0, maximum: 65535, default: 0, description: 'port of the hub (0 = any free port)' }),
      token: Type.String({ minLength: 16, description: 'the token agents present to the hub' }),
    }),
    Type.Object({
      kind: Type.Literal('nats', { description: 'NATS (with JetStream) on the management network' }),
      url: Type.String({ pattern: '^(nats|tls)://', description: 'NATS server URLs, comma-separated' }),
      token: Type.Optional(Type.String({ minLength: 1, description: 'NATS token of the manager and the agents' })),
    }),
    Type.Object({
      kind: Type.Literal('memory', { description: 'in-process only: no agent can reach it (tests, API-only managers)' }),
    }),
  ], { default: { kind: 'memory' } }),
  volumes: Type.Object({
    kind: Type.Literal('local', { description: 'volumes as directories on this machine, exported to machines by path' }),
    root: Type.String({ minLength: 1, description: 'root directory of volumes and exports' }),
  }),
  moves: Type.Object({
    drainTimeoutMs: Type.Integer({ minimum: 0, maximum: 600_000, default: 10_000, description: 'longest wait for in-flight requests when a server leaves a group' }),
    bootTimeoutMs: Type.Integer({ minimum: 1000, maximum: 3_600_000, default: 60_000, description: 'longest wait from reset to a healthy server; then it is marked failed' }),
    healthPollMs: Type.Integer({ minimum: 10, maximum: 10_000, default: 50, description: 'interval of health checks while a server boots' }),
    maxAttempts: Type.Integer({ minimum: 1, maximum: 20, default: 3, description: 'attempts of a failing move step before rollback or failure' }),
    retryBaseMs: Type.Integer({ minimum: 1, maximum: 60_000, default: 200, description: 'first retry delay of a failing step (doubles each attempt)' }),
  }, { default: {} }),
  billing: Type.Object({
    meterIntervalMs: Type.Integer({ minimum: 1000, maximum: 3_600_000, default: 60_000, description: 'how often the active manager turns the allocation history into billing facts, samples the edge counters and runs the daily allotment process' }),
    serverRamMb: Type.Integer({ minimum: 0, maximum: 1_048_576, default: 1024, description: 'memory one server gives its account, in MB, for RAM-hours of allotment plans' }),
    provider: Type.String({ minLength: 1, maxLength: 200, default: 'hostfleet', description: 'provider name printed on invoices' }),
    throttleRps: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 10, description: "requests per second the edge lets through to each group of an account throttled by billing's cut-off (the rest answer 429)" }),
  }, { default: {} }),
  decision: Type.Object({
    enabled: Type.Boolean({ default: true, description: 'run the decision loop (moves servers on requests, replaces failed servers); false leaves every move to operators' }),
    tickMs: Type.Integer({ minimum: 100, maximum: 600_000, default: 1000, description: 'interval of decision ticks' }),
    maxMovesPerTick: Type.Integer({ minimum: 1, maximum: 10_000, default: 16, description: 'most moves one tick starts' }),
    serverCooldownMs: Type.Integer({ minimum: 0, maximum: 86_400_000, default: 30_000, description: 'a server that finished a move this recently is not taken from its group' }),
    groupCooldownMs: Type.Integer({ minimum: 0, maximum: 86_400_000, default: 20_000, description: 'a group that received a server this recently neither donates nor releases one' }),
    reverseCooldownMs: Type.Integer({ minimum: 0, maximum: 86_400_000, default: 120_000, description: 'no server moves from group X to Y this soon after one moved from Y to X' }),
    warmPoolSize: Type.Integer({ minimum: 0, maximum: 10_000, default: 0, description: 'pool servers kept booted (warm, not in rotation) for the groups most likely to need one next; a warm server joins its group without a boot' }),
    requestTtlMs: Type.Integer({ minimum: 1000, maximum: 3_600_000, default: 15_000, description: 'how long an unmet add request stays in the balance' }),
    fillCommitted: Type.Boolean({ default: true, description: 'bring groups with a recorded SLA up to their committed level without waiting for a request' }),
    heartbeatTimeoutMs: Type.Integer({ minimum: 100, maximum: 600_000, default: 3000, description: 'a server whose agent (once heard) is silent this long is failed' }),
    edgeDownMs: Type.Integer({ minimum: 0, maximum: 600_000, default: 500, description: 'a server down at the edge this long is failed' }),
    graceMs: Type.Integer({ minimum: 0, maximum: 600_000, default: 2000, description: 'a server that just became active is not judged by heartbeats or the edge' }),
    powerPollMs: Type.Integer({ minimum: 100, maximum: 600_000, default: 1000, description: 'interval of BMC power-state and health checks of serving servers' }),
    quarantineAfter: Type.Integer({ minimum: 1, maximum: 100, default: 2, description: 'the failure (within quarantineWindowMs) at which a server is quarantined instead of recycled' }),
    quarantineWindowMs: Type.Integer({ minimum: 0, maximum: 604_800_000, default: 3_600_000, description: 'failures older than this are forgiven' }),
  }, { default: {} }),
  lease: Type.Object({
    enabled: Type.Boolean({ default: false, description: 'contend for the site lease in the store: run two managers on one PostgreSQL and only the holder acts' }),
    ttlMs: Type.Integer({ minimum: 500, maximum: 600_000, default: 3000, description: 'lease lifetime: a standby takes over at most this long after the active manager dies' }),
    renewMs: Type.Integer({ minimum: 100, maximum: 300_000, default: 500, description: 'interval of lease renewals and of standby attempts' }),
  }, { default: {} }),
  provisioning: Type.Object({
    resolvers: Type.Array(Type.String({ pattern: '^[0-9.]+(:[0-9]{1,5})?$', description: 'host:port of a name server' }), { default: [], description: "name servers asked for orders' TXT verification challenges (the domains' authoritative servers); empty = the system's resolvers" }),
    nameservers: Type.Array(Type.String({ pattern: '^(?=.{4,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$', description: 'a DNS name' }), { default: ['ns1.hostfleet.test'], description: 'NS records of every provisioned zone' }),
    verifyAttempts: Type.Integer({ minimum: 1, maximum: 100, default: 3, description: 'failed TXT checks after which an order goes to the operator review queue' }),
    tokenTtlMs: Type.Integer({ minimum: 1000, maximum: 3_600_000, default: 60_000, description: 'lifetime of the signed nudge token a service server uses to fetch its tasks' }),
    renudgeMs: Type.Integer({ minimum: 100, maximum: 3_600_000, default: 2000, description: 'interval at which service servers still out of step are nudged again (the retry of failed tasks); one nudged for an account less than this long ago is left to finish' }),
    payments: Type.Literal('test', { default: 'test', description: 'payment gateway: test (accepts only the documented test card numbers)' }),
  }, { default: {} }),
  placement: Type.Object({
    scheduler: Type.Object({}, { additionalProperties: true, default: {}, description: 'placement scheduler settings: weights, availabilityWeights, licensedOs, riskThreshold, limit (docs/SCHEDULER.md); checked at start-up' }),
    nodeHealthIntervalMs: Type.Integer({ minimum: 100, maximum: 60_000, default: 500, description: 'interval of the health checks of hardware nodes; two misses in a row re-place the node\'s components' }),
    snapshotIntervalMs: Type.Integer({ minimum: 1000, maximum: 3_600_000, default: 5000, description: "the collector's sampling period of every placed component (CPU, memory)" }),
  }, { default: {} }),
  login: Type.Object({
    maxFailures: Type.Integer({ minimum: 1, maximum: 10_000, default: 10, description: 'failed console logins allowed per name and client address within windowMs; more answer 429 E_RATE_LIMITED without checking the password' }),
    maxFailuresPerAddress: Type.Integer({ minimum: 1, maximum: 100_000, default: 100, description: 'failed console logins allowed per client address, whatever the name, within windowMs' }),
    windowMs: Type.Integer({ minimum: 1000, maximum: 86_400_000, default: 300_000, description: 'the window over which failed logins are counted' }),
  }, { default: {} }),
  bootPointerTtlMs: Type.Integer({ minimum: 1000, maximum: 3_600_000, default: 300_000, description: 'lifetime of a boot pointer (single use, bound to one machine)' }),
  operatorToken: Type.Optional(Type.String({ minLength: 32, description: 'bootstrap operator API token (stored hashed)' })),
  log: Type.Object({ level: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)), { default: 'info', description: 'log level (JSON logs on standard output)' }) }, { default: {} }),
});

/** ManagerConfig is a validated manager configuration. */
export type ManagerConfig = Static<typeof ManagerConfigSchema>;

/** MANAGER_ENV lists the environment variables the manager reads over its file. */
export const MANAGER_ENV: readonly EnvBinding[] = [
  { env: 'HOSTFLEET_SITE', path: 'site.id', type: 'string' },
  { env: 'HOSTFLEET_DATA_DIR', path: 'dataDir', type: 'string' },
  { env: 'HOSTFLEET_LISTEN_HOST', path: 'listen.host', type: 'string' },
  { env: 'HOSTFLEET_LISTEN_PORT', path: 'listen.port', type: 'number' },
  { env: 'HOSTFLEET_PUBLIC_URL', path: 'publicUrl', type: 'string' },
  { env: 'DATABASE_URL', path: 'databaseUrl', type: 'string' },
  { env: 'HOSTFLEET_DATABASE_URL', path: 'databaseUrl', type: 'string' },
  { env: 'HOSTFLEET_DATABASE_SCHEMA', path: 'databaseSchema', type: 'string' },
  { env: 'HOSTFLEET_OPERATOR_TOKEN', path: 'operatorToken', type: 'string' },
  { env: 'HOSTFLEET_LOG_LEVEL', path: 'log.level', type: 'string' },
];

/** loadManagerConfig loads and validates the manager's configuration. */
export function loadManagerConfig(file: string | undefined, env: NodeJS.ProcessEnv = process.env): ManagerConfig {
  return loadConfig(ManagerConfigSchema, { file, env, bindings: MANAGER_ENV });
}
