// The callback slot grid of a campaign (issue 13; seed 003's Genesys "siatka planowania"):
// its definition -- the opening days and hours (a schedule, seed 000), the slot length, the
// places per slot (a number, or empty: as many as the campaign's agents), closed dates, what
// happens to a missed callback -- and a preview of the grid it makes for a date range in a
// chosen time zone, each slot with its state and places left, as agents and websites see it.
//
// Supervisors and administrators define grids (the API says so again on every PUT). Nothing is
// checked here: the definition goes whole to `PUT /campaigns/{c}/callback-grid`, the store's
// rules answer, and the answer lands beside the field it names. The preview is the API's own
// `GET /campaigns/{c}/callback-slots`: the same figures the agent desktop and the public
// endpoint give.

import { api } from './api.js';
import { h } from './dom.js';
import { t } from './i18n.js';
import { choices, fill, form, frame, options } from './admin-ui.js';
import { isoDate, wallClock, zoneChoices } from './slots.js';

const RULES = ['campaign', 'next_slot', 'retry'];
const STATES = ['available', 'full', 'closed', 'past'];

// "2026-12-24, 2026-12-25\n2026-12-31" -> ["2026-12-24", "2026-12-25", "2026-12-31"]
function items(text) {
  return (text || '').split(/[\s,;]+/).filter(Boolean);
}

function plusDays(iso, days) {
  const d = new Date(`${iso}T12:00:00`);
  d.setDate(d.getDate() + days);
  return isoDate(d);
}

function fields(grid, schedules) {
  return [
    { name: 'schedule', key: 'grid.schedule', type: 'select', options: schedules.map((s) => s.name), value: grid?.schedule ?? '', hint: 'grid.schedule_hint' },
    { name: 'slot_min', key: 'grid.slot_min', type: 'number', step: 1, value: grid?.slot_min ?? 30 },
    { name: 'capacity', key: 'grid.capacity', type: 'number', step: 1, empty: null, value: grid?.capacity ?? null, hint: 'grid.capacity_hint' },
    { name: 'missed_rule', key: 'grid.missed_rule', type: 'select', options: RULES, group: 'grid.rule', value: grid?.missed_rule ?? 'campaign' },
    { name: 'retry_delay_s', key: 'grid.retry_delay_s', type: 'number', step: 1, value: grid?.retry_delay_s ?? 600 },
    { name: 'personal_cap_per_day', key: 'grid.personal_cap', type: 'number', step: 1, empty: null, value: grid?.personal_cap_per_day ?? null, hint: 'grid.personal_cap_hint' },
    { name: 'closed_dates', key: 'grid.closed_dates', type: 'textarea', empty: '', value: (grid?.closed_dates || []).join('\n'), hint: 'grid.closed_dates_hint' },
    { name: 'regions', key: 'grid.regions', empty: '', value: (grid?.regions || []).join(', '), hint: 'grid.regions_hint', wide: true },
  ];
}

export function mount(root, ctx) {
  const which = choices('grid-campaign', []);
  const definition = h('section', { class: 'panel', id: 'grid-definition' }, h('p', { class: 'muted' }, t('grid.pick')));
  const preview = h('section', { class: 'panel', id: 'grid-preview' });
  const ui = frame(root, 'nav.callback_grid',
    h('div', { class: 'toolbar' }, h('label', {}, t('admin.campaign'), which)),
    h('div', { class: 'split' }, definition, preview));
  let schedules = [];
  let campaigns = [];
  // The campaign on the screen (or being opened), and which opening is the newest: the screen
  // opens a lone campaign by itself, and a pick of the same campaign meanwhile must not draw
  // the form again under a person typing in it (nor an older answer over a newer pick).
  let current = null;
  let opening = 0;

  async function open(campaign) {
    current = campaign;
    const mine = ++opening;
    ui.say('');
    if (!campaign) {
      fill(definition, h('p', { class: 'muted' }, t('grid.pick')));
      fill(preview);
      return;
    }
    const path = `/campaigns/${encodeURIComponent(campaign)}/callback-grid`;
    let grid = null;
    try { grid = await api('GET', path); } catch (err) { if (err.status !== 404) throw err; }
    if (mine !== opening) return;
    const about = h('p', { class: 'muted', id: 'grid-about' });
    const describe = (g) => {
      const s = schedules.find((x) => x.name === g?.schedule);
      about.textContent = g ? t('grid.about', { schedule: g.schedule, when: s ? s.describe : '', zone: g.timezone }) : t('grid.none');
    };
    describe(grid);
    const f = form({
      id: 'grid-form',
      fields: fields(grid, schedules),
      submitKey: 'grid.save',
      submit: async (body) => {
        const saved = await api('PUT', path, { ...body, closed_dates: items(body.closed_dates), regions: items(body.regions) });
        ui.say(t('grid.saved', { campaign }));
        describe(saved);
        await previewOf(campaign, saved, false);
      },
    });
    fill(definition, h('h2', {}, t('grid.definition', { campaign })), about, f.el);
    await previewOf(campaign, grid, true);
  }

  // the preview's controls (kept across saves of the same campaign) and its slots
  let controls = null;
  async function previewOf(campaign, grid, fresh) {
    if (!grid) { fill(preview, h('h2', {}, t('grid.preview')), h('p', { class: 'muted' }, t('grid.none_preview'))); controls = null; return; }
    if (fresh || !controls) {
      const today = isoDate(new Date());
      const zone = h('select', { id: 'grid-zone' }, zoneChoices(grid.timezone, campaigns.find((c) => c.name === campaign)?.timezone)
        .map((z) => h('option', { value: z }, z)));
      const from = h('input', { type: 'date', id: 'grid-from', value: today });
      const to = h('input', { type: 'date', id: 'grid-to', value: plusDays(today, 6) });
      const out = h('div', { id: 'grid-slots' });
      const summary = h('p', { class: 'counts', id: 'grid-summary', role: 'status' });
      controls = { campaign, zone, from, to, out, summary };
      fill(preview, h('h2', {}, t('grid.preview')),
        h('form', { class: 'toolbar', id: 'grid-preview-form', onsubmit: (e) => { e.preventDefault(); draw(); } },
          h('label', {}, t('grid.from'), from), h('label', {}, t('grid.to'), to), h('label', {}, t('callback.zone'), zone),
          h('button', { type: 'submit', class: 'primary', id: 'grid-show' }, t('grid.show'))),
        h('div', { class: 'slot-legend muted' }, STATES.map((s) => [h('span', { class: `slot-key slot-${s}` }), t(`slots.state.${s}`), ' '])),
        summary, out);
    }
    await draw();
  }

  async function draw() {
    const c = controls;
    if (!c) return;
    fill(c.out, h('p', { class: 'muted' }, t('work.loading')));
    c.summary.textContent = '';
    const q = new URLSearchParams({ from: c.from.value, to: c.to.value, timezone: c.zone.value });
    try {
      const slots = await api('GET', `/campaigns/${encodeURIComponent(c.campaign)}/callback-slots?${q}`);
      const counts = Object.fromEntries(STATES.map((s) => [s, slots.filter((x) => x.state === s).length]));
      c.summary.textContent = t('grid.summary', { total: slots.length, ...counts });
      const days = new Map();
      for (const s of slots) {
        const day = s.local_start.slice(0, 10);
        if (!days.has(day)) days.set(day, []);
        days.get(day).push(s);
      }
      fill(c.out, days.size ? [...days].map(([day, list]) => h('div', { class: 'grid-day', dataset: { day } },
        h('h3', {}, new Date(`${day}T12:00:00`).toLocaleDateString(document.documentElement.lang, { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric' })),
        h('div', { class: 'slot-grid' }, list.map((s) => h('span', {
          class: `slot slot-${s.state}`, title: t(`slots.state.${s.state}`),
          dataset: { start: s.starts_at, state: s.state },
        },
        h('span', { class: 'range' }, `${wallClock(s.local_start)}–${wallClock(s.local_end)}`),
        h('span', { class: 'left' }, s.state === 'available'
          ? t('grid.places', { left: s.remaining, capacity: s.capacity })
          : t(`slots.state.${s.state}`))))))) : h('p', { class: 'muted' }, t('grid.no_slots')));
    } catch (err) {
      fill(c.out);
      ui.fail(err);
    }
  }

  which.addEventListener('change', () => {
    if (which.value !== current) open(which.value).catch((err) => ui.fail(err));
  });
  Promise.all([api('GET', '/campaigns'), api('GET', '/schedules')]).then(([all, sch]) => {
    campaigns = all;
    schedules = sch;
    fill(which, options(all.map((c) => c.name)));
    const first = ctx.user && all.length === 1 ? all[0].name : '';
    if (first) { which.value = first; return open(first); }
    return null;
  }).catch((err) => ui.fail(err));
  return { unmount() {} };
}
