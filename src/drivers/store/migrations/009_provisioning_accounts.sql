-- Hosting accounts are the product's accounts: every prov_accounts row has the accounts row of
-- the same id (tokens, visibility, billing and the console know the customer). An order placed
-- with a reseller's token remembers the reseller, whose customer the new account becomes.
ALTER TABLE prov_orders ADD COLUMN reseller_id text NULL;

-- Accounts provisioned before this migration get their accounts row now (next free uids).
INSERT INTO accounts (id, display_name, uid, gid)
  SELECT p.id, p.domain, m.base + row_number() OVER (ORDER BY p.id), m.base + row_number() OVER (ORDER BY p.id)
  FROM prov_accounts p
  CROSS JOIN (SELECT COALESCE(MAX(uid), 200000)::int AS base FROM accounts) m
  WHERE NOT EXISTS (SELECT 1 FROM accounts a WHERE a.id = p.id);

ALTER TABLE prov_accounts ADD CONSTRAINT prov_accounts_account FOREIGN KEY (id) REFERENCES accounts(id);
