// A campaign's callbacks (supervisors, admins): `dialer callbacks list|cancel|history|reschedule`,
// GET /campaigns/{c}/callbacks with its state, agent and source filters; for one callback its
// history (who changed what, when), Reschedule (the agent desktop's form: a slot of the grid,
// or a date with its from-to, the number) and Cancel. Planning one is the agent's wrap-up.

import { api } from './api.js';
import { h } from './dom.js';
import { t } from './i18n.js';
import { choices, fill, frame, options, query, sure, table } from './admin-ui.js';
import { rescheduleForm } from './reschedule.js';
import { gridOf } from './slots.js';

const STATES = ['pending', 'done', 'cancelled', 'missed'];

// what a change changed: "due_at: before → after" per field that differs (all of a creation)
function changed(c) {
  const show = (v) => (v === null || v === undefined ? '–' : String(v));
  return Object.keys(c.after)
    .filter((k) => !c.before || show(c.before[k]) !== show(c.after[k]))
    .map((k) => (c.before ? `${k}: ${show(c.before[k])} → ${show(c.after[k])}` : `${k}: ${show(c.after[k])}`))
    .join('; ');
}

function short(iso) { return new Date(iso).toLocaleString([], { dateStyle: 'short', timeStyle: 'short' }); }

export function mount(root) {
  const campaign = choices('cb-campaign', []);
  const state = h('select', { id: 'cb-state' }, STATES.map((s) => h('option', { value: s }, t(`callbacks.state.${s}`))));
  const agent = h('input', { id: 'cb-agent', size: 10 });
  const source = h('select', { id: 'cb-source' }, h('option', { value: '' }, t('admin.any')),
    ['agent', 'web'].map((s) => h('option', { value: s }, t(`callbacks.source.${s}`))));
  const list = h('div', { class: 'panel', id: 'callback-list' });
  const side = h('div', { id: 'callback-side' });
  let campaigns = [];
  const ui = frame(root, 'nav.callbacks',
    h('form', { class: 'toolbar', id: 'callback-search', onsubmit: (e) => { e.preventDefault(); refresh(); } },
      h('label', {}, t('admin.campaign'), campaign),
      h('label', {}, t('callbacks.state'), state),
      h('label', {}, t('callbacks.agent'), agent),
      h('label', {}, t('callbacks.source'), source),
      h('button', { type: 'submit', class: 'primary', id: 'callback-search-go' }, t('callbacks.show'))),
    h('div', { class: 'split' }, list, side));

  const base = () => `/campaigns/${encodeURIComponent(campaign.value)}/callbacks`;
  const path = (cb) => `${base()}/${cb.id}`;

  async function refresh() {
    if (!campaign.value) { ui.fail(new Error(t('compliance.need_campaign'))); return; }
    try {
      const found = await api('GET', `${base()}${query({ state: state.value, agent: agent.value.trim(), source: source.value })}`);
      fill(list, table([
        { key: 'callbacks.due', value: (cb) => `${short(cb.due_at)}${cb.window_end_at ? ` – ${new Date(cb.window_end_at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}` : ''}` },
        { key: 'callbacks.contact', value: (cb) => cb.contact_name || cb.requester_name || `#${cb.contact_id}` },
        { key: 'callbacks.kind', value: (cb) => t(`reschedule.kind.${cb.source === 'web' ? 'web' : cb.kind}`) + (cb.slot ? ` · ${t('callbacks.slot')}` : '') },
        { key: 'callbacks.agent', value: (cb) => cb.agent || '' },
        { key: 'callbacks.number', value: (cb) => cb.number || t('callbacks.any_number') },
        { key: '', value: (cb) => h('span', { class: 'controls' },
          h('button', { type: 'button', class: 'small', onclick: () => history(cb) }, t('callbacks.history')),
          cb.state === 'pending' ? [
            h('button', { type: 'button', class: 'small', onclick: () => reschedule(cb) }, t('reschedule.open')),
            h('button', { type: 'button', class: 'small danger', onclick: () => cancel(cb) }, t('callbacks.cancel')),
          ] : null) },
      ], found, (cb) => ({ dataset: { callback: String(cb.id) } })));
    } catch (err) { ui.fail(err); }
  }

  async function history(cb) {
    try {
      const changes = await api('GET', `${path(cb)}/history`);
      fill(side, h('section', { class: 'panel', id: 'callback-history' },
        h('h2', {}, t('callbacks.history_of', { id: cb.id, name: cb.contact_name || cb.requester_name || '' })),
        table([
          { key: 'callbacks.when', value: (c) => short(c.changed_at) },
          { key: 'callbacks.actor', value: (c) => c.actor },
          { key: 'callbacks.action', value: (c) => c.action },
          { key: 'callbacks.change', value: (c) => h('small', {}, changed(c)) },
        ], changes)));
    } catch (err) { ui.fail(err); }
  }

  async function reschedule(cb) {
    try {
      const camp = campaigns.find((c) => c.name === campaign.value);
      const grid = await gridOf(campaign.value);
      fill(side, h('section', { class: 'panel' }, rescheduleForm({
        cb, campaign: camp, grid,
        onDone: async (moved) => { ui.say(t('callbacks.rescheduled', { id: moved.id, when: short(moved.due_at) })); fill(side); await refresh(); },
        onCancel: () => fill(side),
      })));
    } catch (err) { ui.fail(err); }
  }

  async function cancel(cb) {
    if (!sure('callbacks.cancel_sure', { id: cb.id })) return;
    try {
      await api('DELETE', path(cb));
      ui.say(t('callbacks.cancelled', { id: cb.id }));
      fill(side);
      await refresh();
    } catch (err) { ui.fail(err); }
  }

  api('GET', '/campaigns').then((all) => {
    campaigns = all;
    fill(campaign, ...options(all.map((c) => c.name)));
  }).catch((err) => ui.fail(err));
  return { unmount() {} };
}
