// The administration screens' shared parts: forms built from a field list (each field with its
// error line, so the API's `field` lands next to the input it names), tables, downloads and
// uploads with the bearer token, and the admin stylesheet.
//
// The forms validate nothing themselves: the rules are the store's, the same for the CLI and
// the API, and their answer is shown where it belongs. A form only turns inputs into the JSON
// types the API documents (numbers, times "HH:MM", lists) and, in an edit, sends only what
// changed (a PATCH changes only the fields given).

import { ApiError, api, explain, session } from './api.js';
import { h } from './dom.js';
import { label, t } from './i18n.js';

// The encodings a CSV from an office may come in (cp1250: Polish Windows).
export const ENCODINGS = ['utf-8', 'cp1250', 'iso-8859-2', 'cp1252', 'iso-8859-1', 'utf-16'];

export function styles() {
  if (document.getElementById('admin-css')) return;
  document.head.append(h('link', { id: 'admin-css', rel: 'stylesheet', href: '/console/css/admin.css' }));
}

export function isAdmin(ctx) {
  return ctx.user.role === 'admin';
}

// A field: { name ('retry.delay_s' nests), key (label), type, options, group (labels of the
// options), empty (what an empty input means: null, or omitted when undefined), hint, step,
// create (only when creating), dflt (creating, may be left to the default), wide, text (a
// label from the data instead of key) }.
// Types: text, password, number, time, date, textarea, check, select, multi (checkboxes of
// options, a list), list (names typed apart by commas, a list), zone (text with the browser's
// zones to pick from).
function input(f, id) {
  const attrs = { id, name: f.name, disabled: f.disabled };
  switch (f.type) {
    case 'check': return h('input', { ...attrs, type: 'checkbox' });
    case 'select': return h('select', attrs, (f.options || []).map((o) => option(f, o)));
    case 'textarea': return h('textarea', { ...attrs, rows: 3 });
    case 'number': return h('input', { ...attrs, type: 'number', step: f.step || 'any' });
    case 'multi': return h('div', { ...attrs, class: 'multi', role: 'group' }, (f.options || []).map((o) => h('label', { class: 'tick' },
      h('input', { type: 'checkbox', value: String(o), 'aria-label': optionText(f, o) }), optionText(f, o))));
    case 'zone': return h('input', { ...attrs, list: 'admin-zones', autocomplete: 'off' });
    default: return h('input', { ...attrs, type: f.type || 'text', autocomplete: f.type === 'password' ? 'new-password' : 'off' });
  }
}

function optionText(f, o) {
  if (o === '' || o === null) return t(f.none || 'admin.none');
  return f.group ? label(f.group, o) : String(o);
}

function option(f, o) {
  return h('option', { value: o === null ? '' : String(o) }, optionText(f, o));
}

function zones() {
  if (document.getElementById('admin-zones')) return null;
  const names = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
  return h('datalist', { id: 'admin-zones' }, ['UTC', ...names].map((z) => h('option', { value: z })));
}

function read(f, el) {
  switch (f.type) {
    case 'check': return el.checked || !('unticked' in f) ? el.checked : f.unticked;
    case 'multi': return [...el.querySelectorAll('input:checked')].map((c) => (typeof f.options[0] === 'number' ? Number(c.value) : c.value));
    case 'number': return el.value === '' ? f.empty : Number(el.value);
    case 'list': return el.value.split(',').map((x) => x.trim()).filter(Boolean);
    default: return el.value === '' ? f.empty : el.value;
  }
}

function write(f, el, value) {
  if (f.type === 'check') el.checked = Boolean(value);
  else if (f.type === 'multi') el.querySelectorAll('input').forEach((c) => { c.checked = (value || []).map(String).includes(c.value); });
  else if (f.type === 'list') el.value = (value || []).join(', ');
  else el.value = value === null || value === undefined ? '' : String(value);
}

function get(obj, path) {
  return path.split('.').reduce((o, k) => (o == null ? undefined : o[k]), obj);
}

function put(obj, path, value) {
  const keys = path.split('.');
  let o = obj;
  for (const k of keys.slice(0, -1)) o = o[k] ??= {};
  o[keys.at(-1)] = value;
}

// A form over fields. `initial` (an object from the API) makes it an edit: only changed
// fields are sent. submit(body) is awaited; an ApiError lands on its field, else on the form.
// `whole` names nested objects sent whole when any of their fields changed (a retry rule).
export function form({ id, fields, initial = null, submitKey = 'admin.save', submit, extra = [], whole = [] }) {
  const editing = initial !== null;
  // creating, a field marked `dflt` may be left to the API's default (an empty choice, an
  // unticked box: not sent)
  const shown = fields.filter((f) => !(editing && f.create)).map((f) => (editing || !f.dflt ? f
    : f.type === 'check' ? { ...f, unticked: undefined }
      : { ...f, options: ['', ...f.options], none: f.none || 'admin.default', empty: undefined }));
  const inputs = new Map();
  const errors = new Map();
  const general = h('p', { class: 'error', role: 'alert' });
  const done = h('span', { class: 'saved muted', role: 'status' });
  const rows = shown.map((f) => {
    const fid = `${id}-${f.name.replace(/\./g, '-')}`;
    const el = input(f, fid);
    inputs.set(f.name, el);
    const err = h('span', { class: 'field-error', dataset: { field: f.name } });
    errors.set(f.name, err);
    if (editing) write(f, el, get(initial, f.name));
    else if (f.value !== undefined) write(f, el, f.value);
    const cls = `field field-${f.type || 'text'}${f.wide ? ' wide' : ''}`;
    const text = f.text ?? t(f.key); // `text`: a name from the data (a custom field)
    if (f.type === 'check') return h('div', { class: cls }, h('label', { class: 'inline', for: fid }, el, text), err);
    return h('div', { class: cls }, h('label', { for: fid }, text), el, f.hint ? h('small', { class: 'muted' }, t(f.hint)) : null, err);
  });
  function values() {
    const out = {};
    for (const f of shown) {
      const v = read(f, inputs.get(f.name));
      if (v === undefined) continue;
      if (editing && JSON.stringify(v) === JSON.stringify(get(initial, f.name) ?? (f.type === 'check' ? false : null))) continue;
      put(out, f.name, v);
    }
    for (const prefix of whole) {
      if (!(prefix in out)) continue;
      for (const f of shown.filter((x) => x.name.startsWith(`${prefix}.`))) {
        const v = read(f, inputs.get(f.name));
        if (v !== undefined) put(out, f.name, v);
      }
    }
    return out;
  }
  function clear() {
    general.textContent = '';
    done.textContent = '';
    for (const [name, err] of errors) { err.textContent = ''; inputs.get(name).classList.remove('invalid'); }
  }
  function fail(err) {
    const name = err instanceof ApiError ? err.body.field : null;
    const match = name && (errors.has(name) ? name : [...errors.keys()].find((k) => name.endsWith(`.${k}`) || k.endsWith(`.${name}`)));
    if (match) {
      errors.get(match).textContent = err.body.reason || t(`error.${err.body.error}`);
      inputs.get(match).classList.add('invalid');
      inputs.get(match).focus?.();
    }
    general.textContent = explain(err, t);
  }
  const el = h('form', {
    class: 'admin-form', id, novalidate: true,
    onsubmit: async (e) => {
      e.preventDefault();
      clear();
      try {
        await submit(values());
        done.textContent = t('admin.saved');
      } catch (err) { fail(err); }
    },
  }, zones(), h('div', { class: 'fields' }, rows), general,
  h('div', { class: 'controls' }, h('button', { type: 'submit', class: 'primary', id: `${id}-submit` }, t(submitKey)), extra, done));
  return { el, values, fail, clear, input: (name) => inputs.get(name) };
}

// A table: columns [{ key (title), value(row) -> text or node, num }], rows, and per row the
// attributes of its <tr> (a click to open it, data-*).
export function table(columns, rows, rowAttrs = () => ({})) {
  return h('table', { class: 'grid admin' },
    h('thead', {}, h('tr', {}, columns.map((c) => h('th', { class: c.num ? 'num' : '' }, c.key ? t(c.key) : '')))),
    h('tbody', {}, rows.length
      ? rows.map((r) => h('tr', rowAttrs(r), columns.map((c) => h('td', { class: c.num ? 'num' : '' }, c.value(r)))))
      : h('tr', {}, h('td', { colspan: columns.length, class: 'muted' }, t('admin.empty')))));
}

// el's children replaced by these (lists flattened; null, undefined and false left out).
export function fill(el, ...children) {
  el.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
}

export function yes(v) {
  return v ? h('span', { class: 'pill on' }, t('admin.yes')) : h('span', { class: 'muted' }, t('admin.no'));
}

// A screen's frame: the title, a message line for what a button did, the parts.
export function frame(root, titleKey, ...parts) {
  styles();
  const message = h('p', { class: 'message', role: 'status', id: 'admin-message' });
  fill(root, h('h1', {}, t(titleKey)), message, parts);
  return {
    say(text) { message.className = 'message'; message.textContent = text; },
    fail(err) { message.className = 'message error'; message.textContent = explain(err, t); },
  };
}

// A Delete button: asked first (`noun`.delete_sure), then DELETE `path`; `noun`.deleted said
// and done() called, or the API's refusal (409 in_use, ...) shown.
export function deleteButton(ui, { id, noun, name, path, done }) {
  return h('button', {
    type: 'button', class: 'danger', id,
    onclick: async () => {
      if (!sure(`${noun}.delete_sure`, { name })) return;
      try {
        await api('DELETE', path);
        ui.say(t(`${noun}.deleted`, { name }));
        await done();
      } catch (err) { ui.fail(err); }
    },
  }, t('admin.delete'));
}

// The editor of one named object of a collection (`/schedules`, `/statuses`) in `side`:
// created with POST, edited with PATCH, deleted; read-only for supervisors (administrators'
// configuration). Returns edit(object or null for a new one).
export function namedEditor(ui, { side, refresh, noun, id, collection, fields, whole = [], admin, intro = () => null }) {
  function edit(s) {
    const path = s ? `${collection}/${encodeURIComponent(s.name)}` : collection;
    const f = form({
      id: `${id}-form`,
      fields: fields.map((x) => ({ ...x, disabled: !admin })),
      initial: s,
      whole,
      submitKey: s ? 'admin.save' : `${noun}.create`,
      submit: async (body) => {
        const saved = await api(s ? 'PATCH' : 'POST', path, body);
        ui.say(t(`${noun}.saved`, { name: saved.name }));
        await refresh();
        edit(saved);
      },
      extra: s && admin ? deleteButton(ui, {
        id: `${id}-delete`, noun, name: s.name, path,
        done: async () => { fill(side, h('p', { class: 'muted' }, t(`${noun}.pick`))); await refresh(); },
      }) : null,
    });
    if (!admin) f.el.querySelector('[type=submit]').hidden = true;
    fill(side, h('h2', {}, s ? s.name : t(`${noun}.new`)), s ? intro(s) : null, f.el);
  }
  return edit;
}

// Previous / Next of keyset pages: `trail` holds the `after` of each page before this one.
export function pager(el, trail, nextAfter, go, idPrefix) {
  fill(el,
    h('button', { id: `${idPrefix}-prev`, disabled: !trail.length, onclick: () => go(trail.slice(0, -1)) }, t('admin.previous')),
    h('button', { id: `${idPrefix}-next`, disabled: nextAfter === null, onclick: () => go([...trail, nextAfter]) }, t('admin.next')),
    h('span', { class: 'muted' }, t('admin.page', { page: trail.length + 1 })));
}

// A confirmation before a deletion (the browser's own dialog: no markup from data).
export function sure(key, params) {
  return window.confirm(t(key, params));
}

function authorization() {
  return session.token ? { Authorization: `Bearer ${session.token}` } : {};
}

async function failure(r) {
  const text = await r.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch (err) { body = { reason: text }; }
  if (r.status === 401) session.onExpired();
  return new ApiError(r.status, body);
}

// A CSV export: fetched with the token (a plain link cannot send it), saved as `filename`.
export async function download(path, filename) {
  const r = await fetch(`/api/v1${path}`, { headers: authorization() });
  if (!r.ok) throw await failure(r);
  const url = URL.createObjectURL(await r.blob());
  const a = h('a', { href: url, download: filename, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

// A file upload (multipart, field `file`) with its progress: onProgress(fraction) while the
// bytes go, then null while the engine reads them.
// With onLine the path answers lines of JSON as it works (application/x-ndjson): each line
// goes to onLine as it arrives; the promise gives the last line's `result` ({event: done}), or
// rejects with the body of its {event: error} line as a 4xx would.
export function upload(path, file, onProgress = () => {}, onLine = null) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    let seen = 0;
    const lines = [];
    const take = () => {
      const text = xhr.responseText;
      let end = text.indexOf('\n', seen);
      while (end >= 0) {
        const line = JSON.parse(text.slice(seen, end));
        lines.push(line);
        onLine(line);
        seen = end + 1;
        end = text.indexOf('\n', seen);
      }
    };
    xhr.open('POST', `/api/v1${path}`);
    for (const [k, v] of Object.entries(authorization())) xhr.setRequestHeader(k, v);
    xhr.setRequestHeader('Accept', onLine ? 'application/x-ndjson, application/json' : 'application/json');
    xhr.upload.onprogress = (e) => onProgress(e.lengthComputable ? e.loaded / e.total : null);
    xhr.upload.onload = () => onProgress(null);
    xhr.onerror = () => reject(new Error('upload failed'));
    if (onLine) xhr.onprogress = () => { if (xhr.status >= 200 && xhr.status < 300) take(); };
    xhr.onload = () => {
      if (onLine && xhr.status >= 200 && xhr.status < 300) {
        take();
        const last = lines[lines.length - 1] || {};
        if (last.event === 'done') resolve(last.result);
        else reject(new ApiError(last.status || 500, last.body || null));
        return;
      }
      let body = null;
      try { body = xhr.responseText ? JSON.parse(xhr.responseText) : null; } catch (err) { body = { reason: xhr.responseText }; }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body);
      else {
        if (xhr.status === 401) session.onExpired();
        reject(new ApiError(xhr.status, body));
      }
    };
    const data = new FormData();
    data.append('file', file);
    xhr.send(data);
  });
}

// A datetime-local input (the browser's zone) as an instant the API reads ('' when empty).
export function instant(input) {
  return input.value ? new Date(input.value).toISOString() : '';
}

// "?a=1&b=x" of the values that are set.
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}

// The options of a select of names (campaigns, statuses) with a first empty choice.
export function options(names, blank = 'admin.choose') {
  return [h('option', { value: '' }, t(blank)), ...names.map((n) => h('option', { value: n }, n))];
}

// A select of names with a first empty choice.
export function choices(id, names, { blank = 'admin.choose' } = {}) {
  return h('select', { id }, options(names, blank));
}
