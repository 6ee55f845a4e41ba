-- Issue 18 items 3-4: the per-row time checks of the lease, cheaper, with the same meaning.
--
-- dialer_in_hours (migration 001) and dialer_window_end (006, 020) were SQL functions whose
-- bodies hold a subquery, so PostgreSQL can neither inline them nor keep their plans: every
-- execution of the lease planned their bodies again and ran a small executor per call (the lease
-- spent about half its time there, issue 18). As PL/pgSQL their plans are kept per session:
--
-- * dialer_in_hours walks the zones with FOREACH, each test a simple expression (no executor):
--   true when the instant is inside [s, e) local time in every zone given (a NULL or empty
--   list: true, as NOT EXISTS over unnest gave);
-- * dialer_window_end keeps migration 020's query word for word, now planned once per session.

CREATE OR REPLACE FUNCTION dialer_in_hours(at timestamptz, zones text[], s time, e time) RETURNS boolean
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
    z text;
BEGIN
    IF zones IS NULL THEN
        RETURN true;
    END IF;
    FOREACH z IN ARRAY zones LOOP
        IF NOT dialer_in_window((at AT TIME ZONE z)::time, s, e) THEN
            RETURN false;
        END IF;
    END LOOP;
    RETURN true;
END
$$;

CREATE OR REPLACE FUNCTION dialer_window_end(at timestamptz, zones text[], s time, e time) RETURNS timestamptz
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
    RETURN (
        SELECT min(CASE
                   WHEN (y.x AT TIME ZONE w.z) - (y.x AT TIME ZONE 'UTC') = w.off THEN y.x
                   -- the probe before the first one on the other offset; none between: the last probe
                   ELSE coalesce(
                       (SELECT min(u) FROM generate_series(at, y.x, interval '15 minutes') AS u
                        WHERE (u AT TIME ZONE w.z) - (u AT TIME ZONE 'UTC') <> w.off) - interval '15 minutes',
                       at + floor(extract(epoch FROM y.x - at) / 900) * interval '15 minutes')
                   END)
        FROM (SELECT z,
                     (CASE WHEN s < e OR (at AT TIME ZONE z)::time < e
                           THEN (at AT TIME ZONE z)::date
                           ELSE (at AT TIME ZONE z)::date + 1 END) + e AS wall,
                     (at AT TIME ZONE z) - (at AT TIME ZONE 'UTC') AS off
              FROM unnest(zones) AS z
              WHERE s IS NOT NULL AND s <> e) w
        CROSS JOIN LATERAL (SELECT (w.wall - w.off) AT TIME ZONE 'UTC' AS g) g
        CROSS JOIN LATERAL (
            SELECT least(g.g, (w.wall - ((g.g AT TIME ZONE w.z) - (g.g AT TIME ZONE 'UTC'))) AT TIME ZONE 'UTC') AS x
        ) y
    );
END
$$;
