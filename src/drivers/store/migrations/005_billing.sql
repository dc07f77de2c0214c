-- Billing (docs/BILLING.md): facts derived from the allocation history, usage samples, price
-- plans and each account's plan, the daily allotment process, payments and restrictions.

-- The allocation history as billing facts. Ids derive from the allocation row
-- ('alloc:<id>:start', 'alloc:<id>:end') and rows are written with ON CONFLICT DO NOTHING, so a
-- manager that fails over and re-reads the history never writes a fact twice.
CREATE TABLE billing_facts (
  id text PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN ('allocated', 'released')),
  at timestamptz NOT NULL,
  server_id text NOT NULL,
  account_id text NOT NULL,
  role text NOT NULL,
  ram_mb integer NOT NULL DEFAULT 0,
  allocation_id bigint NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX billing_facts_account ON billing_facts (account_id, at);
CREATE INDEX billing_facts_allocation ON billing_facts (allocation_id);

-- Usage samples (hits, data transferred, connections …), keyed like the facts.
CREATE TABLE billing_samples (
  id text PRIMARY KEY,
  account_id text NOT NULL,
  metric text NOT NULL,
  at timestamptz NOT NULL,
  value bigint NOT NULL CHECK (value >= 0)
);
CREATE INDEX billing_samples_account ON billing_samples (account_id, metric, at);

-- The last value of each cumulative counter read (e.g. an edge server's served count), so a
-- sample is the difference since the previous reading, whichever manager took it.
CREATE TABLE billing_counters (
  source text NOT NULL,
  key text NOT NULL,
  value bigint NOT NULL,
  read_at timestamptz NOT NULL,
  PRIMARY KEY (source, key)
);

-- Price plans: SLA plans (seed 001) and resource allotment plans (seed 003), stored as the
-- validated input and parsed again when read.
CREATE TABLE billing_plans (
  id text PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN ('sla', 'allotment')),
  body jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE billing_account_plans (
  account_id text PRIMARY KEY REFERENCES accounts(id),
  plan_id text NOT NULL REFERENCES billing_plans(id),
  assigned_at timestamptz NOT NULL DEFAULT now(),
  assigned_by text NOT NULL DEFAULT ''
);

-- The daily allotment process: its state per account and period, one row per processed day.
CREATE TABLE billing_allotment_state (
  account_id text NOT NULL,
  period text NOT NULL,
  plan_id text NOT NULL,
  state jsonb NOT NULL,
  last_day text NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account_id, period)
);

CREATE TABLE billing_allotment_days (
  account_id text NOT NULL,
  day text NOT NULL,
  period text NOT NULL,
  plan_id text NOT NULL,
  charges jsonb NOT NULL,
  actions jsonb NOT NULL,
  processed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account_id, day)
);

-- Outcome of charging a day's overage (from the payment provider or the operator).
CREATE TABLE billing_payments (
  account_id text NOT NULL,
  day text NOT NULL,
  outcome text NOT NULL CHECK (outcome IN ('paid', 'failed')),
  recorded_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account_id, day)
);

-- The restriction in force on an account (cut-off or failed payments): the decision loop and
-- the edge read it; an operator lifts it.
CREATE TABLE billing_restrictions (
  account_id text PRIMARY KEY,
  action text NOT NULL CHECK (action IN ('suspend', 'throttle', 'lock-admin-only')),
  reason text NOT NULL,
  resource text NULL,
  day text NOT NULL,
  since timestamptz NOT NULL DEFAULT now()
);
