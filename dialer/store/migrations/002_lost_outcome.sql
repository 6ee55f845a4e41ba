-- An attempt the engine lost track of (AMI connection gone, engine restarted with no channel
-- left on the PBX) is closed with its own outcome, 'lost', so the audit trail says "unknown"
-- instead of pretending it failed (engine issue, item 5). 001's inline CHECK is named by
-- PostgreSQL's convention <table>_<column>_check.
ALTER TABLE attempts DROP CONSTRAINT attempts_outcome_check;
ALTER TABLE attempts ADD CONSTRAINT attempts_outcome_check CHECK (outcome IN (
    'answered', 'busy', 'no_answer', 'congestion', 'failed', 'machine', 'abandoned', 'invalid_number',
    'cancelled', 'lost'));
