// The agent desktop: my state and campaigns, the record or call on my screen, the disposition.
//
// Everything shown comes from the API: the event stream's `state` (after every change) drives
// the screen, `offer` and `call` bring the contact, `wrap_up` and `logout` the countdowns, and
// the timers between two events run here from the last figure received. The work area is
// rebuilt only when what it shows changes (another phase or contact), so a form being filled
// in survives the events that keep arriving. Callbacks (my callbacks, the due notice, the web
// callback preview, rescheduling) are reschedule.js's; the slot grid is slots.js's.

import { api, explain, openEvents } from './api.js';
import { clock, h, localTime } from './dom.js';
import { label, t } from './i18n.js';
import { callbackForm } from './callback.js';
import { MyCallbacks, webCallbackCard } from './reschedule.js';
import { gridOf } from './slots.js';

const BUSY = ['reserved', 'offered', 'talking', 'wrap_up'];
export const PAUSE_REASONS = ['break', 'lunch', 'training', 'meeting', 'technical'];
const SHORTCUTS = 9; // dispositions 1..9

export function mount(root, ctx) {
  const desk = new Desk(root, ctx);
  desk.start();
  return desk;
}

class Desk {
  constructor(root, ctx) {
    this.root = root;
    this.agent = ctx.user.agent;
    this.state = null;
    this.stateAt = 0;
    this.contact = null;
    this.offerKind = null;
    this.campaigns = [];
    this.wrap = null;
    this.logout = null;
    this.workKey = null;
    this.statuses = [];
    this.el = {};
  }

  start() {
    const el = this.el;
    el.badge = h('div', { class: 'badge', id: 'my-state' });
    el.timer = h('span', { class: 'timer', id: 'state-timer' });
    el.detail = h('div', { class: 'muted', id: 'state-detail' });
    el.reason = h('select', { id: 'pause-reason', 'aria-label': t('agent.pause_reason') },
      PAUSE_REASONS.map((r) => h('option', { value: r }, t(`pause.${r}`))));
    el.controls = h('div', { class: 'controls' });
    el.countdown = h('div', { class: 'countdown', id: 'logout-countdown', role: 'alert', hidden: true });
    el.campaigns = h('tbody', {});
    el.notices = h('ul', { class: 'notices', id: 'notices' });
    el.work = h('section', { class: 'panel work', id: 'work' });
    el.connection = h('span', { class: 'connection', id: 'connection' }, t('agent.connecting'));
    el.error = h('p', { class: 'error', role: 'alert', id: 'desk-error' });
    this.callbacks = new MyCallbacks({
      agent: this.agent, campaigns: () => this.campaigns, notice: (text, kind) => this.notice(text, kind),
    });
    this.root.replaceChildren(h('div', { class: 'desk' },
      h('div', { class: 'side' },
        h('section', { class: 'panel' },
          h('h2', {}, t('agent.my_state'), ' ', el.connection),
          h('div', { class: 'state-line' }, el.badge, el.timer), el.detail, el.controls, el.countdown, el.error),
        h('section', { class: 'panel' }, h('h2', {}, t('agent.my_campaigns')),
          h('table', { class: 'grid', id: 'my-campaigns' },
            h('thead', {}, h('tr', {}, ['campaign', 'mode', 'state', 'my_state'].map((c) => h('th', {}, t(`agent.col.${c}`))))),
            el.campaigns)),
        h('section', { class: 'panel' }, h('h2', {}, t('agent.notices')), el.notices),
        this.callbacks.element,
        h('p', { class: 'muted keys' }, t('agent.keys'))),
      el.work));
    this.renderControls();
    this.renderWork();
    this.loadCampaigns();
    this.stream = openEvents((name, data) => this.on(name, data), (up) => {
      el.connection.textContent = up ? '' : t('agent.reconnecting');
    });
    this.timer = setInterval(() => this.tick(), 250);
    this.keys = (e) => this.key(e);
    document.addEventListener('keydown', this.keys);
  }

  unmount() {
    this.stream.close();
    clearInterval(this.timer);
    document.removeEventListener('keydown', this.keys);
  }

  // --- what the API says -------------------------------------------------------------------

  on(name, data) {
    if (name === 'state') {
      this.state = data;
      this.stateAt = performance.now();
      if (!data.logging_out) this.logout = null;
      if (!this.busy()) this.wrap = null;
      this.renderControls();
      this.renderCampaigns();
      this.renderWork();
    } else if (name === 'offer') {
      this.contact = data.contact;
      this.offerKind = data.kind;
      if (data.kind === 'push_preview') this.notice(t('notice.pushed', { name: data.contact.name || data.contact.id }));
      this.renderWork();
    } else if (name === 'call') {
      this.contact = data.contact;
      this.notice(t('notice.call', { name: data.contact.name || data.contact.id, campaign: data.campaign }));
      this.renderWork();
    } else if (name === 'wrap_up') {
      this.wrap = { left: data.left_s, status: data.status, at: performance.now() };
    } else if (name === 'logout') {
      this.logout = { remaining: data.remaining, at: performance.now() };
      this.tick();
    } else if (name === 'logout_granted') {
      this.logout = null;
      this.notice(t('notice.logged_out'));
    } else if (name === 'campaign_started') {
      this.notice(t('notice.started', { campaign: data.campaign }), 'important');
      this.loadCampaigns();
    } else if (name === 'callback_due' || name === 'callback_handed_over') {
      this.callbacks.told(name, data);
    } else if (name === 'assigned') {
      this.notice(t('notice.assigned', { campaign: data.campaign }), 'important');
      this.loadCampaigns();
    }
  }

  async loadCampaigns() {
    try { this.campaigns = await api('GET', '/campaigns'); } catch (err) { this.fail(err); }
    this.renderCampaigns();
    this.callbacks.load();
  }

  // The campaign where the agent is busy (a record, a call), else the first one.
  current() {
    const list = this.state?.campaigns || [];
    return list.find((c) => BUSY.includes(c.state)) || list[0] || null;
  }

  busy() {
    const c = this.current();
    return c && BUSY.includes(c.state) ? c : null;
  }

  phase() {
    if (!this.state || !this.state.logged_in) return 'logged_out';
    const c = this.current();
    return c ? c.state : 'waiting';
  }

  // --- actions -------------------------------------------------------------------------------

  async act(method, path, body) {
    this.el.error.textContent = '';
    try { return await api(method, `/agents/${encodeURIComponent(this.agent)}${path}`, body); } catch (err) {
      this.fail(err);
      return null;
    }
  }

  fail(err) { this.el.error.textContent = explain(err, t); }

  login() { return this.act('POST', '/login', { paused: true, pause_reason: 'login' }); }
  ready() { return this.act('POST', '/ready'); }
  pause() { return this.act('POST', '/pause', { reason: this.el.reason.value }); }
  async signOffCampaigns() {
    const r = await this.act('POST', '/logout');
    if (r && !r.logged_out) this.notice(t('notice.logout_held'));
  }
  cancelLogout() { return this.act('DELETE', '/logout'); }
  nextRecord() { return this.act('POST', '/preview', {}); }
  accept() { return this.act('POST', '/offer/accept'); }
  skip() { return this.act('POST', '/offer/skip'); }

  notice(text, kind = '') {
    const time = new Date().toLocaleTimeString();
    this.el.notices.prepend(h('li', { class: kind }, h('span', { class: 'muted' }, time), ' ', text));
    while (this.el.notices.children.length > 20) this.el.notices.lastChild.remove();
  }

  // --- the side panel ------------------------------------------------------------------------

  renderControls() {
    const phase = this.phase();
    const c = this.current();
    this.el.badge.className = `badge state-${phase}`;
    this.el.badge.textContent = label('state', phase);
    const detail = [];
    if (c?.pause_reason) detail.push(t('agent.paused_for', { reason: label('pause', c.pause_reason) }));
    if (c?.pending_pause) detail.push(t('agent.pause_after_call'));
    const waiting = this.state?.waiting_for_campaigns || [];
    if (waiting.length) detail.push(t('agent.waiting_for', { campaigns: waiting.join(', ') }));
    this.el.detail.textContent = detail.join(' · ');
    const loggedIn = this.state?.logged_in;
    const buttons = [];
    if (!loggedIn) {
      buttons.push(h('button', { class: 'primary', id: 'login-campaigns', onclick: () => this.login() }, t('agent.login')));
    } else {
      buttons.push(
        h('button', { class: 'go', id: 'ready', onclick: () => this.ready(), disabled: phase === 'ready' }, t('agent.ready'), h('kbd', {}, 'R')),
        h('button', { class: 'hold', id: 'pause', onclick: () => this.pause() }, t('agent.pause'), h('kbd', {}, 'P')),
        this.el.reason);
      if (this.state.logging_out) {
        buttons.push(h('button', { class: 'ghost', id: 'cancel-logout', onclick: () => this.cancelLogout() }, t('agent.cancel_logout')));
      } else {
        buttons.push(h('button', { class: 'ghost', id: 'logout', onclick: () => this.signOffCampaigns() }, t('agent.logout')));
      }
    }
    this.el.controls.replaceChildren(...buttons);
    this.tick();
  }

  renderCampaigns() {
    const mine = new Map((this.state?.campaigns || []).map((c) => [c.campaign, c]));
    const waiting = new Set(this.state?.waiting_for_campaigns || []);
    this.el.campaigns.replaceChildren(...this.campaigns.map((c) => {
      const me = mine.get(c.name);
      const state = c.running_here ? t('campaign.running') : label('campaign', c.state);
      return h('tr', { dataset: { campaign: c.name } },
        h('td', {}, c.name),
        h('td', {}, label('mode', c.mode)),
        h('td', {}, h('span', { class: `pill ${c.running_here ? 'on' : ''}` }, state)),
        h('td', {}, me ? label('state', me.state) : waiting.has(c.name) ? t('agent.joins_when_started') : '—'));
    }));
  }

  tick() {
    const c = this.current();
    const since = (performance.now() - this.stateAt) / 1000;
    this.el.timer.textContent = c ? clock(c.in_state_s + since) : '';
    const box = this.el.countdown;
    if (this.logout && this.logout.remaining.length) {
      const gone = (performance.now() - this.logout.at) / 1000;
      box.hidden = false;
      box.replaceChildren(h('strong', {}, t('logout.title')), ...this.logout.remaining.map((r) => h('div', { class: 'remaining' },
        r.campaign ? `${r.campaign}: ` : '',
        r.remaining_s === null
          ? t('logout.after_call', { state: label('state', r.waiting_for) })
          : t('logout.in', { time: clock(Math.ceil(Math.max(0, r.remaining_s - gone))), state: label('state', r.waiting_for) }))));
    } else {
      box.hidden = true;
    }
    if (this.el.wrap) {
      const time = this.wrap ? clock(Math.ceil(Math.max(0, this.wrap.left - (performance.now() - this.wrap.at) / 1000))) : '';
      this.el.wrap.textContent = !this.wrap ? ''
        : this.wrap.status ? t('wrap.left_status', { time, status: this.wrap.status }) : t('wrap.left', { time });
    }
  }

  // --- the work area -------------------------------------------------------------------------

  async contactFor(c) {
    const id = c.state === 'offered' ? c.offered_contact : c.call_contact;
    if (id === null || id === undefined) return null;
    if (this.contact?.id === id) return this.contact;
    try {
      if (c.state === 'offered') {
        const offer = await api('GET', `/agents/${encodeURIComponent(this.agent)}/offer`);
        this.offerKind = offer.kind;
        this.contact = offer.contact;
      } else {
        this.contact = await api('GET', `/agents/${encodeURIComponent(this.agent)}/call`);
      }
    } catch (err) { return null; }
    return this.contact?.id === id ? this.contact : null;
  }

  async renderWork() {
    const seq = (this.renderSeq = (this.renderSeq || 0) + 1);
    const phase = this.phase();
    const c = this.busy();
    const contact = c ? await this.contactFor(c) : null;
    const grid = c?.state === 'wrap_up' ? await gridOf(c.campaign) : null;
    if (seq !== this.renderSeq) return; // a newer state is being drawn
    const key = `${phase}|${c?.campaign}|${contact?.id}|${this.offerKind}`;
    if (key === this.workKey) return;
    this.workKey = key;
    this.el.wrap = null;
    const work = this.el.work;
    if (phase === 'logged_out') {
      work.replaceChildren(h('div', { class: 'idle' }, h('h2', {}, t('work.signed_out')), h('p', {}, t('work.signed_out_hint'))));
    } else if (!c) {
      const preview = (this.state.campaigns || []).some((x) => x.mode === 'preview' && x.state === 'ready');
      work.replaceChildren(h('div', { class: 'idle' },
        h('h2', {}, t(phase === 'ready' ? 'work.waiting' : phase === 'paused' ? 'work.paused' : 'work.not_started')),
        preview ? h('button', { class: 'primary', id: 'next-record', onclick: () => this.nextRecord() }, t('work.next_record'), h('kbd', {}, 'N')) : null));
    } else if (c.state === 'offered') {
      work.replaceChildren(this.offerCard(c, contact));
    } else if (c.state === 'reserved') {
      work.replaceChildren(h('div', { class: 'idle' }, h('h2', { class: 'dialling' }, t('work.dialling')),
        contact ? this.contactCard(contact) : null));
    } else if (c.state === 'talking') {
      work.replaceChildren(h('div', { class: 'pop', id: 'screen-pop', role: 'alert' }, t('work.connected', { campaign: c.campaign })),
        contact ? this.contactCard(contact) : null, contact ? this.editForm(contact) : null);
    } else if (c.state === 'wrap_up') {
      this.el.wrap = h('div', { class: 'wrap-timer', id: 'wrap-timer' });
      work.replaceChildren(h('h2', {}, t('work.wrap_up')), this.el.wrap,
        contact ? this.dispositionForm(c, contact, grid) : h('p', {}, t('work.loading')),
        contact ? this.contactCard(contact) : null, contact ? this.editForm(contact) : null);
    }
    this.tick();
  }

  offerCard(c, contact) {
    const pushed = this.offerKind === 'push_preview';
    return h('div', { class: 'offer', id: 'offer' },
      h('h2', {}, t(pushed ? 'offer.pushed' : 'offer.preview', { campaign: c.campaign })),
      h('div', { class: 'controls' },
        h('button', { class: 'go', id: 'dial', onclick: () => this.accept() }, t(pushed ? 'offer.accept' : 'offer.dial'), h('kbd', {}, 'D')),
        h('button', { class: 'ghost', id: 'skip', onclick: () => this.skip() }, t(pushed ? 'offer.reject' : 'offer.skip'), h('kbd', {}, 'S'))),
      contact ? webCallbackCard(contact, (cb, campaign, phones) => this.callbacks.open(cb, campaign, phones)) : null,
      contact ? this.contactCard(contact) : h('p', {}, t('work.loading')));
  }

  contactCard(contact) {
    const fields = Object.entries(contact.fields || {});
    return h('div', { class: 'contact', id: 'contact' },
      h('h3', { class: 'contact-name' }, contact.name || t('contact.unnamed'), ' ', h('span', { class: 'muted' }, `#${contact.id}`)),
      h('p', { class: 'muted' }, t('contact.status', { status: contact.status }), contact.timezone ? ` · ${contact.timezone}` : ''),
      h('h4', {}, t('contact.numbers')),
      h('table', { class: 'grid numbers' },
        h('thead', {}, h('tr', {}, ['number', 'kind', 'window'].map((k) => h('th', {}, t(`contact.${k}`))))),
        h('tbody', {}, contact.phones.map((p) => h('tr', { class: p.disabled ? 'disabled' : '' },
          h('td', {}, p.number), h('td', {}, label('kind', p.kind)),
          h('td', {}, p.window_start ? `${p.window_start.slice(0, 5)}–${p.window_end.slice(0, 5)}` : '—'))))),
      fields.length ? [h('h4', {}, t('contact.fields')),
        h('dl', { class: 'fields' }, fields.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v === null ? '' : String(v))]))] : null,
      h('h4', {}, t('contact.attempts')),
      contact.attempts.length
        ? h('table', { class: 'grid attempts' },
          h('thead', {}, h('tr', {}, ['when', 'outcome', 'number'].map((k) => h('th', {}, t(`contact.${k}`))))),
          h('tbody', {}, contact.attempts.map((a) => h('tr', {},
            h('td', {}, localTime(a.started_at)), h('td', {}, a.outcome ? label('outcome', a.outcome) : t('contact.in_progress')), h('td', {}, a.number)))))
        : h('p', { class: 'muted' }, t('contact.no_attempts')));
  }

  editForm(contact) {
    const name = h('input', { id: 'edit-name', value: contact.name });
    const rows = Object.entries(contact.fields || {}).map(([k, v]) => [k, h('input', { value: v === null ? '' : String(v), dataset: { field: k } })]);
    const newKey = h('input', { id: 'edit-new-key', placeholder: t('edit.new_field') });
    const newValue = h('input', { id: 'edit-new-value', placeholder: t('edit.value') });
    const said = h('span', { class: 'muted', role: 'status' });
    return h('details', { class: 'edit', id: 'edit-contact' },
      h('summary', {}, t('edit.title')),
      h('form', {
        onsubmit: async (e) => {
          e.preventDefault();
          const fields = Object.fromEntries(rows.map(([k, input]) => [k, input.value]));
          if (newKey.value.trim()) fields[newKey.value.trim()] = newValue.value;
          const saved = await this.act('PATCH', '/contact', { name: name.value, fields });
          if (saved) {
            this.contact = saved;
            said.textContent = t('edit.saved');
            const card = this.el.work.querySelector('#contact');
            if (card) card.replaceWith(this.contactCard(saved));
          }
        },
      },
      h('label', {}, t('edit.name'), name),
      rows.map(([k, input]) => h('label', {}, k, input)),
      h('div', { class: 'row' }, newKey, newValue),
      h('button', { type: 'submit', id: 'edit-save' }, t('edit.save')), ' ', said));
  }

  dispositionForm(c, contact, grid) {
    const statuses = contact.statuses || [];
    const error = h('p', { class: 'error', role: 'alert', id: 'disposition-error' });
    const callback = callbackForm(contact, this.campaigns.find((x) => x.name === c.campaign), grid);
    const choices = statuses.map((s, i) => h('label', { class: 'choice' },
      h('input', { type: 'radio', name: 'status', value: s.name, dataset: { needsDate: s.needs_date ? '1' : '' } }),
      i < SHORTCUTS ? h('kbd', {}, String(i + 1)) : null, ' ', s.name,
      s.needs_date ? h('span', { class: 'muted' }, ` (${t('disposition.needs_date')})`) : null));
    const form = h('form', { class: 'disposition', id: 'disposition' },
      h('h3', {}, t('disposition.title')),
      h('div', { class: 'choices' }, choices),
      callback.element, error,
      h('button', { type: 'submit', class: 'primary', id: 'dispose' }, t('disposition.save')));
    const chosen = () => statuses.find((s) => s.name === form.querySelector('input[name=status]:checked')?.value);
    const sync = () => callback.require(Boolean(chosen()?.needs_date));
    form.addEventListener('change', sync);
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      error.textContent = '';
      const status = chosen();
      if (!status) { error.textContent = t('disposition.choose'); return; }
      const body = { status: status.name, ...callback.value() };
      if (body.callback && 'slot' in body.callback && !body.callback.slot) { error.textContent = t('slots.choose'); return; }
      if (status.needs_date && !body.at && !body.callback?.slot) { error.textContent = t('disposition.date_missing'); return; }
      try {
        await api('POST', `/agents/${encodeURIComponent(this.agent)}/disposition`, body);
      } catch (err) {
        error.textContent = callback.slots ? callback.slots.full(err) : explain(err, t);
        return;
      }
      this.notice(t('notice.disposed', { status: status.name }));
      if (body.callback) this.callbacks.load();
    });
    this.chooseStatus = (n) => {
      const input = choices[n]?.querySelector('input');
      if (!input) return;
      input.checked = true;
      sync();
      if (!status_needs(input) && !callback.wanted()) form.requestSubmit();
      else callback.focus();
    };
    return form;
  }

  key(e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (['INPUT', 'SELECT', 'TEXTAREA'].includes(e.target.tagName) || e.target.closest?.('dialog')) return;
    const phase = this.phase();
    const k = e.key.toLowerCase();
    if (k === 'r' && this.state?.logged_in) this.ready();
    else if (k === 'p' && this.state?.logged_in) this.pause();
    else if (k === 'n' && phase === 'ready') this.nextRecord();
    else if (k === 'd' && phase === 'offered') this.accept();
    else if (k === 's' && phase === 'offered') this.skip();
    else if (/^[1-9]$/.test(k) && phase === 'wrap_up' && this.chooseStatus) this.chooseStatus(Number(k) - 1);
    else return;
    e.preventDefault();
  }
}

function status_needs(input) {
  return input.dataset.needsDate === '1';
}
