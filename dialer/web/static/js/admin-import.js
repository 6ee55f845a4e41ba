// Contact import (supervisors, admins): a CSV file uploaded to a campaign with its encoding
// (cp1250 for files from Polish Windows), the region of national numbers, the status and the
// columns; a dry run checks everything and stores nothing. The answer: rows imported and
// rejected, the rejected rows with their line numbers and why, undialable-number warnings.
// While the engine works the file (the streamed import: a line of progress every 0.25 s) the
// bar follows the bytes read and the counts of rows parsed, imported and rejected so far.

import { h } from './dom.js';
import { t } from './i18n.js';
import { choices, ENCODINGS, fill, frame, options, query, table, upload } from './admin-ui.js';
import { api } from './api.js';


export function mount(root) {
  const campaign = choices('imp-campaign', []);
  const file = h('input', { id: 'imp-file', type: 'file', accept: '.csv,text/csv,text/plain' });
  const encoding = h('select', { id: 'imp-encoding' }, ENCODINGS.map((e) => h('option', { value: e }, e)));
  const region = h('input', { id: 'imp-region', size: 3, maxlength: 2, placeholder: 'PL' });
  const status = h('input', { id: 'imp-status' });
  const nameColumn = h('input', { id: 'imp-name-column' });
  const phoneColumns = h('input', { id: 'imp-phone-columns' });
  const zoneColumn = h('input', { id: 'imp-timezone-column' });
  const dryRun = h('input', { id: 'imp-dry-run', type: 'checkbox', checked: true });
  const progress = h('div', { class: 'controls', id: 'imp-progress', hidden: true });
  const result = h('div', { id: 'imp-result' });
  const ui = frame(root, 'nav.import',
    h('form', {
      class: 'panel admin-form', id: 'import-form',
      onsubmit: async (e) => { e.preventDefault(); await go(); },
    },
    h('div', { class: 'fields' },
      field('admin.campaign', campaign),
      field('import.file', file),
      field('import.encoding', encoding),
      field('import.region', region, 'import.region_hint'),
      field('import.status', status, 'import.status_hint'),
      field('import.name_column', nameColumn),
      field('import.phone_columns', phoneColumns, 'import.phone_columns_hint'),
      field('import.timezone_column', zoneColumn)),
    h('div', { class: 'controls' },
      h('label', { class: 'inline' }, dryRun, t('import.dry_run')),
      h('button', { type: 'submit', class: 'primary', id: 'import-go' }, t('import.go'))),
    progress),
    result);

  async function go() {
    fill(result, );
    if (!campaign.value || !file.files.length) { ui.fail(new Error(t('import.need_file'))); return; }
    const bar = h('progress', { max: 1 });
    const what = h('span', { class: 'muted' }, t('import.uploading'));
    const counts = h('span', { class: 'muted', id: 'imp-counts' });
    fill(progress, bar, what, counts);
    progress.hidden = false;
    const params = {
      encoding: encoding.value, region: region.value.trim(), status: status.value.trim(),
      name_column: nameColumn.value.trim(), phone_columns: phoneColumns.value.trim(),
      timezone_column: zoneColumn.value.trim(), dry_run: dryRun.checked ? 'true' : 'false',
    };
    try {
      const r = await upload(`/campaigns/${encodeURIComponent(campaign.value)}/imports/stream${query(params)}`, file.files[0], (fraction) => {
        if (fraction === null) { bar.removeAttribute('value'); what.textContent = t('import.reading'); } else bar.value = fraction;
      }, (line) => {
        if (line.event !== 'progress') return;
        if (line.bytes_total) bar.value = Math.min(1, line.bytes_read / line.bytes_total);
        what.textContent = t('import.working');
        counts.textContent = t('import.progress', { parsed: line.parsed, imported: line.imported, rejected: line.rejected, batches: line.batches });
      });
      ui.say(t(r.dry_run ? 'import.checked' : 'import.done', { imported: r.imported, rejected: r.rejected, campaign: r.campaign }));
      fill(result, report(r));
    } catch (err) { ui.fail(err); } finally { progress.hidden = true; }
  }

  api('GET', '/campaigns').then((all) => {
    fill(campaign, ...options(all.map((c) => c.name)));
  }).catch((err) => ui.fail(err));
  return { unmount() {} };
}

function field(key, el, hint) {
  return h('div', { class: 'field' }, h('label', { for: el.id }, t(key)), el, hint ? h('small', { class: 'muted' }, t(hint)) : null);
}

function report(r) {
  return h('section', { class: 'panel', id: 'import-report' },
    h('h2', {}, t(r.dry_run ? 'import.dry_run_result' : 'import.result')),
    h('div', { class: 'figures counts' },
      figure('import.imported', r.imported), figure('import.rejected', r.rejected),
      figure('import.batches', r.batches), figure('import.seconds', r.elapsed_s.toFixed(2))),
    r.warnings.length ? [h('h3', {}, t('import.warnings')), table([
      { key: 'import.reason', value: (w) => w.reason },
      { key: 'import.rows', num: true, value: (w) => String(w.rows) },
      { key: 'import.first_line', num: true, value: (w) => String(w.first_line) },
    ], r.warnings)] : null,
    r.rejects.length ? [h('h3', {}, t('import.rejects')), table([
      { key: 'import.line', num: true, value: (x) => String(x.line) },
      { key: 'import.reason', value: (x) => x.reason },
    ], r.rejects, (x) => ({ dataset: { line: String(x.line) } })),
    r.rejects_truncated ? h('p', { class: 'muted' }, t('import.truncated')) : null] : null);
}

function figure(key, n) {
  return h('div', { class: 'figure' }, h('div', { class: 'value' }, String(n)), h('div', { class: 'muted' }, t(key)));
}
