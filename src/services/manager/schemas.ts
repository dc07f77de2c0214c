/**
 * schemas are the API's request and response shapes (JSON Schema via TypeBox): fastify
 * validates every input against them and the OpenAPI document at /openapi.json is built
 * from them.
 */
import { Type } from '@sinclair/typebox';
import { ROLES } from '../../core/model/names.js';
import { API_ROLES } from '../../core/model/records.js';
import { SERVER_STATES } from '../../core/model/server.js';

/** Slug is a lower-case name: letters, digits, inner hyphens, 1–40 characters. */
export const Slug = Type.String({
  pattern: '^[a-z](?:[a-z0-9-]{0,38}[a-z0-9])?$',
  description: '1–40 lower-case letters, digits and inner hyphens, starting with a letter',
});
/** Domain is a lower-case DNS host name. */
export const Domain = Type.String({
  pattern: '^(?=.{4,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$',
  description: 'a lower-case DNS name such as shop.example.com',
});
// Allowed values as a JSON Schema enum: one clear error ("must be one of …") instead of one per branch.
const Lit = <T extends readonly string[]>(xs: T, description: string) =>
  Type.Unsafe<T[number]>({ type: 'string', enum: [...xs], description });

/** Runtime is the demo runtime's capacity configuration. */
export const Runtime = Type.Object(
  {
    serviceTimeMs: Type.Integer({
      minimum: 1,
      maximum: 60_000,
      description: 'wall-clock time one dynamic request holds a worker slot',
    }),
    concurrency: Type.Integer({
      minimum: 1,
      maximum: 10_000,
      description: 'dynamic requests served at once per server',
    }),
    maxQueue: Type.Integer({ minimum: 0, maximum: 100_000, description: 'requests that may wait; beyond, 503' }),
  },
  { additionalProperties: false },
);

/** CreateAccount is the body of POST /v1/accounts. */
export const CreateAccount = Type.Object(
  {
    id: Slug,
    displayName: Type.String({
      minLength: 1,
      maxLength: 100,
      pattern: '^[^\\u0000-\\u001f<>]+$',
      description: '1–100 printable characters without < or >',
    }),
    resellerId: Type.Optional(Slug),
  },
  { additionalProperties: false },
);

/** CreateGroup is the body of POST /v1/groups. */
export const CreateGroup = Type.Object(
  {
    id: Slug,
    accountId: Slug,
    role: Lit(ROLES, `one of ${ROLES.join(', ')}`),
    minSize: Type.Integer({ minimum: 0, maximum: 10_000, default: 0 }),
    maxSize: Type.Integer({ minimum: 1, maximum: 10_000, default: 100 }),
    runtime: Type.Optional(Runtime),
    domains: Type.Array(Domain, { maxItems: 100, uniqueItems: true, default: [] }),
  },
  { additionalProperties: false },
);

/** RegisterServer is the body of POST /v1/servers. */
export const RegisterServer = Type.Object(
  {
    id: Slug,
    bmcUrl: Type.String({
      pattern: '^https?://[^\\s/]+(/[^\\s]*)?$',
      description: 'the Redfish service URL of the BMC, e.g. https://10.0.0.5',
    }),
    systemId: Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$', description: 'the Redfish ComputerSystem Id' }),
    address: Type.String({
      pattern: '^[A-Za-z0-9.-]{1,253}:[0-9]{1,5}$',
      description: 'host:port of the server on the data plane',
    }),
    capacity: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
  },
  { additionalProperties: false },
);

/** CreateMove is the body of POST /v1/moves. */
export const CreateMove = Type.Object(
  {
    server: Slug,
    to: Type.Union([Slug, Type.Literal('pool')], { description: 'a group id, or "pool"' }),
    reason: Type.String({ maxLength: 200, default: 'operator request' }),
    force: Type.Boolean({ default: false, description: 'allow leaving the source group below its minimum size' }),
  },
  { additionalProperties: false },
);

/** CreateToken is the body of POST /v1/tokens. */
export const CreateToken = Type.Object(
  {
    role: Lit(API_ROLES, `one of ${API_ROLES.join(', ')}`),
    accountId: Type.Optional(Slug),
    name: Type.String({ minLength: 1, maxLength: 100, pattern: '^[^\\u0000-\\u001f]+$' }),
  },
  { additionalProperties: false },
);

/** IdParam is a path parameter naming a resource. */
export const IdParam = Type.Object({ id: Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$' }) });

/** ServerOut is a server in API answers. */
export const ServerOut = Type.Object({
  id: Type.String(),
  siteId: Type.String(),
  state: Lit(SERVER_STATES, 'lifecycle state'),
  place: Lit(['group', 'pool', 'moving', 'failed'] as const, 'the one place the server is in'),
  groupId: Type.Union([Type.String(), Type.Null()]),
  moveId: Type.Union([Type.String(), Type.Null()]),
  address: Type.String(),
  capacity: Type.Integer(),
  bmcUrl: Type.Optional(Type.String()),
  systemId: Type.Optional(Type.String()),
});

/** ErrorOut is every error answer. */
export const ErrorOut = Type.Object({
  error: Type.Object({
    code: Type.String(),
    title: Type.String(),
    message: Type.String(),
    fields: Type.Optional(Type.Array(Type.Object({ field: Type.String(), problem: Type.String() }))),
    details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  }),
});
