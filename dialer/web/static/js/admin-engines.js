// The engines sharing the database (supervisors, admins): `dialer engines`, GET /engines:
// each engine's host and process, whether it is alive (a heartbeat within the take-over time;
// a silent engine's campaigns are taken over by the others), the campaigns it owns and its
// calls in progress. Read again every 5 s.

import { api } from './api.js';
import { h, localTime } from './dom.js';
import { t } from './i18n.js';
import { fill, frame, table } from './admin-ui.js';

const EVERY_MS = 5000;

export function mount(root) {
  const list = h('div', { class: 'panel', id: 'engine-list' });
  const ui = frame(root, 'nav.engines', h('p', { class: 'muted' }, t('engines.intro')), list);
  let timer = null;

  async function refresh() {
    try {
      const engines = await api('GET', '/engines');
      fill(list, table([
        { key: 'engines.engine', value: (e) => h('code', {}, e.engine_id) },
        { key: 'engines.host', value: (e) => `${e.host} · ${e.pid}` },
        { key: 'engines.state', value: (e) => (e.alive ? h('span', { class: 'pill on' }, t('engines.alive')) : h('span', { class: 'pill bad' }, e.stopped_at ? t('engines.stopped') : t('engines.silent'))) },
        { key: 'engines.heartbeat', num: true, value: (e) => t('engines.ago', { s: e.heartbeat_age_s.toFixed(1) }) },
        { key: 'engines.started', value: (e) => localTime(e.started_at) },
        { key: 'engines.campaigns', value: (e) => `${e.campaigns.length ? e.campaigns.join(', ') : '–'} (${e.max_campaigns ? t('engines.at_most', { n: e.max_campaigns }) : t('engines.fair_share')})` },
        { key: 'engines.calls', num: true, value: (e) => String(e.calls) },
      ], engines, (e) => ({ dataset: { engine: e.engine_id, alive: String(e.alive) } })));
    } catch (err) { ui.fail(err); }
  }

  refresh();
  timer = setInterval(refresh, EVERY_MS);
  return { unmount() { clearInterval(timer); } };
}
