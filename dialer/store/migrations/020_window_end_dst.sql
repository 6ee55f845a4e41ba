-- A lease's dial_until never spans a change of a candidate zone's UTC offset (issue 11).
--
-- dialer_window_end (migration 006) puts the end of the window at the wall-clock end of the
-- hours in each zone. A clock change inside the window can take the local time out of the
-- hours before that end: when the clocks go back at 02:00 to 01:00, hours that start at 01:01
-- are left for a minute (hypothesis found it: Denver, 1 November 2026). The end is now also
-- capped just before the first offset change between the lease and that end, probed every
-- 15 minutes (every zone changes its offset on a quarter hour), early rather than late. The
-- probe runs only when the offset at the end differs from the offset at the lease, that is on
-- a clock-change night; lawful calling hours (08:00-21:00) never contain one, so production
-- leases are not shortened in practice.
CREATE OR REPLACE FUNCTION dialer_window_end(at timestamptz, zones text[], s time, e time) RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE AS $$
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
$$;
