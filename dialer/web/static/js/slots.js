// The slot grid of seed 003 ("Genesys callback"): a time zone, a date on the calendar, and the
// day's time slots of the campaign's callback grid. Unavailable slots (full, closed, past) are
// grey and cannot be chosen; available ones are blue with their time range and places left.
// Every figure is the API's (`GET /campaigns/{c}/callback-slots`): the booking itself is atomic
// on the server, so a slot that filled since the grid was drawn is refused there ("slot full")
// and the grid is drawn again.
//
// slotPicker({ campaign, zone, zones, id }) -> { element, value(), reload(), full() }; value() is
// the chosen slot's start (UTC, as the API gave it) or null.

import { api, explain } from './api.js';
import { h } from './dom.js';
import { t } from './i18n.js';

export const ZONES = ['Europe/Warsaw', 'Europe/London', 'Europe/Berlin', 'America/New_York', 'America/Chicago',
  'America/Denver', 'America/Los_Angeles', 'UTC'];

function pad(n) { return String(n).padStart(2, '0'); }

export function isoDate(d) { return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`; }

// "2026-12-01T10:30:00+01:00" -> "10:30": the wall clock of a local reading as the API wrote it.
export function wallClock(iso) { return iso ? iso.slice(11, 16) : ''; }

// The grid definition of a campaign, or null when it has none (cached per page: grids change
// rarely, and a stale "has a grid" only costs an empty picker).
const grids = new Map();
export async function gridOf(campaign) {
  if (!campaign) return null;
  if (!grids.has(campaign)) {
    grids.set(campaign, api('GET', `/campaigns/${encodeURIComponent(campaign)}/callback-grid`).catch(() => null));
  }
  return grids.get(campaign);
}

export function zoneChoices(...first) {
  const browser = Intl.DateTimeFormat().resolvedOptions().timeZone;
  return [...new Set([...first, browser, ...ZONES].filter(Boolean))];
}

export function slotPicker({ campaign, zones, id = 'slots' }) {
  const zone = h('select', { id: `${id}-zone` }, zones.map((z) => h('option', { value: z }, z)));
  const date = h('input', { type: 'date', id: `${id}-date`, value: isoDate(new Date()), min: isoDate(new Date()) });
  const shift = (days) => {
    const d = new Date(`${date.value || isoDate(new Date())}T12:00:00`);
    d.setDate(d.getDate() + days);
    date.value = isoDate(d);
    reload();
  };
  const grid = h('div', { class: 'slot-grid', id: `${id}-grid`, role: 'listbox', 'aria-label': t('slots.title') });
  const said = h('p', { class: 'muted slot-said', id: `${id}-said`, role: 'status' });
  let chosen = null;
  let seq = 0;

  function draw(slots) {
    if (!slots.length) { grid.replaceChildren(h('p', { class: 'muted' }, t('slots.none'))); return; }
    grid.replaceChildren(...slots.map((s) => {
      const open = s.state === 'available';
      const button = h('button', {
        type: 'button',
        class: `slot slot-${s.state}${s.starts_at === chosen ? ' chosen' : ''}`,
        disabled: !open,
        role: 'option',
        'aria-selected': s.starts_at === chosen ? 'true' : 'false',
        title: t(`slots.state.${s.state}`),
        dataset: { start: s.starts_at, state: s.state },
        onclick: () => {
          chosen = s.starts_at;
          for (const b of grid.querySelectorAll('.slot')) {
            const on = b.dataset.start === chosen;
            b.classList.toggle('chosen', on);
            b.setAttribute('aria-selected', on ? 'true' : 'false');
          }
          said.textContent = t('slots.chosen', { from: wallClock(s.local_start), to: wallClock(s.local_end), date: date.value });
        },
      },
      h('span', { class: 'range' }, `${wallClock(s.local_start)}–${wallClock(s.local_end)}`),
      h('span', { class: 'left' }, open ? t('slots.left', { n: s.remaining }) : t(`slots.state.${s.state}`)));
      return button;
    }));
  }

  async function reload() {
    const mine = ++seq;
    grid.replaceChildren(h('p', { class: 'muted' }, t('work.loading')));
    const q = new URLSearchParams({ from: date.value, to: date.value, timezone: zone.value });
    try {
      const slots = await api('GET', `/campaigns/${encodeURIComponent(campaign)}/callback-slots?${q}`);
      if (mine !== seq) return;
      if (!slots.some((s) => s.starts_at === chosen && s.state === 'available')) { chosen = null; said.textContent = ''; }
      draw(slots);
    } catch (err) {
      if (mine === seq) grid.replaceChildren(h('p', { class: 'error' }, explain(err, t)));
    }
  }

  zone.addEventListener('change', reload);
  date.addEventListener('change', reload);
  const element = h('div', { class: 'slot-picker', id },
    h('div', { class: 'when' },
      h('label', {}, t('callback.zone'), zone),
      h('label', {}, t('callback.date'), h('span', { class: 'row' },
        h('button', { type: 'button', class: 'ghost day', 'aria-label': t('slots.previous_day'), onclick: () => shift(-1) }, '‹'),
        date,
        h('button', { type: 'button', class: 'ghost day', 'aria-label': t('slots.next_day'), onclick: () => shift(1) }, '›')))),
    h('div', { class: 'slot-legend muted' },
      h('span', { class: 'slot-key slot-available' }), t('slots.state.available'), ' ',
      h('span', { class: 'slot-key slot-full' }), t('slots.unavailable')),
    grid, said);
  reload();
  return {
    element,
    value: () => chosen,
    reload,
    // the booking was refused (the last place went to someone else): say so, draw again
    full(err) {
      chosen = null;
      said.textContent = '';
      reload();
      return err?.body?.error === 'slot_unavailable' ? t('slots.full') : explain(err, t);
    },
  };
}
