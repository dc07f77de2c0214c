/**
 * config is the manager's configuration: its schema (the reference in docs/CONFIGURATION.md
 * is written from it; its sections are in config/), environment bindings, and loading.
 */
import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import { loadConfig } from '../shared/config.js';
import type { EnvBinding } from '../shared/config.js';
import { DecisionSection, LeaseSection, MovesSection } from './config/decision.js';
import { BmcsSection, BusSection, EdgeSection, VolumesSection } from './config/drivers.js';
import { BillingSection, LoginSection, PlacementSection, ProvisioningSection } from './config/features.js';
import { GlobalSection } from './config/global.js';

const Slug = Type.String({
  pattern: '^[a-z](?:[a-z0-9-]{0,38}[a-z0-9])?$',
  description: 'lower-case letters, digits and inner hyphens',
});

/** ManagerConfigSchema is the manager's configuration. */
export const ManagerConfigSchema = Type.Object({
  site: Type.Object({
    id: Slug,
    name: Type.String({ minLength: 1, maxLength: 100, default: 'Local site', description: 'display name of the site' }),
    timeZone: Type.String({ default: 'UTC', description: 'IANA time zone of the site (for cross-site lending)' }),
    firstUid: Type.Integer({
      minimum: 1000,
      maximum: 4_000_000_000,
      default: 200_001,
      description:
        "first uid of the site's accounts (it gives out 100 000 from here); sites that hold each other's data need disjoint ranges",
    }),
  }),
  dataDir: Type.String({ minLength: 1, description: 'where PGlite and other local state live' }),
  listen: Type.Object(
    {
      host: Type.String({
        default: '127.0.0.1',
        description: 'address of the API and boot service; put it on the management network',
      }),
      port: Type.Integer({
        minimum: 0,
        maximum: 65535,
        default: 7070,
        description: 'port of the API and boot service (0 = any free port)',
      }),
    },
    { default: {} },
  ),
  publicUrl: Type.Optional(
    Type.String({
      pattern: '^https?://[^\\s]+$',
      description: 'URL at which machines reach the boot service; default http://listen.host:listen.port',
    }),
  ),
  databaseUrl: Type.Optional(
    Type.String({
      pattern: '^postgres(ql)?://',
      description: 'PostgreSQL URL; absent = embedded PGlite under dataDir',
    }),
  ),
  databaseSchema: Type.Optional(
    Type.String({
      pattern: '^[a-z_][a-z0-9_]{0,62}$',
      description: 'PostgreSQL schema to use (created if absent); lets sites share a server',
    }),
  ),
  bmcs: BmcsSection,
  edge: EdgeSection,
  bus: BusSection,
  volumes: VolumesSection,
  moves: MovesSection,
  billing: BillingSection,
  decision: DecisionSection,
  lease: LeaseSection,
  provisioning: ProvisioningSection,
  placement: PlacementSection,
  login: LoginSection,
  global: GlobalSection,
  bootPointerTtlMs: Type.Integer({
    minimum: 1000,
    maximum: 3_600_000,
    default: 300_000,
    description: 'lifetime of a boot pointer (single use, bound to one machine)',
  }),
  operatorToken: Type.Optional(
    Type.String({ minLength: 32, description: 'bootstrap operator API token (stored hashed)' }),
  ),
  log: Type.Object(
    {
      level: Type.Union(
        ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
        { default: 'info', description: 'log level (JSON logs on standard output)' },
      ),
    },
    { default: {} },
  ),
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
