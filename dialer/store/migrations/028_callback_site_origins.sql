-- Web callback sites (issue 13, "the public endpoint can be put on a website"): the origins a
-- site's pages may call the public endpoints from (CORS), and revocation that keeps the site's
-- request history (the rate limits and the audit count them) instead of deleting it.
ALTER TABLE callback_sites
    ADD COLUMN origins         text[] NOT NULL DEFAULT '{}',
    ADD COLUMN revoked_at      timestamptz,
    ADD COLUMN key_rotated_at  timestamptz;

-- the preflight's question: does any site still in use name this origin?
CREATE INDEX callback_sites_origins ON callback_sites USING gin (origins) WHERE revoked_at IS NULL;
