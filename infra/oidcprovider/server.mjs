// A real, OpenID Certified OpenID Provider (oidc-provider, pinned in the
// repository's package.json) for sessionguard's tests. Started and stopped
// by the Go package beside it (infra/oidcprovider), never by hand.
//
// Configuration comes from the environment:
//   OP_ISSUER     the issuer URL (http://127.0.0.1:PORT)
//   OP_PORT       the loopback port to listen on
//   OP_JWKS_FILE  the private signing keys (a JWKS); the first RS256 key signs
//   OP_CLIENTS    the clients, as oidc-provider's client metadata (JSON)
//   OP_RESOURCE   the API resource indicator; access tokens for it are JWTs (RFC 9068)
//
// Users: any login name signs in on the development login page; a name
// starting with "admin" carries the role sessionguard-admin. A token
// request with a DPoP header gets a DPoP-bound access token.
import fs from 'node:fs';
import Provider, { errors } from 'oidc-provider';

const issuer = process.env.OP_ISSUER;
const port = Number(process.env.OP_PORT);
const jwks = JSON.parse(fs.readFileSync(process.env.OP_JWKS_FILE, 'utf8'));
const clients = JSON.parse(process.env.OP_CLIENTS);
const api = process.env.OP_RESOURCE;

const rolesOf = (sub) => (sub && sub.startsWith('admin') ? ['sessionguard-admin'] : []);

const provider = new Provider(issuer, {
  clients,
  jwks,
  findAccount: async (_ctx, sub) => ({
    accountId: sub,
    claims: async () => ({ sub, name: sub, roles: rolesOf(sub) }),
  }),
  claims: { openid: ['sub'], profile: ['name'], roles: ['roles'] },
  scopes: ['openid', 'profile', 'roles', 'api', 'offline_access'],
  clientBasedCORS: () => true, // the console redeems its code from the browser
  // oidc-provider refuses outgoing requests to special-use addresses (SSRF
  // protection); this test provider posts back-channel logout tokens to
  // receivers on loopback, so it sends without that dispatcher.
  fetch: (url, options) => {
    const { dispatcher: _ssrfGuard, ...rest } = options;
    return globalThis.fetch(url, rest);
  },
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: true },
    clientCredentials: { enabled: true },
    backchannelLogout: { enabled: true },
    // DPoP: a token request with a proof gets an access token bound to the
    // proof's key (cnf.jkt in the JWT, token_type DPoP). No nonces, as
    // sessionguard's resource side uses none.
    dPoP: { enabled: true, allowReplay: false },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => api,
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx, resource) => {
        if (resource !== api) throw new errors.InvalidTarget();
        return { scope: 'api', audience: api, accessTokenFormat: 'jwt', accessTokenTTL: 3600, jwt: { sign: { alg: 'RS256' } } };
      },
    },
  },
  // The access token carries the user's roles (the admin API reads them)
  // and the OP session's sid, as Keycloak's and Auth0's do: sessionguard
  // records it, and a back-channel logout for that sid ends the session.
  extraTokenClaims: async (_ctx, token) => (token.accountId
    ? { roles: rolesOf(token.accountId), ...(token.sid ? { sid: token.sid } : {}) }
    : undefined),
  // Consent is granted with the login: the tests exercise sign-in, not consent.
  loadExistingGrant: async (ctx) => {
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid profile roles offline_access');
    grant.addOIDCClaims(['roles']);
    grant.addResourceScope(api, 'api');
    await grant.save();
    return grant;
  },
});
provider.proxy = false;
provider.on('backchannel.error', (_ctx, err, client) => console.log(`backchannel logout to ${client.clientId} failed: ${err.message}`));
provider.on('backchannel.success', (_ctx, client, accountId, sid) => console.log(`backchannel logout to ${client.clientId}: ${accountId} ${sid}`));
provider.on('server_error', (_ctx, err) => console.log(`server error: ${err.stack}`));

const server = provider.listen(port, '127.0.0.1', () => {
  console.log(`oidc-provider ready at ${issuer}`);
});
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
