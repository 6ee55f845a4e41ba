-- 019: the reminder service (issue 14; seed 002 "Automat przypomnień", seed 001 status actions).
--
-- Reminders of callbacks go to the customer and/or the agent by SMS or e-mail, rendered from
-- a campaign's templates. Every send is one row of reminder_sends, unique per (callback,
-- recipient, channel) and per (status change, channel): that row is the claim that makes a
-- send happen at most once across restarts and several engines. reminder_log keeps every
-- operation on a row (planned, re-planned, claimed, sent, retried, failed, cancelled).
-- The callbacks table is read, never changed.

CREATE TABLE reminder_templates (
    id           bigserial PRIMARY KEY,
    campaign_id  bigint NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    name         text NOT NULL CHECK (name <> ''),
    channel      text NOT NULL CHECK (channel IN ('sms', 'email')),
    subject      text NOT NULL DEFAULT '',
    body         text NOT NULL CHECK (body <> ''),
    html         text NOT NULL DEFAULT '',
    updated_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (campaign_id, name)
);

-- Per campaign: on/off and the defaults for customers and for agents (seed 002's two tabs).
CREATE TABLE reminder_settings (
    campaign_id        bigint PRIMARY KEY REFERENCES campaigns (id) ON DELETE CASCADE,
    enabled            boolean NOT NULL DEFAULT false,
    customer_enabled   boolean NOT NULL DEFAULT true,
    customer_channel   text NOT NULL DEFAULT 'sms' CHECK (customer_channel IN ('sms', 'email')),
    customer_template  bigint REFERENCES reminder_templates (id) ON DELETE SET NULL,
    customer_lead_s    integer NOT NULL DEFAULT 3600 CHECK (customer_lead_s BETWEEN 0 AND 604800),
    agent_enabled      boolean NOT NULL DEFAULT true,
    agent_channel      text NOT NULL DEFAULT 'email' CHECK (agent_channel IN ('sms', 'email')),
    agent_template     bigint REFERENCES reminder_templates (id) ON DELETE SET NULL,
    agent_lead_s       integer NOT NULL DEFAULT 3600 CHECK (agent_lead_s BETWEEN 0 AND 604800),
    email_from         text NOT NULL DEFAULT '',
    sms_sender         text NOT NULL DEFAULT '',
    language           text NOT NULL DEFAULT 'en' CHECK (language IN ('en', 'pl')),
    updated_at         timestamptz NOT NULL DEFAULT now()
);

-- Per callback: the override of the campaign's defaults (channel, template, lead, recipients).
CREATE TABLE reminder_overrides (
    callback_id  bigint PRIMARY KEY REFERENCES callbacks (id) ON DELETE CASCADE,
    recipients   text CHECK (recipients IN ('customer', 'agent', 'both', 'none')),
    channel      text CHECK (channel IN ('sms', 'email')),
    template_id  bigint REFERENCES reminder_templates (id) ON DELETE SET NULL,
    lead_s       integer CHECK (lead_s BETWEEN 0 AND 604800)
);

-- A contact who asked for no reminders.
CREATE TABLE reminder_optouts (
    contact_id  bigint PRIMARY KEY REFERENCES contacts (id) ON DELETE CASCADE,
    opted_at    timestamptz NOT NULL DEFAULT now()
);

-- Where an agent gets reminders.
CREATE TABLE reminder_agent_addresses (
    agent_id  bigint PRIMARY KEY REFERENCES agents (id) ON DELETE CASCADE,
    email     text NOT NULL DEFAULT '',
    phone     text NOT NULL DEFAULT ''
);

-- Seed 001: a status with the qualifier "action - send e-mail/SMS by template" sends this template.
CREATE TABLE reminder_status_actions (
    campaign_id  bigint NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    status_id    bigint NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    template_id  bigint NOT NULL REFERENCES reminder_templates (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (campaign_id, status_id)
);

CREATE TABLE reminder_sends (
    id                bigserial PRIMARY KEY,
    campaign_id       bigint NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    contact_id        bigint REFERENCES contacts (id) ON DELETE SET NULL,
    callback_id       bigint REFERENCES callbacks (id) ON DELETE SET NULL,
    status_change_id  bigint,
    purpose           text NOT NULL CHECK (purpose IN ('reminder', 'status_action')),
    recipient         text NOT NULL CHECK (recipient IN ('customer', 'agent')),
    channel           text NOT NULL CHECK (channel IN ('sms', 'email')),
    template_id       bigint REFERENCES reminder_templates (id) ON DELETE SET NULL,
    agent_id          bigint REFERENCES agents (id) ON DELETE SET NULL,
    address           text NOT NULL DEFAULT '',
    callback_due_at   timestamptz,                 -- the callback time this row was planned for
    send_at           timestamptz NOT NULL,
    deadline          timestamptz NOT NULL,        -- no send (nor retry) from then on
    next_try_at       timestamptz NOT NULL,
    state             text NOT NULL DEFAULT 'pending'
                      CHECK (state IN ('pending', 'sending', 'sent', 'failed', 'cancelled', 'uncertain')),
    tries             integer NOT NULL DEFAULT 0,
    claimed_by        text,
    claimed_at        timestamptz,
    text_hash         text,
    provider_id       text,
    error             text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    finished_at       timestamptz
);
CREATE UNIQUE INDEX reminder_sends_once ON reminder_sends (callback_id, recipient, channel)
    WHERE purpose = 'reminder';
CREATE UNIQUE INDEX reminder_sends_action_once ON reminder_sends (status_change_id, channel)
    WHERE purpose = 'status_action';
CREATE INDEX reminder_sends_due ON reminder_sends (next_try_at) WHERE state = 'pending';
CREATE INDEX reminder_sends_campaign ON reminder_sends (campaign_id, created_at);

CREATE TABLE reminder_log (
    id         bigserial PRIMARY KEY,
    send_id    bigint NOT NULL REFERENCES reminder_sends (id) ON DELETE CASCADE,
    at         timestamptz NOT NULL,
    operation  text NOT NULL,
    detail     text NOT NULL DEFAULT ''
);
CREATE INDEX reminder_log_send ON reminder_log (send_id, at);

-- Which reminder services run, and how their last pass went (the seed's "is it running" panel).
CREATE TABLE reminder_services (
    engine_id    text PRIMARY KEY,
    started_at   timestamptz NOT NULL,
    last_run_at  timestamptz NOT NULL,
    tick_s       double precision NOT NULL,
    stopped_at   timestamptz
);
