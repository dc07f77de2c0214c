-- Several sites: an account served here for another site (a loan or a takeover of a lost
-- site) is a guest account and names its home site; it keeps the uid it has at home, so its
-- replicated data stays readable by it alone. Off-site servers a group used (lent by another
-- site) are recorded by the minute of use, for the extended level's billing.
ALTER TABLE accounts ADD COLUMN home_site text NULL;
CREATE TABLE offsite_use (
  id text PRIMARY KEY,
  group_id text NOT NULL,
  account_id text NOT NULL,
  lender text NOT NULL,
  server_id text NOT NULL,
  started_at timestamptz NOT NULL,
  ended_at timestamptz NULL
);
CREATE INDEX offsite_use_account ON offsite_use (account_id, started_at);
CREATE INDEX offsite_use_open ON offsite_use (group_id, lender, server_id) WHERE ended_at IS NULL;
