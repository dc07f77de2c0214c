-- The SLA database: one service level agreement per group (an account's servers in one role).
-- Levels are in the SLA's metric; units_per_server converts them into servers.
CREATE TABLE slas (
  group_id text PRIMARY KEY REFERENCES groups(id) ON DELETE CASCADE,
  metric text NOT NULL DEFAULT 'servers',
  units_per_server double precision NOT NULL DEFAULT 1,
  committed double precision NOT NULL DEFAULT 1,
  burst double precision NOT NULL DEFAULT 2,
  extended double precision NOT NULL DEFAULT 4,
  priority double precision NOT NULL DEFAULT 0.5,
  response_target_ms integer NOT NULL DEFAULT 200,
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK (units_per_server > 0 AND committed >= 0 AND burst >= committed AND extended >= burst),
  CHECK (priority >= 0 AND priority <= 1 AND response_target_ms > 0)
);
