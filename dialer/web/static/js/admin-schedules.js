// Schedules (seed 000, *harmonogramy*): daily, weekly or monthly; at a time (run at) or open in
// a window, optionally every N minutes; in a time zone; active or not. Everyone with the
// screen reads them; administrators create, edit and delete (configuration campaigns share).

import { api } from './api.js';
import { h } from './dom.js';
import { t } from './i18n.js';
import { fill, frame, isAdmin, namedEditor, table, yes } from './admin-ui.js';

const FREQUENCIES = ['daily', 'weekly', 'monthly'];
const range = (from, to) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

const FIELDS = [
  { name: 'name', key: 'schedules.name' },
  { name: 'frequency', key: 'schedules.frequency', type: 'select', options: FREQUENCIES, group: 'frequency' },
  { name: 'timezone', key: 'schedules.timezone', type: 'zone' },
  { name: 'active', key: 'schedules.active', type: 'check', value: true },
  { name: 'description', key: 'schedules.description', type: 'textarea', empty: '' },
  { name: 'weekdays', key: 'schedules.weekdays', type: 'multi', options: range(0, 6), group: 'weekday' },
  { name: 'months', key: 'schedules.months', type: 'multi', options: range(1, 12), group: 'month' },
  { name: 'days', key: 'schedules.days', type: 'multi', options: range(1, 31) },
  { name: 'run_at', key: 'schedules.run_at', type: 'time', empty: null, hint: 'schedules.run_at_hint' },
  { name: 'window_start', key: 'schedules.window_start', type: 'time', empty: null, hint: 'schedules.window_hint' },
  { name: 'window_end', key: 'schedules.window_end', type: 'time', empty: null },
  { name: 'interval_min', key: 'schedules.interval_min', type: 'number', step: 1, empty: null },
];

export function mount(root, ctx) {
  const admin = isAdmin(ctx);
  const list = h('div', { class: 'panel', id: 'schedule-list' });
  const side = h('div', { class: 'panel', id: 'schedule-detail' }, h('p', { class: 'muted' }, t('schedules.pick')));
  const ui = frame(root, 'nav.schedules',
    admin ? h('div', { class: 'controls' }, h('button', { class: 'primary', id: 'schedule-new', onclick: () => edit(null) }, t('schedules.new'))) : null,
    h('div', { class: 'split' }, list, side));

  const edit = namedEditor(ui, {
    side, refresh, noun: 'schedules', id: 'schedule', collection: '/schedules', fields: FIELDS, admin,
    intro: (s) => h('p', { class: 'muted' }, s.describe),
  });

  async function refresh() {
    const schedules = await api('GET', '/schedules');
    fill(list, table([
      { key: 'schedules.name', value: (s) => h('a', { href: '#/schedules', onclick: (e) => { e.preventDefault(); edit(s); } }, s.name) },
      { key: 'schedules.when', value: (s) => s.describe },
      { key: 'schedules.active', value: (s) => yes(s.active) },
    ], schedules, (s) => ({ dataset: { schedule: s.name } })));
  }

  refresh().catch((err) => ui.fail(err));
  return { unmount() {} };
}

