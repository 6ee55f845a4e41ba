// Attempts and the report (supervisors, admins): every call attempt filtered by campaign,
// outcome and start time, a page at a time, and as CSV; the report of `dialer report`:
// outcomes per day, the abandon rate per window, each agent's talk share.

import { api } from './api.js';
import { h, localTime, percent } from './dom.js';
import { label, t } from './i18n.js';
import { choices, download, fill, frame, instant, options, pager, query, table } from './admin-ui.js';

const PAGE = 50;
const OUTCOMES = ['answered', 'busy', 'no_answer', 'congestion', 'failed', 'machine', 'abandoned', 'invalid_number', 'cancelled', 'lost', 'pbx_shutdown'];

export function mount(root) {
  const campaign = choices('at-campaign', [], { blank: 'admin.any' });
  const outcome = h('select', { id: 'at-outcome' }, h('option', { value: '' }, t('admin.any')), OUTCOMES.map((o) => h('option', { value: o }, label('outcome', o))));
  const since = h('input', { id: 'at-since', type: 'datetime-local' });
  const until = h('input', { id: 'at-until', type: 'datetime-local' });
  const windowPick = h('select', { id: 'rp-window' }, ['day', 'hour', 'week'].map((w) => h('option', { value: w }, t(`report.window.${w}`))));
  const list = h('div', { class: 'panel', id: 'attempt-list' });
  const pages = h('div', { class: 'controls' });
  const reportPart = h('div', { id: 'report' });
  const filters = () => ({ campaign: campaign.value, outcome: outcome.value, since: instant(since), until: instant(until) });
  const ui = frame(root, 'nav.attempts',
    h('form', { class: 'toolbar', id: 'attempt-search', onsubmit: (e) => { e.preventDefault(); search([]); } },
      h('label', {}, t('admin.campaign'), campaign),
      h('label', {}, t('attempts.outcome'), outcome),
      h('label', {}, t('attempts.since'), since),
      h('label', {}, t('attempts.until'), until),
      h('button', { type: 'submit', class: 'primary', id: 'attempt-search-go' }, t('contacts.search')),
      h('button', { type: 'button', id: 'attempt-export', onclick: () => exportCsv() }, t('contacts.export')),
      h('label', {}, t('report.window'), windowPick),
      h('button', { type: 'button', id: 'report-go', onclick: () => report() }, t('report.show'))),
    list, pages, reportPart);

  async function search(trail) {
    try {
      const page = await api('GET', `/attempts${query({ ...filters(), after: trail.at(-1), limit: PAGE })}`);
      fill(list, table([
        { key: 'contact.when', value: (a) => localTime(a.started_at) },
        { key: 'admin.campaign', value: (a) => a.campaign },
        { key: 'attempts.contact', num: true, value: (a) => String(a.contact_id) },
        { key: 'contact.number', value: (a) => a.number },
        { key: 'attempts.outcome', value: (a) => (a.outcome ? label('outcome', a.outcome) : t('contact.in_progress')) },
        { key: 'attempts.agent', value: (a) => a.agent || '' },
        { key: 'contacts.status', value: (a) => a.status || '' },
        { key: 'attempts.talk', num: true, value: (a) => (a.talk_s === null ? '' : a.talk_s.toFixed(1)) },
      ], page.items, (a) => ({ dataset: { attempt: String(a.id) } })));
      pager(pages, trail, page.next_after, search, 'attempts');
    } catch (err) { ui.fail(err); }
  }

  async function exportCsv() {
    try {
      await download(`/attempts/export${query(filters())}`, 'attempts.csv');
      ui.say(t('contacts.exported'));
    } catch (err) { ui.fail(err); }
  }

  async function report() {
    try {
      const r = await api('GET', `/report${query({ campaign: campaign.value, since: instant(since), until: instant(until), window: windowPick.value })}`);
      fill(reportPart, h('section', { class: 'panel', id: 'report-result' },
        h('h2', {}, t('report.title'), h('span', { class: 'muted' }, ` ${r.campaign || t('report.all')} · ${localTime(r.since)} – ${localTime(r.until)} (${r.timezone})`)),
        h('div', { class: 'two' },
          h('div', {}, h('h3', {}, t('report.outcomes')), table([
            { key: 'report.day', value: (o) => o.day },
            { key: 'attempts.outcome', value: (o) => label('outcome', o.outcome) },
            { key: 'report.attempts', num: true, value: (o) => String(o.attempts) },
          ], r.outcomes)),
          h('div', {}, h('h3', {}, t('report.abandons')), table([
            { key: 'report.start', value: (a) => localTime(a.start) },
            { key: 'report.live', num: true, value: (a) => String(a.live) },
            { key: 'report.abandoned', num: true, value: (a) => String(a.abandoned) },
            { key: 'report.rate', num: true, value: (a) => (a.rate === null ? '' : percent(a.rate)) },
          ], r.abandons),
          h('h3', {}, t('report.talk')), table([
            { key: 'attempts.agent', value: (a) => a.agent },
            { key: 'report.calls', num: true, value: (a) => String(a.calls) },
            { key: 'attempts.talk', num: true, value: (a) => a.talk_s.toFixed(0) },
            { key: 'report.share', num: true, value: (a) => percent(a.share) },
          ], r.talk)))));
    } catch (err) { ui.fail(err); }
  }

  api('GET', '/campaigns').then(async (all) => {
    fill(campaign, ...options(all.map((c) => c.name), 'admin.any'));
    await search([]);
  }).catch((err) => ui.fail(err));
  return { unmount() {} };
}
