// @sessionguard/browser: what a web app needs to use a sessionguard session.
//
// The app signs its user in with its own identity provider library (MSAL,
// oidc-client-ts, Amplify, anything that hands out access tokens). This
// module then
//   - starts a sessionguard session with that access token (POST /sessions),
//   - sends the token and the session with each call to the app's API
//     (SessionClient#fetch), asking the IdP library for the token again
//     before each call, so the session outlives any one token,
//   - turns every refusal into one call of the app's onRefusal callback,
//     with the reason the sessions API gives (GET /sessions/current) where
//     API Gateway gave only a bare 401 or 403,
//   - raises the expiry warning's events (warning, warningcleared, expired),
//     counted from the server's clock, with keepWorking() and signOut(),
//   - lists the user's own sessions and ends them (listSessions,
//     endSession, endOtherSessions): a "your sessions" page.
//
// The session id is kept in memory unless the app opts in to
// sessionStorage; with the session cookie (the sessions routes on the app's
// own origin) the module never sees it at all. Nothing here logs, and no
// token is ever stored. See README.md and docs/integrating-your-app.md.

const HEADER = 'X-Session-Id';
const DEFAULT_POLL_SECONDS = 60;
// setTimeout's longest delay is 2^31-1 ms; a timer further out is set for
// a day and re-checks then.
const LONGEST_TIMER_MS = 24 * 3600 * 1000;
// endOtherSessions asks again while the server says truncated, this many
// requests in all at most.
const MAX_END_REQUESTS = 5;

/** A sessions API answer that is neither a session nor a refusal, or a bad option. */
export class SessionError extends Error {
  constructor(message, options) {
    super(message, options);
    this.name = 'SessionError';
  }
}

/** Thrown by signIn, keepWorking and signOut when the answer is a refusal (onRefusal has been called with it). */
export class SessionRefusedError extends SessionError {
  constructor(refusal) {
    super(`sessionguard refused ${refusal.operation}: ${refusal.reason || refusal.status}`);
    this.name = 'SessionRefusedError';
    this.refusal = refusal;
  }
}

/**
 * What the app should do about a refusal, from the answer's status: 401
 * sign in again, 403 not allowed, 503 (a dependency of the service is down:
 * it failed closed) try again later.
 */
export function actionOf(status, reason) {
  if (reason === 'dependency_unavailable' || status >= 500) return 'retry';
  if (status === 403) return 'forbidden';
  return 'sign-in';
}

/**
 * A sessionguard session of one signed-in user. It is an EventTarget:
 *   warning         the session ends soon (detail: {kind, endsAt, secondsLeft})
 *   warningcleared  the end moved away (keepWorking, or activity on the API)
 *   expired         the session reached its absolute or idle end (detail: {kind, reason})
 */
export class SessionClient extends EventTarget {
  #o;
  #mode; // 'header' or 'cookie'
  #fetch;
  #store; // the opt-in storage of the session id, or null
  #key;
  #id = null; // header mode only
  #active = false;
  #info = null;
  #offset = 0; // server clock minus client clock, in ms
  #warned = ''; // the end already warned of
  #timers = new Set();
  #checking = null;
  #onVisible = null;
  #generation = 0; // moves when the session is forgotten: older answers are dropped

  /**
   * @param {import('./sessionguard.js').SessionOptions} options
   */
  constructor(options) {
    super();
    const o = { ...options };
    if (!o.sessionsUrl && o.sessionsUrl !== '') throw new SessionError('sessionsUrl is required');
    if (typeof o.getAccessToken !== 'function') throw new SessionError('getAccessToken must be a function returning the access token');
    const base = globalThis.location?.href;
    let sessions;
    try {
      sessions = new URL(o.sessionsUrl, base);
    } catch {
      throw new SessionError(`sessionsUrl ${JSON.stringify(String(o.sessionsUrl))} is not a URL`);
    }
    sessions.search = '';
    sessions.hash = '';
    o.sessionsUrl = sessions.href.replace(/\/+$/, '');
    if (o.environment !== undefined && !/^[a-z0-9-]{2,63}$/.test(o.environment)) {
      throw new SessionError('environment must be 2-63 lowercase letters, digits or -');
    }
    o.sessionHeader ||= HEADER;
    o.pollSeconds = o.pollSeconds === undefined ? DEFAULT_POLL_SECONDS : Number(o.pollSeconds);
    const transport = o.transport || 'auto';
    if (!['auto', 'header', 'cookie'].includes(transport)) throw new SessionError("transport must be 'auto', 'header' or 'cookie'");
    this.#mode = transport === 'auto' ? (sameOrigin(sessions.href) ? 'cookie' : 'header') : transport;
    this.#fetch = o.fetch || ((...a) => globalThis.fetch(...a));
    o.apiUrls = (o.apiUrls || [sessions.origin + '/']).map((p) => new URL(p, base));
    if (o.dpop !== undefined && typeof o.dpop?.headers !== 'function') throw new SessionError('dpop must be a DPoPKey (@sessionguard/browser/dpop)');
    this.#o = o;
    this.#key = `sessionguard:${o.sessionsUrl}:${o.environment || ''}`;
    const storage = o.storage || 'memory';
    if (storage === 'sessionStorage') this.#store = globalThis.sessionStorage;
    else if (storage === 'memory') this.#store = null;
    else if (typeof storage === 'object' && typeof storage.getItem === 'function') this.#store = storage;
    else throw new SessionError("storage must be 'memory', 'sessionStorage' or a Storage-like object");
  }

  /** 'header' (X-Session-Id) or 'cookie' (the HttpOnly session cookie). */
  get transport() {
    return this.#mode;
  }

  /** Whether a session is in use (signed in, not refused since). */
  get active() {
    return this.#active;
  }

  /** The session's limits as last answered, or null. */
  get info() {
    return this.#info;
  }

  /**
   * The time left until the session's nearest end (absolute or idle), in
   * ms, counted from the server's clock; null when it has no end.
   */
  timeLeft() {
    const e = this.#end();
    return e ? Math.max(0, e.at - this.#serverNow()) : null;
  }

  /**
   * Starts a session with the IdP's access token. Resolves to its limits;
   * rejects with SessionRefusedError after calling onRefusal.
   */
  async signIn({ staySignedIn = false } = {}) {
    const res = await this.#withToken('signIn', (tok) => this.#call('POST', '/sessions', tok, { staySignedIn: !!staySignedIn }));
    const body = await res.json();
    this.#id = this.#mode === 'header' ? body.sessionId : null;
    if (this.#id && this.#store) this.#store.setItem(this.#key, this.#id);
    this.#active = true;
    this.#apply(body);
    this.#watchVisibility();
    return this.#info;
  }

  /**
   * Takes up the session this page had before a reload: the id kept in
   * sessionStorage (opt-in), or the session cookie. Resolves to its limits,
   * or null when there is none to take up (a session that has ended is
   * reported to onRefusal, like any refusal, and null is returned).
   */
  async resume() {
    if (this.#mode === 'header') {
      this.#id = this.#store?.getItem(this.#key) || null;
      if (!this.#id) return null;
    }
    const res = await this.#withToken('resume', (tok) => this.#call('GET', '/sessions/current', tok), { quiet: ['session_missing', 'session_unknown'] });
    if (!res) return null;
    this.#active = true;
    this.#apply(await res.json());
    this.#watchVisibility();
    return this.#info;
  }

  /**
   * Asks the sessions API how the session stands now (no activity is
   * recorded), updates the warning, and resolves to the limits, or to null
   * after a refusal (given to onRefusal).
   */
  check() {
    this.#checking ||= (async () => {
      const gen = this.#generation;
      try {
        const res = await this.#withToken('check', (tok) => this.#call('GET', '/sessions/current', tok), { soft: true, stale: () => gen !== this.#generation });
        if (!res || gen !== this.#generation) return null;
        this.#apply(await res.json());
        return this.#info;
      } finally {
        this.#checking = null;
      }
    })();
    return this.#checking;
  }

  /** The user's "keep working": records activity now; the idle end moves. */
  async keepWorking() {
    const res = await this.#withToken('keepWorking', (tok) => this.#call('POST', '/sessions/current/activity', tok));
    this.#apply(await res.json());
    return this.#info;
  }

  /** Ends the session at the server, for good (204), and forgets it here. */
  async signOut() {
    await this.#withToken('signOut', (tok) => this.#call('DELETE', '/sessions/current', tok));
    this.#forget();
  }

  /**
   * The user's own live sessions in this environment (GET /sessions), as
   * { sessions, truncated }: this one first (current: true), then the most
   * recently active. Each has its id (for endSession; never the session id
   * itself), the device it was signed in from in a few words (absent when
   * unknown), and its times as Dates. At most 100 besides this one are
   * listed; truncated is true when the user has more.
   */
  async listSessions() {
    const res = await this.#withToken('listSessions', (tok) => this.#call('GET', '/sessions', tok));
    const body = await res.json();
    return { sessions: body.sessions.map(ownSessionOf), truncated: !!body.truncated };
  }

  /**
   * Ends one of the user's sessions, by its id from listSessions (DELETE
   * /sessions/{id}), for good, with the user's other sessions of the same
   * IdP session. Resolves to true when it ended, false when it is not one
   * of the user's sessions that had not ended (it ended meanwhile). Ending
   * this session's own id signs out, as signOut does. A device holding a
   * copy of this session's token can sign in again: endOtherSessions stops
   * that.
   */
  async endSession(id) {
    if (typeof id !== 'string' || !/^[0-9a-f]{16}$/i.test(id)) throw new SessionError('endSession takes a session id as listSessions gives it');
    id = id.toLowerCase();
    const res = await this.#withToken('endSession', (tok) => this.#call('DELETE', '/sessions/' + id, tok), { accept: [404] });
    if (res.status === 404) return false;
    if (this.#info?.id === id) this.#forget();
    return true;
  }

  /**
   * "Sign out everywhere else" (DELETE /sessions?others=true): ends all of
   * the user's other sessions in this environment at once, this one kept;
   * from then on no token authenticated (auth_time) before this session
   * began, nor a token with a sid and no auth_time of an IdP session an
   * ended session started from, can start a session (a refreshed token
   * with neither claim: only with strictReauthentication, see
   * docs/sessions.md), so once this one ends the user signs in again at
   * the IdP (prompt=login). Resolves to { ended, truncated }: how many live
   * sessions ended, and whether the server still had some to mark ended
   * after this asked again, up to 5 requests in all, while it said so.
   */
  async endOtherSessions() {
    let ended = 0;
    for (let asked = 1; ; asked++) {
      const res = await this.#withToken('endOtherSessions', (tok) => this.#call('DELETE', '/sessions?others=true', tok));
      const body = await res.json();
      ended += body.ended;
      if (!body.truncated || asked === MAX_END_REQUESTS) return { ended, truncated: !!body.truncated };
    }
  }

  /** Stops the timers and listeners (the session itself is not ended). */
  close() {
    this.#stopTimers();
    if (this.#onVisible) globalThis.document?.removeEventListener('visibilitychange', this.#onVisible);
    this.#onVisible = null;
  }

  /**
   * fetch, with the access token and the session. The URL must be under one
   * of apiUrls. A bare 401 or 403 (API Gateway says no more) is explained by
   * the sessions API and given to onRefusal; an expired token is refreshed
   * once (getAccessToken({forceRefresh: true})) and the request sent again.
   * Resolves to the API's response, whatever its status.
   */
  async fetch(input, init) {
    const req = new Request(input, init);
    if (!this.#o.apiUrls.some((p) => under(req.url, p))) {
      throw new SessionError(`${req.url} is not under apiUrls: the token and session are sent only there`);
    }
    const spare = req.clone();
    let tok = await this.#token(false);
    let res = await this.#fetch(await this.#authorized(req, tok));
    if (res.status !== 401 && res.status !== 403) return res;
    let why = await this.#whyRefused(tok);
    if (why?.reason === 'token_expired') {
      const fresh = await this.#token(true);
      if (fresh && fresh !== tok) {
        tok = fresh;
        res = await this.#fetch(await this.#authorized(spare, tok));
        if (res.status !== 401 && res.status !== 403) return res;
        why = await this.#whyRefused(tok);
      }
    }
    if (why) this.#refuse(refusalOf('fetch', why.status, why));
    return res;
  }

  // --- the sessions API ---

  #url(path) {
    const u = new URL(this.#o.sessionsUrl + path);
    if (this.#o.environment) u.searchParams.set('environment', this.#o.environment);
    return u.href;
  }

  #credentials(url) {
    if (this.#mode !== 'cookie') return undefined;
    return sameOrigin(url) ? 'same-origin' : 'include';
  }

  // #call sends one sessions request with the token (when there is one)
  // and, in header mode, the session id.
  async #call(method, path, tok, body) {
    const url = this.#url(path);
    const headers = { Accept: 'application/json, application/problem+json' };
    if (tok) headers.Authorization = 'Bearer ' + tok;
    if (this.#o.dpop) Object.assign(headers, await this.#o.dpop.headers(method, url, tok, this.#serverNow())); // DPoP: dpop.js
    const signIn = method === 'POST' && path === '/sessions';
    if (this.#mode === 'header' && this.#id && !signIn) headers[this.#o.sessionHeader] = this.#id;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const init = { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store', redirect: 'error' };
    const cred = this.#credentials(url);
    if (cred) init.credentials = cred;
    return this.#fetch(url, init);
  }

  // #withToken runs one sessions call with the access token. An expired
  // token is refreshed once and the call made again. A refusal is given to
  // onRefusal and thrown (soft: null returned instead; quiet: reasons that
  // mean "no session here", returned as null without a callback; stale:
  // the session was forgotten meanwhile, so the answer is dropped; accept:
  // statuses handed back as answers, not refusals).
  async #withToken(operation, call, { soft = false, quiet = [], stale = () => false, accept = [] } = {}) {
    let tok = await this.#token(false);
    let res = await call(tok);
    let problem = await problemOf(res);
    if (problem?.reason === 'token_expired') {
      const fresh = await this.#token(true);
      if (fresh && fresh !== tok) {
        tok = fresh;
        res = await call(tok);
        problem = await problemOf(res);
      }
    }
    if (res.ok || accept.includes(res.status)) return res;
    if (stale()) return null;
    if (!problem) throw new SessionError(`the sessions API answered ${res.status} to ${operation} (is sessionsUrl right?)`);
    if (quiet.includes(problem.reason)) {
      this.#forget();
      return null;
    }
    const r = refusalOf(operation, res.status, problem);
    this.#refuse(r);
    if (soft || operation === 'resume') return null;
    throw new SessionRefusedError(r);
  }

  // #whyRefused asks the sessions API why the API refused a request made
  // with tok: the problem, or null when the session stands (the refusal
  // was the app's own) or the sessions API cannot be reached.
  async #whyRefused(tok) {
    let res;
    try {
      res = await this.#call('GET', '/sessions/current', tok);
    } catch {
      return null;
    }
    if (res.ok) {
      this.#apply(await res.json());
      return null;
    }
    const p = await problemOf(res);
    if (!p) throw new SessionError(`the sessions API answered ${res.status} (is sessionsUrl right?)`);
    return { ...p, status: res.status };
  }

  async #token(forceRefresh) {
    const t = await this.#o.getAccessToken(forceRefresh ? { forceRefresh: true } : {});
    return typeof t === 'string' && t !== '' ? t : null;
  }

  // #authorized adds the token and the session to req. A request that
  // carries them never follows a redirect (it fails instead): a redirect
  // could send the session header to another origin, which only the
  // Authorization header is kept from.
  async #authorized(req, tok) {
    const h = new Headers(req.headers);
    if (tok) h.set('Authorization', 'Bearer ' + tok);
    if (this.#o.dpop) for (const [k, v] of Object.entries(await this.#o.dpop.headers(req.method, req.url, tok, this.#serverNow()))) h.set(k, v);
    if (this.#mode === 'header' && this.#id) h.set(this.#o.sessionHeader, this.#id);
    const init = { headers: h, redirect: 'error' };
    const cred = this.#credentials(req.url);
    if (cred) init.credentials = cred;
    return new Request(req, init);
  }

  // --- what the client knows ---

  #refuse(r) {
    if (r.action === 'sign-in') {
      if (r.reason === 'session_expired' || r.reason === 'session_idle') {
        this.dispatchEvent(new CustomEvent('expired', { detail: { kind: r.reason === 'session_idle' ? 'idle' : 'absolute', reason: r.reason } }));
      }
      this.#forget();
    }
    const cb = this.#o.onRefusal;
    if (!cb) return;
    try {
      cb(r);
    } catch (e) {
      // The app's callback failed: report it, and carry on.
      setTimeout(() => {
        throw e;
      });
    }
  }

  #forget() {
    this.#generation++;
    this.#id = null;
    this.#store?.removeItem(this.#key);
    this.#active = false;
    this.#info = null;
    this.#warned = '';
    this.close();
  }

  #serverNow() {
    return Date.now() + this.#offset;
  }

  // #apply takes a session answer: the limits, the server's clock, and
  // the warning's state; it sets the timers for what comes next.
  #apply(v) {
    const at = (s) => (s ? new Date(s) : undefined);
    const now = Date.parse(v.now);
    if (!Number.isNaN(now)) this.#offset = now - Date.now();
    this.#info = {
      id: v.sessionHashPrefix,
      userId: v.userId,
      environment: v.environment,
      staySignedIn: !!v.staySignedIn,
      expiresAt: at(v.expiresAt),
      warnAt: at(v.warnAt),
      idleExpiresAt: at(v.idleExpiresAt),
      idleWarnAt: at(v.idleWarnAt),
      serverNow: new Date(this.#serverNow()),
    };
    this.#schedule();
  }

  // #end is the nearest end and its warning time.
  #end() {
    const i = this.#info;
    if (!i) return null;
    const abs = i.expiresAt?.getTime(), idle = i.idleExpiresAt?.getTime();
    if (abs === undefined && idle === undefined) return null;
    if (idle === undefined || (abs !== undefined && abs <= idle)) return { kind: 'absolute', at: abs, warnAt: i.warnAt?.getTime() ?? abs };
    return { kind: 'idle', at: idle, warnAt: i.idleWarnAt?.getTime() ?? idle };
  }

  #schedule() {
    this.#stopTimers();
    if (!this.#active) return;
    const now = this.#serverNow();
    const e = this.#end();
    if (e && now >= e.at) {
      // The server answered at or past the end and still allowed it (a
      // boundary): ask again shortly.
      this.#after(1000, () => this.#background());
      return;
    }
    if (e && now >= e.warnAt) {
      const key = e.kind + e.at;
      if (this.#warned !== key) {
        this.#warned = key;
        this.dispatchEvent(new CustomEvent('warning', {
          detail: { kind: e.kind, endsAt: new Date(e.at), secondsLeft: Math.ceil((e.at - now) / 1000) },
        }));
      }
    } else if (this.#warned) {
      this.#warned = '';
      this.dispatchEvent(new CustomEvent('warningcleared'));
    }
    // At the warning and at the end the server is asked first: activity on
    // the API may have moved the idle end.
    if (e && now < e.warnAt) this.#after(e.warnAt - now, () => this.#background());
    if (e) this.#after(e.at - now, () => this.#background());
    if (this.#o.pollSeconds > 0) this.#after(this.#o.pollSeconds * 1000, () => this.#background());
  }

  // #background is a check nobody awaits: when the sessions API cannot be
  // reached (offline), it tries again later instead of failing.
  #background() {
    this.check().catch(() => {
      if (this.#active) this.#after(Math.min(this.#o.pollSeconds > 0 ? this.#o.pollSeconds : 30, 30) * 1000, () => this.#background());
    });
  }

  #after(ms, fn) {
    const t = setTimeout(() => {
      this.#timers.delete(t);
      fn();
    }, Math.min(Math.max(0, ms), LONGEST_TIMER_MS));
    this.#timers.add(t);
  }

  #stopTimers() {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }

  // A hidden tab's timers are slowed by the browser: when the page shows
  // again, the session is checked at once.
  #watchVisibility() {
    const doc = globalThis.document;
    if (!doc || this.#onVisible) return;
    this.#onVisible = () => {
      if (doc.visibilityState === 'visible' && this.#active) this.#background();
    };
    doc.addEventListener('visibilitychange', this.#onVisible);
  }
}

/**
 * Creates a client and signs in: the shortest way to a session.
 * @param {import('./sessionguard.js').SessionOptions & {staySignedIn?: boolean}} options
 */
export async function createSession(options) {
  const c = new SessionClient(options);
  await c.signIn({ staySignedIn: options.staySignedIn });
  return c;
}

// problemOf reads a problem+json answer (type, title, status, detail,
// reason), or null for any other answer.
async function problemOf(res) {
  if (res.ok) return null;
  const type = res.headers.get('Content-Type') || '';
  if (!type.includes('application/problem+json')) return null;
  try {
    return await res.clone().json();
  } catch {
    return null;
  }
}

// ownSessionOf is one of the user's sessions from GET /sessions, its times
// as Dates.
function ownSessionOf(v) {
  const at = (t) => (t ? new Date(t) : undefined);
  const o = {
    id: v.id,
    current: !!v.current,
    device: v.device || undefined,
    clientId: v.clientId || undefined,
    staySignedIn: !!v.staySignedIn,
    createdAt: new Date(v.createdAt),
    lastActiveAt: new Date(v.lastActiveAt),
    expiresAt: at(v.expiresAt),
    idleExpiresAt: at(v.idleExpiresAt),
  };
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}

function refusalOf(operation, status, p) {
  const r = {
    operation,
    status,
    reason: p.reason,
    action: actionOf(status, p.reason),
    title: p.title,
    detail: p.detail,
  };
  // After a sign-out or a revocation the user must authenticate again, not
  // reuse the IdP's session: the IdP library asks with prompt=login.
  if (r.reason === 'session_revoked') r.prompt = 'login';
  return r;
}

function sameOrigin(url) {
  const here = globalThis.location?.origin;
  return !!here && here !== 'null' && new URL(url, globalThis.location.href).origin === here;
}

// under reports whether url is prefix or below it, segment by segment:
// https://api.example.com/app covers /app and /app/x, not /app-admin.
function under(url, prefix) {
  const u = new URL(url);
  if (u.origin !== prefix.origin) return false;
  const p = prefix.pathname;
  return u.pathname === p || u.pathname.startsWith(p.endsWith('/') ? p : p + '/');
}
