// The driver's session (access token in localStorage) and calls to the JSON API.
const TOKEN = 'lastmile.driver.token';
const USER = 'lastmile.driver.user';

/** A network failure: no answer at all (offline, DNS, connection reset). */
export class Unreachable extends Error {}

/** An HTTP error answer, with its problem+json body when there is one. */
export class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
  }

  get slug() {
    return (this.problem.type || '').replace('urn:lastmile:problem:', '');
  }
}

export const session = {
  get token() { return localStorage.getItem(TOKEN); },
  /** {user_id, driver_id, access, email} of who logged in on this phone. */
  get user() {
    try { return JSON.parse(localStorage.getItem(USER) || 'null'); } catch { return null; }
  },
  save(token, user) {
    localStorage.setItem(TOKEN, token);
    localStorage.setItem(USER, JSON.stringify(user));
  },
  /** Forget the token but keep who it was, so their queued actions wait for them. */
  expire() { localStorage.removeItem(TOKEN); },
  clear() {
    localStorage.removeItem(TOKEN);
    localStorage.removeItem(USER);
  },
};

async function body(response) {
  const type = response.headers.get('content-type') || '';
  if (!type.includes('json')) return null;
  try { return await response.json(); } catch { return null; }
}

/**
 * Sends one request with the session's token. Resolves to {status, data, headers} for a 2xx;
 * rejects with ApiError for an HTTP error and Unreachable when no answer came.
 */
export async function call(method, url, { json, body: raw, headers = {}, token } = {}) {
  const sent = { ...headers };
  const bearer = token === undefined ? session.token : token;
  if (bearer) sent.Authorization = `Bearer ${bearer}`;
  let payload = raw;
  if (json !== undefined) {
    sent['Content-Type'] = 'application/json';
    payload = JSON.stringify(json);
  }
  let response;
  try {
    response = await fetch(url, { method, headers: sent, body: payload, cache: 'no-store' });
  } catch (error) {
    throw new Unreachable(error.message);
  }
  const data = await body(response);
  if (!response.ok) throw new ApiError(response.status, data);
  return { status: response.status, data, headers: response.headers };
}

export async function logIn(email, password) {
  const issued = await call('POST', '/v1/auth/token', { json: { email, password }, token: null });
  const token = issued.data.access_token;
  const me = await call('GET', '/v1/me', { token });
  session.save(token, { ...me.data, email });
  return me.data;
}

export async function logOut() {
  try {
    await call('POST', '/v1/auth/logout');
  } catch {
    // Offline or already expired: the token is forgotten on this phone either way.
  }
  session.clear();
}
