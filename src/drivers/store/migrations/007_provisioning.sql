-- Provisioning (seed 004): orders, service servers, hosting accounts, the desired
-- configuration of every account service, what each service server holds, and tasks.
CREATE TABLE prov_servers (
  id text PRIMARY KEY,
  services jsonb NOT NULL,
  capacity integer NOT NULL CHECK (capacity >= 0),
  address text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE prov_orders (
  id text PRIMARY KEY,
  secret_hash text NOT NULL,
  state text NOT NULL,
  contact jsonb NULL,
  domain text NULL,
  services jsonb NOT NULL,
  plan text NOT NULL,
  challenge text NOT NULL,
  verify_attempts integer NOT NULL DEFAULT 0,
  reasons jsonb NOT NULL DEFAULT '[]',
  payment_ref text NULL,
  account_id text NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX prov_orders_state ON prov_orders (state);

CREATE SEQUENCE prov_uid_seq START 20000;
CREATE SEQUENCE prov_version_seq START 1;

CREATE TABLE prov_accounts (
  id text PRIMARY KEY,
  order_id text NOT NULL UNIQUE,
  domain text NOT NULL UNIQUE,
  plan text NOT NULL,
  uid integer NOT NULL UNIQUE,
  password_hash text NOT NULL,
  email text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE prov_services (
  account_id text NOT NULL REFERENCES prov_accounts(id) ON DELETE CASCADE,
  service text NOT NULL,
  server_id text NOT NULL REFERENCES prov_servers(id),
  enabled boolean NOT NULL DEFAULT true,
  spec jsonb NOT NULL,
  version bigint NOT NULL,
  PRIMARY KEY (account_id, service)
);
CREATE INDEX prov_services_server ON prov_services (server_id);

-- What each service server reported holding; no foreign key to accounts, so a deleted
-- account's services stay listed here until the server reports them removed.
CREATE TABLE prov_held (
  server_id text NOT NULL REFERENCES prov_servers(id),
  account_id text NOT NULL,
  service text NOT NULL,
  version bigint NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (server_id, account_id, service)
);

CREATE TABLE prov_tasks (
  server_id text NOT NULL,
  account_id text NOT NULL,
  service text NOT NULL,
  action text NOT NULL,
  version bigint NOT NULL,
  state text NOT NULL,
  attempts integer NOT NULL DEFAULT 0,
  error text NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (server_id, account_id, service)
);

CREATE TABLE prov_keys (
  id text PRIMARY KEY,
  private_pem text NOT NULL,
  public_pem text NOT NULL
);
