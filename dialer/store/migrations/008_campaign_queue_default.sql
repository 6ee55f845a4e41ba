-- A campaign's Asterisk queue defaults to the campaign's name (issue 17 item 5). The dialplan
-- already sends a call whose DIALER_QUEUE is empty to the queue named like the campaign, but
-- the engine added its agents to the empty queue name, which Asterisk refuses ("'Queue' not
-- specified"): the agents never joined the queue the calls went to. Campaigns created before
-- get the name the dialplan was using, and an empty queue can no longer be stored.
UPDATE campaigns SET queue = name WHERE queue = '';
ALTER TABLE campaigns ALTER COLUMN queue DROP DEFAULT;
ALTER TABLE campaigns ADD CONSTRAINT campaigns_queue_named CHECK (queue <> '');
