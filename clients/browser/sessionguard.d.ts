// Types of @sessionguard/browser (sessionguard.js).

/** Options of a SessionClient. */
export interface SessionOptions {
  /** Where the sessions routes are: `${sessionsUrl}/sessions`, `/sessions/current`. Relative URLs resolve against the page. */
  sessionsUrl: string;
  /**
   * The access token from the app's IdP library, asked for before every
   * request (the library caches and renews it). `forceRefresh` is set once
   * after sessionguard found the token expired: get a new one from the IdP.
   * Return null or '' when there is none (the request then goes without one
   * and is refused: token_missing).
   */
  getAccessToken: (options: { forceRefresh?: boolean }) => Promise<string | null | undefined> | string | null | undefined;
  /** Called once for each refusal, with what to do about it. */
  onRefusal?: (refusal: Refusal) => void;
  /** The environment, sent as `?environment=<id>` on each sessions call (one deployment serving several). */
  environment?: string;
  /**
   * How the session travels: 'header' (X-Session-Id; the id held by this
   * module), 'cookie' (the HttpOnly `__Host-sg_session` cookie the sign-in
   * answer sets; no header, and the id never reaches JavaScript), or 'auto'
   * (default): 'cookie' when sessionsUrl is on the page's own origin, else
   * 'header'.
   */
  transport?: 'auto' | 'header' | 'cookie';
  /**
   * Where the session id is kept in header mode: 'memory' (default: a
   * reload signs in again) or 'sessionStorage' (this tab survives a reload),
   * or a Storage-like object. Never localStorage: see the README.
   */
  storage?: 'memory' | 'sessionStorage' | Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;
  /**
   * URL prefixes that get the token and session from fetch(), matched by
   * whole path segments (/app covers /app/x, not /app-admin); default:
   * sessionsUrl's origin. A request carrying them never follows a redirect.
   */
  apiUrls?: string[];
  /** How often the session is checked in the background, in seconds; default 60, 0 for never. */
  pollSeconds?: number;
  /** The session header's name, if the deployment changed SESSION_HEADER; default X-Session-Id. */
  sessionHeader?: string;
  /** The fetch to send requests with; default globalThis.fetch. */
  fetch?: typeof fetch;
  /**
   * A DPoP key (@sessionguard/browser/dpop): every request then carries a
   * fresh proof signed by it, and a token bound to it goes as
   * `Authorization: DPoP`; the session is bound to the key at sign-in.
   */
  dpop?: { headers(method: string, url: string, accessToken: string | null, now: number): Promise<{ DPoP: string; Authorization?: string }> };
}

/** What the app should do about a refusal. */
export type RefusalAction = 'sign-in' | 'retry' | 'forbidden';

/** The reason codes of sessionguard (docs/reason-codes.md). */
export type ReasonCode =
  | 'token_missing' | 'token_malformed' | 'token_signature' | 'token_expired' | 'token_not_yet_valid'
  | 'token_issuer' | 'token_audience' | 'token_too_large' | 'dpop_invalid' | 'dpop_required'
  | 'session_missing' | 'session_unknown' | 'binding_user' | 'binding_environment'
  | 'session_expired' | 'session_idle' | 'session_revoked' | 'user_disabled' | 'policy_check_stale'
  | 'environment_unknown' | 'dependency_unavailable' | 'forbidden';

/** A refusal, as given to onRefusal. */
export interface Refusal {
  /** What was being done. */
  operation: 'signIn' | 'resume' | 'check' | 'keepWorking' | 'signOut' | 'fetch' | 'listSessions' | 'endSession' | 'endOtherSessions';
  /** The status of the sessions API's answer: 401, 403 or 503. */
  status: number;
  reason?: ReasonCode;
  /** 'sign-in' (401), 'forbidden' (403), 'retry' (503: a dependency of the service is down). */
  action: RefusalAction;
  /** 'login' after a sign-out or a revocation: ask the IdP for a new authentication, not its current session. */
  prompt?: 'login';
  title?: string;
  detail?: string;
}

/** A session's limits as the sessions API answered them. */
export interface SessionInfo {
  /** The session's id as listSessions gives it (not the session id itself, which is a secret). */
  id?: string;
  userId?: string;
  environment?: string;
  staySignedIn: boolean;
  /** Absent when the session has no absolute end. */
  expiresAt?: Date;
  warnAt?: Date;
  /** Absent when no idle timeout applies. */
  idleExpiresAt?: Date;
  idleWarnAt?: Date;
  /** The server's time of the answer. */
  serverNow: Date;
}

/** One of the user's own sessions, as listSessions gives it. */
export interface OwnSession {
  /** Its id for endSession: 16 hex digits of the hash of the session id, never the session id. */
  id: string;
  /** Whether it is this client's session. */
  current: boolean;
  /** The browser and platform it was signed in from, in a few words ("Firefox on Linux"); absent when unknown. */
  device?: string;
  clientId?: string;
  staySignedIn: boolean;
  createdAt: Date;
  /** The last recorded activity (recorded at most once per activity interval), or the sign-in. */
  lastActiveAt: Date;
  /** Absent when it has no absolute end. */
  expiresAt?: Date;
  /** Absent when no idle timeout applies. */
  idleExpiresAt?: Date;
}

/** The user's own sessions, as listSessions gives them. */
export interface OwnSessionList {
  /** This session first, then the most recently active; at most 100 besides this one. */
  sessions: OwnSession[];
  /** True when the user has more sessions than were listed. */
  truncated: boolean;
}

/** What endOtherSessions did. */
export interface EndedSessions {
  /** How many live sessions it ended. */
  ended: number;
  /** True when the server still had sessions to mark ended after the requests it makes (up to 5); they are refused already. */
  truncated: boolean;
}

export interface WarningDetail {
  kind: 'absolute' | 'idle';
  endsAt: Date;
  secondsLeft: number;
}

export interface ExpiredDetail {
  kind: 'absolute' | 'idle';
  reason: 'session_expired' | 'session_idle';
}

export interface SessionClientEventMap {
  warning: CustomEvent<WarningDetail>;
  warningcleared: Event;
  expired: CustomEvent<ExpiredDetail>;
}

/** A sessionguard session of one signed-in user. */
export class SessionClient extends EventTarget {
  constructor(options: SessionOptions);
  readonly transport: 'header' | 'cookie';
  readonly active: boolean;
  readonly info: SessionInfo | null;
  /** Milliseconds to the nearest end, counted on the server's clock; null without an end. */
  timeLeft(): number | null;
  signIn(options?: { staySignedIn?: boolean }): Promise<SessionInfo>;
  resume(): Promise<SessionInfo | null>;
  check(): Promise<SessionInfo | null>;
  keepWorking(): Promise<SessionInfo>;
  signOut(): Promise<void>;
  /** The user's own live sessions in this environment, this one first, and whether more remained. */
  listSessions(): Promise<OwnSessionList>;
  /** Ends one of them (and the user's others of its IdP session) by its id: true when it ended, false when it is not a session of the user's that had not ended. This one's own id signs out. */
  endSession(id: string): Promise<boolean>;
  /** "Sign out everywhere else": ends all the user's other sessions at once, this one kept; after it, a new sign-in needs a new authentication at the IdP. */
  endOtherSessions(): Promise<EndedSessions>;
  close(): void;
  fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response>;
  addEventListener<K extends keyof SessionClientEventMap>(type: K, listener: (ev: SessionClientEventMap[K]) => void, options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | AddEventListenerOptions): void;
  removeEventListener<K extends keyof SessionClientEventMap>(type: K, listener: (ev: SessionClientEventMap[K]) => void, options?: boolean | EventListenerOptions): void;
  removeEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | EventListenerOptions): void;
}

/** Creates a client and signs in. */
export function createSession(options: SessionOptions & { staySignedIn?: boolean }): Promise<SessionClient>;

/** The action for an answer's status and reason. */
export function actionOf(status: number, reason?: string): RefusalAction;

export class SessionError extends Error {}

export class SessionRefusedError extends SessionError {
  readonly refusal: Refusal;
}
