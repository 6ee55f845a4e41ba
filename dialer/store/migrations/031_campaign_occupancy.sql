-- Agent time per minute (issue 10, the wallboard's talk share over the day): the agent-seconds
-- a campaign's agents were logged in and talking in each whole minute, written by its runner
-- every half minute (dialer/campaign/occupancy.py). Writes add to a minute's row, so the runners
-- of one campaign across a restart or a take-over sum. Deleted with the campaign.
CREATE TABLE campaign_occupancy (
    campaign_id bigint NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    minute      timestamptz NOT NULL CHECK (date_trunc('minute', minute) = minute),
    logged_in_s double precision NOT NULL CHECK (logged_in_s >= 0),
    talking_s   double precision NOT NULL CHECK (talking_s >= 0 AND talking_s <= logged_in_s + 0.001),
    PRIMARY KEY (campaign_id, minute)
);
