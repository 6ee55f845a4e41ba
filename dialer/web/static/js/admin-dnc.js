// Do-not-call lists (supervisors, admins): the global list and each campaign's, newest first,
// searched by digits or reason, a page at a time; add a number (normalised to E.164 by the
// engine, as on import), import a file of them, and, administrators only, take one off (the
// person asked not to be called: a compliance decision).

import { api } from './api.js';
import { h, localTime } from './dom.js';
import { t } from './i18n.js';
import { choices, ENCODINGS, fill, form, frame, isAdmin, query, sure, table, upload } from './admin-ui.js';

const PAGE = 50;
const GLOBAL = '-';

export function mount(root, ctx) {
  const admin = isAdmin(ctx);
  const which = h('select', { id: 'dnc-list' });
  const search = h('input', { id: 'dnc-search', type: 'search' });
  const list = h('div', { class: 'panel', id: 'dnc-entries' });
  const pager = h('div', { class: 'controls' });
  const side = h('div', {});
  const ui = frame(root, 'nav.dnc',
    h('form', { class: 'toolbar', onsubmit: (e) => { e.preventDefault(); show(0); } },
      h('label', {}, t('dnc.list'), which),
      h('label', {}, t('dnc.search'), search),
      h('button', { type: 'submit', class: 'primary', id: 'dnc-search-go' }, t('contacts.search'))),
    h('div', { class: 'split' }, h('div', {}, list, pager), side));
  let campaigns = [];

  async function show(offset) {
    try {
      const page = await api('GET', `/dnc${query({ campaign: which.value, search: search.value.trim(), limit: PAGE, offset })}`);
      fill(list, table([
        { key: 'dnc.number', value: (e) => e.number },
        { key: 'dnc.list', value: (e) => e.campaign || t('dnc.global') },
        { key: 'dnc.reason', value: (e) => e.reason },
        { key: 'dnc.added', value: (e) => localTime(e.added_at) },
        { key: null, value: (e) => (admin ? h('button', { class: 'small danger', onclick: () => remove(e, offset) }, t('dnc.remove')) : '') },
      ], page.entries, (e) => ({ dataset: { number: e.number } })));
      fill(pager,
        h('button', { disabled: offset === 0, onclick: () => show(Math.max(0, offset - PAGE)) }, t('admin.previous')),
        h('button', { disabled: offset + PAGE >= page.total, onclick: () => show(offset + PAGE) }, t('admin.next')),
        h('span', { class: 'muted', id: 'dnc-total' }, t('dnc.total', { total: page.total })));
    } catch (err) { ui.fail(err); }
  }

  async function remove(e, offset) {
    if (!sure('dnc.remove_sure', { number: e.number })) return;
    try {
      await api('DELETE', `/dnc/${encodeURIComponent(e.number)}${query({ campaign: e.campaign })}`);
      ui.say(t('dnc.removed', { number: e.number }));
      await show(offset);
    } catch (err) { ui.fail(err); }
  }

  function forms() {
    const add = form({
      id: 'dnc-form',
      fields: [
        { name: 'number', key: 'dnc.number' },
        { name: 'campaign', key: 'dnc.list', type: 'select', options: ['', ...campaigns], none: 'dnc.global' },
        { name: 'region', key: 'dnc.region', hint: 'import.region_hint' },
        { name: 'reason', key: 'dnc.reason' },
      ],
      submitKey: 'dnc.add',
      submit: async (body) => {
        const e = await api('POST', '/dnc', body);
        ui.say(t('dnc.added_one', { number: e.number }));
        add.input('number').value = '';
        await show(0);
      },
    });
    const file = h('input', { id: 'dnc-file', type: 'file', accept: '.csv,.txt,text/plain,text/csv' });
    const into = choices('dnc-import-list', campaigns, { blank: 'dnc.global' });
    const reason = h('input', { id: 'dnc-import-reason' });
    const encoding = h('select', { id: 'dnc-import-encoding' }, ENCODINGS.map((e) => h('option', { value: e }, e)));
    const outcome = h('div', { id: 'dnc-import-result' });
    const importForm = h('form', {
      class: 'admin-form', id: 'dnc-import',
      onsubmit: async (ev) => {
        ev.preventDefault();
        fill(outcome, );
        if (!file.files.length) return;
        try {
          const r = await upload(`/dnc/imports${query({ campaign: into.value, reason: reason.value, encoding: encoding.value })}`, file.files[0]);
          fill(outcome, h('p', { class: 'result' }, t('dnc.imported', { numbers: r.numbers, new: r.new, rejected: r.rejected.length })),
            r.rejected.length ? table([
              { key: 'import.line', num: true, value: (x) => String(x.line) },
              { key: 'dnc.number', value: (x) => x.text },
              { key: 'import.reason', value: (x) => x.reason },
            ], r.rejected) : null);
          await show(0);
        } catch (err) { ui.fail(err); }
      },
    },
    h('div', { class: 'fields' },
      h('div', { class: 'field' }, h('label', { for: 'dnc-file' }, t('import.file')), file, h('small', { class: 'muted' }, t('dnc.file_hint'))),
      h('div', { class: 'field' }, h('label', { for: 'dnc-import-list' }, t('dnc.list')), into),
      h('div', { class: 'field' }, h('label', { for: 'dnc-import-reason' }, t('dnc.reason')), reason),
      h('div', { class: 'field' }, h('label', { for: 'dnc-import-encoding' }, t('import.encoding')), encoding)),
    h('div', { class: 'controls' }, h('button', { type: 'submit', class: 'primary', id: 'dnc-import-go' }, t('dnc.import'))),
    outcome);
    fill(side,
      h('section', { class: 'panel' }, h('h2', {}, t('dnc.add_title')), add.el),
      h('section', { class: 'panel' }, h('h2', {}, t('dnc.import_title')), importForm));
  }

  api('GET', '/campaigns').then(async (all) => {
    campaigns = all.map((c) => c.name);
    fill(which, h('option', { value: '' }, t('dnc.every_list')), h('option', { value: GLOBAL }, t('dnc.global')),
      ...campaigns.map((c) => h('option', { value: c }, c)));
    forms();
    await show(0);
  }).catch((err) => ui.fail(err));
  return { unmount() {} };
}
