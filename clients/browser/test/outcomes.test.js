// The answers the local stack cannot be made to give on demand, from a
// stand-in server that answers as the sessions API documents
// (docs/sessions.md, docs/reason-codes.md): a store outage (503
// dependency_unavailable, fail closed) and an app that refuses a request
// of a session that stands (its own 403).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { SessionClient, SessionRefusedError, actionOf } from '../sessionguard.js';

let answerCurrent = 200;
// DELETE /sessions?others=true answers truncated for its first
// truncatedFor requests.
let endRequests = 0;
let truncatedFor = 0;
const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  const session = { sessionHashPrefix: 'abc', environment: 'demo', userId: 'alice', staySignedIn: false, now: new Date().toISOString() };
  const problem = (status, reason) => {
    res.writeHead(status, { 'Content-Type': 'application/problem+json' });
    res.end(JSON.stringify({ type: 'urn:sessionguard:problem:' + reason, title: http.STATUS_CODES[status], status, reason }));
  };
  if (req.method === 'POST' && url.pathname === '/sessions') {
    res.writeHead(201, { 'Content-Type': 'application/json' });
    return res.end(JSON.stringify({ ...session, sessionId: 'id-' + 'x'.repeat(40) }));
  }
  if (url.pathname === '/sessions/current') {
    if (answerCurrent === 503) return problem(503, 'dependency_unavailable');
    res.writeHead(200, { 'Content-Type': 'application/json' });
    return res.end(JSON.stringify(session));
  }
  if (url.pathname === '/sessions/current/activity') return problem(503, 'dependency_unavailable');
  if (req.method === 'GET' && url.pathname === '/sessions') {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    const own = { id: 'abc', current: true, staySignedIn: false, createdAt: session.now, lastActiveAt: session.now };
    return res.end(JSON.stringify({ sessions: [own], truncated: true, now: session.now }));
  }
  if (req.method === 'DELETE' && url.pathname === '/sessions') {
    endRequests++;
    res.writeHead(200, { 'Content-Type': 'application/json' });
    return res.end(JSON.stringify({ ended: 100, truncated: endRequests < truncatedFor }));
  }
  if (url.pathname === '/api/admin-only') {
    res.writeHead(403, { 'Content-Type': 'application/json' });
    return res.end('{"message":"Forbidden"}');
  }
  if (url.pathname === '/api/moved') {
    res.writeHead(302, { Location: elsewhere + '/collect' });
    return res.end();
  }
  if (url.pathname === '/api/gateway-denied') {
    res.writeHead(401, { 'Content-Type': 'application/json' });
    return res.end('{"message":"Unauthorized"}');
  }
  res.writeHead(404);
  res.end();
});
// Another origin, which records what it is sent.
let sentElsewhere = [];
const other = http.createServer((req, res) => {
  sentElsewhere.push(req.headers);
  res.writeHead(200);
  res.end('ok');
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
await new Promise((r) => other.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${server.address().port}`;
const elsewhere = `http://127.0.0.1:${other.address().port}`;
after(() => {
  server.close();
  other.close();
});

function client() {
  const refusals = [];
  const c = new SessionClient({ sessionsUrl: base, getAccessToken: () => 'token', onRefusal: (r) => refusals.push(r), transport: 'header', pollSeconds: 0 });
  return { c, refusals };
}

test("the app's own 403, on a session that stands, is the app's: no refusal", async () => {
  answerCurrent = 200;
  const { c, refusals } = client();
  await c.signIn();
  const res = await c.fetch(base + '/api/admin-only');
  assert.equal(res.status, 403);
  assert.deepEqual(refusals, []);
  assert.equal(c.active, true);
  c.close();
});

test('a store outage: the refusal says retry, and the session is kept', async () => {
  answerCurrent = 503;
  const { c, refusals } = client();
  await c.signIn();
  const res = await c.fetch(base + '/api/gateway-denied');
  assert.equal(res.status, 401);
  assert.equal(refusals.length, 1);
  assert.equal(refusals[0].action, 'retry');
  assert.equal(refusals[0].reason, 'dependency_unavailable');
  assert.equal(c.active, true, 'a retry keeps the session');
  const err = await c.keepWorking().catch((e) => e);
  assert.ok(err instanceof SessionRefusedError);
  assert.equal(err.refusal.action, 'retry');
  assert.equal(refusals.length, 2);
  c.close();
});

test('actionOf follows the status classes of docs/reason-codes.md', () => {
  assert.equal(actionOf(401, 'session_idle'), 'sign-in');
  assert.equal(actionOf(401, 'user_disabled'), 'sign-in');
  assert.equal(actionOf(403, 'binding_environment'), 'forbidden');
  assert.equal(actionOf(403, 'forbidden'), 'forbidden');
  assert.equal(actionOf(503, 'dependency_unavailable'), 'retry');
});

test('a redirect is not followed with the session: the other origin gets nothing', async () => {
  answerCurrent = 200;
  sentElsewhere = [];
  const { c } = client();
  await c.signIn();
  await assert.rejects(c.fetch(base + '/api/moved'), TypeError);
  assert.deepEqual(sentElsewhere, [], 'the redirect target was called');
  c.close();
});

test('apiUrls match whole path segments', async () => {
  answerCurrent = 200;
  const c = new SessionClient({ sessionsUrl: base, getAccessToken: () => 'token', transport: 'header', pollSeconds: 0, apiUrls: [base + '/api'] });
  await c.signIn();
  assert.equal((await c.fetch(base + '/api/admin-only')).status, 403);
  await assert.rejects(c.fetch(base + '/api-admin/x'), /not under apiUrls/);
  await assert.rejects(c.fetch(base + '/apix'), /not under apiUrls/);
  c.close();
});

test('a truncated list and a truncated "sign out everywhere else" say so: it asks again, 5 requests at most', async () => {
  answerCurrent = 200;
  const { c, refusals } = client();
  await c.signIn();
  const listed = await c.listSessions();
  assert.equal(listed.truncated, true);
  assert.equal(listed.sessions.length, 1);
  endRequests = 0;
  truncatedFor = 3;
  assert.deepEqual(await c.endOtherSessions(), { ended: 300, truncated: false });
  assert.equal(endRequests, 3);
  endRequests = 0;
  truncatedFor = Infinity;
  assert.deepEqual(await c.endOtherSessions(), { ended: 500, truncated: true });
  assert.equal(endRequests, 5, 'it stops asking after 5 requests');
  assert.deepEqual(refusals, []);
  c.close();
});
