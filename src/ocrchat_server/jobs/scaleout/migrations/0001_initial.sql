-- The scale-out records: what the embedded SQLite file holds, in PostgreSQL, plus what
-- several workers need to share a job's pages (which are read, which were sent).
CREATE TABLE accounts (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL,
    plan TEXT NOT NULL,
    credits INTEGER NOT NULL DEFAULT 0 CHECK (credits >= 0)
);
CREATE TABLE tokens (
    id BIGSERIAL PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    key_id TEXT NOT NULL UNIQUE,
    token_sha256 BYTEA NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE jobs (
    uuid TEXT PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    status TEXT NOT NULL,
    tier TEXT NOT NULL,
    language TEXT NOT NULL,
    tool TEXT,
    translate_to TEXT,
    engine TEXT NOT NULL DEFAULT 'auto',
    ocr TEXT NOT NULL DEFAULT 'auto',
    filename TEXT,
    format TEXT NOT NULL,
    page_count INTEGER NOT NULL,
    pages_done INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    interruptions INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMPTZ NOT NULL,
    started_at TIMESTAMPTZ,
    finished_at TIMESTAMPTZ,
    expires_at TIMESTAMPTZ,
    idempotency_key TEXT,
    priority INTEGER NOT NULL DEFAULT 0,
    -- pages handed to the broker so far (they are sent a few at a time, in order)
    pages_sent INTEGER NOT NULL DEFAULT 0,
    -- when a worker took the job's assembly (one does; another may take it over once
    -- the claim is older than a page's visibility timeout: its worker died)
    assembly_claimed_at TIMESTAMPTZ
);
CREATE INDEX jobs_by_status ON jobs (status, created_at);
CREATE INDEX jobs_by_expiry ON jobs (expires_at);
CREATE INDEX jobs_by_account ON jobs (account_id, created_at);
CREATE UNIQUE INDEX jobs_by_idempotency_key
    ON jobs (account_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
-- Each page read of a job, once, however often its task was delivered.
CREATE TABLE job_pages (
    job_uuid TEXT NOT NULL REFERENCES jobs(uuid) ON DELETE CASCADE,
    page_index INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    done BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (job_uuid, page_index)
);
-- What each job costs. Kept when the job is deleted or expires: usage is history.
CREATE TABLE charges (
    job_uuid TEXT PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL,
    from_allowance INTEGER NOT NULL CHECK (from_allowance >= 0),
    from_credits INTEGER NOT NULL CHECK (from_credits >= 0)
);
CREATE INDEX charges_by_account ON charges (account_id, created_at);
CREATE TABLE conversations (
    id TEXT PRIMARY KEY,
    job_uuid TEXT NOT NULL REFERENCES jobs(uuid) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX conversations_by_job ON conversations (job_uuid, created_at);
CREATE TABLE messages (
    id BIGSERIAL PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    content TEXT NOT NULL,
    citations JSONB NOT NULL,
    created_at TIMESTAMPTZ
);
