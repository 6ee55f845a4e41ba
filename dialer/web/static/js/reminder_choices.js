// The reminder choices of the reminders panel that are not the campaign's rules (seeds 001 and
// 002; `dialer reminders override|optout|agent-address|status-action`): one callback's own
// choice, a contact's opt-out, where an agent gets reminders, and the template a status with
// an action qualifier sends. Each is a small form over its PUT (docs/api.md); the rules are the
// store's and its refusal lands beside the field it names (admin-ui.js forms). The endpoints
// answer 204 and have no GET, so the forms start empty and say "Saved." when the PUT passed.

import { api } from './api.js';
import { h } from './dom.js';
import { t } from './i18n.js';
import { form, styles } from './admin-ui.js';

const RECIPIENTS = ['customer', 'agent', 'both', 'none'];
const CHANNELS = ['sms', 'email'];
const ACTIONS = ['action_sms', 'action_email'];

// The panel for the campaign at `base` (`/campaigns/{c}`) with its templates.
export async function choicesPanel(base, templates) {
  styles();
  const [agents, statuses] = await Promise.all([api('GET', '/agents'), api('GET', `${base}/status-settings`)]);
  const names = templates.map((x) => x.name);
  const actionStatuses = statuses.filter((s) => ACTIONS.includes(s.qualifier)).map((s) => s.name);
  const override = form({
    id: 'remc-override',
    fields: [
      { name: 'callback', key: 'remc.callback', type: 'number', step: 1 },
      { name: 'recipients', key: 'remc.recipients', type: 'select', options: ['', ...RECIPIENTS], group: 'rem.recipient', none: 'remc.campaigns_choice', empty: undefined },
      { name: 'channel', key: 'rem.tpl.channel', type: 'select', options: ['', ...CHANNELS], group: 'rem.channel', none: 'remc.campaigns_choice', empty: undefined },
      { name: 'template', key: 'remc.template', type: 'select', options: ['', ...names], none: 'remc.campaigns_choice', empty: undefined },
      { name: 'lead_s', key: 'remc.lead_min', type: 'number', step: 1, empty: undefined },
    ],
    submit: async ({ callback, lead_s: lead, ...choice }) => {
      if (lead !== undefined) choice.lead_s = Math.round(lead * 60);
      await api('PUT', `/reminders/overrides/${encodeURIComponent(callback ?? '')}`, choice);
    },
  });
  const optout = form({
    id: 'remc-optout',
    fields: [
      { name: 'contact', key: 'remc.contact', type: 'number', step: 1 },
      { name: 'opted_out', key: 'remc.opted_out', type: 'check' },
    ],
    submit: async ({ contact, opted_out: out }) => {
      await api('PUT', `/reminders/optouts/${encodeURIComponent(contact ?? '')}`, { opted_out: Boolean(out) });
    },
  });
  const address = form({
    id: 'remc-address',
    fields: [
      { name: 'agent', key: 'agents.name', type: 'select', options: ['', ...agents.map((a) => a.name)], none: 'admin.choose', empty: '' },
      { name: 'email', key: 'remc.email' },
      { name: 'phone', key: 'remc.phone', hint: 'remc.phone_hint' },
    ],
    submit: async ({ agent, ...where }) => {
      await api('PUT', `/agents/${encodeURIComponent(agent)}/reminder-address`, { email: where.email || '', phone: where.phone || '' });
    },
  });
  const action = form({
    id: 'remc-action',
    fields: [
      { name: 'status', key: 'remc.status', type: 'select', options: ['', ...actionStatuses], none: 'admin.choose' },
      { name: 'template', key: 'remc.template', type: 'select', options: ['', ...names], none: 'admin.choose' },
    ],
    submit: async ({ status, template }) => {
      await api('PUT', `${base}/reminder-actions/${encodeURIComponent(status)}`, { template });
    },
  });
  return h('div', { class: 'reminder-choices' },
    h('h2', {}, t('remc.title')),
    h('h3', {}, t('remc.override')), h('p', { class: 'muted' }, t('remc.override_hint')), override.el,
    h('h3', {}, t('remc.optout')), optout.el,
    h('h3', {}, t('remc.address')), address.el,
    h('h3', {}, t('remc.action')),
    actionStatuses.length ? null : h('p', { class: 'muted', id: 'remc-no-action' }, t('remc.no_action_status')),
    action.el);
}
