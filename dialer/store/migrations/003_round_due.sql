-- The retry time earned by the failures of the contact's current rotation round. A failed
-- number hands over to the contact's next number at once (seed rule: the next number before
-- the first is retried), but the first number's retry delay still holds when the round wraps
-- back to it; before this column that delay was forgotten whenever the last number of the
-- round turned out invalid (its rule has no delay). NULL: nothing owed (fresh round).
ALTER TABLE contacts ADD COLUMN round_due_at timestamptz;
