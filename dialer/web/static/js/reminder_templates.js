// A campaign's reminder rules and templates (issue 14, seed 002): on/off; for customers and for
// agents (operators) the channel, the template and the lead time before the callback; and the
// templates (SMS, or e-mail with a subject and an optional HTML part). A template is rendered
// against a sample when saved: the server refuses one that does not render (the error is shown
// as the server words it) and tells an SMS's encoding (GSM-7 or UCS-2) and parts.

import { api, explain } from './api.js';
import { h } from './dom.js';
import { t } from './i18n.js';

const RECIPIENTS = ['customer', 'agent'];
const CHANNELS = ['sms', 'email'];

export function rulesForm(base, settings, templates) {
  const said = h('p', { role: 'status', class: 'muted', id: 'rules-said' });
  const enabled = h('input', { type: 'checkbox', id: 'rem-enabled', checked: settings.enabled });
  const parts = {};
  const fills = [];
  const rows = RECIPIENTS.map((r) => {
    const on = h('input', { type: 'checkbox', id: `rem-${r}-enabled`, checked: settings[`${r}_enabled`] });
    const channel = h('select', { id: `rem-${r}-channel` }, CHANNELS.map((c) => h('option', { value: c, selected: settings[`${r}_channel`] === c }, t(`rem.channel.${c}`))));
    const template = h('select', { id: `rem-${r}-template` });
    const fill = () => {
      const keep = template.value || settings[`${r}_template`] || '';
      template.replaceChildren(h('option', { value: '' }, t('rem.default_template')),
        ...templates.filter((x) => x.channel === channel.value).map((x) => h('option', { value: x.name, selected: x.name === keep }, x.name)));
    };
    channel.addEventListener('change', fill);
    fill();
    fills.push(fill);
    const lead = h('input', { type: 'number', min: 0, max: 7 * 24 * 60, step: 1, id: `rem-${r}-lead`, value: Math.round(settings[`${r}_lead_s`] / 60), class: 'short' });
    parts[r] = { on, channel, template, lead };
    return h('tr', { dataset: { recipient: r } },
      h('th', {}, t(`rem.recipients.${r}`)), h('td', {}, on), h('td', {}, channel), h('td', {}, template), h('td', {}, lead));
  });
  const from = h('input', { id: 'rem-email-from', type: 'email', value: settings.email_from, placeholder: 'callbacks@example.com' });
  const sender = h('input', { id: 'rem-sms-sender', value: settings.sms_sender, maxlength: 20 });
  const lang = h('select', { id: 'rem-language' }, ['en', 'pl'].map((l) => h('option', { value: l, selected: settings.language === l }, t(`language.${l}`))));
  const form = h('form', { class: 'rules', id: 'rules-form' },
    h('h2', {}, t('rem.rules')),
    h('label', { class: 'inline' }, enabled, t('rem.enabled')),
    h('table', { class: 'grid' },
      h('thead', {}, h('tr', {}, ['', 'on', 'channel', 'template', 'lead'].map((c) => h('th', {}, c ? t(`rem.rule.${c}`) : '')))),
      h('tbody', {}, rows)),
    h('div', { class: 'row' }, h('label', {}, t('rem.email_from'), from), h('label', {}, t('rem.sms_sender'), sender), h('label', {}, t('rem.language'), lang)),
    h('div', { class: 'controls' }, h('button', { type: 'submit', class: 'primary', id: 'rules-save' }, t('rem.save_rules'))),
    said);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    said.className = 'muted';
    const body = { enabled: enabled.checked, email_from: from.value, sms_sender: sender.value, language: lang.value };
    for (const r of RECIPIENTS) {
      const p = parts[r];
      Object.assign(body, {
        [`${r}_enabled`]: p.on.checked, [`${r}_channel`]: p.channel.value,
        [`${r}_template`]: p.template.value || null, [`${r}_lead_s`]: Math.round(Number(p.lead.value || 0) * 60),
      });
    }
    try {
      await api('PUT', `${base}/reminders`, body);
      said.textContent = t('rem.saved');
    } catch (err) {
      said.className = 'error';
      said.textContent = explain(err, t);
    }
  });
  // a template saved or added: the template lists offer it, the choices made stay
  return { element: form, templatesChanged: () => fills.forEach((fill) => fill()) };
}

function smsLine(sms) {
  return t('rem.sms_parts', { encoding: t(`rem.encoding.${sms.encoding}`), units: sms.units, parts: sms.parts });
}

export function templatesPanel(base, templates, onSaved) {
  const name = h('input', { id: 'tpl-name', required: true, maxlength: 200 });
  const channel = h('select', { id: 'tpl-channel' }, CHANNELS.map((c) => h('option', { value: c }, t(`rem.channel.${c}`))));
  const subject = h('input', { id: 'tpl-subject', maxlength: 500 });
  const body = h('textarea', { id: 'tpl-body', rows: 5, required: true });
  const html = h('textarea', { id: 'tpl-html', rows: 3 });
  const mailOnly = [h('label', {}, t('rem.tpl.subject'), subject), h('label', {}, t('rem.tpl.html'), html)];
  const error = h('p', { class: 'error', role: 'alert', id: 'tpl-error' });
  const result = h('div', { class: 'tpl-result', id: 'tpl-result', hidden: true });
  const sync = () => { for (const el of mailOnly) el.hidden = channel.value !== 'email'; };
  channel.addEventListener('change', sync);
  const edit = (x) => {
    name.value = x.name; channel.value = x.channel; subject.value = x.subject; body.value = x.body; html.value = x.html;
    error.textContent = ''; result.hidden = true; sync();
  };
  const list = h('ul', { class: 'tpl-list', id: 'tpl-list' });
  const drawList = () => list.replaceChildren(...(templates.length
    ? templates.map((x) => h('li', {}, h('button', { type: 'button', class: 'ghost', dataset: { template: x.name }, onclick: () => edit(x) }, x.name),
      ' ', h('span', { class: 'pill' }, t(`rem.channel.${x.channel}`))))
    : [h('li', { class: 'muted' }, t('rem.no_templates'))]));
  drawList();
  const form = h('form', { class: 'template', id: 'tpl-form' },
    h('div', { class: 'row' }, h('label', {}, t('rem.tpl.name'), name), h('label', {}, t('rem.tpl.channel'), channel)),
    mailOnly[0],
    h('label', {}, t('rem.tpl.body'), body),
    mailOnly[1],
    h('p', { class: 'muted' }, t('rem.tpl.hint')),
    h('div', { class: 'controls' }, h('button', { type: 'submit', class: 'primary', id: 'tpl-save' }, t('rem.tpl.save'))),
    error, result);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.textContent = '';
    result.hidden = true;
    const payload = { channel: channel.value, body: body.value };
    if (channel.value === 'email') Object.assign(payload, { subject: subject.value, html: html.value });
    let saved;
    try {
      saved = await api('PUT', `${base}/reminder-templates/${encodeURIComponent(name.value.trim())}`, payload);
    } catch (err) {
      error.textContent = `${t('rem.tpl.refused')} ${explain(err, t)}`;
      return;
    }
    result.hidden = false;
    result.replaceChildren(...[
      h('strong', {}, t('rem.tpl.saved', { name: saved.name })),
      saved.sms ? h('p', { class: 'sms-parts', id: 'tpl-sms' }, smsLine(saved.sms)) : null,
      h('h4', {}, t('rem.tpl.sample')),
      saved.sample_subject ? h('p', { id: 'tpl-sample-subject' }, h('strong', {}, saved.sample_subject)) : null,
      h('pre', { class: 'sample', id: 'tpl-sample' }, saved.sample_text)].filter(Boolean));
    const i = templates.findIndex((x) => x.name === saved.name);
    const row = { name: saved.name, channel: saved.channel, subject: saved.subject, body: saved.body, html: saved.html };
    if (i >= 0) templates[i] = row; else templates.push(row);
    templates.sort((a, b) => a.name.localeCompare(b.name));
    drawList();
    onSaved?.(saved);
  });
  sync();
  return h('div', {}, h('h2', {}, t('rem.templates')), list, form);
}
