// REST API v1 (docs/api.md): tokens in the Authorization header only, problem-details errors,
// one transparent refresh when the access token has expired.

const BASE = "/api/v1";
const STORE = "community.session";

/** An error answer of the API: status, type slug, detail and per-field errors. */
export class ApiProblem extends Error {
  constructor(status, body) {
    super(body?.detail || body?.title || `HTTP ${status}`);
    this.status = status;
    this.type = body?.type || "error";
    this.detail = body?.detail || this.message;
    this.errors = body?.errors || null;
  }
}

/** The signed-in account and its tokens, kept for this tab only (sessionStorage). */
export const session = {
  access: null,
  refresh: null,
  account: null,
  listeners: new Set(),

  load() {
    try {
      Object.assign(this, JSON.parse(sessionStorage.getItem(STORE)) || {});
    } catch {
      sessionStorage.removeItem(STORE);
    }
    return Boolean(this.access);
  },

  store({ access_token, refresh_token, account }) {
    this.access = access_token;
    this.refresh = refresh_token;
    if (account) this.account = account;
    sessionStorage.setItem(STORE, JSON.stringify({ access: this.access, refresh: this.refresh, account: this.account }));
  },

  clear(reason) {
    this.access = this.refresh = this.account = null;
    sessionStorage.removeItem(STORE);
    for (const listener of this.listeners) listener(reason);
  },

  /** Call `fn(reason)` when the session ends (logout, revocation, a refresh that failed). */
  onEnd(fn) {
    this.listeners.add(fn);
  },

  get role() {
    return this.account?.role || "member";
  },
};

let refreshing = null;

/** Rotate the tokens once, shared by every caller that noticed the expiry at the same time. */
export function refreshTokens() {
  if (!refreshing) {
    refreshing = send("POST", "/auth/refresh", { token: session.refresh })
      .then((tokens) => session.store(tokens))
      .catch((error) => {
        session.clear("Your session has ended; please log in again.");
        throw error;
      })
      .finally(() => { refreshing = null; });
  }
  return refreshing;
}

async function send(method, path, { body, query, token, raw } = {}) {
  const url = new URL(BASE + path, location.origin);
  for (const [key, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(key, value);
  }
  const headers = { Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiProblem(0, { type: "network-error", detail: "The platform cannot be reached; check your connection." });
  }
  if (!response.ok) {
    let problem = null;
    try { problem = await response.json(); } catch { /* not JSON: keep the status */ }
    throw new ApiProblem(response.status, problem);
  }
  if (raw) return response;
  return response.status === 204 ? null : response.json();
}

/**
 * Call the API as the signed-in account: api("GET", "/spaces", {query: {kind}}).
 * `raw: true` returns the Response (downloads). Throws ApiProblem.
 */
export async function api(method, path, options = {}) {
  try {
    return await send(method, path, { ...options, token: session.access });
  } catch (error) {
    if (error.status === 401 && error.type === "token-expired" && session.refresh) {
      await refreshTokens();
      return send(method, path, { ...options, token: session.access });
    }
    if (error.status === 401 && session.access) session.clear("Your session has ended; please log in again.");
    throw error;
  }
}

/** Every item of a cursor-paginated list, up to `max` items. */
export async function allPages(path, query = {}, max = 1000) {
  const items = [];
  let cursor = null;
  do {
    const page = await api("GET", path, { query: { ...query, limit: 200, cursor } });
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor && items.length < max);
  return { items, complete: !cursor };
}

export async function login(email, password) {
  session.store(await send("POST", "/auth/login", { body: { email, password } }));
  return session.account;
}

export async function logout() {
  try {
    await api("POST", "/auth/logout");
  } finally {
    session.clear(null);
  }
}
