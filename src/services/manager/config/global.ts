/**
 * global is the section of the manager's configuration for sites that work together: the bus
 * the global coordinator listens on, how often the site reports, and the replication of its
 * customers' data to other sites (docs/MULTISITE.md).
 */
import { Type } from '@sinclair/typebox';

const Slug = Type.String({ pattern: '^[a-z](?:[a-z0-9-]{0,38}[a-z0-9])?$' });

/** ReplicaTargetSection is one remote site that holds a copy of this site's customers' data. */
const ReplicaTarget = Type.Object(
  {
    site: Slug,
    url: Type.String({
      pattern: '^rsync://[A-Za-z0-9.-]+(:\\d{1,5})?/[A-Za-z0-9_-]+/?$',
      description: "the replica site's rsync daemon module: rsync://HOST:PORT/MODULE (on the replication network)",
    }),
    user: Type.String({ pattern: '^[A-Za-z0-9_-]{1,32}$', description: 'rsync user of that module' }),
    secret: Type.String({ minLength: 16, description: "that module's secret" }),
  },
  { additionalProperties: false },
);

/** GlobalSection is the configuration's `global`; absent, the site works alone. */
export const GlobalSection = Type.Optional(
  Type.Object(
    {
      bus: Type.Object(
        {
          url: Type.String({ description: 'the global bus (nats://… or the coordinator hub hfbus://…)' }),
          token: Type.Optional(Type.String({ description: 'its token' })),
        },
        { additionalProperties: false },
      ),
      reportMs: Type.Integer({
        minimum: 200,
        maximum: 60_000,
        default: 2000,
        description: 'how often the site reports to the global coordinator and applies its view',
      }),
      keepIdle: Type.Integer({
        minimum: 0,
        maximum: 10_000,
        default: 1,
        description: 'idle servers the site never lends (kept for its own failures)',
      }),
      askHoldMs: Type.Integer({
        minimum: 0,
        maximum: 3_600_000,
        default: 60_000,
        description: 'how long an ask for off-site servers is held after the need falls (no flapping)',
      }),
      replication: Type.Object(
        {
          everyMs: Type.Integer({
            minimum: 1000,
            maximum: 86_400_000,
            default: 10_000,
            description: 'interval between copies of each account volume to its replica sites',
          }),
          targets: Type.Array(ReplicaTarget, {
            default: [],
            description: 'sites that hold a copy of every account here',
          }),
          daemon: Type.Optional(
            Type.Object(
              {
                host: Type.String({
                  default: '127.0.0.1',
                  description: 'address of the rsync daemon for copies from other sites',
                }),
                port: Type.Integer({ minimum: 1, maximum: 65535, description: 'its port' }),
                user: Type.String({ pattern: '^[A-Za-z0-9_-]{1,32}$', default: 'replica' }),
                secret: Type.String({ minLength: 16, description: 'the secret other sites write with' }),
              },
              { additionalProperties: false },
            ),
          ),
        },
        { default: {}, additionalProperties: false },
      ),
    },
    { additionalProperties: false },
  ),
);
