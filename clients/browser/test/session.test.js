// The client library against the real local stack (sessions API,
// authorizer, example API at /example/), started by
// infra/local/clientlib_test.go. The tests run in order and share the
// stack's clock, which only moves forward.
import { test, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { SessionClient, SessionRefusedError, SessionError, createSession } from '../sessionguard.js';
import {
  stack, ENVIRONMENT, devToken, moveClock, tokenSource, setPolicy, revokeUser,
  recorder, cookieJar, memoryStorage, nextEvent,
} from './stack.js';

const MINUTE = 60 * 1000;
const hello = stack + '/example/hello';

// Nothing the library does may write to the console (it would be where a
// token leaks).
const written = [];
const originals = {};
beforeEach(() => {
  for (const m of ['log', 'info', 'warn', 'error', 'debug', 'trace']) {
    originals[m] = console[m];
    console[m] = (...a) => written.push([m, a]);
  }
});
afterEach(() => {
  Object.assign(console, originals);
  assert.deepEqual(written.splice(0), [], 'the library wrote to the console');
});

// A client for user in header mode, its requests recorded, no background
// polling (the tests ask check() when the clock has moved).
function client(user, extra = {}) {
  const tokens = tokenSource(user);
  const refusals = [];
  const f = recorder(extra.fetch);
  const c = new SessionClient({
    sessionsUrl: stack, getAccessToken: tokens.get, onRefusal: (r) => refusals.push(r),
    transport: 'header', pollSeconds: 0, ...extra, fetch: f,
  });
  return { c, tokens, refusals, sent: f.sent };
}

test('sign-in sends the token and the stay-signed-in choice, and the wrapped fetch sends token and session', async () => {
  await setPolicy();
  const { c, tokens, refusals, sent } = client('alice');
  const info = await c.signIn({ staySignedIn: true });
  assert.equal(sent[0].method, 'POST');
  assert.equal(sent[0].url.pathname, '/sessions');
  assert.match(sent[0].headers.authorization, /^Bearer ey/);
  assert.equal(sent[0].headers['content-type'], 'application/json');
  assert.deepEqual(JSON.parse(sent[0].body), { staySignedIn: true });
  assert.equal(sent[0].headers['x-session-id'], undefined, 'sign-in sends no session');
  assert.equal(info.staySignedIn, true);
  assert.equal(info.userId, 'alice');
  assert.equal(info.expiresAt, undefined, 'the default policy has no absolute end');
  assert.ok(info.serverNow instanceof Date);
  assert.equal(c.active, true);
  assert.equal(c.transport, 'header');
  assert.ok(!JSON.stringify(info).includes('sessionId'), 'the session id is not handed out');

  const res = await c.fetch(hello);
  assert.equal(res.status, 200);
  assert.equal((await res.json()).message, 'hello, alice');
  const call = sent.at(-1);
  assert.equal(call.url.href, hello);
  assert.match(call.headers['x-session-id'], /.{40,}/);
  assert.equal(call.headers.authorization, sent[0].headers.authorization);
  assert.equal(tokens.calls.length, 2, 'getAccessToken is asked before each request');
  assert.deepEqual(refusals, []);
  c.close();
});

test('createSession signs in in one call; a URL outside apiUrls gets nothing', async () => {
  const f = recorder();
  const c = await createSession({ sessionsUrl: stack + '/', getAccessToken: () => devToken('erin'), transport: 'header', pollSeconds: 0, fetch: f });
  assert.equal(c.active, true);
  const n = f.sent.length;
  await assert.rejects(c.fetch('https://elsewhere.example/steal'), SessionError);
  assert.equal(f.sent.length, n, 'nothing was sent to a URL outside apiUrls');
  c.close();
});

test('every sessions call carries ?environment= when configured; API calls do not', async () => {
  const { c, sent } = client('bob', { environment: ENVIRONMENT });
  await c.signIn();
  await c.check();
  await c.keepWorking();
  assert.equal((await c.fetch(hello)).status, 200);
  await c.signOut();
  const sessions = sent.filter((r) => r.url.pathname.startsWith('/sessions'));
  assert.deepEqual(sessions.map((r) => `${r.method} ${r.url.pathname}`),
    ['POST /sessions', 'GET /sessions/current', 'POST /sessions/current/activity', 'DELETE /sessions/current']);
  for (const r of sessions) assert.equal(r.url.searchParams.get('environment'), ENVIRONMENT, `${r.method} ${r.url.pathname}`);
  const api = sent.find((r) => r.url.pathname === '/example/hello');
  assert.equal(api.url.search, '');
});

test('the environment the app names is the session\'s; one the deployment does not serve is refused', async () => {
  const { c } = client('bob', { environment: 'staging' });
  const info = await c.signIn();
  assert.equal(info.environment, 'staging');
  const res = await c.fetch(stack + '/staging/example/hello');
  assert.equal(res.status, 200, "the staging stage's API takes the staging session");
  c.close();
  const nowhere = client('bob', { environment: 'nowhere' });
  const err = await nowhere.c.signIn().catch((e) => e);
  assert.ok(err instanceof SessionRefusedError, String(err));
  assert.equal(err.refusal.reason, 'environment_unknown');
  assert.equal(err.refusal.action, 'forbidden');
  assert.equal(nowhere.refusals.length, 1);
});

test('cookie mode: the HttpOnly cookie carries the session, no header, same-origin credentials; sign-out clears it', async () => {
  globalThis.location = new URL(stack + '/spa/'); // a page on the stack's origin
  try {
    const jar = cookieJar();
    const { c, sent, refusals } = client('carol', { transport: undefined, fetch: jar });
    assert.equal(c.transport, 'cookie', "'auto' picks the cookie when the sessions routes are on the page's origin");
    await c.signIn();
    assert.ok(jar.jar.get('__Host-sg_session'), 'the sign-in answer set the session cookie');
    const res = await c.fetch(hello);
    assert.equal(res.status, 200);
    assert.equal((await res.json()).message, 'hello, carol');
    for (const r of sent) {
      assert.equal(r.headers['x-session-id'], undefined, `${r.method} ${r.url.pathname} sent the session header`);
      assert.equal(r.credentials, 'same-origin', `${r.method} ${r.url.pathname}`);
    }
    await c.signOut();
    assert.equal(jar.jar.has('__Host-sg_session'), false, 'sign-out cleared the cookie');
    assert.equal((await c.fetch(hello)).status, 401);
    assert.equal(refusals.length, 1);
    assert.equal(refusals[0].reason, 'session_missing');
    assert.equal(refusals[0].action, 'sign-in');
  } finally {
    delete globalThis.location;
  }
});

test('the session outlives the token: an expired token is refreshed once and the request sent again', async () => {
  const { c, tokens, refusals } = client('dave');
  await c.signIn();
  assert.equal((await c.fetch(hello)).status, 200);
  await moveClock(2 * 60 * MINUTE); // the 1-hour token has expired; the session has no end
  const res = await c.fetch(hello);
  assert.equal(res.status, 200);
  assert.equal(tokens.calls.filter((o) => o.forceRefresh).length, 1, 'one forced refresh');
  assert.deepEqual(refusals, []);
  // The sessions calls refresh too.
  await moveClock(2 * 60 * MINUTE);
  assert.ok(await c.keepWorking());
  assert.equal(tokens.calls.filter((o) => o.forceRefresh).length, 2);
  assert.deepEqual(refusals, []);
  c.close();
});

test('a revoked session: the bare 401 becomes one sign-in refusal with prompt=login', async () => {
  const { c, refusals } = client('frank');
  await c.signIn();
  await revokeUser('frank');
  const res = await c.fetch(hello);
  assert.equal(res.status, 401, 'the API answer is handed back');
  assert.deepEqual(await res.json(), { message: 'Unauthorized' }, 'API Gateway says no more than that');
  assert.equal(refusals.length, 1);
  assert.deepEqual(
    { operation: refusals[0].operation, status: refusals[0].status, reason: refusals[0].reason, action: refusals[0].action, prompt: refusals[0].prompt },
    { operation: 'fetch', status: 401, reason: 'session_revoked', action: 'sign-in', prompt: 'login' });
  assert.equal(c.active, false);
});

test('after sign-out the old token cannot start a session: 401 session_revoked, prompt=login', async () => {
  const tok = await devToken('grace');
  const refusals = [];
  const c = new SessionClient({ sessionsUrl: stack, getAccessToken: () => tok, onRefusal: (r) => refusals.push(r), transport: 'header', pollSeconds: 0 });
  await c.signIn();
  await c.signOut();
  assert.equal(c.active, false);
  const err = await c.signIn().catch((e) => e);
  assert.ok(err instanceof SessionRefusedError, String(err));
  assert.equal(err.refusal.reason, 'session_revoked');
  assert.equal(err.refusal.prompt, 'login');
  assert.match(err.refusal.detail, /sign in again with credentials/);
  assert.equal(refusals.length, 1, 'one callback');
  // A token from a new sign-in (later than the sign-out) starts one.
  await moveClock(1000);
  const fresh = await devToken('grace');
  const again = new SessionClient({ sessionsUrl: stack, getAccessToken: () => fresh, transport: 'header', pollSeconds: 0 });
  assert.ok(await again.signIn());
  again.close();
});

test("another user's token on the session: forbidden (binding_user)", async () => {
  const { c, tokens, refusals } = client('heidi');
  await c.signIn();
  tokens.user = 'mallory'; // the IdP library now signs in someone else
  const res = await c.fetch(hello);
  assert.equal(res.status, 403);
  assert.equal(refusals.length, 1);
  assert.equal(refusals[0].reason, 'binding_user');
  assert.equal(refusals[0].action, 'forbidden');
  assert.equal(refusals[0].prompt, undefined);
  c.close();
});

test('the idle warning comes at idleWarnAt on the server clock; keepWorking moves the end and clears it', async () => {
  await setPolicy({ inactivityTimeout: { enabled: true, minutes: 6 } });
  const { c, refusals } = client('ivan');
  const warnings = [];
  c.addEventListener('warning', (e) => warnings.push(e.detail));
  const info = await c.signIn();
  assert.equal(info.idleExpiresAt - info.serverNow, 6 * MINUTE);
  assert.equal(info.idleWarnAt - info.serverNow, 3 * MINUTE, 'half the timeout before a short idle end');
  await c.check();
  assert.equal(warnings.length, 0, 'no warning before idleWarnAt');
  await moveClock(3 * MINUTE + 1000);
  await c.check();
  assert.equal(warnings.length, 1);
  assert.equal(warnings[0].kind, 'idle');
  assert.ok(warnings[0].secondsLeft > 170 && warnings[0].secondsLeft <= 179, `secondsLeft ${warnings[0].secondsLeft}`);
  // Counted from the server's clock, 3 minutes ahead of this machine's.
  assert.ok(c.timeLeft() > 2.8 * MINUTE && c.timeLeft() <= 3 * MINUTE, `timeLeft ${c.timeLeft()}`);
  await c.check();
  assert.equal(warnings.length, 1, 'one warning per end');
  const cleared = nextEvent(c, 'warningcleared');
  const after = await c.keepWorking();
  await cleared;
  assert.equal(after.idleExpiresAt - after.serverNow, 6 * MINUTE, 'the idle end moved to 6 minutes from now');
  assert.deepEqual(refusals, []);
  c.close();
});

test('the absolute warning at warnAt, then expired and one sign-in refusal at the end', async () => {
  await setPolicy({ sessionExpiration: { enabled: true, maxSessionMinutes: 60, warningMinutes: 20 } });
  const { c, refusals } = client('judy');
  const info = await c.signIn();
  assert.equal(info.expiresAt - info.serverNow, 60 * MINUTE);
  assert.equal(info.expiresAt - info.warnAt, 20 * MINUTE);
  const warned = nextEvent(c, 'warning');
  await moveClock(40 * MINUTE + 1000);
  await c.check();
  const w = (await warned).detail;
  assert.equal(w.kind, 'absolute');
  assert.equal(w.endsAt.getTime(), info.expiresAt.getTime());
  const expired = nextEvent(c, 'expired');
  await moveClock(20 * MINUTE);
  assert.equal(await c.check(), null);
  assert.deepEqual((await expired).detail, { kind: 'absolute', reason: 'session_expired' });
  assert.equal(refusals.length, 1);
  assert.equal(refusals[0].reason, 'session_expired');
  assert.equal(refusals[0].action, 'sign-in');
  assert.equal(refusals[0].prompt, undefined, 'an expired session needs a sign-in, not a new authentication');
  assert.equal(c.active, false);
  await setPolicy();
});

test('the session id stays in memory by default; sessionStorage (opt-in) survives a reload', async () => {
  const { c } = client('kim');
  await c.signIn();
  const reloaded = client('kim');
  assert.equal(await reloaded.c.resume(), null, 'a new page in memory mode has no session');
  assert.equal(reloaded.sent.length, 0, 'and asks nothing');
  c.close();

  const storage = memoryStorage();
  const first = client('kim', { storage });
  await first.c.signIn();
  assert.equal(storage.size, 1);
  first.c.close();
  const second = client('kim', { storage });
  const info = await second.c.resume();
  assert.equal(info.userId, 'kim');
  assert.equal((await second.c.fetch(hello)).status, 200);
  await second.c.signOut();
  assert.equal(storage.size, 0, 'sign-out forgets the stored id');
  const third = client('kim', { storage });
  assert.equal(await third.c.resume(), null);
  assert.deepEqual(third.refusals, []);
});

test("the user's own sessions: listed with their devices, one ended, then all but this one; another user's id is not found", async () => {
  await setPolicy();
  // Three of lena's browsers, and one of mike's.
  const browser = (ua) => (input, init) => {
    const r = new Request(input, init);
    r.headers.set('User-Agent', ua);
    return fetch(r);
  };
  const laptop = client('lena', { fetch: browser('Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0') });
  const phone = client('lena', { fetch: browser('Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1') });
  const tablet = client('lena');
  const mike = client('mike');
  for (const x of [laptop, phone, tablet, mike]) await x.c.signIn();

  const listed = await phone.c.listSessions();
  assert.equal(listed.truncated, false);
  const mine = listed.sessions;
  const sent = phone.sent.at(-1);
  assert.equal(`${sent.method} ${sent.url.pathname}`, 'GET /sessions');
  assert.match(sent.headers['x-session-id'], /.{40,}/, 'the list is asked with the session');
  assert.equal(mine.length, 3, "lena's three, not mike's");
  assert.equal(mine[0].current, true, 'this session first');
  assert.equal(mine[0].id, phone.c.info.id);
  assert.equal(mine[0].device, 'Safari on iPhone');
  assert.ok(mine[0].createdAt instanceof Date && mine[0].lastActiveAt instanceof Date);
  assert.deepEqual(mine.slice(1).map((s) => s.current), [false, false]);
  const laptopSession = mine.find((s) => s.id === laptop.c.info.id);
  assert.equal(laptopSession.device, 'Firefox on Linux');
  assert.equal(mine.find((s) => s.id === tablet.c.info.id).device, undefined, "Node's fetch is no browser: the device is unknown");
  assert.ok(!JSON.stringify(mine).includes(phone.sent[1].headers['x-session-id']), 'no session id in the list');

  // End the laptop's session from the phone: the laptop's next call is
  // refused, revoked; the phone goes on.
  assert.equal(await phone.c.endSession(laptopSession.id), true);
  assert.equal(`${phone.sent.at(-1).method} ${phone.sent.at(-1).url.pathname}`, `DELETE /sessions/${laptopSession.id}`);
  assert.equal((await laptop.c.fetch(hello)).status, 401);
  assert.equal(laptop.refusals.at(-1).reason, 'session_revoked');
  assert.equal((await phone.c.fetch(hello)).status, 200);
  // Ended already, or mike's: not found, and no refusal.
  assert.equal(await phone.c.endSession(laptopSession.id), false);
  assert.equal(await phone.c.endSession(mike.c.info.id), false);
  assert.deepEqual(phone.refusals, []);
  assert.equal((await mike.c.fetch(hello)).status, 200, "mike's session stands");
  await assert.rejects(phone.c.endSession('not-an-id'), SessionError);

  // Sign out everywhere else: the tablet ends, the phone stays.
  assert.deepEqual(await phone.c.endOtherSessions(), { ended: 1, truncated: false });
  assert.equal(`${phone.sent.at(-1).method} ${phone.sent.at(-1).url.pathname}${phone.sent.at(-1).url.search}`, 'DELETE /sessions?others=true');
  assert.equal((await tablet.c.fetch(hello)).status, 401);
  assert.equal(tablet.refusals.at(-1).reason, 'session_revoked');
  assert.deepEqual((await phone.c.listSessions()).sessions.map((s) => s.current), [true]);
  assert.equal(phone.c.active, true);

  // Ending this session's own id signs out.
  assert.equal(await phone.c.endSession(phone.c.info.id), true);
  assert.equal(phone.c.active, false);
  assert.equal((await phone.c.fetch(hello)).status, 401);
  for (const x of [laptop, tablet, mike]) x.c.close();
});

test('options are checked', () => {
  assert.throws(() => new SessionClient({ getAccessToken: () => '' }), /sessionsUrl/);
  assert.throws(() => new SessionClient({ sessionsUrl: stack }), /getAccessToken/);
  assert.throws(() => new SessionClient({ sessionsUrl: stack, getAccessToken: () => '', environment: 'Bad Env' }), /environment/);
  assert.throws(() => new SessionClient({ sessionsUrl: stack, getAccessToken: () => '', storage: 'localStorage' }), /storage/);
});
