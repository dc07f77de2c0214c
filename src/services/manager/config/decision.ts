/**
 * decision holds the sections of the manager's configuration that tune how servers move: the
 * dispatcher's move workflow, the decision loop, and the site lease of a manager pair.
 */
import { Type } from '@sinclair/typebox';

/** MovesSection is the configuration's `moves`: timeouts and retries of the move workflow. */
export const MovesSection = Type.Object(
  {
    drainTimeoutMs: Type.Integer({
      minimum: 0,
      maximum: 600_000,
      default: 10_000,
      description: 'longest wait for in-flight requests when a server leaves a group',
    }),
    bootTimeoutMs: Type.Integer({
      minimum: 1000,
      maximum: 3_600_000,
      default: 60_000,
      description: 'longest wait from reset to a healthy server; then it is marked failed',
    }),
    healthPollMs: Type.Integer({
      minimum: 10,
      maximum: 10_000,
      default: 50,
      description: 'interval of health checks while a server boots',
    }),
    maxAttempts: Type.Integer({
      minimum: 1,
      maximum: 20,
      default: 3,
      description: 'attempts of a failing move step before rollback or failure',
    }),
    retryBaseMs: Type.Integer({
      minimum: 1,
      maximum: 60_000,
      default: 200,
      description: 'first retry delay of a failing step (doubles each attempt)',
    }),
  },
  { default: {} },
);

/** DecisionSection is the configuration's `decision`: the decision loop's tick, cool-downs, warm pool and failure judgement. */
export const DecisionSection = Type.Object(
  {
    enabled: Type.Boolean({
      default: true,
      description:
        'run the decision loop (moves servers on requests, replaces failed servers); false leaves every move to operators',
    }),
    tickMs: Type.Integer({
      minimum: 100,
      maximum: 600_000,
      default: 1000,
      description: 'interval of decision ticks',
    }),
    maxMovesPerTick: Type.Integer({
      minimum: 1,
      maximum: 10_000,
      default: 16,
      description: 'most moves one tick starts',
    }),
    serverCooldownMs: Type.Integer({
      minimum: 0,
      maximum: 86_400_000,
      default: 30_000,
      description: 'a server that finished a move this recently is not taken from its group',
    }),
    groupCooldownMs: Type.Integer({
      minimum: 0,
      maximum: 86_400_000,
      default: 20_000,
      description: 'a group that received a server this recently neither donates nor releases one',
    }),
    reverseCooldownMs: Type.Integer({
      minimum: 0,
      maximum: 86_400_000,
      default: 120_000,
      description: 'no server moves from group X to Y this soon after one moved from Y to X',
    }),
    warmPoolSize: Type.Union([Type.Literal('auto'), Type.Integer({ minimum: 0, maximum: 10_000 })], {
      default: 'auto',
      description:
        "pool servers kept booted (warm, not in rotation) for the groups most likely to need one next; 'auto' keeps as many as the shortfalls the forecasts missed per lead time (docs/DECISION.md)",
    }),
    violationCost: Type.Number({
      exclusiveMinimum: 0,
      maximum: 1_000_000,
      default: 2,
      description:
        'price of one SLA-violating minute in server-hours, for a group of SLA priority 0.5 (the priority scales it); the decision tick sizes groups to balance it against the servers they hold',
    }),
    leadMs: Type.Union([Type.Literal('auto'), Type.Integer({ minimum: 100, maximum: 3_600_000 })], {
      default: 'auto',
      description:
        "how long a server from the cold pool takes to serve: the horizon a group's bound must cover, and how long after receiving a server a group releases none; 'auto' is the median of the site's last 20 joins from the pool (2 minutes before any)",
    }),
    requestTtlMs: Type.Integer({
      minimum: 1000,
      maximum: 3_600_000,
      default: 15_000,
      description: 'how long an unmet add request stays in the balance',
    }),
    fillCommitted: Type.Boolean({
      default: true,
      description: 'bring groups with a recorded SLA up to their committed level without waiting for a request',
    }),
    heartbeatTimeoutMs: Type.Integer({
      minimum: 100,
      maximum: 600_000,
      default: 3000,
      description: 'a server whose agent (once heard) is silent this long is failed',
    }),
    edgeDownMs: Type.Integer({
      minimum: 0,
      maximum: 600_000,
      default: 500,
      description: 'a server down at the edge this long is failed',
    }),
    graceMs: Type.Integer({
      minimum: 0,
      maximum: 600_000,
      default: 2000,
      description: 'a server that just became active is not judged by heartbeats or the edge',
    }),
    powerPollMs: Type.Integer({
      minimum: 100,
      maximum: 600_000,
      default: 1000,
      description: 'interval of BMC power-state and health checks of serving servers',
    }),
    quarantineAfter: Type.Integer({
      minimum: 1,
      maximum: 100,
      default: 2,
      description: 'the failure (within quarantineWindowMs) at which a server is quarantined instead of recycled',
    }),
    quarantineWindowMs: Type.Integer({
      minimum: 0,
      maximum: 604_800_000,
      default: 3_600_000,
      description: 'failures older than this are forgiven',
    }),
  },
  { default: {} },
);

/** LeaseSection is the configuration's `lease`: the site lease of an active/standby manager pair. */
export const LeaseSection = Type.Object(
  {
    enabled: Type.Boolean({
      default: false,
      description:
        'contend for the site lease in the store: run two managers on one PostgreSQL and only the holder acts',
    }),
    ttlMs: Type.Integer({
      minimum: 500,
      maximum: 600_000,
      default: 3000,
      description: 'lease lifetime: a standby takes over at most this long after the active manager dies',
    }),
    renewMs: Type.Integer({
      minimum: 100,
      maximum: 300_000,
      default: 500,
      description: 'interval of lease renewals and of standby attempts',
    }),
  },
  { default: {} },
);
