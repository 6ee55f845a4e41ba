-- Several engines on one database (issue 15). Each engine process has a row it refreshes
-- (its heartbeat); each campaign has at most one owner engine, whose runner alone dials it.
-- The owner row's token grows by one at every take-over: an engine's writes for a campaign
-- carry the token it took the campaign with, and the store refuses them once the row holds
-- another (a stalled former owner that wakes up cannot write over its successor). Times are
-- the database's now(), so engines on hosts whose clocks differ still agree on expiry.
CREATE TABLE engines (
    engine_id     text PRIMARY KEY CHECK (engine_id <> ''),
    host          text NOT NULL DEFAULT '',
    pid           integer NOT NULL DEFAULT 0,
    started_at    timestamptz NOT NULL DEFAULT now(),
    heartbeat_at  timestamptz NOT NULL DEFAULT now(),
    stopped_at    timestamptz,
    max_campaigns integer NOT NULL DEFAULT 0 CHECK (max_campaigns >= 0)
);

CREATE TABLE campaign_owners (
    campaign_id  bigint PRIMARY KEY REFERENCES campaigns (id) ON DELETE CASCADE,
    engine_id    text,               -- NULL: handed back by a stopping engine, free to take
    token        bigint NOT NULL CHECK (token > 0),
    heartbeat_at timestamptz,
    acquired_at  timestamptz NOT NULL DEFAULT now(),
    previous_engine_id text          -- whom it was taken from (operations, logs)
);
CREATE INDEX campaign_owners_engine ON campaign_owners (engine_id);
CREATE INDEX attempts_open_campaign ON attempts (campaign_id) WHERE ended_at IS NULL;
