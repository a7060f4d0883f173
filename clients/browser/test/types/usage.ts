// How an app written in TypeScript uses the library: this file must
// type-check under strict settings against sessionguard.d.ts
// (TestClientTypes runs tsc on it), and each @ts-expect-error line must
// be an error, so a declaration that is too loose fails too.
import { SessionClient, createSession, actionOf, SessionError, SessionRefusedError } from '../../sessionguard.js';
import type { Refusal, SessionInfo, WarningDetail, RefusalAction, ReasonCode, OwnSession, OwnSessionList, EndedSessions } from '../../sessionguard.js';

declare function tokenFromMyIdP(): Promise<string>;
declare function showWarning(text: string): void;

const session = new SessionClient({
  sessionsUrl: 'https://app.example.com',
  getAccessToken: ({ forceRefresh }) => (forceRefresh ? tokenFromMyIdP() : tokenFromMyIdP()),
  onRefusal: (r: Refusal) => {
    const action: RefusalAction = r.action;
    const reason: ReasonCode | undefined = r.reason;
    if (action === 'sign-in' && r.prompt === 'login' && reason === 'session_revoked') {
      showWarning(`${r.operation}: ${r.status}`);
    }
  },
  environment: 'staging',
  transport: 'auto',
  storage: 'memory',
  apiUrls: ['https://app.example.com/api'],
  pollSeconds: 60,
});

async function app(): Promise<void> {
  const info: SessionInfo = await session.signIn({ staySignedIn: true });
  const ends: Date | undefined = info.expiresAt ?? info.idleExpiresAt;
  const left: number | null = session.timeLeft();
  const res: Response = await session.fetch('https://app.example.com/api/items', { method: 'GET' });
  session.addEventListener('warning', (e) => {
    const d: WarningDetail = e.detail;
    showWarning(`${d.kind} ${d.secondsLeft} ${d.endsAt.toISOString()} ${String(ends)} ${String(left)} ${res.status}`);
  });
  session.addEventListener('expired', (e) => showWarning(e.detail.reason));
  await session.keepWorking();
  const resumed: SessionInfo | null = await session.resume();
  if (resumed?.environment === 'staging') await session.signOut();
  const other = await createSession({ sessionsUrl: '/sg', getAccessToken: () => 'token', staySignedIn: false });
  other.close();
  // A "your sessions" page.
  const listed: OwnSessionList = await session.listSessions();
  const mine: OwnSession[] = listed.sessions;
  if (listed.truncated) showWarning('more sessions than listed');
  for (const s of mine) {
    const seen: Date = s.lastActiveAt;
    showWarning(`${s.id} ${s.device ?? 'unknown device'} ${s.createdAt.toISOString()} ${seen.toISOString()} ${s.current ? 'this device' : ''}`);
    if (!s.current) {
      const ended: boolean = await session.endSession(s.id);
      showWarning(String(ended));
    }
  }
  const others: EndedSessions = await session.endOtherSessions();
  const n: number = others.ended;
  showWarning(`${n} ${others.truncated ? 'and more' : ''} ${session.info?.id ?? ''}`);
  const a: RefusalAction = actionOf(503, 'dependency_unavailable');
  try {
    await session.check();
  } catch (err) {
    if (err instanceof SessionRefusedError) showWarning(err.refusal.action + a);
    else if (err instanceof SessionError) showWarning(err.message);
  }

  // @ts-expect-error: sessionsUrl is required
  new SessionClient({ getAccessToken: () => 'token' });
  // @ts-expect-error: the transport is one of three words
  new SessionClient({ sessionsUrl: '/', getAccessToken: () => 'token', transport: 'localStorage' });
  // @ts-expect-error: a warning's detail has no such field
  session.addEventListener('warning', (e) => e.detail.token);
  // @ts-expect-error: info is read-only
  session.info = null;
  // @ts-expect-error: a session is ended by its listed id, a string
  await session.endSession(mine[0]);
  // @ts-expect-error: the list is an object with its sessions, not an array
  (await session.listSessions()).map((s: OwnSession) => s.id);
  // @ts-expect-error: endOtherSessions says what it did, not a bare count
  const count: number = await session.endOtherSessions();
  void count;
  // @ts-expect-error: the list's times are Dates
  const created: string = mine[0].createdAt;
  void created;
}
void app;
