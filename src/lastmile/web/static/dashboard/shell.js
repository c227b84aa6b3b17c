// The console's frame (templates/dashboard/layout.html): the staff session (access token in
// localStorage), API calls, the login form, the "not allowed" screen, toasts and the live
// indicator. Every console page imports ready() and starts once it resolves.
const TOKEN = 'lastmile.console.token';
const USER = 'lastmile.console.user';
const STAFF = ['admin', 'dispatcher'];

export const $ = (id) => document.getElementById(id);
const root = $('main');

/** An HTTP error answer, with its problem+json body when there is one. */
export class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
  }
}

export const session = {
  get token() { return localStorage.getItem(TOKEN); },
  /** {user_id, access, email, organization_id} of who is logged in. */
  get user() {
    try { return JSON.parse(localStorage.getItem(USER) || 'null'); } catch { return null; }
  },
  save(token, user) {
    localStorage.setItem(TOKEN, token);
    localStorage.setItem(USER, JSON.stringify(user));
  },
  clear() {
    localStorage.removeItem(TOKEN);
    localStorage.removeItem(USER);
  },
};

async function parse(response) {
  const type = response.headers.get('content-type') || '';
  if (!type.includes('json')) return null;
  try { return await response.json(); } catch { return null; }
}

/**
 * One API request with the session's token; resolves to the JSON body (null when none).
 * Rejects with ApiError for an HTTP error; a 401 sends the console back to the login form.
 */
export async function call(method, url, { json, token, headers = {} } = {}) {
  const sent = { Accept: 'application/json', ...headers };
  const bearer = token === undefined ? session.token : token;
  if (bearer) sent.Authorization = `Bearer ${bearer}`;
  const init = { method, headers: sent, cache: 'no-store' };
  if (json !== undefined) {
    sent['Content-Type'] = 'application/json';
    init.body = JSON.stringify(json);
  }
  if (method !== 'GET' && !sent['Idempotency-Key']) sent['Idempotency-Key'] = crypto.randomUUID();
  const response = await fetch(url, init);
  const data = await parse(response);
  if (response.status === 401 && token === undefined) expired();
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

/** Every item of a paginated list (follows next_cursor), up to `max` items. */
export async function all(url, max = 2000) {
  const items = [];
  let cursor = null;
  do {
    const sep = url.includes('?') ? '&' : '?';
    const page = await call('GET', `${url}${sep}limit=200${cursor ? `&cursor=${cursor}` : ''}`);
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor && items.length < max);
  return items;
}

// --- small DOM helpers shared by the pages -------------------------------------------------

/** An element with attributes/properties and children (strings become text, never HTML). */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else if (key in el && typeof value !== 'string') el[key] = value;
    else el.setAttribute(key, value === true ? '' : value);
  }
  el.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return el;
}

export function toast(message, kind = 'info') {
  const item = h('p', { class: `toast toast--${kind}` }, message);
  $('toasts').append(item);
  setTimeout(() => item.remove(), kind === 'error' ? 8000 : 4500);
}

/** Shows a failed call's reason, with the fields the server named. */
export function failed(error, what) {
  const fields = ((error.problem && error.problem.errors) || [])
    .map((e) => `${(e.loc || []).join('.')}: ${e.msg}`);
  toast(`${what}: ${[error.message, ...fields].join(' · ')}`, 'error');
}

export function setLive(state, label) {
  const live = $('live');
  live.hidden = false;
  live.dataset.live = state;
  $('live-text').textContent = label;
}

// --- screens and login ---------------------------------------------------------------------

function show(screen) {
  for (const el of root.querySelectorAll(':scope > .screen')) {
    el.hidden = el.id !== `screen-${screen}`;
  }
  root.dataset.screen = screen;
  root.setAttribute('aria-busy', 'false');
  const user = session.user;
  $('console-nav').hidden = screen !== 'app';
  $('logout').hidden = screen !== 'app';
  $('who').hidden = screen !== 'app' || !user;
  if (user) $('who').textContent = user.email || user.access;
}

let resolveReady;
const readyPromise = new Promise((resolve) => { resolveReady = resolve; });

/** Resolves with the staff user once the console may show the page (after login). */
export function ready() { return readyPromise; }

function expired() {
  session.clear();
  location.reload();
}

async function enter(me) {
  if (!STAFF.includes(me.access)) {
    $('denied-text').textContent = `You are logged in as a ${me.access}. The dispatch console `
      + 'is for dispatchers and administrators.';
    return show('denied');
  }
  show('app');
  resolveReady(me);
}

async function logIn(event) {
  event.preventDefault();
  const email = $('login-email').value.trim(), password = $('login-password').value;
  const error = $('login-error');
  error.hidden = true;
  $('login-submit').disabled = true;
  try {
    const issued = await call('POST', '/v1/auth/token', { json: { email, password }, token: null });
    const me = await call('GET', '/v1/me', { token: issued.access_token });
    session.save(issued.access_token, { ...me, email });
    await enter(me);
  } catch (failure) {
    error.textContent = failure instanceof ApiError && failure.status === 401
      ? 'E-mail or password is wrong.' : `Could not log in: ${failure.message}`;
    error.hidden = false;
  } finally {
    $('login-submit').disabled = false;
  }
}

async function logOut() {
  try { await call('POST', '/v1/auth/logout'); } catch { /* already expired: forget it anyway */ }
  session.clear();
  location.reload();
}

async function start() {
  $('login-form').addEventListener('submit', logIn);
  $('logout').addEventListener('click', logOut);
  $('denied-logout').addEventListener('click', logOut);
  if (!session.token) return show('login');
  try {
    const me = await call('GET', '/v1/me', { token: session.token });
    session.save(session.token, { ...session.user, ...me });
    await enter(me);
  } catch {
    session.clear();
    show('login');
  }
}

start();
