// Contacts (supervisors, admins): search by campaign, status, name and number, a page at a
// time (keyset pages: stable while the engine dials); a contact's numbers, custom fields,
// attempts and callbacks, and its edit (name, zone, priority, fields); the export of the same
// search as CSV.

import { api } from './api.js';
import { h, localTime } from './dom.js';
import { label, t } from './i18n.js';
import { choices, download, fill, form, frame, options, pager, query, table } from './admin-ui.js';

const PAGE = 50;

export function mount(root) {
  const campaign = h('select', { id: 'cs-campaign', onchange: () => statuses() });
  const status = choices('cs-status', [], { blank: 'admin.any' });
  const name = h('input', { id: 'cs-name', type: 'search' });
  const number = h('input', { id: 'cs-number', type: 'search', inputmode: 'tel' });
  const list = h('div', { class: 'panel', id: 'contact-list' });
  const side = h('div', { class: 'panel', id: 'contact-detail' }, h('p', { class: 'muted' }, t('contacts.pick')));
  const pages = h('div', { class: 'controls' });
  const filters = () => ({ campaign: campaign.value, status: status.value, name: name.value.trim(), number: number.value.trim() });
  const ui = frame(root, 'nav.contacts',
    h('form', { class: 'toolbar', id: 'contact-search', onsubmit: (e) => { e.preventDefault(); search([]); } },
      h('label', {}, t('admin.campaign'), campaign),
      h('label', {}, t('contacts.status'), status),
      h('label', {}, t('contacts.name'), name),
      h('label', {}, t('contacts.number'), number),
      h('button', { type: 'submit', class: 'primary', id: 'contact-search-go' }, t('contacts.search')),
      h('button', { type: 'button', id: 'contact-export', onclick: () => exportCsv() }, t('contacts.export'))),
    h('div', { class: 'split' }, h('div', {}, list, pages), side));

  async function statuses() {
    const names = campaign.value
      ? (await api('GET', `/campaigns/${encodeURIComponent(campaign.value)}/status-settings`)).map((s) => s.name) : [];
    fill(status, ...options(names, 'admin.any'));
  }

  // `trail`: the `after` of each page shown before this one (for Previous)
  async function search(trail) {
    try {
      const after = trail.at(-1);
      const page = await api('GET', `/contacts${query({ ...filters(), after, limit: PAGE })}`);
      fill(list, table([
        { key: 'contacts.id', num: true, value: (c) => h('a', { href: '#/contacts', onclick: (e) => { e.preventDefault(); open(c.id); } }, String(c.id)) },
        { key: 'contacts.name', value: (c) => c.name || h('span', { class: 'muted' }, t('contact.unnamed')) },
        { key: 'admin.campaign', value: (c) => c.campaign },
        { key: 'contacts.status', value: (c) => c.status },
        { key: 'contacts.numbers', value: (c) => c.phones.join(', ') },
        { key: 'contacts.attempts', num: true, value: (c) => String(c.attempts) },
      ], page.items, (c) => ({ dataset: { contact: String(c.id) } })));
      pager(pages, trail, page.next_after, search, 'contacts');
    } catch (err) { ui.fail(err); }
  }

  async function exportCsv() {
    try {
      await download(`/contacts/export${query(filters())}`, `contacts${campaign.value ? `-${campaign.value}` : ''}.csv`);
      ui.say(t('contacts.exported'));
    } catch (err) { ui.fail(err); }
  }

  async function open(id) {
    try {
      const c = await api('GET', `/contacts/${id}`);
      const fieldRows = Object.keys(c.fields).map((k) => ({ name: `fields.${k}`, key: null, label: k }));
      const f = form({
        id: 'contact-form',
        fields: [
          { name: 'name', key: 'contacts.name', empty: '' },
          { name: 'timezone', key: 'contacts.timezone', type: 'zone' },
          { name: 'priority', key: 'contacts.priority', type: 'number', step: 1 },
          ...fieldRows.map((r) => ({ name: r.name, text: r.label, empty: null })),
          { name: 'new_field', key: 'contacts.new_field' },
          { name: 'new_value', key: 'contacts.new_value' },
        ],
        initial: { ...c, new_field: '', new_value: '' },
        submitKey: 'contacts.save',
        submit: async (body) => {
          const { new_field: key, new_value: value, ...edit } = body;
          if (key) edit.fields = { ...(edit.fields || {}), [key]: value ?? '' };
          if (c.timezone && edit.timezone === undefined && !document.getElementById('contact-form-timezone').value) edit.clear_timezone = true;
          if (!Object.keys(edit).length) return;
          await api('PATCH', `/contacts/${id}`, edit);
          ui.say(t('contacts.saved', { id }));
          await open(id);
          await search([]);
        },
      });
      fill(side,
        h('h2', {}, c.name || t('contact.unnamed'), ' ', h('span', { class: 'pill' }, c.status)),
        h('p', { class: 'muted' }, `#${c.id} · ${c.campaign}`, c.not_before ? ` · ${t('contacts.not_before', { when: localTime(c.not_before) })}` : '',
          c.closed_reason ? ` · ${c.closed_reason}` : ''),
        h('h3', {}, t('contact.numbers')),
        table([
          { key: 'contact.number', value: (p) => p.number },
          { key: 'contact.kind', value: (p) => label('kind', p.kind) },
          { key: 'contact.window', value: (p) => (p.window_start ? `${p.window_start.slice(0, 5)}–${p.window_end.slice(0, 5)}` : '') },
          { key: 'contacts.disabled', value: (p) => (p.disabled ? t('admin.yes') : '') },
        ], c.phones),
        h('h3', {}, t('contact.attempts')),
        table([
          { key: 'contact.when', value: (a) => localTime(a.started_at) },
          { key: 'contact.number', value: (a) => a.number || '' },
          { key: 'contact.outcome', value: (a) => (a.outcome ? label('outcome', a.outcome) : t('contact.in_progress')) },
          { key: 'attempts.agent', value: (a) => a.agent || '' },
        ], c.attempts),
        c.callbacks.length ? [h('h3', {}, t('contacts.callbacks')), table([
          { key: 'contact.when', value: (b) => localTime(b.due_at) },
          { key: 'contacts.callback_kind', value: (b) => b.kind },
          { key: 'contacts.callback_state', value: (b) => b.state },
          { key: 'attempts.agent', value: (b) => b.agent || '' },
        ], c.callbacks)] : null,
        h('h3', {}, t('contacts.edit')),
        f.el);
    } catch (err) { ui.fail(err); }
  }

  (async () => {
    const campaigns = await api('GET', '/campaigns');
    fill(campaign, h('option', { value: '' }, t('admin.any')), ...campaigns.map((c) => h('option', { value: c.name }, c.name)));
    await search([]);
  })().catch((err) => ui.fail(err));
  return { unmount() {} };
}
