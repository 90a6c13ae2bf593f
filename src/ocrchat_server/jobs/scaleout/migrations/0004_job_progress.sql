-- When a job last moved in the broker's ledger (a page sent or read), by the database's own
-- clock: a job whose sent pages have not been read long after that lost them in the broker.
ALTER TABLE jobs ADD COLUMN progress_at TIMESTAMPTZ;
