// sessionguard expiry warning: include it in an app page with
//
//   <script src="/console/sessionguard-warning.js"></script>
//
// It polls GET /sessions/current (which does not count as activity), shows
// a banner with a countdown from warnAt (or, for an idle end, from
// idleWarnAt: 5 minutes before it, or half the idle timeout when that is
// shorter) with a "Keep working" action, and signs the user out when the
// session ends. "Keep working" posts to /sessions/current/activity, which
// records activity at once (even inside the interval that rate-limits the
// authorizer's activity writes), and the countdown restarts from the
// server's new idle end. Times are counted from the server's clock ("now"
// in the answer), not the browser's.
//
// Credentials: window.sessionguard.credentials() may return {token,
// sessionId}; otherwise sessionStorage "sg_token" and "sg_session" are
// used, and the session cookie travels by itself.
// Options (data- attributes): session-url (default /sessions/current),
// poll-seconds (default 30), signed-out-url.
(function () {
  "use strict";
  const me = document.currentScript;
  const d = (me && me.dataset) || {};
  const opt = {
    sessionUrl: d.sessionUrl || "/sessions/current",

    poll: Math.max(1, Number(d.pollSeconds || 30)) * 1000,
    signedOutUrl: d.signedOutUrl || "",
  };
  let end = null, skew = 0, absolute = false, pollTimer = null, tickTimer = null, banner, text, countdown, stay, done = false;

  function credentials() {
    if (window.sessionguard && typeof window.sessionguard.credentials === "function") return window.sessionguard.credentials() || {};
    return { token: sessionStorage.getItem("sg_token"), sessionId: sessionStorage.getItem("sg_session") };
  }
  function headers() {
    const c = credentials(), h = {};
    if (c.token) h.Authorization = "Bearer " + c.token;
    if (c.sessionId) h["X-Session-Id"] = c.sessionId;
    return h;
  }
  function el(tag, attrs, txt) {
    const e = document.createElement(tag);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (txt) e.textContent = txt;
    return e;
  }
  function build() {
    banner = el("div", { id: "sg-warning", role: "alertdialog", "aria-labelledby": "sg-warning-text", "aria-live": "assertive",
      style: "position:fixed;left:0;right:0;bottom:0;padding:1rem;background:#fff3cd;border-top:3px solid #8a6d00;font:16px system-ui,sans-serif;z-index:2147483647" });
    banner.hidden = true;
    text = el("p", { id: "sg-warning-text", style: "margin:0 0 .5rem" });
    countdown = el("span", { id: "sg-countdown", style: "font-weight:700" });
    stay = el("button", { id: "sg-stay", type: "button", style: "font:inherit;padding:.3rem .9rem" }, "Keep working");
    stay.addEventListener("click", keepAlive);
    banner.append(text, stay);
    document.body.append(banner);
  }
  function fmt(ms) {
    const s = Math.ceil(ms / 1000), m = Math.floor(s / 60);
    return m + ":" + String(s % 60).padStart(2, "0");
  }
  function show() {
    text.textContent = absolute ? "Your session ends in " : "Your session ends after inactivity in ";
    text.append(countdown);
    text.append(absolute ? ". Save your work; you will need to sign in again." : ". Choose Keep working to stay.");
    stay.hidden = absolute;
    const first = banner.hidden;
    banner.hidden = false;
    tick();
    if (first && !absolute) stay.focus();
  }
  function tick() {
    if (end === null || banner.hidden) return;
    countdown.textContent = fmt(Math.max(0, end - (Date.now() + skew)));
  }
  async function poll(init) {
    if (done) return;
    let r;
    try {
      r = await fetch(opt.sessionUrl, Object.assign({ headers: headers(), credentials: "include" }, init || {}));
    } catch (e) {
      return; // offline: try again at the next poll
    }
    if (r.status === 401 || r.status === 403) return signOut();
    if (!r.ok) return;
    const s = await r.json();
    const now = Date.parse(s.now);
    skew = now - Date.now();
    const exp = s.expiresAt ? Date.parse(s.expiresAt) : null, idle = s.idleExpiresAt ? Date.parse(s.idleExpiresAt) : null;
    const ends = [exp, idle].filter((x) => x !== null);
    end = ends.length ? Math.min(...ends) : null;
    absolute = exp !== null && end === exp;
    const warnAt = absolute && s.warnAt ? Date.parse(s.warnAt) : s.idleWarnAt ? Date.parse(s.idleWarnAt) : null;
    if (end !== null && now >= end) return signOut();
    if (warnAt !== null && now >= warnAt) show();
    else banner.hidden = true;
  }
  async function keepAlive() {
    // The answer is the session judged after the activity: the countdown
    // restarts from its new idle end, or the banner goes.
    const saved = opt.sessionUrl;
    opt.sessionUrl = saved + "/activity";
    try { await poll({ method: "POST" }); } finally { opt.sessionUrl = saved; }
  }
  async function signOut() {
    done = true;
    clearInterval(pollTimer);
    clearInterval(tickTimer);
    try { await fetch(opt.sessionUrl, { method: "DELETE", headers: headers(), credentials: "include" }); } catch (e) { /* ended anyway */ }
    sessionStorage.removeItem("sg_token");
    sessionStorage.removeItem("sg_session");
    banner.hidden = true;
    const note = el("div", { id: "sg-signed-out", role: "alert",
      style: "position:fixed;left:0;right:0;bottom:0;padding:1rem;background:#f8d7da;border-top:3px solid #a40000;font:16px system-ui,sans-serif" },
      "Your session has ended and you have been signed out. Sign in again to continue.");
    document.body.append(note);
    if (opt.signedOutUrl) location.assign(opt.signedOutUrl);
  }
  function start() {
    build();
    poll();
    pollTimer = setInterval(poll, opt.poll);
    tickTimer = setInterval(tick, 1000);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
