-- 004: answered contacts never return as fresh, unlawful settings refused, AMD per campaign,
-- demo campaigns flagged (issue 11 items 3-5, issue 17 item 5).
--
-- The rules themselves live in dialer/campaign/rules.py (every front end goes through the
-- store, which checks them there); the CHECKs below are the second line where one is natural.
-- Rows stored before this migration that break a new CHECK are not refused (the migration must
-- not fail) and not silently kept either: each is repaired to the nearest lawful value, the
-- campaign is stopped when its dialling changed, and every repair is written to
-- migration_notes (table, row, field, old value, what was done) and raised as a NOTICE.

CREATE TABLE migration_notes (
    id          bigserial PRIMARY KEY,
    migration   text NOT NULL,
    table_name  text NOT NULL,
    row_id      bigint NOT NULL,
    field       text NOT NULL,
    old_value   text,
    action      text NOT NULL,
    noted_at    timestamptz NOT NULL DEFAULT now()
);

-- Item 3: the status an answered contact gets when its agent sets none. Not dialled again:
-- a person who talked to an agent is no fresh contact (the seeds' names are Polish, like
-- "Dzwonić" / "Nie dzwonić"; English: "answered, no disposition").
INSERT INTO statuses (name, system_status, qualifier, auto_add)
VALUES ('Odebrany bez dyspozycji', 'do_not_call', 'closing', true)
ON CONFLICT (campaign_id, name) DO NOTHING;

ALTER TABLE campaigns
    ADD COLUMN default_disposition_id bigint REFERENCES statuses (id),
    ADD COLUMN amd boolean NOT NULL DEFAULT false,
    ADD COLUMN amd_action text NOT NULL DEFAULT 'hangup'
        CHECK (amd_action IN ('hangup', 'message', 'agent')),
    ADD COLUMN amd_message text NOT NULL DEFAULT '',
    -- the operator's estimate of human answers AMD takes for machines (Ofcom: a reasoned estimate)
    ADD COLUMN amd_false_positive numeric(5, 4) NOT NULL DEFAULT 0
        CHECK (amd_false_positive >= 0 AND amd_false_positive < 1),
    -- generated data of `dialer demo`: `dialer run` never dials it
    ADD COLUMN demo boolean NOT NULL DEFAULT false,
    ADD CONSTRAINT campaigns_amd_message CHECK (NOT amd OR amd_action <> 'message' OR amd_message <> ''),
    -- AMD that hangs up on people it takes for machines abandons them: never under zero, and
    -- under uk only with an estimate leaving half the cap for calls no agent took.
    ADD CONSTRAINT campaigns_amd_zero CHECK (NOT (compliance = 'zero' AND amd AND amd_action <> 'agent')),
    ADD CONSTRAINT campaigns_amd_uk CHECK (NOT (compliance = 'uk' AND amd AND amd_action <> 'agent')
        OR (amd_false_positive > 0 AND amd_false_positive < abandon_cap / 2));

-- Every campaign uses the new status, and it is the default disposition of every campaign.
INSERT INTO campaign_statuses (campaign_id, status_id, trigger, retry_delay_s, backoff, backoff_factor, max_attempts)
SELECT c.id, s.id, NULL, s.retry_delay_s, s.backoff, s.backoff_factor, s.max_attempts
FROM campaigns c CROSS JOIN statuses s
WHERE s.campaign_id IS NULL AND s.name = 'Odebrany bez dyspozycji'
ON CONFLICT (campaign_id, status_id) DO NOTHING;
UPDATE campaigns SET default_disposition_id =
    (SELECT id FROM statuses WHERE campaign_id IS NULL AND name = 'Odebrany bez dyspozycji');

-- Item 5: the campaigns an earlier `dialer demo` made (its names on its all-day schedule).
UPDATE campaigns c SET demo = true
FROM schedules s
WHERE s.id = c.schedule_id AND s.name = 'DEMO_ALL_DAY' AND c.name ~ '^DEMO(_[A-Z_]+)?$';

-- Item 4: ring timeout at most 120 s (the 15 s minimum was 001's).
INSERT INTO migration_notes (migration, table_name, row_id, field, old_value, action)
SELECT '004', 'campaigns', id, 'ring_timeout_s', ring_timeout_s::text, 'lowered to 120'
FROM campaigns WHERE ring_timeout_s > 120;
UPDATE campaigns SET ring_timeout_s = 120 WHERE ring_timeout_s > 120;
ALTER TABLE campaigns DROP CONSTRAINT campaigns_ring_timeout_s_check;
ALTER TABLE campaigns ADD CONSTRAINT campaigns_ring_timeout_s_check
    CHECK (ring_timeout_s BETWEEN 15 AND 120);

-- Item 4: local calling hours inside 08:00-21:00 (every profile; rules.py LEGAL_HOURS), except
-- demo campaigns, whose people are simulated. A campaign outside them is stopped and gets the
-- legal hours: narrowing its own hours could leave nothing (22:00-07:00), and dialling again
-- is the operator's decision.
INSERT INTO migration_notes (migration, table_name, row_id, field, old_value, action)
SELECT '004', 'campaigns', id, 'hours',
       to_char(local_hours_start, 'HH24:MI') || '-' || to_char(local_hours_end, 'HH24:MI') || ' ' || state,
       'outside 08:00-21:00: set to 08:00-21:00 and stopped'
FROM campaigns
WHERE NOT demo AND NOT (local_hours_start >= '08:00' AND local_hours_start < local_hours_end
                        AND local_hours_end <= '21:00');
UPDATE campaigns SET local_hours_start = '08:00', local_hours_end = '21:00', state = 'stopped'
WHERE NOT demo AND NOT (local_hours_start >= '08:00' AND local_hours_start < local_hours_end
                        AND local_hours_end <= '21:00');
ALTER TABLE campaigns ADD CONSTRAINT campaigns_legal_hours CHECK (demo OR (
    local_hours_start >= '08:00' AND local_hours_start < local_hours_end AND local_hours_end <= '21:00'));

-- Item 4: agent interfaces well formed and unique ignoring case. A malformed one, and every
-- later duplicate of an earlier agent's, is cleared ('' = given at login) and noted.
INSERT INTO migration_notes (migration, table_name, row_id, field, old_value, action)
SELECT '004', 'agents', a.id, 'interface', a.interface,
       CASE WHEN EXISTS (SELECT 1 FROM agents b WHERE lower(b.interface) = lower(a.interface) AND b.id < a.id)
            THEN 'duplicate of an earlier agent: cleared' ELSE 'malformed: cleared' END
FROM agents a
WHERE a.interface <> '' AND (
    NOT (a.interface ~* '^(pjsip|sip|iax2|dahdi|sccp|skinny|unistim|motif|webrtc)/[A-Za-z0-9_.+:@=-]+$'
         OR a.interface ~* '^local/[A-Za-z0-9_.+*#-]+@[A-Za-z0-9_.-]+(/[nmbj]+)?$')
    OR EXISTS (SELECT 1 FROM agents b WHERE lower(b.interface) = lower(a.interface) AND b.id < a.id));
UPDATE agents SET interface = ''
WHERE id IN (SELECT row_id FROM migration_notes WHERE migration = '004' AND table_name = 'agents');
ALTER TABLE agents ADD CONSTRAINT agents_interface_shape CHECK (interface = '' OR
    interface ~* '^(pjsip|sip|iax2|dahdi|sccp|skinny|unistim|motif|webrtc)/[A-Za-z0-9_.+:@=-]+$'
    OR interface ~* '^local/[A-Za-z0-9_.+*#-]+@[A-Za-z0-9_.-]+(/[nmbj]+)?$');
CREATE UNIQUE INDEX agents_interface_unique ON agents (lower(interface)) WHERE interface <> '';

-- Item 4: statuses whose trigger contradicts the system status or the qualifier. Existing
-- ones are kept as they are (a status's meaning re-ranks every contact that has it), listed
-- in migration_notes; the constraints hold for every status written from now on.
INSERT INTO migration_notes (migration, table_name, row_id, field, old_value, action)
SELECT '004', 'statuses', id, 'trigger', system_status || '/' || qualifier || '/' || trigger,
       'contradictory: kept; review it'
FROM statuses
WHERE trigger IS NOT NULL AND (system_status = 'my_record'
    OR qualifier IN ('success', 'success_closing', 'cancel_success_close', 'unused'));
ALTER TABLE statuses ADD CONSTRAINT statuses_trigger_consistent CHECK (trigger IS NULL OR (
    system_status <> 'my_record'
    AND qualifier NOT IN ('success', 'success_closing', 'cancel_success_close', 'unused'))) NOT VALID;

DO $$
DECLARE
    n record;
BEGIN
    FOR n IN SELECT * FROM migration_notes WHERE migration = '004' ORDER BY id LOOP
        RAISE NOTICE 'migration 004: % % %: % (was %)', n.table_name, n.row_id, n.field, n.action, n.old_value;
    END LOOP;
END
$$;
