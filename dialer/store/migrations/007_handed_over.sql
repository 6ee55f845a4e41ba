-- Calls still up when an engine stops (a drain that outlived drain_timeout_s, a second
-- signal): the engine stops following them but the calls go on. The attempt row says so --
-- when it was handed over, by whom, and the PBX channel ids of the call -- so that the next
-- engine to start, whatever its engine_id, adopts it (claims it by setting engine_id and
-- clearing handed_over_at in one UPDATE) and follows it to its real end. Until then the
-- contact keeps its lease, extended so that nobody dials it while the call is up.
ALTER TABLE attempts ADD COLUMN handed_over_at timestamptz;
ALTER TABLE attempts ADD COLUMN channel_ids text[];
CREATE INDEX attempts_handed_over ON attempts (handed_over_at) WHERE handed_over_at IS NOT NULL AND ended_at IS NULL;
