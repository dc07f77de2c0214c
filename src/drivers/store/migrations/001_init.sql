-- The resource database of one site: accounts, groups, servers, moves, boot pointers, tokens.
CREATE TABLE sites (
  id text PRIMARY KEY,
  name text NOT NULL,
  time_zone text NOT NULL DEFAULT 'UTC',
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE accounts (
  id text PRIMARY KEY,
  display_name text NOT NULL,
  uid integer NOT NULL UNIQUE,
  gid integer NOT NULL,
  reseller_id text NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE groups (
  id text PRIMARY KEY,
  account_id text NOT NULL REFERENCES accounts(id),
  site_id text NOT NULL REFERENCES sites(id),
  role text NOT NULL,
  min_size integer NOT NULL DEFAULT 0,
  max_size integer NOT NULL DEFAULT 1000,
  runtime jsonb NOT NULL,
  image text NOT NULL DEFAULT 'hostfleet/demo-runtime',
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK (min_size >= 0 AND max_size >= min_size)
);

CREATE TABLE domains (
  domain text PRIMARY KEY,
  group_id text NOT NULL REFERENCES groups(id) ON DELETE CASCADE
);

CREATE TABLE servers (
  id text PRIMARY KEY,
  site_id text NOT NULL REFERENCES sites(id),
  bmc_url text NOT NULL,
  system_id text NOT NULL,
  uuid text NOT NULL UNIQUE,
  address text NOT NULL,
  capacity integer NOT NULL DEFAULT 1,
  state text NOT NULL,
  group_id text NULL REFERENCES groups(id),
  move_id text NULL,
  version integer NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (bmc_url, system_id)
);
CREATE INDEX servers_group ON servers (group_id);

CREATE TABLE moves (
  id text PRIMARY KEY,
  server_id text NOT NULL REFERENCES servers(id),
  from_group text NULL,
  to_group text NULL,
  step text NOT NULL,
  status text NOT NULL,
  attempts integer NOT NULL DEFAULT 0,
  reason text NOT NULL DEFAULT '',
  requested_by text NOT NULL DEFAULT '',
  error jsonb NULL,
  boot_token_hash text NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz NULL
);
-- A server has at most one move in flight.
CREATE UNIQUE INDEX moves_one_running ON moves (server_id) WHERE status = 'running';

CREATE TABLE move_events (
  id bigserial PRIMARY KEY,
  move_id text NOT NULL REFERENCES moves(id),
  step text NOT NULL,
  outcome text NOT NULL,
  detail jsonb NULL,
  at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX move_events_move ON move_events (move_id, id);

CREATE TABLE boot_pointers (
  token_hash text PRIMARY KEY,
  machine_uuid text NOT NULL,
  server_id text NOT NULL REFERENCES servers(id),
  personality jsonb NOT NULL,
  expires_at timestamptz NOT NULL,
  used_at timestamptz NULL
);

-- Durable allocation history: one row per stretch of a server serving a group (billing reads it).
CREATE TABLE allocations (
  id bigserial PRIMARY KEY,
  server_id text NOT NULL REFERENCES servers(id),
  account_id text NOT NULL,
  group_id text NOT NULL,
  role text NOT NULL,
  started_at timestamptz NOT NULL,
  ended_at timestamptz NULL
);
CREATE UNIQUE INDEX allocations_open ON allocations (server_id) WHERE ended_at IS NULL;

CREATE TABLE api_tokens (
  id text PRIMARY KEY,
  token_hash text NOT NULL UNIQUE,
  role text NOT NULL,
  account_id text NULL REFERENCES accounts(id),
  name text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
