// The console's only way to the engine: the HTTP API (docs/api.md), as any other client.
// The bearer token lives in this tab's sessionStorage: closing the tab forgets it, and two
// tabs may be two users (an agent and a supervisor side by side).

const TOKEN = 'dialer.token';
const USER = 'dialer.user';

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.reason || `HTTP ${status}`);
    this.status = status;
    this.body = body || {};
  }
}

export const session = {
  get token() { return sessionStorage.getItem(TOKEN); },
  get user() { const u = sessionStorage.getItem(USER); return u ? JSON.parse(u) : null; },
  save(token, user) { sessionStorage.setItem(TOKEN, token); sessionStorage.setItem(USER, JSON.stringify(user)); },
  clear() { sessionStorage.removeItem(TOKEN); sessionStorage.removeItem(USER); },
  onExpired: () => {},
};

function headers(extra = {}) {
  const out = { Accept: 'application/json', ...extra };
  if (session.token) out.Authorization = `Bearer ${session.token}`;
  return out;
}

export async function api(method, path, body) {
  const init = { method, headers: headers(body === undefined ? {} : { 'Content-Type': 'application/json' }) };
  if (body !== undefined) init.body = JSON.stringify(body);
  const r = await fetch(`/api/v1${path}`, init);
  const text = await r.text();
  const data = text ? JSON.parse(text) : null;
  if (!r.ok) {
    if (r.status === 401 && path !== '/auth/login') session.onExpired();
    throw new ApiError(r.status, data);
  }
  return data;
}

// The user's event stream (Server-Sent Events over fetch: EventSource cannot send the bearer
// header). Reconnects after a drop; the API sends the current state first on every connect.
export function openEvents(onEvent, onConnection = () => {}) {
  const control = new AbortController();
  let closed = false;
  async function readOnce() {
    const r = await fetch('/api/v1/events', {
      headers: headers({ Accept: 'text/event-stream' }),
      signal: control.signal,
    });
    if (r.status === 401) { session.onExpired(); closed = true; return; }
    if (!r.ok) throw new Error(`events: HTTP ${r.status}`);
    onConnection(true);
    const reader = r.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let name = 'message';
        const data = [];
        for (const line of block.split('\n')) {
          if (line.startsWith('event: ')) name = line.slice(7);
          else if (line.startsWith('data: ')) data.push(line.slice(6));
        }
        if (data.length) onEvent(name, JSON.parse(data.join('\n')));
        if (name === 'token_expired') { closed = true; session.onExpired(); return; }
      }
    }
  }
  (async () => {
    let delay = 500;
    while (!closed) {
      try { await readOnce(); delay = 500; } catch (err) { if (closed) return; }
      if (closed) return;
      onConnection(false);
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 5000);
    }
  })();
  return { close() { closed = true; control.abort(); } };
}

// A short, translated sentence for an API error: the id's text, then the server's reason.
export function explain(err, t) {
  if (err instanceof ApiError) {
    const field = err.body.field ? ` (${err.body.field})` : '';
    return `${t(`error.${err.body.error || 'unknown'}`)}${field}: ${err.body.reason || ''}`;
  }
  return `${t('error.network')}: ${err.message}`;
}
