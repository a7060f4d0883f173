// Types of @sessionguard/browser/dpop (dpop.js).

/** A DPoP key pair (ES256, the private key non-extractable), and the proofs it signs. */
export class DPoPKey {
  private constructor();
  /** Generates a key pair with WebCrypto: ECDSA P-256, the private key non-extractable. */
  static generate(options?: { crypto?: Crypto }): Promise<DPoPKey>;
  /** The DPoP key of an ECDSA P-256 key pair the app kept (in IndexedDB, say). */
  static fromKeyPair(keys: CryptoKeyPair, options?: { crypto?: Crypto }): Promise<DPoPKey>;
  /** The key's SHA-256 thumbprint: what a bound token's cnf.jkt names. */
  readonly thumbprint: string;
  /** The public key as a proof's header carries it. */
  readonly publicJwk: { crv: 'P-256'; kty: 'EC'; x: string; y: string };
  /** The key pair, for the app to keep; its private key is not extractable. */
  readonly keyPair: CryptoKeyPair;
  /** A proof for one request (method, URL; the access token sent with it, hashed into ath). */
  proof(method: string, url: string | URL, accessToken?: string | null, now?: number): Promise<string>;
  /** The Authorization (DPoP for a bound token, else Bearer) and DPoP headers of one request. */
  headers(method: string, url: string | URL, accessToken?: string | null, now?: number): Promise<{ DPoP: string; Authorization?: string }>;
}

/** Generates a DPoP key (DPoPKey.generate). */
export function createDPoPKey(options?: { crypto?: Crypto }): Promise<DPoPKey>;

/** 'DPoP' for a JWT bound to a key (cnf.jkt), else 'Bearer'. */
export function schemeOf(token: string): 'DPoP' | 'Bearer';
