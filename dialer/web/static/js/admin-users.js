// Users (administrators only): who may sign in, with which role, acting as which agent; add,
// change the role, the agent or the password (which signs the user out everywhere), remove.
// The last administrator is kept by the API (409 in_use).

import { api } from './api.js';
import { h, localTime } from './dom.js';
import { label, t } from './i18n.js';
import { deleteButton, fill, form, frame, table } from './admin-ui.js';

const ROLES = ['agent', 'supervisor', 'admin'];

export function mount(root) {
  const list = h('div', { class: 'panel', id: 'user-list' });
  const side = h('div', { class: 'panel', id: 'user-detail' }, h('p', { class: 'muted' }, t('users.pick')));
  const ui = frame(root, 'nav.users',
    h('div', { class: 'controls' }, h('button', { class: 'primary', id: 'user-new', onclick: () => edit(null).catch((err) => ui.fail(err)) }, t('users.new'))),
    h('div', { class: 'split' }, list, side));
  let agents = [];

  async function refresh() {
    const [users, all] = await Promise.all([api('GET', '/users'), api('GET', '/agents')]);
    agents = all.map((a) => a.name);
    fill(list, table([
      { key: 'users.name', value: (u) => h('a', { href: '#/users', onclick: (e) => { e.preventDefault(); edit(u); } }, u.name) },
      { key: 'users.role', value: (u) => label('role', u.role) },
      { key: 'users.agent', value: (u) => u.agent || '' },
      { key: 'users.created_at', value: (u) => localTime(u.created_at) },
    ], users, (u) => ({ dataset: { user: u.name } })));
  }

  async function edit(u) {
    agents = (await api('GET', '/agents')).map((a) => a.name);
    const path = u ? `/users/${encodeURIComponent(u.name)}` : '/users';
    const f = form({
      id: 'user-form',
      fields: [
        { name: 'name', key: 'users.name', create: true },
        { name: 'role', key: 'users.role', type: 'select', options: ROLES, group: 'role' },
        { name: 'agent', key: 'users.agent', type: 'select', options: ['', ...agents], none: 'users.no_agent' },
        { name: 'password', key: u ? 'users.new_password' : 'users.password', type: 'password', hint: u ? 'users.password_hint' : null },
      ],
      initial: u,
      submitKey: u ? 'admin.save' : 'users.create',
      submit: async (body) => {
        if (!Object.keys(body).length) return;
        const saved = await api(u ? 'PATCH' : 'POST', path, body);
        ui.say(t(u ? 'users.saved' : 'users.created', { name: saved.name }));
        await refresh();
        edit(saved);
      },
      extra: u ? deleteButton(ui, {
        id: 'user-delete', noun: 'users', name: u.name, path,
        done: async () => { fill(side, h('p', { class: 'muted' }, t('users.pick'))); await refresh(); },
      }) : null,
    });
    fill(side, h('h2', {}, u ? u.name : t('users.new')), f.el);
  }

  refresh().catch((err) => ui.fail(err));
  return { unmount() {} };
}
