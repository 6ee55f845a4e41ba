// The console's shell: sign-in, the header (screens, user, language, sign-out) and the screens.
//
// A screen is a module with mount(root, ctx) -> { unmount() }, listed in SCREENS with the
// roles that may open it (the API checks the role again on every call). Screens of a `group`
// share one menu of the header (nav.group.*), so an administrator's seventeen screens fit in one
// line at 1280 px; a screen without a group is a link of its own.

import { api, explain, session } from './api.js';
import { h } from './dom.js';
import { LANGUAGES, language, preferred, setLanguage, t } from './i18n.js';

const SCREENS = [
  { id: 'agent', roles: ['agent'], title: 'nav.agent', load: () => import('./agent.js') },
  { id: 'wallboard', roles: ['supervisor', 'admin'], title: 'nav.wallboard', load: () => import('./wallboard.js') },
  { id: 'campaigns', group: 'campaigns', roles: ['supervisor', 'admin'], title: 'nav.campaigns', load: () => import('./admin-campaigns.js') },
  { id: 'schedules', group: 'campaigns', roles: ['supervisor', 'admin'], title: 'nav.schedules', load: () => import('./admin-schedules.js') },
  { id: 'statuses', group: 'campaigns', roles: ['supervisor', 'admin'], title: 'nav.statuses', load: () => import('./admin-statuses.js') },
  { id: 'callbacks', group: 'campaigns', roles: ['supervisor', 'admin'], title: 'nav.callbacks', load: () => import('./admin-callbacks.js') },
  { id: 'callback-grid', group: 'campaigns', roles: ['supervisor', 'admin'], title: 'nav.callback_grid', load: () => import('./admin-grid.js') },
  { id: 'callback-sites', group: 'campaigns', roles: ['admin'], title: 'nav.callback_sites', load: () => import('./admin-sites.js') },
  { id: 'reminders', group: 'campaigns', roles: ['supervisor', 'admin'], title: 'nav.reminders', load: () => import('./reminders.js') },
  { id: 'contacts', group: 'contacts', roles: ['supervisor', 'admin'], title: 'nav.contacts', load: () => import('./admin-contacts.js') },
  { id: 'import', group: 'contacts', roles: ['supervisor', 'admin'], title: 'nav.import', load: () => import('./admin-import.js') },
  { id: 'transfer', group: 'contacts', roles: ['supervisor', 'admin'], title: 'nav.transfer', load: () => import('./admin-transfer.js') },
  { id: 'dnc', group: 'contacts', roles: ['supervisor', 'admin'], title: 'nav.dnc', load: () => import('./admin-dnc.js') },
  { id: 'agents', group: 'people', roles: ['supervisor', 'admin'], title: 'nav.agents', load: () => import('./admin-agents.js') },
  { id: 'users', group: 'people', roles: ['admin'], title: 'nav.users', load: () => import('./admin-users.js') },
  { id: 'attempts', group: 'records', roles: ['supervisor', 'admin'], title: 'nav.attempts', load: () => import('./admin-attempts.js') },
  { id: 'compliance', group: 'records', roles: ['supervisor', 'admin'], title: 'nav.compliance', load: () => import('./admin-compliance.js') },
  { id: 'engines', group: 'records', roles: ['supervisor', 'admin'], title: 'nav.engines', load: () => import('./admin-engines.js') },
];

const app = document.getElementById('app');
let current = null;

function allowed(user) {
  return SCREENS.filter((s) => s.roles.includes(user.role));
}

function wanted(user) {
  const id = location.hash.replace(/^#\/?/, '');
  const screens = allowed(user);
  return screens.find((s) => s.id === id) || screens[0];
}

async function signOut() {
  try { if (session.token) await api('POST', '/auth/logout'); } catch (err) { /* gone already */ }
  session.clear();
  show();
}

function languagePicker() {
  return h('select', {
    class: 'language', 'aria-label': t('nav.language'), id: 'language',
    onchange: async (e) => { await setLanguage(e.target.value, { remember: true }); show(); },
  }, LANGUAGES.map((l) => h('option', { value: l, selected: l === language }, t(`language.${l}`))));
}

// The header's navigation: a link per screen without a group, a menu (<details>) per group
// with more than one screen the user may open; the menu of the open screen is marked.
function navigation(user, screen) {
  const items = [];
  const menus = new Map();
  for (const s of allowed(user)) {
    const link = h('a', { href: `#/${s.id}`, class: s === screen ? 'active' : '' }, t(s.title));
    const peers = allowed(user).filter((o) => s.group && o.group === s.group);
    if (peers.length < 2) { items.push(link); continue; }
    if (!menus.has(s.group)) {
      const list = h('div', { class: 'menu-list' });
      const menu = h('details', { class: `menu${peers.includes(screen) ? ' active' : ''}`, 'data-group': s.group },
        h('summary', {}, t(`nav.group.${s.group}`)), list);
      menus.set(s.group, list);
      items.push(menu);
    }
    menus.get(s.group).append(link);
  }
  const nav = h('nav', {}, items);
  // one menu open at a time; a pick or a click elsewhere closes it
  nav.addEventListener('toggle', (e) => {
    if (e.target.open) for (const d of nav.querySelectorAll('details[open]')) if (d !== e.target) d.open = false;
  }, true);
  nav.addEventListener('click', (e) => { if (e.target.closest('.menu-list a')) for (const d of nav.querySelectorAll('details[open]')) d.open = false; });
  return nav;
}

document.addEventListener('click', (e) => {
  if (!e.target.closest('header.top details.menu')) for (const d of document.querySelectorAll('header.top details[open]')) d.open = false;
});

function header(user, screen) {
  return h('header', { class: 'top' },
    h('span', { class: 'brand' }, t('app.title')),
    navigation(user, screen),
    h('span', { class: 'spacer' }),
    h('span', { class: 'who' }, `${user.name} · ${t(`role.${user.role}`)}`),
    languagePicker(),
    h('button', { class: 'ghost', id: 'sign-out', onclick: signOut }, t('nav.sign_out')));
}

function loginForm() {
  const error = h('p', { class: 'error', role: 'alert' });
  const name = h('input', { id: 'login-name', name: 'name', autocomplete: 'username', required: true });
  const password = h('input', { id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const form = h('form', {
    class: 'login panel',
    onsubmit: async (e) => {
      e.preventDefault();
      error.textContent = '';
      try {
        const r = await api('POST', '/auth/login', { name: name.value, password: password.value });
        session.save(r.token, r.user);
        show();
      } catch (err) { error.textContent = explain(err, t); }
    },
  },
  h('h1', {}, t('app.title')),
  h('label', {}, t('login.name'), name),
  h('label', {}, t('login.password'), password),
  h('button', { type: 'submit', class: 'primary', id: 'login-submit' }, t('login.submit')),
  error,
  h('div', { class: 'row' }, languagePicker()));
  app.replaceChildren(h('main', { class: 'center' }, form));
  name.focus();
}

async function show() {
  if (current) { current.unmount(); current = null; }
  document.title = t('app.title');
  const user = session.user;
  if (!session.token || !user) { loginForm(); return; }
  const screen = wanted(user);
  const root = h('main', { id: 'screen' });
  app.replaceChildren(header(user, screen), root);
  if (!screen) { root.append(h('p', {}, t('app.no_screen'))); return; }
  const module = await screen.load();
  current = module.mount(root, { user, signOut });
}

session.onExpired = () => { session.clear(); show(); };
window.addEventListener('hashchange', show);
await setLanguage(preferred());
show();
