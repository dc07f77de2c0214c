/**
 * features holds the sections of the manager's configuration that tune its features beside
 * moving servers: billing, account provisioning, the placement scheduler and console logins.
 */
import { Type } from '@sinclair/typebox';

/** BillingSection is the configuration's `billing`: metering, invoices and the throttle of cut-off accounts. */
export const BillingSection = Type.Object(
  {
    meterIntervalMs: Type.Integer({
      minimum: 1000,
      maximum: 3_600_000,
      default: 60_000,
      description:
        'how often the active manager turns the allocation history into billing facts, samples the edge counters and runs the daily allotment process',
    }),
    serverRamMb: Type.Integer({
      minimum: 0,
      maximum: 1_048_576,
      default: 1024,
      description: 'memory one server gives its account, in MB, for RAM-hours of allotment plans',
    }),
    provider: Type.String({
      minLength: 1,
      maxLength: 200,
      default: 'hostfleet',
      description: 'provider name printed on invoices',
    }),
    throttleRps: Type.Integer({
      minimum: 1,
      maximum: 1_000_000,
      default: 10,
      description:
        "requests per second the edge lets through to each group of an account throttled by billing's cut-off (the rest answer 429)",
    }),
  },
  { default: {} },
);

/** ProvisioningSection is the configuration's `provisioning`: order verification, nudges and payments. */
export const ProvisioningSection = Type.Object(
  {
    resolvers: Type.Array(
      Type.String({ pattern: '^[0-9.]+(:[0-9]{1,5})?$', description: 'host:port of a name server' }),
      {
        default: [],
        description:
          "name servers asked for orders' TXT verification challenges (the domains' authoritative servers); empty = the system's resolvers",
      },
    ),
    nameservers: Type.Array(
      Type.String({
        pattern: '^(?=.{4,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$',
        description: 'a DNS name',
      }),
      { default: ['ns1.hostfleet.test'], description: 'NS records of every provisioned zone' },
    ),
    verifyAttempts: Type.Integer({
      minimum: 1,
      maximum: 100,
      default: 3,
      description: 'failed TXT checks after which an order goes to the operator review queue',
    }),
    tokenTtlMs: Type.Integer({
      minimum: 1000,
      maximum: 3_600_000,
      default: 60_000,
      description: 'lifetime of the signed nudge token a service server uses to fetch its tasks',
    }),
    renudgeMs: Type.Integer({
      minimum: 100,
      maximum: 3_600_000,
      default: 2000,
      description:
        'interval at which service servers still out of step are nudged again (the retry of failed tasks); one nudged for an account less than this long ago is left to finish',
    }),
    payments: Type.Literal('test', {
      default: 'test',
      description: 'payment gateway: test (accepts only the documented test card numbers)',
    }),
  },
  { default: {} },
);

/** PlacementSection is the configuration's `placement`: the scheduler's settings and the node monitor's and collector's periods. */
export const PlacementSection = Type.Object(
  {
    scheduler: Type.Object(
      {},
      {
        additionalProperties: true,
        default: {},
        description:
          'placement scheduler settings: weights, availabilityWeights, licensedOs, riskThreshold, limit (docs/SCHEDULER.md); checked at start-up',
      },
    ),
    nodeHealthIntervalMs: Type.Integer({
      minimum: 100,
      maximum: 60_000,
      default: 500,
      description:
        "interval of the health checks of hardware nodes; two misses in a row re-place the node's components",
    }),
    snapshotIntervalMs: Type.Integer({
      minimum: 1000,
      maximum: 3_600_000,
      default: 5000,
      description: "the collector's sampling period of every placed component (CPU, memory)",
    }),
  },
  { default: {} },
);

/** LoginSection is the configuration's `login`: the limits on failed console logins. */
export const LoginSection = Type.Object(
  {
    maxFailures: Type.Integer({
      minimum: 1,
      maximum: 10_000,
      default: 10,
      description:
        'failed console logins allowed per name and client address within windowMs; more answer 429 E_RATE_LIMITED without checking the password',
    }),
    maxFailuresPerAddress: Type.Integer({
      minimum: 1,
      maximum: 100_000,
      default: 100,
      description: 'failed console logins allowed per client address, whatever the name, within windowMs',
    }),
    windowMs: Type.Integer({
      minimum: 1000,
      maximum: 86_400_000,
      default: 300_000,
      description: 'the window over which failed logins are counted',
    }),
  },
  { default: {} },
);
