// The reminder service's panel (issue 14, seed 002 "Automat przypomnień"): whether the service
// runs, and for the chosen campaign its rules, its templates (reminder_templates.js), the other
// choices (one callback's, a contact's opt-out, an agent's address, a status's action:
// reminder_choices.js) and the log of every operation. Supervisors and administrators; all through the API (docs/api.md,
// "/reminders/service", "/campaigns/{c}/reminders...").

import { api, explain } from './api.js';
import { h, localTime } from './dom.js';
import { label, t } from './i18n.js';
import { choicesPanel } from './reminder_choices.js';
import { rulesForm, templatesPanel } from './reminder_templates.js';

const SERVICE_POLL_MS = 5000;

export function mount(root) {
  const screen = new RemindersScreen(root);
  screen.start();
  return screen;
}

class RemindersScreen {
  constructor(root) {
    this.root = root;
    this.campaign = null;
    this.log = [];
  }

  async start() {
    this.service = h('section', { class: 'panel', id: 'rem-service' }, h('p', { class: 'muted' }, t('work.loading')));
    this.picker = h('select', { id: 'rem-campaign', onchange: () => this.choose(this.picker.value) });
    this.error = h('p', { class: 'error', role: 'alert', id: 'rem-error' });
    this.rules = h('section', { class: 'panel', id: 'rem-rules' });
    this.templates = h('section', { class: 'panel', id: 'rem-templates' });
    this.choices = h('section', { class: 'panel', id: 'rem-choices' });
    this.logFilters = this.filters();
    this.logBody = h('tbody', {});
    this.root.replaceChildren(h('div', { class: 'reminders' },
      h('div', { class: 'row rem-head' }, h('h1', {}, t('rem.title')), h('span', { class: 'spacer' }),
        h('label', {}, t('rem.campaign'), this.picker)),
      this.error, this.service,
      h('div', { class: 'two' }, this.rules, this.templates),
      this.choices,
      h('section', { class: 'panel' }, h('h2', {}, t('rem.log')), this.logFilters.element,
        h('table', { class: 'grid', id: 'rem-log' },
          h('thead', {}, h('tr', {}, ['at', 'operation', 'recipient', 'channel', 'callback', 'state', 'detail'].map((c) => h('th', {}, t(`rem.col.${c}`))))),
          this.logBody))));
    this.poll = setInterval(() => this.loadService(), SERVICE_POLL_MS);
    this.loadService();
    try {
      const campaigns = await api('GET', '/campaigns');
      this.picker.replaceChildren(...campaigns.map((c) => h('option', { value: c.name }, c.name)));
      if (campaigns.length) this.choose(campaigns[0].name);
      else this.rules.replaceChildren(h('p', { class: 'muted' }, t('rem.no_campaigns')));
    } catch (err) { this.error.textContent = explain(err, t); }
  }

  unmount() { clearInterval(this.poll); }

  async loadService() {
    try {
      const s = await api('GET', '/reminders/service');
      const figure = (key, value, cls = '') => h('div', { class: `figure ${cls}` }, h('div', { class: 'value' }, String(value)), h('div', { class: 'muted' }, t(key)));
      this.service.replaceChildren(
        h('h2', {}, t('rem.service'), ' ',
          h('span', { class: `pill ${s.running ? 'on' : 'warn'}`, id: 'rem-running' }, t(s.running ? 'rem.running' : 'rem.stopped'))),
        h('p', { class: 'muted' }, s.last_run_at ? t('rem.last_run', { at: localTime(s.last_run_at), engines: s.engines.join(', ') || '—' }) : t('rem.never_ran')),
        h('div', { class: 'figures' },
          figure('rem.backlog', s.backlog),
          figure('rem.sent_last_hour', s.sent_last_hour),
          figure('rem.failures_last_hour', s.failures_last_hour, s.failures_last_hour ? 'bad' : '')));
    } catch (err) { this.error.textContent = explain(err, t); }
  }

  async choose(name) {
    this.campaign = name;
    this.picker.value = name;
    this.error.textContent = '';
    const base = `/campaigns/${encodeURIComponent(name)}`;
    try {
      const [settings, templates] = await Promise.all([api('GET', `${base}/reminders`), api('GET', `${base}/reminder-templates`)]);
      if (this.campaign !== name) return;
      const rules = rulesForm(base, settings, templates);
      this.rules.replaceChildren(rules.element);
      const choices = () => choicesPanel(base, templates).then((el) => { if (this.campaign === name) this.choices.replaceChildren(el); });
      this.templates.replaceChildren(templatesPanel(base, templates, () => { rules.templatesChanged(); choices().catch((err) => { this.error.textContent = explain(err, t); }); }));
      await choices();
      this.loadLog();
    } catch (err) { this.error.textContent = explain(err, t); }
  }

  filters() {
    const callback = h('input', { id: 'log-callback', type: 'number', min: 1, placeholder: t('rem.col.callback') });
    const recipient = h('select', { id: 'log-recipient' }, ['', 'customer', 'agent'].map((r) => h('option', { value: r }, r ? t(`rem.recipient.${r}`) : t('rem.any_recipient'))));
    const state = h('select', { id: 'log-state' }, h('option', { value: '' }, t('rem.any_state')));
    const limit = h('select', { id: 'log-limit' }, [50, 100, 500, 1000].map((n) => h('option', { value: n, selected: n === 100 }, String(n))));
    const redraw = () => this.drawLog();
    recipient.addEventListener('change', redraw);
    state.addEventListener('change', redraw);
    callback.addEventListener('change', () => this.loadLog());
    limit.addEventListener('change', () => this.loadLog());
    const element = h('div', { class: 'row log-filters' },
      h('label', {}, t('rem.col.callback'), callback), h('label', {}, t('rem.col.recipient'), recipient),
      h('label', {}, t('rem.col.state'), state), h('label', {}, t('rem.limit'), limit),
      h('button', { type: 'button', class: 'ghost', id: 'log-refresh', onclick: () => this.loadLog() }, t('rem.refresh')));
    return { element, callback, recipient, state, limit };
  }

  async loadLog() {
    if (!this.campaign) return;
    const f = this.logFilters;
    const q = new URLSearchParams({ limit: f.limit.value });
    if (f.callback.value) q.set('callback', f.callback.value);
    try {
      this.log = await api('GET', `/campaigns/${encodeURIComponent(this.campaign)}/reminders/log?${q}`);
    } catch (err) { this.error.textContent = explain(err, t); return; }
    const states = [...new Set(this.log.map((e) => e.state))].sort();
    const keep = f.state.value;
    f.state.replaceChildren(h('option', { value: '' }, t('rem.any_state')), ...states.map((s) => h('option', { value: s, selected: s === keep }, label('rem.state', s))));
    this.drawLog();
  }

  drawLog() {
    const f = this.logFilters;
    const rows = this.log.filter((e) => (!f.recipient.value || e.recipient === f.recipient.value) && (!f.state.value || e.state === f.state.value));
    this.logBody.replaceChildren(...(rows.length ? rows.map((e) => h('tr', { class: `op-${e.operation}` },
      h('td', {}, localTime(e.at)),
      h('td', {}, label('rem.op', e.operation)),
      h('td', {}, label('rem.recipient', e.recipient)),
      h('td', {}, label('rem.channel', e.channel)),
      h('td', {}, e.callback_id ?? '—'),
      h('td', {}, label('rem.state', e.state)),
      h('td', {}, e.detail, e.provider_id ? h('span', { class: 'muted' }, ` · ${e.provider_id}`) : null)))
      : [h('tr', {}, h('td', { colspan: 7, class: 'muted' }, t('rem.log_empty')))]));
  }
}
