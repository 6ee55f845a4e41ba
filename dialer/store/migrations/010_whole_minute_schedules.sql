-- 010: schedule times are whole minutes (issue 19 item 5).
--
-- The schedules' time columns allowed seconds, which the Schedule value refuses (its times
-- are "HH:MM"): one row written with seconds by hand made every lease of every campaign fail
-- to read it, on every tick. Rows that already have seconds are cut to the minute (a window
-- that this would make empty, 09:00:10-09:00:50, keeps one minute), then the schema refuses
-- seconds, so the value and the column agree.

UPDATE schedules SET run_at = date_trunc('minute', run_at::interval)::time
WHERE run_at <> date_trunc('minute', run_at::interval)::time;

UPDATE schedules
SET window_start = date_trunc('minute', window_start::interval)::time,
    window_end = CASE
        WHEN date_trunc('minute', window_start::interval) = date_trunc('minute', window_end::interval)
             AND window_start <> window_end
        THEN (date_trunc('minute', window_end::interval) + interval '1 minute')::time
        ELSE date_trunc('minute', window_end::interval)::time END
WHERE window_start <> date_trunc('minute', window_start::interval)::time
   OR window_end <> date_trunc('minute', window_end::interval)::time;

ALTER TABLE schedules
    ADD CONSTRAINT schedules_run_at_whole_minute
        CHECK (run_at = date_trunc('minute', run_at::interval)::time),
    ADD CONSTRAINT schedules_window_start_whole_minute
        CHECK (window_start = date_trunc('minute', window_start::interval)::time),
    ADD CONSTRAINT schedules_window_end_whole_minute
        CHECK (window_end = date_trunc('minute', window_end::interval)::time);
