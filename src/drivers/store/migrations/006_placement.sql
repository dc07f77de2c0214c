-- Component placement (seed 003): hardware nodes of the grid, customers' multi-tier
-- configurations, where each component runs, the scheduler's decisions, and the collector's
-- snapshots of every component.
CREATE TABLE hw_nodes (
  id text PRIMARY KEY,
  url text NOT NULL,
  token text NOT NULL,
  capacity jsonb NOT NULL,
  reserved jsonb NOT NULL,
  isolated boolean NOT NULL DEFAULT false,
  state text NOT NULL DEFAULT 'up',
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK (state IN ('up', 'draining', 'down'))
);

CREATE TABLE placement_configs (
  id text PRIMARY KEY,
  account_id text NOT NULL REFERENCES accounts(id),
  spec jsonb NOT NULL,
  edge jsonb NOT NULL,
  state text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX placement_configs_account ON placement_configs (account_id);

CREATE TABLE placement_components (
  config_id text NOT NULL REFERENCES placement_configs(id) ON DELETE CASCADE,
  component text NOT NULL,
  tier text NOT NULL,
  node_id text NOT NULL REFERENCES hw_nodes(id),
  hosted jsonb NOT NULL,
  address text NULL,
  state text NOT NULL,
  moves integer NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (config_id, component)
);
CREATE INDEX placement_components_node ON placement_components (node_id);

CREATE TABLE placement_decisions (
  id text PRIMARY KEY,
  config_id text NULL,
  kind text NOT NULL,
  status jsonb NOT NULL,
  explain jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX placement_decisions_config ON placement_decisions (config_id, created_at);

CREATE TABLE placement_snapshots (
  id bigserial PRIMARY KEY,
  config_id text NOT NULL REFERENCES placement_configs(id) ON DELETE CASCADE,
  component text NOT NULL,
  node_id text NOT NULL,
  at timestamptz NOT NULL,
  cpu_seconds double precision NOT NULL,
  rss_bytes bigint NOT NULL,
  requests bigint NOT NULL,
  errors bigint NOT NULL
);
CREATE INDEX placement_snapshots_component ON placement_snapshots (config_id, component, id);
