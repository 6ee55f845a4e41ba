-- Several Asterisk servers (issue 15 item 3): the servers or server groups a campaign dials
-- through (empty: every configured server), and the server an agent's phone is registered on
-- ('' : any; its queue membership then goes to every server, as before).
ALTER TABLE campaigns ADD COLUMN servers text[] NOT NULL DEFAULT '{}';
ALTER TABLE agents ADD COLUMN server text NOT NULL DEFAULT '';
