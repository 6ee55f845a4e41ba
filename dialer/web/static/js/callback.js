// The callback view of the disposition (seed 003, "reschedule as a callback"): date and time,
// the time zone they are read in, personal or campaign, and the number to call: one of the
// contact's (drop-down) or a new one with its type and the window it may be called in.
// When the campaign has a callback slot grid, a callback is booked in a slot instead (the
// seed's "Genesys callback": callback type, time zone, a date on the calendar, a slot of the
// grid; slots.js). Returns { element, value(), require(bool), wanted(), focus(), slots };
// value() is the part of the disposition body it adds (`at`, `timezone`, `callback`).

import { h } from './dom.js';
import { t } from './i18n.js';
import { isoDate, slotPicker, zoneChoices } from './slots.js';

const KINDS = ['mobile', 'fixed', 'voip', 'other'];
export const NEW = 'new';

export function callbackForm(contact, campaign, grid = null) {
  const zones = zoneChoices(contact.timezone, campaign?.timezone);
  const tomorrow = new Date(Date.now() + 24 * 3600 * 1000);
  const date = h('input', { type: 'date', id: 'cb-date', value: isoDate(tomorrow) });
  const time = h('input', { type: 'time', id: 'cb-time', value: '10:00' });
  const zone = h('select', { id: 'cb-zone' }, zones.map((z) => h('option', { value: z }, z)));
  const wanted = h('input', { type: 'checkbox', id: 'cb-wanted' });
  const personal = h('input', { type: 'radio', name: 'cb-kind', value: 'personal', id: 'cb-personal', checked: true });
  const shared = h('input', { type: 'radio', name: 'cb-kind', value: 'campaign', id: 'cb-campaign' });
  const phone = h('select', { id: 'cb-phone' },
    h('option', { value: '' }, t('callback.current_number')),
    contact.phones.filter((p) => !p.disabled).map((p) => h('option', { value: String(p.position) }, p.number)),
    h('option', { value: NEW }, t('callback.new_number')));
  const number = h('input', { id: 'cb-number', type: 'tel', placeholder: '+48 600 123 456' });
  const kind = h('select', { id: 'cb-type' }, KINDS.map((k) => h('option', { value: k }, t(`kind.${k}`))));
  const from = h('input', { type: 'time', id: 'cb-from' });
  const to = h('input', { type: 'time', id: 'cb-to' });
  const newBox = h('fieldset', { class: 'new-number', hidden: true },
    h('legend', {}, t('callback.new_number')),
    h('label', {}, t('callback.number'), number),
    h('label', {}, t('callback.type'), kind),
    h('label', {}, t('callback.from'), from),
    h('label', {}, t('callback.to'), to));
  const whom = h('div', { class: 'callback-only' },
    h('div', { class: 'row' }, h('label', {}, personal, t('callback.personal')), h('label', {}, shared, t('callback.campaign'))),
    h('label', {}, t('callback.phone'), phone), newBox);
  const when = h('div', { class: 'when' },
    h('label', {}, t('callback.date'), date), h('label', {}, t('callback.time'), time), h('label', {}, t('callback.zone'), zone));
  const slots = grid && campaign ? slotPicker({ campaign: campaign.name, zones, id: 'cb-slots' }) : null;
  const box = h('fieldset', { class: 'callback', id: 'callback' },
    h('legend', {}, h('label', {}, wanted, t('callback.title'))), when, slots?.element, whom);
  let required = false;
  const sync = () => {
    when.hidden = !(slots ? required && !wanted.checked : wanted.checked || required);
    if (slots) slots.element.hidden = !wanted.checked;
    whom.hidden = !wanted.checked;
    newBox.hidden = !(wanted.checked && phone.value === NEW);
  };
  box.addEventListener('change', sync);
  sync();
  return {
    element: box,
    slots,
    wanted: () => wanted.checked,
    require(on) { required = on; sync(); },
    focus() { (wanted.checked || required ? date : wanted).focus(); },
    value() {
      if (!wanted.checked && !required) return {};
      const out = { at: `${date.value}T${time.value || '00:00'}:00`, timezone: zone.value };
      if (!date.value || (slots && wanted.checked)) { delete out.at; delete out.timezone; }
      if (wanted.checked) {
        const cb = { kind: shared.checked ? 'campaign' : 'personal' };
        if (slots) cb.slot = slots.value();
        if (phone.value === NEW) {
          cb.new_number = { number: number.value, kind: kind.value };
          if (from.value || to.value) { cb.new_number.window_start = from.value || null; cb.new_number.window_end = to.value || null; }
        } else if (phone.value) {
          cb.phone_position = Number(phone.value);
        }
        out.callback = cb;
      }
      return out;
    },
  };
}
