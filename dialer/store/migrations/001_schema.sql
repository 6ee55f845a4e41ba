-- 001: the campaign data model (DESIGN.md glossary; seeds 000, 001, 003, 004).
--
-- Contacts carry two derived columns, dial_rank and due_at, kept by a trigger from the
-- status's system status, the attempt count, the not-before time and a pending callback.
-- The lease query walks one partial index in (campaign, dial_rank, due_at, priority) order
-- and stops after N rows, so its cost does not grow with the campaign's size.

CREATE TABLE schedules (
    id            bigserial PRIMARY KEY,
    name          text NOT NULL UNIQUE CHECK (name <> ''),
    description   text NOT NULL DEFAULT '',
    frequency     text NOT NULL CHECK (frequency IN ('daily', 'weekly', 'monthly')),
    weekdays      smallint[] NOT NULL DEFAULT '{}',   -- 0 = Monday .. 6 = Sunday; empty = every day
    months        smallint[] NOT NULL DEFAULT '{}',   -- 1..12; empty = every month
    days          smallint[] NOT NULL DEFAULT '{}',   -- 1..31; empty = every day of the month
    run_at        time,
    window_start  time,
    window_end    time,                               -- 00:00-00:00 = all day (seed 000)
    interval_min  integer CHECK (interval_min > 0),
    timezone      text NOT NULL DEFAULT 'UTC',
    active        boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CHECK ((run_at IS NULL) <> (window_start IS NULL AND window_end IS NULL)),
    CHECK ((window_start IS NULL) = (window_end IS NULL))
);

CREATE TABLE agents (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL UNIQUE CHECK (name <> ''),
    interface   text NOT NULL DEFAULT '',             -- Asterisk member interface, e.g. PJSIP/1001
    active      boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE campaigns (
    id                     bigserial PRIMARY KEY,
    name                   text NOT NULL UNIQUE CHECK (name <> ''),
    mode                   text NOT NULL DEFAULT 'progressive'
                           CHECK (mode IN ('preview', 'push_preview', 'progressive', 'predictive')),
    schedule_id            bigint NOT NULL REFERENCES schedules (id),
    caller_id              text NOT NULL DEFAULT '',
    queue                  text NOT NULL DEFAULT '',
    -- FCC 47 CFR 64.1200(a)(6): ring at least 15 seconds (or four rings).
    ring_timeout_s         integer NOT NULL DEFAULT 20 CHECK (ring_timeout_s >= 15),
    compliance             text NOT NULL DEFAULT 'us' CHECK (compliance IN ('us', 'uk', 'zero')),
    -- FTC TSR / Ofcom: at most 3 % abandoned live answers.
    abandon_cap            numeric(5, 4) NOT NULL DEFAULT 0.03 CHECK (abandon_cap >= 0 AND abandon_cap <= 0.03),
    -- US TSR 16 CFR 310.4(c): 8:00-21:00 in the called person's local time.
    local_hours_start      time NOT NULL DEFAULT '08:00',
    local_hours_end        time NOT NULL DEFAULT '21:00',
    timezone               text NOT NULL DEFAULT 'UTC',
    state                  text NOT NULL DEFAULT 'stopped' CHECK (state IN ('stopped', 'running', 'paused')),
    priority               integer NOT NULL DEFAULT 0,
    max_attempts           integer NOT NULL DEFAULT 10 CHECK (max_attempts > 0),
    max_attempts_per_day   integer NOT NULL DEFAULT 3 CHECK (max_attempts_per_day > 0),
    default_status_id      bigint,
    created_at             timestamptz NOT NULL DEFAULT now(),
    CHECK (NOT (compliance = 'zero' AND mode = 'predictive'))
);

CREATE TABLE campaign_agents (
    campaign_id  bigint NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    agent_id     bigint NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    PRIMARY KEY (campaign_id, agent_id)
);

-- The status dictionary (campaign_id IS NULL) and campaign-local statuses (seed 004).
CREATE TABLE statuses (
    id             bigserial PRIMARY KEY,
    campaign_id    bigint REFERENCES campaigns (id) ON DELETE CASCADE,
    name           text NOT NULL CHECK (name <> ''),
    system_status  text NOT NULL
                   CHECK (system_status IN ('call', 'my_record', 'do_not_call', 'not_before', 'call_progressive')),
    qualifier      text NOT NULL DEFAULT 'none'
                   CHECK (qualifier IN ('none', 'unused', 'callback_relative', 'callback_absolute',
                                        'callback_end_of_queue', 'closing', 'cancel_success_close',
                                        'action_email', 'action_sms', 'new_message', 'success',
                                        'success_closing')),
    trigger        text CHECK (trigger IN ('busy', 'no_answer', 'congestion', 'machine', 'abandoned',
                                           'invalid_number')),
    auto_add       boolean NOT NULL DEFAULT false,
    hidden         boolean NOT NULL DEFAULT false,
    active         boolean NOT NULL DEFAULT true,
    -- Default retry rule, copied to a campaign when the status is added to it.
    retry_delay_s  integer NOT NULL DEFAULT 3600 CHECK (retry_delay_s >= 0),
    backoff        text NOT NULL DEFAULT 'fixed' CHECK (backoff IN ('fixed', 'multiplicative')),
    backoff_factor double precision NOT NULL DEFAULT 2.0 CHECK (backoff_factor >= 1),
    max_attempts   integer CHECK (max_attempts > 0),
    created_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE NULLS NOT DISTINCT (campaign_id, name)
);

-- Which statuses a campaign uses, with the campaign's retry rule for each.
CREATE TABLE campaign_statuses (
    campaign_id    bigint NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    status_id      bigint NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    trigger        text,
    retry_delay_s  integer NOT NULL CHECK (retry_delay_s >= 0),
    backoff        text NOT NULL CHECK (backoff IN ('fixed', 'multiplicative')),
    backoff_factor double precision NOT NULL CHECK (backoff_factor >= 1),
    max_attempts   integer CHECK (max_attempts > 0),
    PRIMARY KEY (campaign_id, status_id)
);
CREATE UNIQUE INDEX campaign_statuses_trigger ON campaign_statuses (campaign_id, trigger) WHERE trigger IS NOT NULL;

ALTER TABLE campaigns ADD FOREIGN KEY (default_status_id) REFERENCES statuses (id);

CREATE TABLE import_batches (
    id             bigserial PRIMARY KEY,
    campaign_id    bigint NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    source         text NOT NULL DEFAULT '',
    first_line     integer NOT NULL,
    last_line      integer NOT NULL,
    imported       integer NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE contacts (
    id               bigserial PRIMARY KEY,
    campaign_id      bigint NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    name             text NOT NULL DEFAULT '',
    timezone         text,                             -- NULL: take the number's zone(s)
    fields           jsonb NOT NULL DEFAULT '{}',
    status_id        bigint NOT NULL REFERENCES statuses (id),
    not_before       timestamptz,
    agent_id         bigint REFERENCES agents (id) ON DELETE SET NULL,   -- "my record"
    callback_due_at  timestamptz,                      -- earliest pending callback
    attempts         integer NOT NULL DEFAULT 0,
    outcome_counts   jsonb NOT NULL DEFAULT '{}',      -- attempts per automatic trigger
    day_attempts     integer NOT NULL DEFAULT 0,
    day_attempts_on  date,                             -- the campaign-local day day_attempts counts
    next_phone_pos   smallint NOT NULL DEFAULT 1,
    priority         integer NOT NULL DEFAULT 0,
    last_attempt_at  timestamptz,
    last_outcome     text,
    last_abandon_at  timestamptz,
    last_machine_at  timestamptz,
    closed_reason    text,                             -- set when a cap or invalid numbers end dialling
    lease_owner      text,
    lease_expires_at timestamptz,
    import_batch     bigint REFERENCES import_batches (id) ON DELETE SET NULL,
    import_line      integer,
    dial_rank        smallint,                         -- 0 callback, 1 call progressive, 2 retry, 3 fresh
    due_at           timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX contacts_dial_order ON contacts (campaign_id, dial_rank, due_at, priority DESC, id)
    WHERE dial_rank IS NOT NULL;
CREATE INDEX contacts_campaign_status ON contacts (campaign_id, status_id);
CREATE INDEX contacts_lease_expiry ON contacts (lease_expires_at) WHERE lease_owner IS NOT NULL;
CREATE INDEX contacts_import ON contacts (import_batch, import_line) WHERE import_batch IS NOT NULL;

CREATE TABLE contact_phones (
    id            bigserial PRIMARY KEY,
    contact_id    bigint NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    campaign_id   bigint NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    position      smallint NOT NULL CHECK (position >= 1),
    e164          text NOT NULL CHECK (e164 ~ '^\+[1-9][0-9]{5,14}$'),
    kind          text NOT NULL DEFAULT 'unknown',
    timezones     text[] NOT NULL DEFAULT '{}',        -- candidate zones derived from the number
    window_start  time,                                -- contact window of this number (seed 003)
    window_end    time,
    disabled_at   timestamptz,                         -- e.g. reported as an invalid number
    UNIQUE (contact_id, position),
    CHECK ((window_start IS NULL) = (window_end IS NULL))
);
CREATE INDEX contact_phones_number ON contact_phones (campaign_id, e164);

CREATE TABLE do_not_call (
    id           bigserial PRIMARY KEY,
    e164         text NOT NULL,
    campaign_id  bigint REFERENCES campaigns (id) ON DELETE CASCADE,   -- NULL: the global list
    reason       text NOT NULL DEFAULT '',
    added_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE NULLS NOT DISTINCT (e164, campaign_id)
);

-- Bookable callback slots per campaign (seed 003: "siatka planowania").
CREATE TABLE callback_slots (
    id           bigserial PRIMARY KEY,
    campaign_id  bigint NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    starts_at    timestamptz NOT NULL,
    ends_at      timestamptz NOT NULL,
    capacity     integer NOT NULL CHECK (capacity >= 0),
    closed       boolean NOT NULL DEFAULT false,
    CHECK (ends_at > starts_at),
    UNIQUE (campaign_id, starts_at)
);

CREATE TABLE callbacks (
    id             bigserial PRIMARY KEY,
    contact_id     bigint NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    campaign_id    bigint NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    kind           text NOT NULL CHECK (kind IN ('personal', 'campaign')),
    source         text NOT NULL DEFAULT 'agent' CHECK (source IN ('agent', 'web')),
    agent_id       bigint REFERENCES agents (id) ON DELETE SET NULL,
    phone_id       bigint REFERENCES contact_phones (id) ON DELETE SET NULL,
    slot_id        bigint REFERENCES callback_slots (id) ON DELETE SET NULL,
    due_at         timestamptz NOT NULL,
    window_end_at  timestamptz,
    state          text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'cancelled')),
    created_at     timestamptz NOT NULL DEFAULT now(),
    CHECK (kind = 'campaign' OR agent_id IS NOT NULL),
    CHECK (window_end_at IS NULL OR window_end_at > due_at)
);
CREATE INDEX callbacks_pending ON callbacks (contact_id, due_at) WHERE state = 'pending';

CREATE TABLE attempts (
    id                 bigserial PRIMARY KEY,
    contact_id         bigint NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    campaign_id        bigint NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    phone_id           bigint REFERENCES contact_phones (id) ON DELETE SET NULL,
    e164               text NOT NULL,
    engine_id          text NOT NULL,
    callback_id        bigint REFERENCES callbacks (id) ON DELETE SET NULL,
    started_at         timestamptz NOT NULL,
    answered_at        timestamptz,
    ended_at           timestamptz,
    outcome            text CHECK (outcome IN ('answered', 'busy', 'no_answer', 'congestion', 'failed',
                                               'machine', 'abandoned', 'invalid_number', 'cancelled')),
    hangup_cause       integer,
    hangup_cause_text  text,
    asterisk_uniqueid  text,
    asterisk_linkedid  text,
    agent_id           bigint REFERENCES agents (id) ON DELETE SET NULL,
    status_id          bigint REFERENCES statuses (id) ON DELETE SET NULL,
    history_cleared_at timestamptz                     -- set by a move to an "unused" status; kept for audit
);
CREATE INDEX attempts_contact ON attempts (contact_id, started_at);
CREATE INDEX attempts_open ON attempts (engine_id, started_at) WHERE ended_at IS NULL;

-- Every status change, for audit (Ofcom: keep records at least six months).
CREATE TABLE status_changes (
    id           bigserial PRIMARY KEY,
    contact_id   bigint NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    from_status  bigint REFERENCES statuses (id) ON DELETE SET NULL,
    to_status    bigint REFERENCES statuses (id) ON DELETE SET NULL,
    from_campaign bigint,
    to_campaign  bigint,
    reason       text NOT NULL,                        -- trigger, disposition, transfer
    agent_id     bigint,
    attempt_id   bigint,
    changed_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX status_changes_contact ON status_changes (contact_id, changed_at);

-- A time of day inside [start, end): 00:00-00:00 is all day, start > end wraps midnight.
CREATE FUNCTION dialer_in_window(t time, s time, e time) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN s IS NULL OR s = e THEN true
                WHEN s < e THEN t >= s AND t < e
                ELSE t >= s OR t < e END
$$;

-- True when the instant is inside [s, e) local time in every zone given: a number whose
-- zone is ambiguous is only called when the hours hold in each of its candidate zones.
CREATE FUNCTION dialer_in_hours(at timestamptz, zones text[], s time, e time) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT NOT EXISTS (
        SELECT 1 FROM unnest(zones) AS z
        WHERE NOT dialer_in_window((at AT TIME ZONE z)::time, s, e))
$$;

CREATE FUNCTION contacts_dial_order() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    sys text;
BEGIN
    SELECT system_status INTO sys FROM statuses WHERE id = NEW.status_id;
    IF NEW.closed_reason IS NOT NULL THEN
        NEW.dial_rank := NULL; NEW.due_at := NULL;
    ELSIF NEW.callback_due_at IS NOT NULL THEN
        -- a callback someone scheduled is a newer instruction than the status
        -- (do-not-call lists still apply at lease time)
        NEW.dial_rank := 0; NEW.due_at := NEW.callback_due_at;
    ELSIF sys = 'do_not_call' THEN
        NEW.dial_rank := NULL; NEW.due_at := NULL;
    ELSIF sys = 'my_record' THEN
        -- an agent's own record is dialled only once the agent has set its date
        NEW.dial_rank := CASE WHEN NEW.not_before IS NULL OR NEW.agent_id IS NULL THEN NULL ELSE 0 END;
        NEW.due_at := NEW.not_before;
    ELSIF sys = 'call_progressive' THEN
        NEW.dial_rank := 1; NEW.due_at := coalesce(NEW.not_before, '-infinity');
    ELSIF NEW.attempts > 0 THEN
        NEW.dial_rank := 2; NEW.due_at := coalesce(NEW.not_before, '-infinity');
    ELSE
        NEW.dial_rank := 3; NEW.due_at := coalesce(NEW.not_before, '-infinity');
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER contacts_dial_order
    BEFORE INSERT OR UPDATE OF status_id, attempts, not_before, callback_due_at, closed_reason, agent_id
    ON contacts FOR EACH ROW EXECUTE FUNCTION contacts_dial_order();

-- The two statuses every installation starts with (seed 004).
INSERT INTO statuses (name, system_status, qualifier, auto_add) VALUES
    ('Dzwonić', 'call', 'unused', true),
    ('Nie dzwonić', 'do_not_call', 'closing', true);

-- Changing what a status means re-ranks the contacts that have it.
CREATE FUNCTION statuses_rerank() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE contacts SET status_id = status_id WHERE status_id = NEW.id;
    RETURN NEW;
END
$$;

CREATE TRIGGER statuses_rerank
    AFTER UPDATE OF system_status ON statuses
    FOR EACH ROW WHEN (OLD.system_status IS DISTINCT FROM NEW.system_status)
    EXECUTE FUNCTION statuses_rerank();
