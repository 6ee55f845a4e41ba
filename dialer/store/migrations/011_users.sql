-- People who use the HTTP API (issue 9): agents, supervisors, administrators, and their
-- bearer tokens. A password is stored only as its Argon2 hash; a token only as the SHA-256
-- of its 32 random bytes (a random token needs no slow hash: nothing to guess from it).
CREATE TABLE users (
    id             bigserial PRIMARY KEY,
    name           text NOT NULL UNIQUE CHECK (name <> ''),
    role           text NOT NULL CHECK (role IN ('agent', 'supervisor', 'admin')),
    password_hash  text NOT NULL,
    agent_id       bigint REFERENCES agents (id) ON DELETE SET NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    CHECK (role = 'agent' OR agent_id IS NULL)
);

CREATE UNIQUE INDEX users_agent ON users (agent_id) WHERE agent_id IS NOT NULL;

CREATE TABLE api_tokens (
    token_hash  bytea PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    revoked_at  timestamptz
);

CREATE INDEX api_tokens_user ON api_tokens (user_id);
