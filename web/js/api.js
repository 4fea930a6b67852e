// The session and every HTTP call. Tokens live in this module's memory only: nothing a script
// injected into the page could read from storage, and a reload asks to sign in again.

export class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
  }
}

const session = {
  access: null,
  refresh: null,
  expiresAt: 0, // ms since the epoch
  me: null,
  refreshing: null,
  timer: null,
  written: 0,
};
const listeners = new Set();

// Called with the new access token whenever it changes (the WebSocket re-authenticates).
export function onToken(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

export function accessToken() {
  return session.access;
}

// True when the access token is about to expire: a WebSocket opened with it would be refused.
export function tokenExpiring() {
  return !!session.access && Date.now() > session.expiresAt - 5000;
}

export function me() {
  return session.me;
}

export function can(permission) {
  return !!session.me && session.me.permissions.includes(permission);
}

function adopt(tokens) {
  session.access = tokens.access_token;
  session.refresh = tokens.refresh_token;
  session.expiresAt = Date.now() + tokens.expires_in * 1000;
  clearTimeout(session.timer);
  // Refresh a minute early, so that requests and the WebSocket never carry an expired token.
  const early = Math.max(5, tokens.expires_in - 60) * 1000;
  session.timer = setTimeout(() => refresh().catch(() => {}), early);
  for (const fn of listeners) fn(session.access);
}

export async function login(email, password) {
  const r = await fetch('/api/auth/login', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  const body = await r.json().catch(() => null);
  if (!r.ok) throw new ApiError(r.status, body);
  adopt(body);
  session.me = await get('/api/auth/me');
  return session.me;
}

export async function logout() {
  const token = session.refresh;
  clearTimeout(session.timer);
  session.access = session.refresh = session.me = null;
  if (token) {
    await fetch('/api/auth/logout', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ refresh_token: token }),
    }).catch(() => {});
  }
}

// One refresh at a time: concurrent 401s share it (a refresh token is single-use).
export function refresh() {
  if (!session.refreshing) {
    session.refreshing = (async () => {
      if (!session.refresh) throw new ApiError(401, { detail: 'signed out' });
      const r = await fetch('/api/auth/refresh', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ refresh_token: session.refresh }),
      });
      const body = await r.json().catch(() => null);
      if (!r.ok) {
        session.access = session.refresh = null;
        window.dispatchEvent(new CustomEvent('realmkit:signed-out'));
        throw new ApiError(r.status, body);
      }
      adopt(body);
    })().finally(() => {
      session.refreshing = null;
    });
  }
  return session.refreshing;
}

export async function request(method, path, body, { retry = true } = {}) {
  if (session.access && Date.now() > session.expiresAt - 5000) await refresh();
  const headers = { Authorization: `Bearer ${session.access}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const r = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (r.status === 401 && retry && session.refresh) {
    await refresh();
    return request(method, path, body, { retry: false });
  }
  if (r.status === 204) return null;
  const data = await r.json().catch(() => null);
  if (!r.ok) throw new ApiError(r.status, data);
  if (method !== 'GET' && data && typeof data.position === 'number') session.written = Math.max(session.written, data.position);
  return data;
}

// The global position of this page's newest command: reads pass it as min_position to see their
// own writes.
export function written() {
  return session.written || undefined;
}

export const get = (path) => request('GET', path);
export const post = (path, body) => request('POST', path, body);
export const patch = (path, body) => request('PATCH', path, body);

export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}

// Every page of a list route.
export async function all(path, params = {}) {
  const items = [];
  let cursor;
  for (;;) {
    const page = await get(path + query({ ...params, limit: 200, cursor }));
    items.push(...page.items);
    if (!page.next_cursor) return items;
    cursor = page.next_cursor;
  }
}
