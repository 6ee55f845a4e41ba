// The compliance audit (supervisors, admins): `dialer compliance report` of a campaign over a
// period, GET /campaigns/{c}/compliance: one row per rule with the calls that broke it (a
// count that should be 0) and the first attempt ids. Administrators also find the retention
// of call records here (`dialer db prune`, POST /records/prune: at least 183 days, the
// store's rule).

import { api } from './api.js';
import { h, localTime, percent } from './dom.js';
import { t } from './i18n.js';
import { choices, fill, frame, instant, isAdmin, options, query, sure, table } from './admin-ui.js';

// the rule's explanation: abandon_rate_24h and abandon_rate_30d share one
function explanation(rule) {
  return t(`compliance.rule.${rule.startsWith('abandon_rate_') ? 'abandon_rate' : rule}`);
}

export function mount(root, ctx) {
  const campaign = choices('cp-campaign', []);
  const since = h('input', { id: 'cp-since', type: 'datetime-local' });
  const until = h('input', { id: 'cp-until', type: 'datetime-local' });
  const result = h('div', { id: 'compliance-result' });
  const retention = isAdmin(ctx) ? pruneForm() : null;
  const ui = frame(root, 'nav.compliance',
    h('p', { class: 'muted' }, t('compliance.intro')),
    h('form', { class: 'toolbar', id: 'compliance-form', onsubmit: (e) => { e.preventDefault(); run(); } },
      h('label', {}, t('admin.campaign'), campaign),
      h('label', {}, t('compliance.from'), since),
      h('label', {}, t('compliance.to'), until),
      h('button', { type: 'submit', class: 'primary', id: 'compliance-go' }, t('compliance.run'))),
    result, retention);

  async function run() {
    if (!campaign.value) { ui.fail(new Error(t('compliance.need_campaign'))); return; }
    try {
      const r = await api('GET', `/campaigns/${encodeURIComponent(campaign.value)}/compliance${query({ since: instant(since), until: instant(until) })}`);
      ui.say('');
      fill(result, h('section', { class: 'panel', id: 'compliance-report' },
        h('h2', {}, t('compliance.title', { campaign: r.campaign, profile: r.profile })),
        h('p', { class: 'muted' }, since.value ? `${localTime(r.since)} – ${localTime(r.until)}` : t('compliance.all_until', { until: localTime(r.until) })),
        h('div', { class: 'figures counts' },
          figure('compliance.placed', r.attempts), figure('compliance.live', r.live_answers),
          figure('compliance.abandoned', r.abandoned),
          figure('compliance.abandon_rate', r.live_answers ? percent(r.abandoned / r.live_answers) : '–')),
        table([
          { key: 'compliance.rule', value: (row) => h('div', {}, h('code', {}, row.rule), h('div', { class: 'muted' }, explanation(row.rule))) },
          { key: 'compliance.violations', num: true, value: (row) => h('span', { class: row.violations ? 'pill bad' : 'pill on' }, String(row.violations)) },
          { key: 'compliance.attempt_ids', value: (row) => row.attempt_ids.join(', ') + (row.violations > row.attempt_ids.length ? ', …' : '') },
          { key: 'compliance.detail', value: (row) => row.detail },
        ], r.rows, (row) => ({ dataset: { rule: row.rule, violations: String(row.violations) } })),
        h('p', { class: r.violations ? 'verdict bad' : 'verdict good', id: 'compliance-verdict' },
          r.violations ? t('compliance.verdict_bad', { n: r.violations }) : t('compliance.verdict_good'))));
    } catch (err) { ui.fail(err); }
  }

  function pruneForm() {
    const days = h('input', { id: 'prune-days', type: 'number', step: 1, value: 730 }); // the 183 days are the store's rule
    const done = h('div', { id: 'prune-result' });
    return h('section', { class: 'panel', id: 'retention' },
      h('h2', {}, t('compliance.retention')),
      h('p', { class: 'muted' }, t('compliance.retention_intro')),
      h('form', {
        class: 'toolbar', id: 'prune-form',
        onsubmit: async (e) => {
          e.preventDefault();
          if (!sure('compliance.prune_sure', { days: days.value })) return;
          try {
            const r = await api('POST', '/records/prune', { older_than_days: Number(days.value) });
            fill(done, h('p', { class: 'result' }, t('compliance.pruned', { attempts: r.attempts, changes: r.status_changes, minutes: r.occupancy_minutes, cutoff: localTime(r.cutoff) })));
          } catch (err) { ui.fail(err); }
        },
      },
      h('label', {}, t('compliance.older_than'), days),
      h('button', { type: 'submit', class: 'danger', id: 'prune-go' }, t('compliance.prune'))),
      done);
  }

  api('GET', '/campaigns').then((all) => {
    fill(campaign, ...options(all.map((c) => c.name)));
  }).catch((err) => ui.fail(err));
  return { unmount() {} };
}

function figure(key, n) {
  return h('div', { class: 'figure' }, h('div', { class: 'value' }, String(n)), h('div', { class: 'muted' }, t(key)));
}
