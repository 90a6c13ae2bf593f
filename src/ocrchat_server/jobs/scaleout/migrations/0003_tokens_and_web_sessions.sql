-- An account's tokens, listed newest first, and the web app's signed-in browsers: the hash
-- of each session's id (its cookie), never the id; the token it was signed in with, whose
-- revocation ends it; its CSRF token.
CREATE INDEX tokens_by_account ON tokens (account_id, created_at);
CREATE TABLE web_sessions (
    id_sha256 BYTEA PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    key_id TEXT NOT NULL REFERENCES tokens(key_id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX web_sessions_by_key ON web_sessions (key_id);
CREATE INDEX web_sessions_by_expiry ON web_sessions (expires_at);
