-- Campaign memory (issue 11 item 2): a runner restores the campaign's abandon-rate windows and
-- the pacer's learned statistics from the attempts table at start and refreshes the windows
-- every few seconds (dialer/store/history.py). Both read a campaign's closed attempts by end
-- time; the included columns let the window counts come from the index alone.
CREATE INDEX attempts_campaign_ended ON attempts (campaign_id, ended_at) INCLUDE (outcome, id)
    WHERE ended_at IS NOT NULL;
