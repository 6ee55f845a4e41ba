// Contact transfer (seed 001, Kontakty -> Przenoszenie): pick the campaign and the status the
// records are in, and the count of matching records appears (refreshed on every pick); pick the
// campaign and the new status they go to, optionally how many; Move records says how many moved
// from which campaign and status to which. The rules (no moving out of a success status nor to
// a status whose qualifier is none) are the store's: the count already says when it refuses.

import { api } from './api.js';
import { h } from './dom.js';
import { t } from './i18n.js';
import { choices, fill, frame, options, query } from './admin-ui.js';

export function mount(root) {
  const fromCampaign = choices('tr-from-campaign', []);
  const fromStatus = choices('tr-status', []);
  const toCampaign = choices('tr-to-campaign', []);
  const toStatus = choices('tr-new-status', []);
  const limit = h('input', { id: 'tr-limit', type: 'number', min: 1, step: 1 });
  const count = h('div', { class: 'count', id: 'tr-count', 'aria-live': 'polite' });
  const result = h('div', { id: 'tr-result', 'aria-live': 'polite' });
  const move = h('button', { class: 'primary', id: 'tr-move', disabled: true, onclick: () => go() }, t('transfer.move'));
  const ui = frame(root, 'nav.transfer',
    h('section', { class: 'panel' },
      h('p', { class: 'muted' }, t('transfer.intro')),
      h('div', { class: 'transfer' },
        h('fieldset', {}, h('legend', {}, t('transfer.from_campaign')), fromCampaign),
        h('fieldset', {}, h('legend', {}, t('transfer.to_campaign')), toCampaign),
        h('fieldset', {}, h('legend', {}, t('transfer.status')), fromStatus),
        h('fieldset', {}, h('legend', {}, t('transfer.new_status')), toStatus),
        h('fieldset', {}, h('legend', {}, t('transfer.records')), count),
        h('fieldset', {}, h('legend', {}, t('transfer.limit')), limit, h('small', { class: 'muted' }, t('transfer.limit_hint')))),
      h('div', { class: 'controls' }, move)),
    result);
  let asked = 0; // the newest count asked for: an older answer arriving late is dropped

  async function statusesOf(campaign, select) {
    const names = campaign ? (await api('GET', `/campaigns/${encodeURIComponent(campaign)}/status-settings`)).map((s) => s.name) : [];
    fill(select, ...options(names));
  }

  async function recount() {
    const mine = ++asked;
    move.disabled = true;
    fill(count, );
    if (!fromCampaign.value || !fromStatus.value) return;
    fill(count, h('span', { class: 'muted' }, t('transfer.counting')));
    try {
      const c = await api('GET', `/transfers/count${query({ from_campaign: fromCampaign.value, status: fromStatus.value })}`);
      if (mine !== asked) return;
      fill(count,
        h('span', { class: 'big-count', id: 'tr-matched' }, String(c.matched)),
        c.in_call ? h('div', { class: 'muted' }, t('transfer.in_call', { count: c.in_call })) : null,
        c.refusal ? h('div', { class: 'error', id: 'tr-refusal' }, c.refusal) : null);
      move.disabled = Boolean(c.refusal) || !c.matched || !toCampaign.value || !toStatus.value;
    } catch (err) { if (mine === asked) ui.fail(err); }
  }

  fromCampaign.addEventListener('change', async () => { await statusesOf(fromCampaign.value, fromStatus); await recount(); });
  fromStatus.addEventListener('change', recount);
  toCampaign.addEventListener('change', async () => { await statusesOf(toCampaign.value, toStatus); await recount(); });
  toStatus.addEventListener('change', recount);

  async function go() {
    const body = { from_campaign: fromCampaign.value, status: fromStatus.value, to_campaign: toCampaign.value, new_status: toStatus.value };
    if (limit.value) body.limit = Number(limit.value);
    move.disabled = true;
    try {
      const r = await api('POST', '/transfers', body);
      fill(result, h('div', { class: 'result', id: 'tr-done' },
        h('strong', {}, t('transfer.moved', { moved: r.moved, from_campaign: r.from_campaign, from_status: r.from_status, to_campaign: r.to_campaign, to_status: r.to_status })),
        h('div', { class: 'muted' }, t('transfer.of_matched', { moved: r.moved, matched: r.matched })),
        r.skipped_leased ? h('div', {}, t('transfer.left_in_call', { count: r.skipped_leased })) : null,
        r.history_cleared ? h('div', {}, t('transfer.history_cleared')) : null));
      ui.say('');
    } catch (err) {
      fill(result, h('div', { class: 'result refused' }, err.body?.reason || err.message));
      ui.fail(err);
    }
    await recount();
  }

  api('GET', '/campaigns').then((all) => {
    const names = all.map((c) => c.name);
    fill(fromCampaign, ...options(names));
    fill(toCampaign, ...options(names));
  }).catch((err) => ui.fail(err));
  return { unmount() {} };
}
