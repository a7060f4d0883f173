// The world the snippets of docs/integrating-your-app.md run in, under
// Node against the local stack (TestIntegrationGuide in
// infra/local/clientlib_test.go): stand-ins for the IdP libraries (MSAL,
// oidc-client-ts, Amplify) that answer with development tokens for the
// user GUIDE_USER, stand-ins for the app's UI functions, and a fetch that
// prints each request the snippet makes ("request METHOD PATH STATUS").
// Each stand-in prints its calls ("call NAME ARGS"); the Go test reads
// what was printed.
import { SessionClient } from '../sessionguard.js';
import { stack, devToken, setPolicy, moveClock, revokeUser, memoryStorage } from './stack.js';

export { SessionClient };
export const user = process.env.GUIDE_USER;
export const sessionsUrl = stack;
export const apiUrl = stack + '/example';
// The same example API on the local stack's second stage (environment staging).
export const stagingApiUrl = stack + '/staging/example';
export const userChoseToStay = true;

export function log(...parts) {
  process.stdout.write(parts.join(' ') + '\n');
}

// What the harness itself asks of the stack is not printed.
let quiet = 0;
async function quietly(fn) {
  quiet++;
  try {
    return await fn();
  } finally {
    quiet--;
  }
}
const realFetch = globalThis.fetch;
globalThis.fetch = async (input, init) => {
  const r = new Request(input, init);
  const printed = quiet === 0;
  const res = await realFetch(r);
  if (printed) log('request', r.method, new URL(r.url).pathname, res.status);
  return res;
};
// A browser's sessionStorage, for the snippets that opt in to it.
globalThis.sessionStorage ??= memoryStorage();

export function call(name, ...args) {
  log('call', name, ...args.map((a) => String(a ?? '')));
}

const token = () => quietly(() => devToken(user));

// The app's own functions.
export const getAccessToken = async () => token();
export const handleRefusal = (r) => call('handleRefusal', r.reason, r.action, r.prompt);
export const showMessage = (text) => call('showMessage', text);
export const showWarning = (text) => call('showWarning', text);
export const hideWarning = () => call('hideWarning');

// The IdP libraries.
export class PublicClientApplication {
  async initialize() {}
  getActiveAccount() {
    return { username: user };
  }
  async acquireTokenSilent({ scopes, forceRefresh }) {
    call('msal.acquireTokenSilent', `scopes=${scopes}`, forceRefresh ? 'forceRefresh' : '');
    return { accessToken: await token() };
  }
  async loginRedirect(o = {}) {
    call('msal.loginRedirect', `prompt=${o.prompt ?? ''}`);
  }
  async logoutRedirect() {
    call('msal.logoutRedirect');
  }
}
export const msalInstance = new PublicClientApplication();

export class UserManager {
  async getUser() {
    call('userManager.getUser');
    return { access_token: await token(), expires_in: 3600, expired: false, refresh_token: 'refresh' };
  }
  async signinSilent() {
    call('userManager.signinSilent');
    return { access_token: await token(), expires_in: 3600, expired: false, refresh_token: 'refresh' };
  }
  async signinRedirect(o = {}) {
    call('userManager.signinRedirect', `prompt=${o.prompt ?? ''}`);
  }
  async signoutRedirect() {
    call('userManager.signoutRedirect');
  }
}
export const userManager = new UserManager();

export async function fetchAuthSession({ forceRefresh } = {}) {
  call('fetchAuthSession', forceRefresh ? 'forceRefresh' : '');
  const t = await token();
  return { tokens: { accessToken: { toString: () => t } } };
}

// world is what a snippet finds already there: a token, and a signed-in
// session (the harness's, not printed) for the snippets that use one.
export async function world() {
  const session = new SessionClient({ sessionsUrl, getAccessToken, onRefusal: handleRefusal, pollSeconds: 0 });
  await quietly(() => session.signIn());
  return { session, accessToken: await token() };
}

// What the Go test does around a snippet, not printed.
export const policy = (p) => quietly(() => setPolicy(p));
export const clock = (ms) => quietly(() => moveClock(ms));
export const revoke = () => quietly(() => revokeUser(user));

// done ends the run (the clients' timers would keep Node waiting).
export function done() {
  log('done');
  process.exit(0);
}
