-- A call cut by the PBX shutting down or restarting under it (`core stop now` / `core restart
-- now`: Asterisk hangs every channel up) is closed with its own outcome, 'pbx_shutdown', so
-- that it is told apart from abandons and failures (issue 17 item 4). It fires the congestion
-- trigger (retried like a network failure) and never counts into the abandon rate.
ALTER TABLE attempts DROP CONSTRAINT attempts_outcome_check;
ALTER TABLE attempts ADD CONSTRAINT attempts_outcome_check CHECK (outcome IN (
    'answered', 'busy', 'no_answer', 'congestion', 'failed', 'machine', 'abandoned', 'invalid_number',
    'cancelled', 'lost', 'pbx_shutdown'));
