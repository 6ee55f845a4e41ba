// The message catalogue: one JSON file per language (static/i18n/<lang>.json, flat keys,
// "{name}" placeholders). The language is the user's setting kept in this browser, else the
// first of the browser's languages we have, else English. A key missing from a language falls
// back to English (a test keeps both complete).

export const LANGUAGES = ['en', 'pl'];
const SETTING = 'dialer.language';
let messages = {};
let english = {};
export let language = 'en';

async function load(lang) {
  const r = await fetch(`/console/i18n/${lang}.json`);
  if (!r.ok) throw new Error(`catalogue ${lang}: ${r.status}`);
  return r.json();
}

export function preferred() {
  const saved = localStorage.getItem(SETTING);
  if (LANGUAGES.includes(saved)) return saved;
  for (const tag of navigator.languages || [navigator.language || 'en']) {
    const base = tag.toLowerCase().split('-')[0];
    if (LANGUAGES.includes(base)) return base;
  }
  return 'en';
}

export async function setLanguage(lang, { remember = false } = {}) {
  if (!Object.keys(english).length) english = await load('en');
  messages = lang === 'en' ? english : await load(lang);
  language = lang;
  document.documentElement.lang = lang;
  if (remember) localStorage.setItem(SETTING, lang);
}

export function t(key, params = {}) {
  const text = messages[key] ?? english[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

// A translated label for a value from the API (a state, a mode, an outcome), else the value.
export function label(group, value) {
  const key = `${group}.${value}`;
  return key in messages || key in english ? t(key) : value;
}
