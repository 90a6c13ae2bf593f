-- Page selection (the submit's `pages`) and webhooks.
ALTER TABLE jobs ADD COLUMN selected_pages TEXT;
ALTER TABLE jobs ADD COLUMN pages_to_read INTEGER NOT NULL DEFAULT 0;
UPDATE jobs SET pages_to_read = page_count;
ALTER TABLE jobs ADD COLUMN webhook_url TEXT;
ALTER TABLE accounts ADD COLUMN webhook_url TEXT;
ALTER TABLE accounts ADD COLUMN webhook_secret TEXT;
CREATE TABLE webhook_deliveries (
    job_uuid TEXT PRIMARY KEY REFERENCES jobs(uuid) ON DELETE CASCADE,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    url TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_status_code INTEGER,
    last_error TEXT,
    last_attempt_at TIMESTAMPTZ,
    delivered_at TIMESTAMPTZ,
    next_attempt_at TIMESTAMPTZ,
    message_id TEXT,
    payload TEXT
);
CREATE INDEX webhooks_due ON webhook_deliveries (next_attempt_at)
    WHERE next_attempt_at IS NOT NULL;
CREATE INDEX jobs_by_account_newest ON jobs (account_id, created_at DESC, uuid DESC);
