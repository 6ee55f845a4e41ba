// Statuses (seed 004): the dictionary every campaign draws from (name, system status,
// qualifier, automatic trigger, added to new campaigns, hidden from agents, active, the default
// retry rule) and, per campaign, its statuses: a dictionary status added, a status of the
// campaign's own, the campaign's retry rule for each. Dictionary writes are administrators';
// a campaign's statuses are supervisors' too.

import { api } from './api.js';
import { h } from './dom.js';
import { label, t } from './i18n.js';
import { choices, fill, form, frame, isAdmin, namedEditor, table } from './admin-ui.js';

const SYSTEM = ['call', 'call_progressive', 'my_record', 'not_before', 'do_not_call'];
const QUALIFIERS = ['none', 'unused', 'callback_relative', 'callback_absolute', 'callback_end_of_queue', 'closing',
  'cancel_success_close', 'action_email', 'action_sms', 'new_message', 'success', 'success_closing'];
const TRIGGERS = ['', 'busy', 'no_answer', 'congestion', 'machine', 'abandoned', 'invalid_number'];

const RETRY = [
  { name: 'retry.delay_s', key: 'statuses.delay_s', type: 'number', step: 1, value: 3600 },
  { name: 'retry.backoff', key: 'statuses.backoff', type: 'select', options: ['fixed', 'multiplicative'], group: 'backoff' },
  { name: 'retry.factor', key: 'statuses.factor', type: 'number', step: 0.1, value: 2 },
  { name: 'retry.max_attempts', key: 'statuses.max_attempts', type: 'number', step: 1, empty: null },
];

const FIELDS = [
  { name: 'name', key: 'statuses.name' },
  { name: 'system_status', key: 'statuses.system_status', type: 'select', options: SYSTEM, group: 'system', dflt: true },
  { name: 'qualifier', key: 'statuses.qualifier', type: 'select', options: QUALIFIERS, group: 'qualifier', dflt: true },
  { name: 'trigger', key: 'statuses.trigger', type: 'select', options: TRIGGERS, group: 'trigger', none: 'statuses.no_trigger', empty: null },
  { name: 'auto_add', key: 'statuses.auto_add', type: 'check' },
  { name: 'hidden', key: 'statuses.hidden', type: 'check' },
  { name: 'active', key: 'statuses.active', type: 'check', value: true },
  ...RETRY,
];

function statusColumns(open) {
  return [
    { key: 'statuses.name', value: (s) => h('a', { href: '#/statuses', onclick: (e) => { e.preventDefault(); open(s); } }, s.name) },
    { key: 'statuses.system_status', value: (s) => label('system', s.system_status) },
    { key: 'statuses.qualifier', value: (s) => label('qualifier', s.qualifier) },
    { key: 'statuses.trigger', value: (s) => (s.trigger ? label('trigger', s.trigger) : '') },
    { key: 'statuses.flags', value: (s) => [s.auto_add ? 'auto_add' : null, s.hidden ? 'hidden' : null, s.active ? null : 'inactive',
      s.local ? 'local' : null].filter(Boolean).map((f) => h('span', { class: 'pill flag' }, label('statuses.flag', f))) },
  ];
}

export function mount(root, ctx) {
  const admin = isAdmin(ctx);
  const list = h('div', { class: 'panel', id: 'status-list' });
  const side = h('div', { class: 'panel', id: 'status-detail' }, h('p', { class: 'muted' }, t('statuses.pick')));
  const campaignPick = h('select', { id: 'cs-campaign', onchange: () => showCampaign() });
  const campaignPart = h('div', { id: 'campaign-statuses' });
  const ui = frame(root, 'nav.statuses',
    h('h2', {}, t('statuses.dictionary')),
    admin ? h('div', { class: 'controls' }, h('button', { class: 'primary', id: 'status-new', onclick: () => edit(null) }, t('statuses.new'))) : null,
    h('div', { class: 'split' }, list, side),
    h('section', { class: 'panel' }, h('h2', {}, t('statuses.of_campaign')),
      h('div', { class: 'toolbar' }, h('label', {}, t('admin.campaign'), campaignPick)), campaignPart));

  const edit = namedEditor(ui, {
    side, refresh, noun: 'statuses', id: 'status', collection: '/statuses', fields: FIELDS, whole: ['retry'], admin,
  });

  async function refresh() {
    const dictionary = await api('GET', '/statuses');
    fill(list, table(statusColumns(edit), dictionary, (s) => ({ dataset: { status: s.name } })));
    return dictionary;
  }

  async function showCampaign(focus = null) {
    const campaign = campaignPick.value;
    if (!campaign) { fill(campaignPart, ); return; }
    const base = `/campaigns/${encodeURIComponent(campaign)}/status-settings`;
    const [own, dictionary] = await Promise.all([api('GET', base), api('GET', '/statuses')]);
    const names = new Set(own.map((s) => s.name));
    const detail = h('div', { class: 'panel', id: 'cs-detail' });
    const openOne = (s) => {
      const f = form({
        id: 'cs-form',
        // a dictionary status: only the campaign's retry rule; the campaign's own: everything
        fields: s.local ? FIELDS.filter((x) => x.name !== 'auto_add') : RETRY,
        initial: s,
        whole: ['retry'],
        submit: async (body) => {
          await api('PATCH', `${base}/${encodeURIComponent(s.name)}`, body);
          ui.say(t('statuses.saved', { name: s.name }));
          await showCampaign(body.name || s.name);
        },
        extra: h('button', {
          type: 'button', class: 'danger', id: 'cs-remove',
          onclick: async () => {
            try {
              await api('DELETE', `${base}/${encodeURIComponent(s.name)}`);
              ui.say(t('statuses.removed', { name: s.name, campaign }));
              await showCampaign();
            } catch (err) { ui.fail(err); }
          },
        }, t('statuses.remove')),
      });
      fill(detail, h('h3', {}, s.name, s.local ? h('span', { class: 'pill' }, t('statuses.local')) : null), f.el);
    };
    const addPick = choices('cs-add', dictionary.map((s) => s.name).filter((n) => !names.has(n)));
    const ownForm = form({
      id: 'cs-create',
      fields: FIELDS.filter((x) => x.name !== 'auto_add' && !x.name.startsWith('retry.')),
      submitKey: 'statuses.create_own',
      submit: async (body) => {
        await api('POST', base, { create: body });
        ui.say(t('statuses.saved', { name: body.name }));
        await showCampaign(body.name);
      },
    });
    fill(campaignPart,
      h('div', { class: 'split' },
        h('div', {}, table(statusColumns(openOne), own, (s) => ({ dataset: { status: s.name } })),
          h('div', { class: 'toolbar' }, h('label', {}, t('statuses.add_from_dictionary'), addPick),
            h('button', {
              id: 'cs-add-button',
              onclick: async () => {
                if (!addPick.value) return;
                try {
                  await api('POST', base, { status: addPick.value });
                  ui.say(t('statuses.added', { name: addPick.value, campaign }));
                  await showCampaign(addPick.value);
                } catch (err) { ui.fail(err); }
              },
            }, t('statuses.add')))),
        detail),
      h('details', { class: 'create-own' }, h('summary', {}, t('statuses.create_own')), ownForm.el));
    const chosen = own.find((s) => s.name === focus);
    if (chosen) openOne(chosen);
    else detail.append(h('p', { class: 'muted' }, t('statuses.pick')));
  }

  (async () => {
    await refresh();
    const campaigns = await api('GET', '/campaigns');
    fill(campaignPick, h('option', { value: '' }, t('admin.choose')), ...campaigns.map((c) => h('option', { value: c.name }, c.name)));
  })().catch((err) => ui.fail(err));
  return { unmount() {} };
}
