// The supervisor wallboard: one card per running campaign, redrawn from every `figures` event
// of the stream (once a second): agents by state with each agent's time in state, calls
// ringing, customers waiting and calls connected, the abandon rate of each window beside the
// campaign's cap as a gauge, dial level and the predictive fallback, hopper depth, calls by
// outcome today, and the chart of the day: the abandon rate over the trailing hour (with the
// cap) and the talk share, per quarter hour since the first agent logged in today. Each card
// has the campaign's start / pause / stop and its mode; campaigns this engine does not run
// are listed below the cards with the same controls (their state polled from the API every
// few seconds).
//
// The calls by outcome are today's, from the database (GET /campaigns/{c}/figures, polled
// with the states): the stream's tally counts since the runner started, which a restart or a
// second engine would make wrong, and reading the database every second for every screen is
// not worth it. The day chart is the database's too (GET /campaigns/{c}/day: calls by their
// end, agent time as the runners write it every half minute), read every 15 seconds, so a
// screen opened in the afternoon shows the morning.

import { api, explain, openEvents } from './api.js';
import { clock, h, percent } from './dom.js';
import { label, t } from './i18n.js';

const STATES = ['ready', 'reserved', 'offered', 'talking', 'wrap_up', 'paused'];
const WINDOWS = ['1h', '24h', '30d'];
const DAY_EVERY = 5; // the day chart is read at every fifth poll (15 s)
const QUARTERS = 4; // quarter hours in an hour (the day chart's points)
const SVG = 'http://www.w3.org/2000/svg';
const MODES = ['preview', 'push_preview', 'progressive', 'predictive'];
const VERBS = { start: 'running', pause: 'paused', stop: 'stopped' };
const POLL_MS = 3000;

export function mount(root) {
  if (!document.getElementById('admin-css')) {
    document.head.append(h('link', { id: 'admin-css', rel: 'stylesheet', href: '/console/css/admin.css' }));
  }
  const cards = h('div', { class: 'cards', id: 'wallboard' }, h('p', { class: 'muted' }, t('wall.waiting')));
  const status = h('span', { class: 'connection' }, t('agent.connecting'));
  const message = h('p', { class: 'message', role: 'status', id: 'wall-message' });
  const others = h('section', { class: 'panel', id: 'wall-others', hidden: true });
  root.replaceChildren(h('h1', {}, t('nav.wallboard'), ' ', status), message, cards, others);
  const days = new Map(); // campaign -> its day chart, polled
  const today = new Map(); // campaign -> its outcomes_today, polled
  let polls = 0;
  const controls = new Controls(message, () => poll());
  let shown = [];
  const stream = openEvents((name, data) => {
    if (name !== 'figures') return;
    const campaigns = data.campaigns || [];
    const names = campaigns.map((f) => f.campaign).join('\n');
    const changed = names !== shown.join('\n');
    if (changed || !campaigns.length) {
      cards.replaceChildren(...(campaigns.length
        ? campaigns.map((f) => section(f.campaign, controls.of(f.campaign)))
        : [h('p', { class: 'muted' }, t('wall.none'))]));
    }
    shown = campaigns.map((f) => f.campaign);
    if (changed) { outcomes(); charts(); }
    for (const f of campaigns) {
      const [title, body] = card(f, days.get(f.campaign), today.get(f.campaign));
      const el = cards.querySelector(`section[data-campaign="${CSS.escape(f.campaign)}"]`);
      el.firstElementChild.replaceChildren(title);
      el.lastElementChild.replaceChildren(...body.flat(Infinity));
    }
    controls.rest(others, shown);
  }, (up) => { status.textContent = up ? '' : t('agent.reconnecting'); });
  async function poll() {
    try { controls.update(await api('GET', '/campaigns')); controls.rest(others, shown); } catch (err) { /* the stream shows the connection */ }
    await outcomes();
    // every fifth poll, or at each while a chart is still empty (the runners write every 30 s)
    if (++polls % DAY_EVERY === 0 || shown.some((name) => !days.get(name)?.points?.some((p) => p.logged_in_s > 0))) {
      await charts();
    }
  }
  async function charts() {
    await Promise.all(shown.map(async (name) => {
      try {
        days.set(name, await api('GET', `/campaigns/${encodeURIComponent(name)}/day`));
      } catch (err) { /* shown again at the next read */ }
    }));
  }
  async function outcomes() {
    await Promise.all(shown.map(async (name) => {
      try {
        today.set(name, (await api('GET', `/campaigns/${encodeURIComponent(name)}/figures`)).outcomes_today);
      } catch (err) { /* shown again at the next poll */ }
    }));
  }
  poll();
  const timer = setInterval(poll, POLL_MS);
  return { unmount() { stream.close(); clearInterval(timer); } };
}

// A campaign's card: its title, its controls, its figures (title and figures redrawn each second).
function section(name, controls) {
  return h('section', { class: 'panel campaign-card', dataset: { campaign: name } }, h('div', { class: 'card-title' }), controls, h('div', {}));
}

// The controls of each campaign: built once and moved into each redrawn card, so a choice
// being made in the mode list survives the redraw of every second.
class Controls {
  constructor(message, changed) {
    this.message = message;
    this.changed = changed;
    this.byName = new Map();
    this.campaigns = [];
  }

  of(name) {
    let c = this.byName.get(name);
    if (!c) {
      const mode = h('select', { class: 'wall-mode', 'aria-label': t('wall.mode'), onchange: () => this.mode(name, mode) },
        MODES.map((m) => h('option', { value: m }, label('mode', m))));
      const buttons = Object.keys(VERBS).map((verb) => h('button', {
        class: `small ${verb === 'start' ? 'go' : verb === 'pause' ? 'hold' : ''}`, dataset: { verb },
        onclick: () => this.act(name, verb),
      }, t(`campaigns.${verb}`)));
      c = { el: h('div', { class: 'wall-controls', dataset: { controls: name } }, buttons, h('label', { class: 'inline' }, t('wall.mode'), mode)), mode, buttons };
      this.byName.set(name, c);
      this.sync(name);
    }
    return c.el;
  }

  update(campaigns) {
    this.campaigns = campaigns;
    for (const name of this.byName.keys()) this.sync(name);
  }

  sync(name) {
    const c = this.byName.get(name);
    const campaign = this.campaigns.find((x) => x.name === name);
    if (!c || !campaign) return;
    for (const b of c.buttons) b.disabled = VERBS[b.dataset.verb] === campaign.state;
    if (document.activeElement !== c.mode) c.mode.value = campaign.mode;
  }

  // the campaigns without a card (not run by this engine now): their state and the controls
  rest(section, shown) {
    const rest = this.campaigns.filter((c) => !shown.includes(c.name));
    const key = rest.map((c) => `${c.name} ${c.state}`).join('\n');
    if (key === this.restKey) return;
    this.restKey = key;
    section.hidden = !rest.length;
    section.replaceChildren(h('h2', {}, t('wall.others')), h('table', { class: 'grid' }, h('tbody', {}, rest.map((c) => h('tr', { dataset: { other: c.name } },
      h('td', {}, h('strong', {}, c.name)),
      h('td', {}, h('span', { class: `pill campaign-${c.state}` }, label('campaign', c.state))),
      h('td', {}, this.of(c.name)))))));
  }

  async act(name, verb) {
    try {
      await api('POST', `/campaigns/${encodeURIComponent(name)}/${verb}`);
      this.say(t(`campaigns.did.${verb}`, { name }));
    } catch (err) { this.say(explain(err, t), true); }
    this.changed();
  }

  async mode(name, select) {
    try {
      const c = await api('PATCH', `/campaigns/${encodeURIComponent(name)}`, { mode: select.value });
      this.say(t('wall.mode_set', { name, mode: label('mode', c.mode) })); // a running campaign switches at once
    } catch (err) { this.say(explain(err, t), true); }
    select.blur();
    this.changed();
  }

  say(text, bad = false) {
    this.message.className = bad ? 'message error' : 'message';
    this.message.textContent = text;
  }
}

function gauge(window, rate, cap) {
  const scale = Math.max(cap * 2, rate, 0.0001);
  const level = rate > cap ? 'over' : rate > cap * 0.8 ? 'near' : 'ok';
  return h('div', { class: 'gauge-row', dataset: { window } },
    h('span', { class: 'gauge-label' }, t(`wall.window.${window}`)),
    h('div', { class: 'gauge', role: 'meter', 'aria-valuenow': rate, 'aria-valuemax': scale, title: `${percent(rate)} / ${percent(cap)}` },
      h('div', { class: `fill ${level}`, style: `width:${Math.min(100, (100 * rate) / scale)}%` }),
      h('div', { class: 'cap', style: `left:${(100 * cap) / scale}%` })),
    h('span', { class: `gauge-value ${level}` }, percent(rate)));
}

// The day chart: per quarter hour, from the hour the first agent logged in (or the first call
// ended) to now, the talk share (0-100 %) and the abandon rate over the trailing hour against
// the cap (the scale is twice the cap, or the highest rate if higher); hours below, in the
// campaign's time zone; and the day's totals.
function dayChart(day, cap) {
  const points = day?.points || [];
  let first = points.findIndex((p) => p.logged_in_s > 0 || p.live > 0);
  if (first < 0) return [h('p', { class: 'muted day-empty' }, t(day ? 'wall.day_empty' : 'wall.waiting'))];
  first -= first % QUARTERS; // from the start of that hour (the day starts at midnight)
  const span = Math.max(points.length - first, QUARTERS);
  const shown = points.slice(first);
  const w = 300, hgt = 60, pad = 3;
  const top = Math.max(2 * cap, ...shown.map((p) => p.abandon_rate_1h ?? 0), 0.001);
  const x = (i) => ((i + 0.5) * w) / span;
  const y = (v, scale) => hgt - pad - ((hgt - 2 * pad) * Math.min(v, scale)) / scale;
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', `0 0 ${w} ${hgt}`);
  svg.setAttribute('class', 'chart day');
  svg.setAttribute('preserveAspectRatio', 'none'); // the day runs across the whole width
  const line = (cls, coords) => {
    const p = document.createElementNS(SVG, 'polyline');
    p.setAttribute('points', coords.map(([px, py]) => `${px.toFixed(1)},${py.toFixed(1)}`).join(' '));
    p.setAttribute('class', cls);
    svg.append(p);
  };
  // a line per run of quarters that have a value (none while nobody was logged in)
  const series = (cls, value, scale) => {
    let run = [];
    shown.forEach((p, i) => {
      const v = value(p);
      if (v === null || v === undefined) { if (run.length) line(cls, run); run = []; return; }
      run.push([x(i), y(v, scale)]);
    });
    if (run.length) line(cls, run.length === 1 ? [[run[0][0] - 1, run[0][1]], [run[0][0] + 1, run[0][1]]] : run);
  };
  line('cap', [[0, y(cap, top)], [w, y(cap, top)]]);
  series('talk', (p) => p.talk_share, 1);
  series('abandon', (p) => p.abandon_rate_1h, top);
  const hours = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', timeZone: day.timezone });
  const every = QUARTERS * Math.ceil(span / QUARTERS / 8); // at most 8 labels
  const ticks = [];
  for (let i = 0; i < span; i += every) {
    const at = shown[i] ? new Date(shown[i].start) : new Date(new Date(shown[0].start).getTime() + i * 900000);
    ticks.push(h('span', { style: `left:${(100 * i) / span}%` }, hours.format(at)));
  }
  const sum = (key) => shown.reduce((n, p) => n + p[key], 0);
  const logged = sum('logged_in_s'), live = sum('live'), abandoned = sum('abandoned');
  const box = h('div', { class: 'chart-box' }, svg,
    h('span', { class: 'y-top talk' }, '100%'), h('span', { class: 'y-top abandon' }, percent(top)));
  return [box, h('div', { class: 'chart-hours' }, ticks),
    h('p', { class: 'legend' },
      h('span', { class: 'talk' }, t('wall.talk_share')), ' ',
      h('span', { class: 'abandon' }, t('wall.abandon_trailing', { scale: percent(top) })), ' ',
      h('span', { class: 'cap' }, t('wall.cap', { cap: percent(cap) }))),
    h('p', { class: 'day-totals' },
      h('span', { dataset: { total: 'talk_share' } }, t('wall.day_talk', { share: logged ? percent(sum('talking_s') / logged) : '–' })), ' · ',
      h('span', { dataset: { total: 'abandons' } }, t('wall.day_abandons', { abandoned, live, rate: live ? percent(abandoned / live) : '–' })))];
}

// A card's title and its body (the campaign's controls sit between them, never redrawn).
function card(f, day, today) {
  const by = f.agents_by_state || {};
  const outcomes = Object.entries(today || {}).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const cap = f.abandon_cap ?? 0.03;
  return [h('h2', {}, f.campaign, ' ', h('span', { class: 'pill' }, label('mode', f.mode || '')),
    f.paused_reasons?.length ? h('span', { class: 'pill warn' }, f.paused_reasons.map((r) => label('paused', r)).join(', ')) : null),
  [h('div', { class: 'figures' },
      figure('wall.in_flight', f.in_flight, null, 'in_flight'),
      figure('wall.ringing', f.calls_ringing ?? 0, null, 'ringing'),
      figure('wall.customers_waiting', f.customers_waiting ?? 0, null, 'waiting'),
      figure('wall.talking', by.talking || 0, null, 'talking'),
      figure('wall.attempts', f.attempts),
      figure('wall.live', f.live_answers),
      figure('wall.abandons', f.abandons),
      figure('wall.hopper', f.hopper_depth),
      figure('wall.dial_level', (f.dial_level ?? 0).toFixed(2), f.fallback ? t('wall.fallback') : null)),
    h('h3', {}, t('wall.abandon'), h('span', { class: 'muted' }, ` ${t('wall.cap', { cap: percent(cap) })}`)),
    WINDOWS.map((w) => gauge(w, f.abandon_rates?.[w] ?? 0, cap)),
    h('div', { class: 'by-state' }, STATES.map((s) => h('span', { class: `pill state-${s}` }, `${label('state', s)} ${by[s] || 0}`))),
    h('table', { class: 'grid agents' },
      h('thead', {}, h('tr', {}, ['agent', 'state', 'time'].map((c) => h('th', {}, t(`wall.col.${c}`))))),
      h('tbody', {}, [...(f.agents || [])].sort(byName).map((a) => h('tr', { dataset: { agent: a.agent } },
        h('td', {}, a.agent),
        h('td', {}, h('span', { class: `pill state-${a.state}` }, label('state', a.state)), a.pause_reason ? ` ${label('pause', a.pause_reason)}` : ''),
        h('td', { class: 'num' }, clock(a.in_state_s)))))),
    h('div', { class: 'two' },
      h('div', {}, h('h3', {}, t('wall.outcomes_today')),
        h('table', { class: 'grid outcomes' }, h('tbody', {}, outcomes.map(([o, n]) => h('tr', { dataset: { outcome: o } }, h('td', {}, label('outcome', o)), h('td', { class: 'num' }, n)))))),
      h('div', { class: 'day-chart' }, h('h3', {}, t('wall.chart')), dayChart(day, cap)))]];
}

function figure(key, value, note, name) {
  return h('div', { class: 'figure', dataset: name ? { figure: name } : {} }, h('div', { class: 'value' }, String(value)), h('div', { class: 'muted' }, t(key)), note ? h('div', { class: 'warn' }, note) : null);
}

// demo-agent-2 before demo-agent-10
function byName(a, b) {
  return a.agent.localeCompare(b.agent, undefined, { numeric: true });
}
