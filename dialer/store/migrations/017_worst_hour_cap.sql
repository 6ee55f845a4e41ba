-- Pacing III (issue 12): a supervisor may ask the predictive pacer to hold the abandon cap
-- over every rolling hour too, not only over the profile's window. Off by default: holding
-- each hour of a few hundred answers under the cap costs talk time.
ALTER TABLE campaigns ADD COLUMN worst_hour_cap boolean NOT NULL DEFAULT false;
