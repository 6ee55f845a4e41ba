// Web callback sites (issue 13, seed 003's "oddzwanianie internetowe"): the websites that may
// send web callback requests into a campaign, each with its own API key and the origins its
// pages call from (CORS). Administrators only: a key books callbacks without a login.
//
// A key is made by the engine and shown once -- when the site is added or its key rotated --
// in a box to copy; the engine keeps only its hash, so it cannot be shown again. Revoking a
// site refuses its key and keeps the site and its requests (the hourly limits count them).

import { api } from './api.js';
import { h, localTime } from './dom.js';
import { t } from './i18n.js';
import { choices, fill, form, frame, options, query, sure, table } from './admin-ui.js';

// "https://a.example\nhttps://b.example" -> the list the API takes
function lines(text) {
  return (text || '').split(/[\s,]+/).filter(Boolean);
}

export function mount(root) {
  const which = choices('sites-campaign', [], { blank: 'admin.any' });
  const list = h('div', { class: 'panel', id: 'site-list' });
  const side = h('div', { id: 'site-detail' });
  const key = h('div', { id: 'site-key-box' });
  const ui = frame(root, 'nav.callback_sites',
    h('div', { class: 'toolbar' }, h('label', {}, t('admin.campaign'), which)),
    key,
    h('div', { class: 'stack' }, list, side));
  let campaigns = [];

  // the key, once: a read-only field to copy from and a copy button
  function showKey(site, value) {
    const field = h('input', { id: 'site-key', readonly: true, value, size: 48, 'aria-label': t('sites.key') });
    fill(key, h('div', { class: 'result key-once', role: 'alert' },
      h('strong', {}, t('sites.key_once', { name: site.name })),
      h('div', { class: 'row' }, field,
        h('button', { type: 'button', id: 'site-key-copy', onclick: async () => { field.select(); try { await navigator.clipboard.writeText(value); ui.say(t('sites.copied')); } catch (err) { document.execCommand('copy'); } } }, t('sites.copy')),
        h('button', { type: 'button', class: 'ghost', id: 'site-key-hide', onclick: () => fill(key) }, t('sites.hide_key'))),
      h('small', { class: 'muted' }, t('sites.key_hint'))));
  }

  async function refresh() {
    const sites = await api('GET', `/callback-sites${query({ campaign: which.value })}`);
    fill(list, table([
      { key: 'sites.name', value: (s) => (s.active ? h('a', { href: '#/callback-sites', onclick: (e) => { e.preventDefault(); edit(s); } }, s.name) : s.name) },
      { key: 'admin.campaign', value: (s) => s.campaign },
      { key: 'sites.origins', value: (s) => (s.origins.length ? s.origins.join(' ') : h('span', { class: 'muted' }, t('sites.no_origins'))) },
      { key: 'sites.state', value: (s) => (s.active ? h('span', { class: 'pill on' }, t('sites.active')) : h('span', { class: 'muted' }, t('sites.revoked_at', { at: localTime(s.revoked_at) }))) },
      { key: 'sites.created', value: (s) => localTime(s.created_at) },
      { key: null, value: (s) => (s.active ? [
        h('button', { class: 'small', id: `site-rotate-${s.name}`, onclick: () => rotate(s) }, t('sites.rotate')), ' ',
        h('button', { class: 'small danger', id: `site-revoke-${s.name}`, onclick: () => revoke(s) }, t('sites.revoke'))] : '') },
    ], sites, (s) => ({ dataset: { site: s.name }, class: s.active ? '' : 'muted' })));
  }

  async function rotate(s) {
    if (!sure('sites.rotate_sure', { name: s.name })) return;
    try {
      const r = await api('POST', `/callback-sites/${encodeURIComponent(s.name)}/rotate`);
      showKey(r.site, r.key);
      ui.say(t('sites.rotated', { name: s.name }));
      await refresh();
    } catch (err) { ui.fail(err); }
  }

  async function revoke(s) {
    if (!sure('sites.revoke_sure', { name: s.name })) return;
    try {
      await api('DELETE', `/callback-sites/${encodeURIComponent(s.name)}`);
      ui.say(t('sites.revoked', { name: s.name }));
      adding();
      await refresh();
    } catch (err) { ui.fail(err); }
  }

  function edit(s) {
    const f = form({
      id: 'site-origins-form',
      fields: [{ name: 'origins', key: 'sites.origins', type: 'textarea', empty: '', value: s.origins.join('\n'), hint: 'sites.origins_hint' }],
      submit: async (body) => {
        const saved = await api('PATCH', `/callback-sites/${encodeURIComponent(s.name)}`, { origins: lines(body.origins) });
        ui.say(t('sites.saved', { name: saved.name }));
        await refresh();
      },
      extra: h('button', { type: 'button', class: 'ghost', onclick: adding }, t('sites.new')),
    });
    fill(side, h('section', { class: 'panel' }, h('h2', {}, s.name), h('p', { class: 'muted' }, t('sites.books_into', { campaign: s.campaign })), f.el));
  }

  function adding() {
    const f = form({
      id: 'site-form',
      fields: [
        { name: 'name', key: 'sites.name' },
        { name: 'campaign', key: 'admin.campaign', type: 'select', options: campaigns, value: which.value || campaigns[0] },
        { name: 'origins', key: 'sites.origins', type: 'textarea', empty: '', hint: 'sites.origins_hint' },
      ],
      submitKey: 'sites.add',
      submit: async (body) => {
        const r = await api('POST', '/callback-sites', { ...body, origins: lines(body.origins) });
        showKey(r.site, r.key);
        ui.say(t('sites.added', { name: r.site.name, campaign: r.site.campaign }));
        f.input('name').value = '';
        f.input('origins').value = '';
        await refresh();
      },
    });
    fill(side, h('section', { class: 'panel' }, h('h2', {}, t('sites.new')), h('p', { class: 'muted' }, t('sites.intro')), f.el));
  }

  which.addEventListener('change', () => refresh().catch((err) => ui.fail(err)));
  api('GET', '/campaigns').then(async (all) => {
    campaigns = all.map((c) => c.name);
    fill(which, options(campaigns, 'admin.any'));
    adding();
    await refresh();
  }).catch((err) => ui.fail(err));
  return { unmount() {} };
}
