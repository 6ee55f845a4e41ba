// Campaigns (supervisors, admins): the list with each campaign's state; a campaign's counts,
// every setting in one form (create and edit), start / pause / stop, and delete (admins).
// Fields and rules are the API's (PATCH /campaigns/{campaign}: only what changed is sent).

import { api } from './api.js';
import { h } from './dom.js';
import { label, t } from './i18n.js';
import { deleteButton, fill, form, frame, isAdmin, table, yes } from './admin-ui.js';

const MODES = ['preview', 'push_preview', 'progressive', 'predictive'];
const COMPLIANCE = ['us', 'uk', 'zero'];
const AMD_ACTIONS = ['hangup', 'message', 'agent'];
const STATES = ['start', 'pause', 'stop'];

// Every setting of the campaign, in the API's names.
export function campaignFields(schedules, statuses) {
  return [
    { name: 'name', key: 'campaigns.name', create: true },
    { name: 'schedule', key: 'campaigns.schedule', type: 'select', options: schedules, dflt: true, none: 'admin.choose' },
    { name: 'mode', key: 'campaigns.mode', type: 'select', options: MODES, group: 'mode', dflt: true },
    { name: 'queue', key: 'campaigns.queue', hint: 'campaigns.queue_hint' },
    { name: 'caller_id', key: 'campaigns.caller_id', empty: '' },
    { name: 'servers', key: 'campaigns.servers', type: 'list', hint: 'campaigns.servers_hint' },
    { name: 'ring_timeout_s', key: 'campaigns.ring_timeout_s', type: 'number', step: 1 },
    { name: 'local_hours_start', key: 'campaigns.local_hours_start', type: 'time' },
    { name: 'local_hours_end', key: 'campaigns.local_hours_end', type: 'time' },
    { name: 'timezone', key: 'campaigns.timezone', type: 'zone' },
    { name: 'compliance', key: 'campaigns.compliance', type: 'select', options: COMPLIANCE, group: 'compliance', dflt: true },
    { name: 'abandon_cap', key: 'campaigns.abandon_cap', type: 'number', step: 0.001, hint: 'campaigns.fraction' },
    { name: 'priority', key: 'campaigns.priority', type: 'number', step: 1 },
    { name: 'max_attempts', key: 'campaigns.max_attempts', type: 'number', step: 1 },
    { name: 'max_attempts_per_day', key: 'campaigns.max_attempts_per_day', type: 'number', step: 1 },
    statuses
      ? { name: 'default_disposition', key: 'campaigns.default_disposition', type: 'select', options: ['', ...statuses], none: 'campaigns.no_disposition', empty: null }
      : null,
    { name: 'amd', key: 'campaigns.amd', type: 'check', dflt: true },
    { name: 'amd_action', key: 'campaigns.amd_action', type: 'select', options: AMD_ACTIONS, group: 'amd', dflt: true },
    { name: 'amd_message', key: 'campaigns.amd_message', empty: '' },
    { name: 'amd_false_positive', key: 'campaigns.amd_false_positive', type: 'number', step: 0.01, hint: 'campaigns.fraction' },
  ].filter(Boolean);
}

export function mount(root, ctx) {
  const list = h('div', { class: 'panel', id: 'campaign-list' });
  const side = h('div', { class: 'panel', id: 'campaign-detail' }, h('p', { class: 'muted' }, t('campaigns.pick')));
  const ui = frame(root, 'nav.campaigns',
    h('div', { class: 'controls' }, h('button', { class: 'primary', id: 'campaign-new', onclick: () => create().catch((err) => ui.fail(err)) }, t('campaigns.new'))),
    h('div', { class: 'split' }, list, side));
  let schedules = [];
  let selected = null;

  async function refresh() {
    const [campaigns, all] = await Promise.all([api('GET', '/campaigns'), api('GET', '/schedules')]);
    schedules = all.map((s) => s.name);
    fill(list, table([
      { key: 'campaigns.name', value: (c) => h('a', { href: '#/campaigns', onclick: (e) => { e.preventDefault(); open(c.name); } }, c.name) },
      { key: 'campaigns.mode', value: (c) => label('mode', c.mode) },
      { key: 'campaigns.state', value: (c) => h('span', { class: `pill campaign-${c.state}` }, label('campaign', c.state)) },
      { key: 'campaigns.running_here', value: (c) => yes(c.running_here) },
    ], campaigns, (c) => ({ dataset: { campaign: c.name }, class: c.name === selected ? 'selected' : '' })));
  }

  async function create() {
    selected = null;
    schedules = (await api('GET', '/schedules')).map((s) => s.name);
    const f = form({
      id: 'campaign-form',
      fields: campaignFields(schedules, null),
      submitKey: 'campaigns.create',
      submit: async (body) => {
        const made = await api('POST', '/campaigns', body);
        ui.say(t('campaigns.created', { name: made.name }));
        await refresh();
        await open(made.name);
      },
    });
    fill(side, h('h2', {}, t('campaigns.new')), f.el);
    f.input('name').focus();
  }

  async function open(name) {
    selected = name;
    const [c, statuses] = await Promise.all([
      api('GET', `/campaigns/${encodeURIComponent(name)}`),
      api('GET', `/campaigns/${encodeURIComponent(name)}/status-settings`),
    ]);
    const f = form({
      id: 'campaign-form',
      fields: campaignFields(schedules, statuses.map((s) => s.name)),
      initial: c,
      submit: async (body) => {
        if (!Object.keys(body).length) return;
        await api('PATCH', `/campaigns/${encodeURIComponent(name)}`, body);
        await refresh();
        await open(name);
        ui.say(t('campaigns.saved', { name }));
      },
    });
    const act = (verb) => async () => {
      try {
        await api('POST', `/campaigns/${encodeURIComponent(name)}/${verb}`);
        ui.say(t(`campaigns.did.${verb}`, { name }));
        await refresh();
        await open(name);
      } catch (err) { ui.fail(err); }
    };
    const verbs = { start: c.state === 'running', pause: c.state === 'paused', stop: c.state === 'stopped' };
    fill(side,
      h('h2', {}, c.name, ' ', h('span', { class: `pill campaign-${c.state}`, id: 'campaign-state' }, label('campaign', c.state)),
        c.running_here ? h('span', { class: 'pill on' }, t('campaigns.running_here')) : null),
      h('div', { class: 'controls' },
        STATES.map((v) => h('button', { id: `campaign-${v}`, class: v === 'start' ? 'go' : v === 'pause' ? 'hold' : '', disabled: verbs[v], onclick: act(v) }, t(`campaigns.${v}`))),
        isAdmin(ctx) ? deleteButton(ui, {
          id: 'campaign-delete', noun: 'campaigns', name, path: `/campaigns/${encodeURIComponent(name)}`,
          done: async () => { selected = null; fill(side, h('p', { class: 'muted' }, t('campaigns.pick'))); await refresh(); },
        }) : null),
      h('div', { class: 'figures counts' },
        count('campaigns.contacts', c.contacts), count('campaigns.dialable', c.dialable), count('campaigns.attempts', c.attempts)),
      Object.keys(c.by_status || {}).length
        ? h('p', { class: 'muted by-status' }, Object.entries(c.by_status).map(([s, n]) => `${s}: ${n}`).join(' · '))
        : null,
      h('h3', {}, t('campaigns.settings')),
      f.el);
    await refresh();
  }

  refresh().catch((err) => ui.fail(err));
  return { unmount() {} };
}

function count(key, n) {
  return h('div', { class: 'figure' }, h('div', { class: 'value' }, String(n ?? 0)), h('div', { class: 'muted' }, t(key)));
}
