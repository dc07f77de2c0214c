/**
 * drivers are the sections of the manager's configuration that name the real components it
 * drives: the BMCs' credentials, the edge, the management bus and the volumes.
 */
import { Type } from '@sinclair/typebox';

/** BmcsSection is the configuration's `bmcs`: the credentials of each BMC. */
export const BmcsSection = Type.Array(
  Type.Object({
    url: Type.String({
      pattern: '^https?://[^\\s]+$',
      description: 'Redfish service URL of a BMC (servers registered with this bmcUrl use these credentials)',
    }),
    username: Type.String({ minLength: 1, description: 'Redfish user' }),
    password: Type.String({ minLength: 1, description: 'Redfish password' }),
    auth: Type.Union([Type.Literal('basic'), Type.Literal('session')], {
      default: 'session',
      description: 'HTTP basic auth on every request, or a Redfish session (X-Auth-Token)',
    }),
  }),
  { default: [] },
);

/** EdgeSection is the configuration's `edge`: the built-in edge or HAProxy. */
export const EdgeSection = Type.Union([
  Type.Object({
    kind: Type.Literal('builtin', { description: 'the built-in edge' }),
    adminUrl: Type.String({ pattern: '^https?://[^\\s]+$', description: "URL of the edge's admin API" }),
    token: Type.String({
      minLength: 16,
      description: "the edge admin API's bearer token (HOSTFLEET_EDGE_TOKEN of the edge)",
    }),
    publicUrl: Type.Optional(
      Type.String({
        pattern: '^https?://[^\\s]+$',
        description: 'where customers reach the edge (shown to operators)',
      }),
    ),
  }),
  Type.Object({
    kind: Type.Literal('haproxy', { description: 'HAProxy driven through its Runtime API (see docs/EDGE.md)' }),
    socket: Type.String({
      minLength: 1,
      description: 'Runtime API: a Unix socket path, or host:port of a TCP stats socket',
    }),
    hostsMap: Type.String({
      minLength: 1,
      description: 'path of the domain → pool map file, exactly as haproxy.cfg names it',
    }),
    poolsMap: Type.String({
      minLength: 1,
      description: 'path of the pool → backend slot map file, exactly as haproxy.cfg names it',
    }),
    ratesMap: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          "path of the slot → requests-per-second map file, exactly as haproxy.cfg names it (needed for billing's throttle)",
      }),
    ),
    slots: Type.Integer({
      minimum: 1,
      maximum: 10_000,
      default: 64,
      description: 'backend slots declared in haproxy.cfg (hf_pool_1 …)',
    }),
    persistMaps: Type.Boolean({
      default: true,
      description: 'rewrite the map files after each change, so a reload keeps pools and domains',
    }),
  }),
]);

/** BusSection is the configuration's `bus`: the management bus the agents reach. */
export const BusSection = Type.Union(
  [
    Type.Object({
      kind: Type.Literal('loopback', {
        description: "the manager hosts the embedded fleet's bus hub; agents connect over TCP",
      }),
      host: Type.String({
        default: '127.0.0.1',
        description: 'address of the hub (loopback only: the wire is not encrypted)',
      }),
      port: Type.Integer({
        minimum: 0,
        maximum: 65535,
        default: 0,
        description: 'port of the hub (0 = any free port)',
      }),
      token: Type.String({ minLength: 16, description: 'the token agents present to the hub' }),
    }),
    Type.Object({
      kind: Type.Literal('nats', { description: 'NATS (with JetStream) on the management network' }),
      url: Type.String({ pattern: '^(nats|tls)://', description: 'NATS server URLs, comma-separated' }),
      token: Type.Optional(Type.String({ minLength: 1, description: 'NATS token of the manager and the agents' })),
    }),
    Type.Object({
      kind: Type.Literal('memory', {
        description: 'in-process only: no agent can reach it (tests, API-only managers)',
      }),
    }),
  ],
  { default: { kind: 'memory' } },
);

/** VolumesSection is the configuration's `volumes`: where customers' volumes live. */
export const VolumesSection = Type.Object({
  kind: Type.Literal('local', {
    description: 'volumes as directories on this machine, exported to machines by path',
  }),
  root: Type.String({ minLength: 1, description: 'root directory of volumes and exports' }),
});
