// Agents (supervisors, admins): every agent with its interface, its home server, whether it is
// active, its campaigns, its user and whether it is logged in here; edit the interface, server
// and active flag, assign campaigns (exactly the ones ticked). Administrators add and remove
// agents.

import { api } from './api.js';
import { h } from './dom.js';
import { t } from './i18n.js';
import { deleteButton, fill, form, frame, isAdmin, table, yes } from './admin-ui.js';

export function mount(root, ctx) {
  const admin = isAdmin(ctx);
  const list = h('div', { class: 'panel', id: 'agent-list' });
  const side = h('div', { class: 'panel', id: 'agent-detail' }, h('p', { class: 'muted' }, t('agents.pick')));
  const ui = frame(root, 'nav.agents',
    admin ? h('div', { class: 'controls' }, h('button', { class: 'primary', id: 'agent-new', onclick: () => create().catch((err) => ui.fail(err)) }, t('agents.new'))) : null,
    h('div', { class: 'split' }, list, side));
  let campaigns = [];

  async function refresh() {
    const [agents, all] = await Promise.all([api('GET', '/agents'), api('GET', '/campaigns')]);
    campaigns = all.map((c) => c.name);
    fill(list, table([
      { key: 'agents.name', value: (a) => h('a', { href: '#/agents', onclick: (e) => { e.preventDefault(); open(a.name); } }, a.name) },
      { key: 'agents.interface', value: (a) => a.interface || h('span', { class: 'muted' }, t('agents.at_login')) },
      { key: 'agents.server', value: (a) => a.server || h('span', { class: 'muted' }, t('agents.any_server')) },
      { key: 'agents.campaigns', value: (a) => a.campaigns.join(', ') },
      { key: 'agents.active', value: (a) => yes(a.active) },
      { key: 'agents.logged_in', value: (a) => yes(a.logged_in) },
      { key: 'agents.user', value: (a) => a.user || '' },
    ], agents, (a) => ({ dataset: { agent: a.name } })));
    return agents;
  }

  async function create() {
    campaigns = (await api('GET', '/campaigns')).map((c) => c.name);
    const f = form({
      id: 'agent-form',
      fields: [
        { name: 'name', key: 'agents.name' },
        { name: 'interface', key: 'agents.interface', hint: 'agents.interface_hint' },
        { name: 'server', key: 'agents.server', hint: 'agents.server_hint' },
        { name: 'campaigns', key: 'agents.campaigns', type: 'multi', options: campaigns },
      ],
      submitKey: 'agents.create',
      submit: async (body) => {
        const made = await api('POST', '/agents', body);
        ui.say(t('agents.created', { name: made.name }));
        await refresh();
        await open(made.name);
      },
    });
    fill(side, h('h2', {}, t('agents.new')), f.el);
  }

  async function open(name) {
    const path = `/agents/${encodeURIComponent(name)}`;
    const a = await api('GET', `${path}/record`);
    const settings = form({
      id: 'agent-form',
      fields: [
        { name: 'interface', key: 'agents.interface', hint: 'agents.interface_hint', empty: '' },
        { name: 'server', key: 'agents.server', hint: 'agents.server_hint', empty: '' },
        { name: 'active', key: 'agents.active', type: 'check' },
      ],
      initial: a,
      submit: async (body) => {
        if (!Object.keys(body).length) return;
        await api('PATCH', path, body);
        ui.say(t('agents.saved', { name }));
        await refresh();
      },
      extra: admin ? deleteButton(ui, {
        id: 'agent-delete', noun: 'agents', name: name, path,
        done: async () => { fill(side, h('p', { class: 'muted' }, t('agents.pick'))); await refresh(); },
      }) : null,
    });
    const assign = form({
      id: 'assign-form',
      fields: [{ name: 'campaigns', key: 'agents.campaigns', type: 'multi', options: campaigns }],
      initial: a,
      submitKey: 'agents.assign',
      submit: async (body) => {
        if (!body.campaigns) return;
        await api('PUT', `${path}/campaigns`, body);
        ui.say(t('agents.assigned', { name }));
        await refresh();
      },
    });
    fill(side,
      h('h2', {}, a.name, ' ', a.logged_in ? h('span', { class: 'pill on' }, t('agents.logged_in')) : null),
      a.user ? h('p', { class: 'muted' }, t('agents.acted_by', { user: a.user })) : null,
      settings.el,
      h('h3', {}, t('agents.assignments')),
      assign.el);
  }

  refresh().catch((err) => ui.fail(err));
  return { unmount() {} };
}
