-- Callbacks, complete (issue 13): the slot grid per campaign, a booked count per slot kept by
-- the database, a missed state, the history of every change, web callback requests and sites.
--
-- What the callbacks table means is unchanged (a contact to call at due_at, until window_end_at
-- when set; personal = only agent_id, campaign = any agent). New here:
--   state 'missed'   the window passed without a connect and the campaign's rule handed the
--                    contact back to its campaign (the row is kept for the history);
--   requester_name, consent_text   what a web callback request said (source = 'web').

-- The grid of one campaign: its opening days and hours are a schedule (seed 000), cut into
-- slots of slot_min minutes; capacity NULL = the number of agents assigned to the campaign.
CREATE TABLE callback_grids (
    campaign_id          bigint PRIMARY KEY REFERENCES campaigns (id) ON DELETE CASCADE,
    schedule_id          bigint NOT NULL REFERENCES schedules (id),
    slot_min             integer NOT NULL CHECK (slot_min BETWEEN 5 AND 1440),
    capacity             integer CHECK (capacity >= 0),
    closed_dates         date[] NOT NULL DEFAULT '{}',     -- local dates in the schedule's zone
    missed_rule          text NOT NULL DEFAULT 'campaign'
                         CHECK (missed_rule IN ('campaign', 'next_slot', 'retry')),
    retry_delay_s        integer NOT NULL DEFAULT 600 CHECK (retry_delay_s >= 60),
    personal_cap_per_day integer CHECK (personal_cap_per_day > 0),
    regions              text[] NOT NULL DEFAULT '{}'       -- web requests' number regions; {} = any
);

-- A slot row exists once something was booked in it (or it was closed by hand); capacity NULL
-- follows the grid. booked counts the pending and done callbacks in it (trigger below).
ALTER TABLE callback_slots ALTER COLUMN capacity DROP NOT NULL;
ALTER TABLE callback_slots ADD COLUMN booked integer NOT NULL DEFAULT 0;
UPDATE callback_slots s SET booked = (SELECT count(*) FROM callbacks b
                                      WHERE b.slot_id = s.id AND b.state IN ('pending', 'done'));

ALTER TABLE callbacks DROP CONSTRAINT callbacks_state_check;
ALTER TABLE callbacks ADD CONSTRAINT callbacks_state_check
    CHECK (state IN ('pending', 'done', 'cancelled', 'missed'));
ALTER TABLE callbacks ADD COLUMN requester_name text;
ALTER TABLE callbacks ADD COLUMN consent_text text;
CREATE INDEX callbacks_window_end ON callbacks (campaign_id, window_end_at)
    WHERE state = 'pending' AND window_end_at IS NOT NULL;
CREATE INDEX callbacks_personal ON callbacks (agent_id, due_at) WHERE state = 'pending' AND kind = 'personal';
CREATE INDEX callbacks_campaign_due ON callbacks (campaign_id, due_at) WHERE state = 'pending';

CREATE FUNCTION callbacks_slot_count() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.slot_id IS NOT NULL AND OLD.state IN ('pending', 'done') THEN
        UPDATE callback_slots SET booked = booked - 1 WHERE id = OLD.slot_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.slot_id IS NOT NULL AND NEW.state IN ('pending', 'done') THEN
        UPDATE callback_slots SET booked = booked + 1 WHERE id = NEW.slot_id;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER callbacks_slot_count
    AFTER INSERT OR DELETE OR UPDATE OF slot_id, state ON callbacks
    FOR EACH ROW EXECUTE FUNCTION callbacks_slot_count();

-- Every change of a callback: who (the transaction's dialer.actor setting, else 'engine'),
-- when, and the tracked columns before and after. Written by a trigger, so no path that
-- changes a callback (the engine's close_attempt included) can forget it.
CREATE TABLE callback_changes (
    id           bigserial PRIMARY KEY,
    callback_id  bigint NOT NULL REFERENCES callbacks (id) ON DELETE CASCADE,
    changed_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor        text NOT NULL,
    action       text NOT NULL,
    before       jsonb,
    after        jsonb NOT NULL
);
CREATE INDEX callback_changes_callback ON callback_changes (callback_id, id);

CREATE FUNCTION callbacks_history() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    old_j jsonb;
    new_j jsonb;
    act text;
BEGIN
    new_j := jsonb_build_object('kind', NEW.kind, 'agent_id', NEW.agent_id, 'phone_id', NEW.phone_id,
                                'slot_id', NEW.slot_id, 'due_at', NEW.due_at,
                                'window_end_at', NEW.window_end_at, 'state', NEW.state);
    IF TG_OP = 'UPDATE' THEN
        old_j := jsonb_build_object('kind', OLD.kind, 'agent_id', OLD.agent_id, 'phone_id', OLD.phone_id,
                                    'slot_id', OLD.slot_id, 'due_at', OLD.due_at,
                                    'window_end_at', OLD.window_end_at, 'state', OLD.state);
        IF old_j = new_j THEN
            RETURN NULL;
        END IF;
    END IF;
    act := nullif(current_setting('dialer.action', true), '');
    IF act IS NULL THEN
        act := CASE WHEN TG_OP = 'INSERT' THEN 'created'
                    WHEN OLD.state IS DISTINCT FROM NEW.state THEN NEW.state
                    ELSE 'changed' END;
    END IF;
    INSERT INTO callback_changes (callback_id, actor, action, before, after)
    VALUES (NEW.id, coalesce(nullif(current_setting('dialer.actor', true), ''), 'engine'), act, old_j, new_j);
    RETURN NULL;
END
$$;

CREATE TRIGGER callbacks_history
    AFTER INSERT OR UPDATE ON callbacks
    FOR EACH ROW EXECUTE FUNCTION callbacks_history();

-- Websites allowed to send web callback requests for a campaign, each with its own API key
-- (only its SHA-256 is stored).
CREATE TABLE callback_sites (
    id           bigserial PRIMARY KEY,
    name         text NOT NULL UNIQUE CHECK (name <> ''),
    campaign_id  bigint NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    key_hash     text NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL DEFAULT now()
);

-- Every web callback request, accepted or refused: the rate limits count these.
CREATE TABLE web_callback_requests (
    id            bigserial PRIMARY KEY,
    site_id       bigint NOT NULL REFERENCES callback_sites (id) ON DELETE CASCADE,
    e164          text NOT NULL,
    source_addr   text NOT NULL,
    requested_at  timestamptz NOT NULL,
    callback_id   bigint REFERENCES callbacks (id) ON DELETE SET NULL,
    outcome       text NOT NULL
);
CREATE INDEX web_callback_requests_number ON web_callback_requests (e164, requested_at);
CREATE INDEX web_callback_requests_source ON web_callback_requests (source_addr, requested_at);
