// How an app written in TypeScript uses the DPoP module with a session
// (TestClientTypes runs tsc on it; each @ts-expect-error must be one).
import { SessionClient } from '../../sessionguard.js';
import { DPoPKey, createDPoPKey, schemeOf } from '../../dpop.js';

declare function tokenBoundTo(thumbprint: string): Promise<string>;
declare const kept: CryptoKeyPair;

async function app(): Promise<void> {
  const key: DPoPKey = await DPoPKey.generate();
  const again: DPoPKey = await DPoPKey.fromKeyPair(kept);
  const other: DPoPKey = await createDPoPKey({ crypto: globalThis.crypto });
  const jkt: string = key.thumbprint;
  const x: string = key.publicJwk.x;
  const pair: CryptoKeyPair = again.keyPair;
  const proof: string = await other.proof('POST', 'https://idp.example.com/token');
  const h: { DPoP: string; Authorization?: string } = await key.headers('GET', new URL('https://api.example.com/x'), 'tok');
  const scheme: 'DPoP' | 'Bearer' = schemeOf(proof);
  const session = new SessionClient({ sessionsUrl: 'https://api.example.com', getAccessToken: () => tokenBoundTo(jkt), dpop: key });
  await session.signIn();
  void [x, pair, h, scheme];
  // @ts-expect-error the dpop option is a DPoPKey, not its thumbprint
  new SessionClient({ sessionsUrl: 'https://api.example.com', getAccessToken: () => 't', dpop: jkt });
  // @ts-expect-error a DPoPKey is made by generate or fromKeyPair
  new DPoPKey();
}
void app;
