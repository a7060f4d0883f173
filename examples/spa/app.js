// The example single-page app: it signs its user in with oidc-client-ts
// (authorization code flow with PKCE), starts a sessionguard session with
// the access token through the client library (clients/browser), calls the
// example API with it, shows the expiry warning with "Keep working", lists
// the user's sessions ("Your sessions": end one, or sign out everywhere
// else), and signs out. The local stack serves it at /spa/ with
// config.json.
/* global oidc */
import { SessionClient, SessionRefusedError } from './sessionguard.js';

const $ = (id) => document.getElementById(id);
const cfg = await (await fetch('config.json')).json();

// The IdP library: it holds the tokens (in sessionStorage, its default).
const idp = new oidc.UserManager({
  authority: cfg.authority,
  client_id: cfg.clientId,
  redirect_uri: cfg.redirectUri,
  post_logout_redirect_uri: cfg.redirectUri,
  response_type: 'code',
  scope: cfg.scope,
  automaticSilentRenew: false, // the session asks for the token before each call
});

// The access token for each request. Near its end, or when sessionguard
// found it expired, a new one comes from the refresh token, without
// leaving the page.
async function accessToken({ forceRefresh } = {}) {
  let user = await idp.getUser();
  if (user?.refresh_token && (forceRefresh || user.expires_in < 60)) user = await idp.signinSilent();
  return user && !user.expired ? user.access_token : null;
}

// The sessionguard session. The sessions routes are on this page's origin,
// so the session travels in its HttpOnly cookie: this script never sees
// the session id.
const session = new SessionClient({
  sessionsUrl: cfg.sessionsUrl,
  apiUrls: [cfg.apiUrl + '/'],
  getAccessToken: accessToken,
  pollSeconds: cfg.pollSeconds,
  onRefusal: refused,
});

let leaving = false;

// refused is the one place that decides what a refusal means here.
async function refused(r) {
  if (leaving) return; // already on the way to the identity provider
  if (r.action === 'sign-in') {
    leaving = true;
    hideWarning();
    say(r.reason === 'session_revoked' ? 'Your session was ended. Taking you to sign in again…' : 'Your session has ended. Taking you to sign in…');
    // After a sign-out or a revocation (prompt=login) the identity
    // provider's session ends too, so the next sign-in is a new
    // authentication, not the old one reused.
    if (r.prompt === 'login') return endIdPSessionThenSignIn();
    await idp.removeUser();
    return idp.signinRedirect();
  }
  problem(r.action === 'retry'
    ? 'The service cannot check your session right now. Try again in a moment.'
    : `You are not allowed to do that (${r.reason}).`);
}

// Ends the identity provider's session (when it offers that), which comes
// back here to sign in again; else signs in again asking for credentials.
async function endIdPSessionThenSignIn() {
  // The state brings the user back here with ?state=, to be sent on.
  if (await idp.metadataService.getEndSessionEndpoint()) return idp.signoutRedirect({ state: { then: 'sign-in' } });
  await idp.removeUser();
  return idp.signinRedirect({ prompt: 'login' });
}

// --- the page ---

function say(text) {
  $('status').textContent = text;
}

function problem(text) {
  $('problem').textContent = text;
  $('problem').hidden = !text;
}

function show(view) {
  $('signed-out').hidden = view !== 'signed-out';
  $('signed-in').hidden = view !== 'signed-in';
  $('your-sessions').hidden = view !== 'signed-in';
}

const timeOf = (d) => (d ? d.toLocaleString() : null);

function showLimits() {
  const i = session.info;
  if (!i) return;
  const rows = [
    ['Signed in as', i.userId],
    ['Stay signed in', i.staySignedIn ? 'yes' : 'no'],
    ['Session ends', timeOf(i.expiresAt) || 'no fixed end'],
    ['Ends after inactivity', timeOf(i.idleExpiresAt) || 'no idle timeout'],
  ];
  $('limits').replaceChildren(...rows.flatMap(([k, v]) => {
    const dt = document.createElement('dt');
    const dd = document.createElement('dd');
    dt.textContent = k;
    dd.textContent = v;
    return [dt, dd];
  }));
}

function signedIn() {
  show('signed-in');
  showLimits();
  say(`Signed in as ${session.info.userId}.`);
  showSessions().catch((e) => problem(`Could not list your sessions: ${e.message}`));
}

// --- your sessions ---

const deviceOf = (s) => s.device || 'Unknown device';

// showSessions lists the user's sessions: this one first, each other with
// an End button.
async function showSessions() {
  let mine, truncated;
  try {
    ({ sessions: mine, truncated } = await session.listSessions());
  } catch (e) {
    if (e instanceof SessionRefusedError) return; // refused() has it
    throw e;
  }
  $('sessions-more').hidden = !truncated;
  $('sessions').replaceChildren(...mine.map((s) => {
    const li = document.createElement('li');
    li.dataset.id = s.id;
    const device = document.createElement('span');
    device.className = 'device';
    device.textContent = deviceOf(s);
    const when = document.createElement('span');
    when.className = 'when';
    when.textContent = `signed in ${timeOf(s.createdAt)}, last active ${timeOf(s.lastActiveAt)}`;
    li.append(device, when);
    if (s.current) {
      const here = document.createElement('span');
      here.className = 'here';
      here.textContent = 'This device';
      li.append(here);
    } else {
      const end = document.createElement('button');
      end.type = 'button';
      end.className = 'secondary';
      end.textContent = 'End';
      end.setAttribute('aria-label', `End the session on ${deviceOf(s)}, signed in ${timeOf(s.createdAt)}`);
      end.addEventListener('click', () => endSession(s));
      li.append(end);
    }
    return li;
  }));
  $('end-others').hidden = mine.length < 2;
}

async function endSession(s) {
  problem('');
  let ended;
  try {
    ended = await session.endSession(s.id);
  } catch (e) {
    if (e instanceof SessionRefusedError) return;
    throw e;
  }
  say(ended ? `Ended the session on ${deviceOf(s)}.` : `The session on ${deviceOf(s)} had already ended.`);
  await showSessions();
  ($('end-others').hidden ? $('call') : $('end-others')).focus(); // its End button is gone
}

$('end-others').addEventListener('click', async () => {
  problem('');
  let n, truncated;
  try {
    ({ ended: n, truncated } = await session.endOtherSessions());
  } catch (e) {
    if (e instanceof SessionRefusedError) return;
    throw e;
  }
  say((n === 1 ? 'Signed out of 1 other session.' : `Signed out of ${n} other sessions.`) +
    (truncated ? ' Some are still being ended: try again in a moment.' : ''));
  await showSessions();
});

// --- the expiry warning ---

let ticking = null;

function fmt(ms) {
  const s = Math.ceil(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

function tick() {
  const left = session.timeLeft();
  if (left !== null) $('countdown').textContent = fmt(left);
}

function showWarning({ kind }) {
  const idle = kind === 'idle';
  $('warning-lead').textContent = idle ? 'Your session ends after inactivity in' : 'Your session ends in';
  $('warning-advice').textContent = idle ? 'Choose Keep working to stay signed in.' : 'Save your work: you will need to sign in again.';
  $('keep').hidden = !idle;
  tick();
  const first = $('warning').hidden;
  $('warning').hidden = false;
  clearInterval(ticking);
  ticking = setInterval(tick, 1000);
  if (first) {
    say(`${$('warning-lead').textContent} about ${Math.max(1, Math.round(session.timeLeft() / 60000))} minutes.`);
    if (idle) $('keep').focus();
  }
}

function hideWarning() {
  clearInterval(ticking);
  $('warning').hidden = true;
}

session.addEventListener('warning', (e) => showWarning(e.detail));
session.addEventListener('warningcleared', () => {
  hideWarning();
  showLimits();
});
session.addEventListener('expired', () => hideWarning());

// --- actions ---

async function begin(staySignedIn) {
  try {
    await session.signIn({ staySignedIn });
  } catch (e) {
    if (e instanceof SessionRefusedError) return; // refused() has it
    throw e;
  }
  signedIn();
}

$('signin').addEventListener('click', () => {
  say('Taking you to sign in…');
  idp.signinRedirect({ state: { staySignedIn: $('stay').checked } });
});

$('call').addEventListener('click', async () => {
  problem('');
  const res = await session.fetch(cfg.apiUrl + '/hello');
  $('answer').textContent = res.ok ? JSON.stringify(await res.json(), null, 2) : `The API answered ${res.status}.`;
  showLimits();
});

$('keep').addEventListener('click', async () => {
  try {
    await session.keepWorking();
  } catch (e) {
    if (!(e instanceof SessionRefusedError)) throw e;
    return;
  }
  $('call').focus();
  say('You are still signed in.');
});

$('signout').addEventListener('click', async () => {
  say('Signing out…');
  try {
    await session.signOut();
  } catch (e) {
    if (e instanceof SessionRefusedError) return; // refused() has it
    problem('Could not reach the service to sign you out. Try again.');
    return;
  }
  leaving = true;
  hideWarning();
  await endIdPSessionThenSignIn();
});

// --- start-up ---

async function start() {
  const q = new URLSearchParams(location.search);
  if (q.has('error')) {
    history.replaceState(null, '', location.pathname);
    problem(`The identity provider did not sign you in: ${q.get('error_description') || q.get('error')}.`);
  } else if (q.has('code')) { // back from the sign-in
    const user = await idp.signinRedirectCallback();
    history.replaceState(null, '', location.pathname);
    return begin(!!user.state?.staySignedIn);
  } else if (q.has('state')) { // back from the identity provider's sign-out
    await idp.signoutRedirectCallback();
    history.replaceState(null, '', location.pathname);
    say('You are signed out. Taking you to sign in again…');
    return idp.signinRedirect({ prompt: 'login' });
  }
  const user = await idp.getUser();
  if (user && !user.expired) {
    if (await session.resume()) return signedIn();
    if (!leaving) return begin(false); // signed in at the IdP, but no session here yet
    return;
  }
  show('signed-out');
  say('You are not signed in.');
}

start().catch((e) => problem(`Something went wrong: ${e.message}`));
