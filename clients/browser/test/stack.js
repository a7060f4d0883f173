// The local stack the tests run against, started by the Go test
// infra/local/clientlib_test.go (TestClientLibrary), which passes its URL
// and the URL that moves its clock.
import assert from 'node:assert/strict';

export const stack = process.env.SESSIONGUARD_URL;
const clockURL = process.env.SESSIONGUARD_CLOCK_URL;
assert.ok(stack && clockURL, 'SESSIONGUARD_URL and SESSIONGUARD_CLOCK_URL are unset: run these tests through `go test ./infra/local -run TestClientLibrary`');

export const ENVIRONMENT = 'demo';
export const ADMIN_ROLE = 'sessionguard-admin';
const ISSUER = stack + '/idp';

/** An access token for user from the development issuer, minted at the stack's clock (bound to the key jkt names, if given). */
export async function devToken(user, { role, jkt } = {}) {
  const q = new URLSearchParams({ user });
  if (role) q.set('role', role);
  if (jkt) q.set('jkt', jkt);
  const res = await fetch(`${stack}/idp/token?${q}`);
  assert.equal(res.status, 200, `token for ${user}`);
  return (await res.text()).trim();
}

/** Moves the stack's clock (and so the development issuer's) forward by ms. */
export async function moveClock(ms) {
  const res = await fetch(`${clockURL}?ms=${ms}`, { method: 'POST' });
  assert.equal(res.status, 204, 'move the clock');
}

/**
 * A getAccessToken for user, as an IdP library behaves: it hands out the
 * token it holds until asked to refresh. calls records each call's options.
 */
export function tokenSource(user) {
  let held = null;
  const calls = [];
  const get = async (opts = {}) => {
    calls.push(opts);
    if (!held || opts.forceRefresh) held = await devToken(user);
    return held;
  };
  return { get, calls, set user(u) { user = u; held = null; } };
}

/** An admin's token and session id, signed in at the stack's clock now (the tests move it past any token's life). */
async function adminSession() {
  const tok = await devToken('root', { role: ADMIN_ROLE });
  const res = await fetch(`${stack}/sessions`, { method: 'POST', headers: { Authorization: 'Bearer ' + tok } });
  assert.equal(res.status, 201, 'admin sign-in');
  return { tok, sid: (await res.json()).sessionId };
}

async function asAdmin(method, path, { body, headers = {} } = {}) {
  const a = await adminSession();
  return fetch(stack + path, {
    method,
    headers: { Authorization: 'Bearer ' + a.tok, 'X-Session-Id': a.sid, ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/**
 * Replaces the environment's session policy through the admin API (from
 * the defaults: no absolute end, no idle timeout), with the parts given.
 * It takes effect at the next sign-in.
 */
export async function setPolicy({ sessionExpiration, inactivityTimeout, dpop } = {}) {
  const got = await asAdmin('GET', `/environments/${ENVIRONMENT}/settings`);
  assert.equal(got.status, 200, 'read the settings');
  const etag = got.headers.get('ETag');
  const body = {
    sessionExpiration: sessionExpiration || { enabled: false },
    inactivityTimeout: inactivityTimeout || { enabled: false },
  };
  if (dpop) body.dpop = dpop;
  const put = await asAdmin('PUT', `/environments/${ENVIRONMENT}/settings`, { body, headers: { 'If-Match': etag } });
  assert.equal(put.status, 200, `put the settings: ${await put.clone().text()}`);
}

/** Ends every session of user, as an admin does. */
export async function revokeUser(user) {
  const res = await asAdmin('POST', `/environments/${ENVIRONMENT}/users/${encodeURIComponent(user)}/revoke?issuer=${encodeURIComponent(ISSUER)}`);
  assert.ok(res.ok, `revoke ${user}: ${res.status} ${await res.clone().text()}`);
}

/**
 * A fetch that records what the library sends: method, URL, headers,
 * credentials and body of each request.
 */
export function recorder(inner = fetch) {
  const sent = [];
  const f = async (input, init) => {
    const r = new Request(input, init);
    sent.push({
      method: r.method,
      url: new URL(r.url),
      headers: Object.fromEntries(r.headers),
      credentials: init?.credentials ?? (input instanceof Request ? input.credentials : undefined),
      body: r.body ? await r.clone().text() : '',
    });
    return inner(input, init);
  };
  f.sent = sent;
  return f;
}

/**
 * A fetch with a cookie jar, as a browser keeps one for the stack's
 * origin: it sends the cookies it holds and keeps what Set-Cookie says
 * (a Max-Age of 0 or less deletes).
 */
export function cookieJar() {
  const jar = new Map();
  const f = async (input, init) => {
    let r = new Request(input, init);
    if (jar.size) {
      const h = new Headers(r.headers);
      h.set('Cookie', [...jar].map(([k, v]) => `${k}=${v}`).join('; '));
      r = new Request(r, { headers: h });
    }
    const res = await fetch(r);
    for (const c of res.headers.getSetCookie()) {
      const [pair, ...attrs] = c.split(';').map((s) => s.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq), value = pair.slice(eq + 1);
      const maxAge = attrs.find((a) => /^max-age=/i.test(a));
      if (value === '' || (maxAge && Number(maxAge.split('=')[1]) <= 0)) jar.delete(name);
      else jar.set(name, value);
    }
    return res;
  };
  f.jar = jar;
  return f;
}

/** A Storage-like object in memory (Node has no sessionStorage). */
export function memoryStorage() {
  const m = new Map();
  return {
    getItem: (k) => (m.has(k) ? m.get(k) : null),
    setItem: (k, v) => m.set(k, String(v)),
    removeItem: (k) => m.delete(k),
    get size() { return m.size; },
  };
}

/** Resolves to the next event of type on target. */
export function nextEvent(target, type) {
  return new Promise((resolve) => target.addEventListener(type, resolve, { once: true }));
}
