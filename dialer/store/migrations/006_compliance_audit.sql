-- 006: what the compliance audit report (issue 11, item 6) reads from the attempts table, and
-- the end of a contact's current calling window (item 1: a lease is never dialled past it).
--
-- The report is computed from the attempts alone, so an attempt records at dial time what
-- may change later: the number's candidate zones (the contact's zone, else the number's,
-- else the campaign's -- eligibility.ZONES), whether an agent was reserved for the call (the
-- UK repeat-call locks yield to one), and at its end the ring time and whether an abandoned
-- call heard the information message. Rows written before 006 have NULLs here; the report
-- falls back to the contact's current zones and counts a NULL ring time or message as unknown.
ALTER TABLE attempts
    ADD COLUMN zones          text[],
    ADD COLUMN agent_reserved boolean,
    ADD COLUMN ring_s         double precision,
    ADD COLUMN info_message   boolean;

-- The report and the retention prune walk one campaign's attempts by start time.
CREATE INDEX attempts_campaign_started ON attempts (campaign_id, started_at);
-- The UK repeat-call lock check finds the later calls to a number abandoned or answered by a machine.
CREATE INDEX attempts_number ON attempts (campaign_id, e164, started_at);

-- When the window [s, e) (local time, 00:00-00:00 all day, s > e wraps midnight) that holds
-- the instant ``at`` ends, the earliest over every zone given; NULL when it never ends (all
-- day, or no window). Called only for an instant inside the window (the lease checked it).
-- The end's wall time is turned into an instant with the zone's offset at ``at`` and with the
-- offset at that first guess, and the earlier is kept: across a DST change that is the first
-- instant the wall clock reaches the end, or (the end in a spring-forward gap, or after a
-- repeated autumn hour) up to an hour before it -- early, never late.
CREATE FUNCTION dialer_window_end(at timestamptz, zones text[], s time, e time) RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT min(least(g.x, (w.wall - ((g.x AT TIME ZONE w.z) - (g.x AT TIME ZONE 'UTC'))) AT TIME ZONE 'UTC'))
    FROM (SELECT z,
                 (CASE WHEN s < e OR (at AT TIME ZONE z)::time < e
                       THEN (at AT TIME ZONE z)::date
                       ELSE (at AT TIME ZONE z)::date + 1 END) + e AS wall,
                 (at AT TIME ZONE z) - (at AT TIME ZONE 'UTC') AS off
          FROM unnest(zones) AS z
          WHERE s IS NOT NULL AND s <> e) w
    CROSS JOIN LATERAL (SELECT (w.wall - w.off) AT TIME ZONE 'UTC' AS x) g
$$;
