-- The decision loop's records: the plans it made (with their reason traces), server failures
-- (a second failure within the window quarantines), and the lease that decides which of a
-- site's managers acts (its token fences a deposed manager's late writes).
CREATE TABLE decision_plans (
  id text PRIMARY KEY,
  site_id text NOT NULL,
  at timestamptz NOT NULL,
  leader_token bigint NOT NULL DEFAULT 0,
  moves integer NOT NULL,
  plan jsonb NOT NULL
);
CREATE INDEX decision_plans_at ON decision_plans (at DESC);

CREATE TABLE server_failures (
  id bigserial PRIMARY KEY,
  server_id text NOT NULL REFERENCES servers(id),
  group_id text NULL,
  causes jsonb NOT NULL,
  action text NOT NULL,
  at timestamptz NOT NULL DEFAULT now(),
  recovered_at timestamptz NULL
);
CREATE INDEX server_failures_server ON server_failures (server_id, at DESC);

CREATE TABLE manager_lease (
  site_id text PRIMARY KEY,
  holder text NOT NULL,
  token bigint NOT NULL,
  expires_at timestamptz NOT NULL
);
