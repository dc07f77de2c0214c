-- People who log in to the console: an argon2id password hash (PHC string), a role and, for
-- resellers and customers, the account that scopes what they see.
CREATE TABLE users (
  id text PRIMARY KEY,
  name text NOT NULL UNIQUE,
  password_hash text NOT NULL,
  role text NOT NULL CHECK (role IN ('operator', 'reseller', 'customer')),
  account_id text NULL REFERENCES accounts(id),
  disabled boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK (role = 'operator' OR account_id IS NOT NULL)
);

-- Console sessions. The cookie carries a 256-bit secret; the store keeps only its SHA-256,
-- so a copy of the database does not log anyone in.
CREATE TABLE sessions (
  token_hash text PRIMARY KEY,
  user_id text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

-- A service (a customer's group) that a reseller or operator disabled stays disabled: the console
-- refuses to start it until it is activated again.
CREATE TABLE service_states (
  group_id text PRIMARY KEY REFERENCES groups(id) ON DELETE CASCADE,
  state text NOT NULL CHECK (state IN ('active', 'disabled')),
  changed_by text NOT NULL,
  changed_at timestamptz NOT NULL DEFAULT now()
);
