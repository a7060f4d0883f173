// DPoP with the client library (dpop.js and SessionClient's dpop option)
// against the real local stack, started by infra/local/clientlib_test.go:
// a key made with WebCrypto (Node's is the browser's API), tokens the
// development issuer binds to it (/idp/token?jkt=), environment demo under
// dpop required for the session tests, off again after them.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { SessionClient } from '../sessionguard.js';
import { DPoPKey, createDPoPKey, schemeOf } from '../dpop.js';
import { stack, ENVIRONMENT, ADMIN_ROLE, devToken, setPolicy, recorder } from './stack.js';

const hello = stack + '/example/hello';

// dpop off again for the other files. Under required an admin signs in
// with a DPoP-bound token too: the admin API's session is a session like
// any other (stack.js's plain sign-in is refused now).
after(async () => {
  const key = await DPoPKey.generate();
  const tok = await devToken('root', { role: ADMIN_ROLE, jkt: key.thumbprint });
  const signIn = await fetch(stack + '/sessions', { method: 'POST', headers: await key.headers('POST', stack + '/sessions', tok) });
  assert.equal(signIn.status, 201, 'the admin signs in with a proof');
  const sid = (await signIn.json()).sessionId;
  const settings = `${stack}/environments/${ENVIRONMENT}/settings`;
  const got = await fetch(settings, { headers: { ...(await key.headers('GET', settings, tok)), 'X-Session-Id': sid } });
  assert.equal(got.status, 200, 'read the settings');
  const put = await fetch(settings, {
    method: 'PUT', body: '{}',
    headers: { ...(await key.headers('PUT', settings, tok)), 'X-Session-Id': sid, 'If-Match': got.headers.get('ETag'), 'Content-Type': 'application/json' },
  });
  assert.equal(put.status, 200, `dpop off again: ${await put.clone().text()}`);
  await setPolicy(); // and a plain admin sign-in works again
});

const decode = (part) => JSON.parse(Buffer.from(part, 'base64url').toString());
const sha256 = async (s) => Buffer.from(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(s))).toString('base64url');

test('a DPoP key: the private key non-extractable, proofs in the form the server checks', async () => {
  const key = await DPoPKey.generate();
  assert.equal(key.keyPair.privateKey.extractable, false);
  await assert.rejects(crypto.subtle.exportKey('jwk', key.keyPair.privateKey), 'the private key cannot be read out');
  assert.deepEqual(Object.keys(key.publicJwk), ['crv', 'kty', 'x', 'y'], 'the public key, required members only');
  assert.equal(Buffer.from(key.publicJwk.x, 'base64url').length, 32, 'x of the full 32 octets');
  assert.equal(key.thumbprint, await sha256(JSON.stringify(key.publicJwk)));
  const now = Date.UTC(2027, 0, 1);
  const p = await key.proof('get', 'https://api.example.com/items?page=2#top', 'the-token', now);
  const [h, c, sig] = p.split('.');
  assert.deepEqual(decode(h), { typ: 'dpop+jwt', alg: 'ES256', jwk: key.publicJwk });
  const claims = decode(c);
  assert.equal(claims.htm, 'GET');
  assert.equal(claims.htu, 'https://api.example.com/items', 'no query, no fragment');
  assert.equal(claims.iat, now / 1000);
  assert.equal(claims.ath, await sha256('the-token'));
  assert.match(claims.jti, /^[A-Za-z0-9_-]{22}$/);
  assert.equal(Buffer.from(sig, 'base64url').length, 64, 'r || s');
  assert.ok(await crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key.keyPair.publicKey, Buffer.from(sig, 'base64url'), new TextEncoder().encode(h + '.' + c)));
  assert.notEqual((await key.proof('GET', 'https://api.example.com/items')).split('.')[1], c, 'each proof its own jti');
  assert.equal(decode((await key.proof('GET', 'https://api.example.com/items')).split('.')[1]).ath, undefined, 'no ath without a token');
  const again = await DPoPKey.fromKeyPair(key.keyPair);
  assert.equal(again.thumbprint, key.thumbprint, 'a kept key pair is the same key');
  await assert.rejects(DPoPKey.fromKeyPair({}), TypeError);
  assert.equal((await createDPoPKey()).thumbprint.length, 43);
});

test('the scheme follows the token: DPoP for one bound to a key, else Bearer', async () => {
  const key = await DPoPKey.generate();
  assert.equal(schemeOf(await devToken('dora', { jkt: key.thumbprint })), 'DPoP');
  assert.equal(schemeOf(await devToken('dora')), 'Bearer');
  assert.equal(schemeOf('opaque'), 'Bearer');
  assert.throws(() => new SessionClient({ sessionsUrl: stack, getAccessToken: () => 't', dpop: 'key' }), /DPoPKey/);
});

test('under dpop required: the session is bound to the key at sign-in, every call carries a new proof, and a copied session id is useless without the key', async () => {
  await setPolicy({ dpop: 'required' });
  const key = await DPoPKey.generate();
  const tok = await devToken('dora', { jkt: key.thumbprint });
  const f = recorder();
  const refusals = [];
  const c = new SessionClient({
    sessionsUrl: stack, getAccessToken: () => tok, transport: 'header', pollSeconds: 0, dpop: key, fetch: f,
    onRefusal: (r) => refusals.push(r),
  });
  await c.signIn();
  const signIn = f.sent[0];
  assert.equal(signIn.headers.authorization, 'DPoP ' + tok);
  const proof = decode(signIn.headers.dpop.split('.')[1]);
  assert.equal(proof.htm, 'POST');
  assert.equal(proof.htu, stack + '/sessions');
  assert.equal((await c.fetch(hello)).status, 200, 'the app API through the authorizer');
  assert.ok(await c.check());
  assert.ok(await c.keepWorking());
  const proofs = f.sent.map((s) => s.headers.dpop);
  assert.ok(proofs.every(Boolean), 'every call carries a proof');
  assert.equal(new Set(proofs).size, proofs.length, 'a new proof each time');
  const sid = f.sent.at(-1).headers['x-session-id'];
  assert.ok(sid);

  // The token and the session id, copied: with another key, with no
  // proof, with the client's own proof again.
  const thief = await DPoPKey.generate();
  const asThief = await fetch(hello, { headers: { ...(await thief.headers('GET', hello, tok)), 'X-Session-Id': sid } });
  assert.equal(asThief.status, 401);
  assert.equal(asThief.headers.get('X-Sessionguard-Reason'), 'dpop_invalid');
  const bare = await fetch(hello, { headers: { Authorization: 'DPoP ' + tok, 'X-Session-Id': sid } });
  assert.equal(bare.status, 401);
  assert.equal(bare.headers.get('X-Sessionguard-Reason'), 'dpop_required');
  const replay = f.sent.find((s) => s.url.href === hello).headers.dpop;
  const replayed = await fetch(hello, { headers: { Authorization: 'DPoP ' + tok, DPoP: replay, 'X-Session-Id': sid } });
  assert.equal(replayed.status, 401);
  assert.equal(replayed.headers.get('X-Sessionguard-Reason'), 'dpop_invalid');
  const signOutAsThief = await fetch(stack + '/sessions/current', { method: 'DELETE', headers: { ...(await thief.headers('DELETE', stack + '/sessions/current', tok)), 'X-Session-Id': sid } });
  assert.equal(signOutAsThief.status, 401, 'nor can the thief end it');
  assert.equal((await c.fetch(hello)).status, 200, 'the client goes on');

  await c.signOut();
  const out = f.sent.at(-1);
  assert.equal(out.method, 'DELETE');
  assert.equal(decode(out.headers.dpop.split('.')[1]).htm, 'DELETE');
  assert.deepEqual(refusals, []);
  const after = await fetch(hello, { headers: { ...(await key.headers('GET', hello, tok)), 'X-Session-Id': sid } });
  assert.equal(after.headers.get('X-Sessionguard-Reason'), 'session_revoked');
});

test('a DPoP refusal reaches onRefusal with its reason', async () => {
  // Still under required (the test before set it).
  const key = await DPoPKey.generate();
  const refusals = [];
  const c = new SessionClient({
    sessionsUrl: stack, getAccessToken: () => devToken('erin'), transport: 'header', pollSeconds: 0, dpop: key,
    onRefusal: (r) => refusals.push(r),
  });
  await assert.rejects(c.signIn());
  assert.equal(refusals.length, 1);
  assert.equal(refusals[0].reason, 'dpop_required', 'an unbound token under required');
  assert.equal(refusals[0].action, 'sign-in');
});
