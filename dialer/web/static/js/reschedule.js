// Callbacks on the agent desktop (issue 13, seed 003): "my callbacks" (my personal ones and
// the web callback requests of my campaigns, with the one that is due marked), the web callback
// preview on an offered record (who asked, for when), and rescheduling for the three kinds:
// an outbound callback (date and time, personal or campaign, number), a slot-grid callback
// (another slot of the grid) and a web callback (date, from-to, number). The rules are the
// server's (`POST /campaigns/{c}/callbacks/{id}/reschedule`); this only gathers the choice.

import { api, explain } from './api.js';
import { h } from './dom.js';
import { t } from './i18n.js';
import { NEW } from './callback.js';
import { gridOf, isoDate, slotPicker, zoneChoices } from './slots.js';

const KEEP = '';

// "1/12/2026, 10:00 – 11:30" in the browser's zone and language
function when(cb) {
  const end = cb.window_end_at ? ` – ${new Date(cb.window_end_at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}` : '';
  return `${shortTime(cb.due_at)}${end}`;
}

function shortTime(iso) { return new Date(iso).toLocaleString([], { dateStyle: 'short', timeStyle: 'short' }); }

function kindOf(cb) { return cb.source === 'web' ? 'web' : cb.kind; }

// The form, for one callback of `campaign` (a campaign row of GET /campaigns); `phones` are the
// contact's numbers when the screen has them (an offered record), else only "keep" or "new".
export function rescheduleForm({ cb, campaign, grid, phones = [], onDone, onCancel }) {
  const zones = zoneChoices(campaign?.timezone);
  const error = h('p', { class: 'error', role: 'alert', id: 'rs-error' });
  const personal = h('input', { type: 'radio', name: 'rs-kind', value: 'personal', id: 'rs-personal', checked: cb.kind === 'personal' });
  const shared = h('input', { type: 'radio', name: 'rs-kind', value: 'campaign', id: 'rs-campaign', checked: cb.kind !== 'personal' });
  const slots = grid ? slotPicker({ campaign: campaign.name, zones, id: 'rs-slots' }) : null;
  const due = new Date(cb.due_at);
  const date = h('input', { type: 'date', id: 'rs-date', value: isoDate(due) });
  const from = h('input', { type: 'time', id: 'rs-from', value: due.toTimeString().slice(0, 5) });
  const to = h('input', { type: 'time', id: 'rs-to', value: cb.window_end_at ? new Date(cb.window_end_at).toTimeString().slice(0, 5) : '' });
  const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const zone = h('select', { id: 'rs-zone' }, [...new Set([browserZone, ...zones])].map((z) => h('option', { value: z }, z)));
  const phone = h('select', { id: 'rs-phone' },
    h('option', { value: KEEP }, cb.number ? t('reschedule.keep_number', { number: cb.number }) : t('reschedule.keep_numbers')),
    phones.filter((p) => !p.disabled && p.number !== cb.number).map((p) => h('option', { value: String(p.position) }, p.number)),
    h('option', { value: NEW }, t('callback.new_number')));
  const number = h('input', { id: 'rs-number', type: 'tel', placeholder: '+48 600 123 456' });
  const newBox = h('label', { hidden: true }, t('callback.number'), number);
  phone.addEventListener('change', () => { newBox.hidden = phone.value !== NEW; });
  const web = cb.source === 'web';
  const form = h('form', { class: 'reschedule', id: 'reschedule-form' },
    h('h3', {}, t('reschedule.title'), ' ', h('span', { class: 'pill' }, t(`reschedule.kind.${kindOf(cb)}`))),
    h('p', {}, h('strong', {}, cb.contact_name || cb.requester_name || `#${cb.contact_id}`),
      h('span', { class: 'muted' }, ` · ${t('reschedule.now', { when: when(cb) })}`)),
    web ? null : h('div', { class: 'row' }, h('label', { class: 'inline' }, personal, t('callback.personal')),
      h('label', { class: 'inline' }, shared, t('callback.campaign'))),
    slots ? slots.element : h('div', { class: 'when' },
      h('label', {}, t('callback.date'), date),
      h('label', {}, t(web ? 'callback.from' : 'callback.time'), from),
      h('label', {}, t('callback.to'), to),
      h('label', {}, t('callback.zone'), zone)),
    h('div', { class: 'when' }, h('label', {}, t('callback.phone'), phone), newBox),
    error,
    h('div', { class: 'controls' },
      h('button', { type: 'submit', class: 'primary', id: 'rs-save' }, t('reschedule.save')),
      h('button', { type: 'button', class: 'ghost', id: 'rs-cancel', onclick: () => onCancel?.() }, t('reschedule.cancel'))));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.textContent = '';
    const body = {};
    if (slots) {
      body.slot = slots.value();
      if (!body.slot) { error.textContent = t('slots.choose'); return; }
    } else {
      if (!date.value || !from.value) { error.textContent = t('disposition.date_missing'); return; }
      body.at = `${date.value}T${from.value}:00`;
      if (to.value) body.window_end = `${date.value}T${to.value}:00`;
      body.timezone = zone.value;
    }
    const kind = web ? cb.kind : (shared.checked ? 'campaign' : 'personal');
    if (kind !== cb.kind) body.kind = kind;
    if (phone.value === NEW) body.new_number = { number: number.value };
    else if (phone.value !== KEEP) body.phone_position = Number(phone.value);
    try {
      const moved = await api('POST', `/campaigns/${encodeURIComponent(campaign.name)}/callbacks/${cb.id}/reschedule`, body);
      onDone?.(moved);
    } catch (err) {
      error.textContent = slots ? slots.full(err) : explain(err, t);
    }
  });
  return form;
}

// The web callback request on an offered record: who asked, for when, and a reschedule button.
export function webCallbackCard(contact, open) {
  const web = (contact.callbacks || []).filter((cb) => cb.source === 'web');
  if (!web.length) return null;
  return h('div', { class: 'web-callback', id: 'web-callback' },
    h('h3', {}, t('webcb.title')),
    web.map((cb) => h('div', { class: 'row', dataset: { callback: cb.id } },
      h('span', {}, t('webcb.asked', { name: cb.requester_name || contact.name, when: when(cb) })),
      cb.number ? h('span', { class: 'muted' }, cb.number) : null,
      h('button', {
        type: 'button', class: 'ghost', id: `webcb-reschedule-${cb.id}`,
        onclick: () => open({ ...cb, contact_id: contact.id, contact_name: contact.name }, contact.campaign, contact.phones),
      }, t('reschedule.open')))));
}

// "My callbacks": the side panel's list and the reschedule dialog.
export class MyCallbacks {
  constructor({ agent, campaigns, notice }) {
    this.agent = agent;
    this.campaigns = campaigns; // () => the campaign rows of GET /campaigns
    this.notice = notice;
    this.due = new Set();
    this.list = [];
    this.body = h('tbody', {});
    this.empty = h('p', { class: 'muted', id: 'my-callbacks-empty' }, t('mycb.none'));
    this.dialog = h('dialog', { class: 'panel', id: 'reschedule' });
    this.element = h('section', { class: 'panel' },
      h('h2', {}, t('mycb.title')),
      h('table', { class: 'grid', id: 'my-callbacks' },
        h('thead', {}, h('tr', {}, ['when', 'who', 'kind', ''].map((c) => h('th', {}, c ? t(`mycb.col.${c}`) : '')))),
        this.body),
      this.empty, this.dialog);
  }

  async load() {
    const found = new Map();
    const me = encodeURIComponent(this.agent);
    await Promise.all(this.campaigns().map(async (c) => {
      const base = `/campaigns/${encodeURIComponent(c.name)}/callbacks`;
      for (const q of [`agent=${me}`, 'source=web']) {
        try {
          for (const cb of await api('GET', `${base}?${q}`)) found.set(cb.id, { ...cb, campaign: c.name });
        } catch (err) { /* a campaign taken off the agent meanwhile: not listed */ }
      }
    }));
    this.list = [...found.values()].sort((a, b) => a.due_at.localeCompare(b.due_at));
    this.render();
  }

  render() {
    this.empty.hidden = this.list.length > 0;
    this.body.replaceChildren(...this.list.map((cb) => h('tr', { dataset: { callback: cb.id }, class: this.due.has(cb.id) ? 'due' : '' },
      h('td', {}, when(cb)),
      h('td', {}, cb.contact_name || cb.requester_name, h('div', { class: 'muted' }, cb.campaign)),
      h('td', {}, h('span', { class: 'pill' }, t(`reschedule.kind.${kindOf(cb)}`)),
        this.due.has(cb.id) ? h('span', { class: 'pill warn' }, t('mycb.due')) : null),
      h('td', {}, h('button', { type: 'button', class: 'ghost', id: `reschedule-${cb.id}`, onclick: () => this.open(cb, cb.campaign) }, t('reschedule.open'))))));
  }

  // callback_due / callback_handed_over from the event stream
  told(name, data) {
    const who = data.contact_name || `#${data.contact_id}`;
    if (name === 'callback_due') {
      this.due.add(data.callback_id);
      this.notice(t(data.source === 'web' ? 'notice.web_callback_due' : 'notice.callback_due', { name: who, time: shortTime(data.due_at) }), 'important');
    } else {
      this.due.delete(data.callback_id);
      this.notice(t('notice.callback_handed_over', { name: who }), 'important');
    }
    this.load();
  }

  async open(cb, campaignName, phones = []) {
    const campaign = this.campaigns().find((c) => c.name === campaignName) || { name: campaignName };
    const grid = await gridOf(campaignName);
    const close = () => { this.dialog.close(); this.dialog.replaceChildren(); };
    this.dialog.replaceChildren(rescheduleForm({
      cb, campaign, grid, phones, onCancel: close,
      onDone: (moved) => {
        close();
        this.due.delete(moved.id);
        this.notice(t('notice.rescheduled', { name: moved.contact_name || moved.requester_name, when: when(moved) }));
        this.load();
      },
    }));
    if (!this.dialog.open) this.dialog.showModal();
  }
}

