// The console's shell: sign-in, the header (screens, user, language, sign-out) and the screens.
//
// A screen is a module with mount(root, ctx) -> { unmount() }, listed in SCREENS with the
// roles that may open it (the API checks the role again on every call).

import { api, explain, session } from './api.js';
import { h } from './dom.js';
import { LANGUAGES, language, preferred, setLanguage, t } from './i18n.js';

const SCREENS = [
  { id: 'agent', roles: ['agent'], title: 'nav.agent', load: () => import('./agent.js') },
  { id: 'wallboard', roles: ['supervisor', 'admin'], title: 'nav.wallboard', load: () => import('./wallboard.js') },
  { id: 'campaigns', roles: ['supervisor', 'admin'], title: 'nav.campaigns', load: () => import('./admin-campaigns.js') },
  { id: 'schedules', roles: ['supervisor', 'admin'], title: 'nav.schedules', load: () => import('./admin-schedules.js') },
  { id: 'callback-grid', roles: ['supervisor', 'admin'], title: 'nav.callback_grid', load: () => import('./admin-grid.js') },
  { id: 'callback-sites', roles: ['admin'], title: 'nav.callback_sites', load: () => import('./admin-sites.js') },
  { id: 'statuses', roles: ['supervisor', 'admin'], title: 'nav.statuses', load: () => import('./admin-statuses.js') },
  { id: 'agents', roles: ['supervisor', 'admin'], title: 'nav.agents', load: () => import('./admin-agents.js') },
  { id: 'users', roles: ['admin'], title: 'nav.users', load: () => import('./admin-users.js') },
  { id: 'dnc', roles: ['supervisor', 'admin'], title: 'nav.dnc', load: () => import('./admin-dnc.js') },
  { id: 'contacts', roles: ['supervisor', 'admin'], title: 'nav.contacts', load: () => import('./admin-contacts.js') },
  { id: 'import', roles: ['supervisor', 'admin'], title: 'nav.import', load: () => import('./admin-import.js') },
  { id: 'transfer', roles: ['supervisor', 'admin'], title: 'nav.transfer', load: () => import('./admin-transfer.js') },
  { id: 'attempts', roles: ['supervisor', 'admin'], title: 'nav.attempts', load: () => import('./admin-attempts.js') },
  { id: 'reminders', roles: ['supervisor', 'admin'], title: 'nav.reminders', load: () => import('./reminders.js') },
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

function header(user, screen) {
  return h('header', { class: 'top' },
    h('span', { class: 'brand' }, t('app.title')),
    h('nav', {}, allowed(user).map((s) => h('a', {
      href: `#/${s.id}`, class: s === screen ? 'active' : '',
    }, t(s.title)))),
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
