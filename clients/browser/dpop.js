// @sessionguard/browser/dpop: DPoP proofs for a SessionClient.
//
// With DPoP the app holds a private key that never leaves the browser: its
// IdP binds the access token to the key (cnf.jkt), sessionguard binds the
// session to it at sign-in, and every request carries a fresh proof signed
// by it. A token or session id copied out of the page, a log or a proxy is
// then useless elsewhere. See README.md and docs/integrating-your-app.md.
//
// The key is made with WebCrypto: ECDSA P-256 (ES256), its private half
// non-extractable, so no script can read it out, only sign with it while
// the page holds it. A page that must survive a reload can keep the
// CryptoKeyPair in IndexedDB (it stays non-extractable there) and give it
// back to DPoPKey.fromKeyPair.

/** A DPoP key pair, and the proofs it signs. */
export class DPoPKey {
  #keys;
  #jwk;
  #thumbprint;
  #crypto;

  constructor(keys, jwk, thumbprint, crypto) {
    this.#keys = keys;
    this.#jwk = jwk;
    this.#thumbprint = thumbprint;
    this.#crypto = crypto;
  }

  /**
   * Generates a key pair: ES256, the private key non-extractable.
   * @param {{crypto?: Crypto}} [options] the WebCrypto to use (default globalThis.crypto)
   */
  static async generate({ crypto = globalThis.crypto } = {}) {
    const keys = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
    return DPoPKey.fromKeyPair(keys, { crypto });
  }

  /**
   * The DPoP key of an ECDSA P-256 CryptoKeyPair kept by the app (from
   * IndexedDB, say).
   */
  static async fromKeyPair(keys, { crypto = globalThis.crypto } = {}) {
    if (keys?.privateKey?.algorithm?.name !== 'ECDSA' || keys.privateKey.algorithm.namedCurve !== 'P-256') {
      throw new TypeError('a DPoP key is an ECDSA P-256 key pair');
    }
    const pub = await crypto.subtle.exportKey('jwk', keys.publicKey);
    // The required members only: what the proof's header carries, and,
    // in this order (lexicographic), what the thumbprint hashes.
    const jwk = { crv: 'P-256', kty: 'EC', x: pub.x, y: pub.y };
    const sum = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(JSON.stringify(jwk)));
    return new DPoPKey(keys, jwk, b64url(sum), crypto);
  }

  /** The key's SHA-256 thumbprint: what a bound token's cnf.jkt and a bound session hold. */
  get thumbprint() {
    return this.#thumbprint;
  }

  /** The public key, as a proof's header carries it. */
  get publicJwk() {
    return { ...this.#jwk };
  }

  /** The key pair (the private key is not extractable), for the app to keep. */
  get keyPair() {
    return this.#keys;
  }

  /**
   * Signs a proof for one request: method and URL (query and fragment are
   * left out), the access token sent with it (hashed into ath; none for
   * a request without one), iat from now (ms since the epoch; default the
   * page's clock), a random jti. Resolves to the compact JWS for the DPoP
   * header.
   */
  async proof(method, url, accessToken, now = Date.now()) {
    const u = new URL(url, globalThis.location?.href);
    u.search = '';
    u.hash = '';
    const header = { typ: 'dpop+jwt', alg: 'ES256', jwk: this.#jwk };
    const claims = { jti: b64url(this.#crypto.getRandomValues(new Uint8Array(16))), htm: method.toUpperCase(), htu: u.href, iat: Math.floor(now / 1000) };
    if (accessToken) {
      claims.ath = b64url(await this.#crypto.subtle.digest('SHA-256', new TextEncoder().encode(accessToken)));
    }
    const input = b64url(new TextEncoder().encode(JSON.stringify(header))) + '.' + b64url(new TextEncoder().encode(JSON.stringify(claims)));
    // WebCrypto's ECDSA signature is r || s, 32 octets each: the JWS form.
    const sig = await this.#crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, this.#keys.privateKey, new TextEncoder().encode(input));
    return input + '.' + b64url(sig);
  }

  /**
   * The headers of one request with accessToken: Authorization (scheme
   * DPoP for a token bound to a key, else Bearer; none without a token) and
   * DPoP (a fresh proof). SessionClient's dpop option calls this for each
   * request it sends.
   */
  async headers(method, url, accessToken, now) {
    const h = { DPoP: await this.proof(method, url, accessToken, now) };
    if (accessToken) h.Authorization = schemeOf(accessToken) + ' ' + accessToken;
    return h;
  }
}

/** Generates a DPoP key (DPoPKey.generate). */
export function createDPoPKey(options) {
  return DPoPKey.generate(options);
}

/**
 * The scheme to send a token with: DPoP for a JWT that names the key it is
 * bound to (cnf.jkt), Bearer for any other (a session bound to a key still
 * gets a proof with it).
 */
export function schemeOf(token) {
  const parts = typeof token === 'string' ? token.split('.') : [];
  if (parts.length !== 3) return 'Bearer';
  try {
    const json = atob(parts[1].replace(/-/g, '+').replace(/_/g, '/'));
    return JSON.parse(json)?.cnf?.jkt ? 'DPoP' : 'Bearer';
  } catch {
    return 'Bearer';
  }
}

function b64url(buf) {
  const bytes = buf instanceof Uint8Array ? buf : new Uint8Array(buf);
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
