// The sessionguard admin console: no build step, no dependencies. One view
// at a time (overview, settings, history, sessions, audits, streams), each
// at a hash route (#/settings?env=prod) that a reload or a bookmark opens
// again; every view reads what it shows from the admin API when it opens
// and again after each change made in it.
"use strict";

const $ = (sel) => document.querySelector(sel);
const st = {
  cfg: null, token: null, sid: null, env: null, envs: [], etag: null, limits: null, loaded: null, transmitters: false,
  view: null, historyNext: "", renderSeq: 0, loading: 0,
  // The user search shown: its prefix and issuer, which "More users" goes
  // on with (not what the search box holds by then).
  users: [], usersNext: "", usersPrefix: "", usersIssuer: "", searchSeq: 0,
  // The user whose sessions are listed (and their issuer): what "Revoke
  // all" ends. An answer that a newer list overtook is dropped.
  shown: null, sessionsSeq: 0,
};

// The settings form: JSON path, kind, and the limits entry for its range.
// A switch has a help line for each state (on, off); a setting that only
// applies while a switch is on names it (needs), and says so while it is
// off.
const FIELDS = [
  { group: "Session expiration", path: "sessionExpiration.enabled", kind: "bool", label: "End sessions a fixed time after sign-in",
    on: "On: a session ends the maximum length after sign-in, whatever the activity.",
    off: "Off: a session lives as long as the IdP's tokens and the policy checks allow." },
  { group: "Session expiration", path: "sessionExpiration.maxSessionMinutes", kind: "minutes", label: "Maximum session length", limit: "maxSessionMinutes",
    needs: "sessionExpiration.enabled", help: "The session ends this long after sign-in, whatever the activity." },
  { group: "Session expiration", path: "sessionExpiration.warningMinutes", kind: "minutes", label: "Warn this long before the end", range: "warning",
    needs: "sessionExpiration.enabled", help: "When the app shows its expiry warning: less than the maximum length." },
  { group: "Inactivity timeout", path: "inactivityTimeout.enabled", kind: "bool", label: "End sessions after inactivity",
    on: "On: a session with no request for the timeout below ends.",
    off: "Off: activity does not matter; a session is not ended for being idle." },
  { group: "Inactivity timeout", path: "inactivityTimeout.minutes", kind: "minutes", label: "Inactivity timeout", limit: "inactivityMinutes",
    needs: "inactivityTimeout.enabled", help: "Shorter than the maximum length when both are on." },
  { group: "Stay signed in", path: "staySignedIn.allowed", kind: "bool", label: "Users may choose to stay signed in",
    on: "On: users may stay signed in: such sessions get a persistent cookie, the outage grace, and the limits below.",
    off: "Off: every session gets a browser-session cookie and ends with the browser." },
  { group: "Stay signed in", path: "staySignedIn.inactivityMinutes", kind: "minutes", label: "Their inactivity timeout", limit: "staySignedInInactivityMinutes", zero: true,
    needs: "staySignedIn.allowed", help: "0: the same as other sessions." },
  { group: "Stay signed in", path: "staySignedIn.maxSessionMinutes", kind: "minutes", label: "Their maximum length", limit: "staySignedInMaxSessionMinutes", zero: true,
    needs: "staySignedIn.allowed", help: "0: the same as other sessions." },
  { group: "Stay signed in", path: "staySignedIn.renewAfterMinutes", kind: "minutes", label: "Activity renews them only after",
    needs: "staySignedIn.allowed", help: "0: every request renews them (SharePoint renews after 24 hours)." },
  { group: "Policy checks", path: "policyCheckIntervalMinutes", kind: "minutes", label: "Re-check users at the IdP every", limit: "policyCheckIntervalMinutes",
    help: "How soon a user disabled at the IdP loses access (plus the schedule's slack)." },
  { group: "Policy checks", path: "outageGraceMinutes", kind: "minutes", label: "Stay-signed-in grace while the IdP is down", limit: "outageGraceMinutes",
    help: "Stay-signed-in sessions keep working this long past a missed check." },
  { group: "Session limit", path: "maxSessionsPerUser", kind: "int", label: "Sessions per user", limit: "maxSessionsPerUser",
    help: "0: no limit." },
  { group: "Session limit", path: "onSessionLimit", kind: "select", label: "At the limit", options: [["end_oldest", "end the oldest session"], ["deny_new", "refuse the new sign-in"]],
    help: "What a sign-in does when the user already holds the most sessions allowed." },
  { group: "Sign-out", path: "strictReauthentication", kind: "bool", label: "After a sign-out, require a new sign-in at the IdP",
    on: "On: a sign-in after a sign-out needs a token from a new authentication (a later auth_time, or another IdP session). A token with neither is refused.",
    off: "Off: after a sign-out, a token authenticated after it signs in, and so does one that does not say when it was authenticated (no auth_time)." },
  { group: "Sender-constrained tokens", path: "dpop", kind: "select", label: "DPoP proofs",
    options: [["off", "off"], ["allowed", "allowed"], ["required", "required"]],
    help: "The app holds a private key; a copied token or session id is useless without it. Allowed: checked for bound tokens and sessions. Required: on every request. Needs the authorizer cache off." },
  { group: "Exempt apps", path: "exemptClients", kind: "list", label: "Client ids without timeouts",
    help: "Comma-separated; the age limits do not apply to these apps (binding and revocation still do)." },
];

// VIEWS are the console's views, by route, each with its title and what
// it loads when it opens.
const VIEWS = {
  overview: { title: "Overview", load: loadOverview },
  settings: { title: "Settings", load: loadSettings },
  history: { title: "History", load: loadHistory },
  sessions: { title: "Sessions", load: loadSessions },
  audits: { title: "Audits", load: loadAudits },
  streams: { title: "Shared Signals streams", load: loadTransmitters },
};

// Durations are kept in minutes and shown in the largest unit that holds
// them whole.
const UNITS = [[1440, "days", "day"], [60, "hours", "hour"], [1, "minutes", "minute"]];
function human(min) {
  if (!Number.isFinite(min)) return "";
  if (min === 0) return "0 minutes";
  for (const [f, many, one] of UNITS) if (min % f === 0) return (min / f) + " " + (min / f === 1 ? one : many);
  return min + " minutes";
}
function unitOf(min) {
  if (!min) return 1;
  for (const [f] of UNITS) if (min % f === 0) return f;
  return 1;
}

const idOf = (path) => path.replace(/\./g, "-");
const get = (obj, path) => path.split(".").reduce((o, k) => (o == null ? undefined : o[k]), obj);
function set(obj, path, v) {
  const ks = path.split(".");
  let o = obj;
  for (const k of ks.slice(0, -1)) o = o[k] = o[k] || {};
  o[ks[ks.length - 1]] = v;
}
const fieldOf = (path) => FIELDS.find((f) => f.path === path);
// NONE stands where a table or a summary has no value to show.
const NONE = "–";
const when = (t) => (t ? new Date(t).toLocaleString() : NONE);
const versionOf = (etag) => (etag || "?").replace(/"/g, "");
const plural = (n, one, many) => n + " " + (n === 1 ? one : many || one + "s");
const cause = (k) => k.replace(/_/g, " ");
// revocationsOf is an audit report's revocations, all causes added up.
const revocationsOf = (report) => Object.values(report.revocations || {}).reduce((a, b) => a + b, 0);

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const k in attrs || {}) {
    if (k === "class") e.className = attrs[k];
    else if (k === "text") e.textContent = attrs[k];
    else e.setAttribute(k, attrs[k]);
  }
  e.append(...children.filter((c) => c !== undefined && c !== null));
  return e;
}

function b64url(buf) {
  return btoa(String.fromCharCode(...new Uint8Array(buf))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

// The API is served beside the console: the console at <base>console/,
// the API at <base> (a stage's prefix, when there is one, is in base).
const API = new URL("../", location.href);
// KEY names what the console keeps in the tab (its token and session, the
// sign-in's PKCE state) per API: two stages on one host are two sign-ins,
// each with a session of its own environment.
const KEY = "sg_console:" + API.pathname;
const envPath = (rest) => "environments/" + encodeURIComponent(st.env) + rest;

async function api(method, path, body, headers) {
  const h = Object.assign({ Authorization: "Bearer " + st.token, "X-Session-Id": st.sid }, headers || {});
  if (body !== undefined) h["Content-Type"] = "application/json";
  const r = await fetch(new URL(path, API), { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
  if (r.status === 401) signedOut("Your sign-in has ended. Sign in again.");
  return { status: r.status, etag: r.headers.get("ETag"), data };
}

// problemText is what an answer that is not a success says.
const problemText = (r, what) => (r.data && r.data.detail) || what + " (" + r.status + ").";

// redirectURI is where the issuer sends the admin back: the console's page
// (both the authorization request and the code's exchange name it).
const redirectURI = () => location.origin + location.pathname;

// Sign-in: OpenID Connect authorization code with PKCE, then a session.
// The view asked for (its hash) is kept across the issuer's redirect.
async function signIn() {
  const verifier = b64url(crypto.getRandomValues(new Uint8Array(32)));
  const state = b64url(crypto.getRandomValues(new Uint8Array(16)));
  sessionStorage.setItem(KEY + ":pkce", JSON.stringify({ verifier, state, hash: location.hash }));
  const challenge = b64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  const u = new URL(st.cfg.authorizeUrl, location.href);
  u.search = new URLSearchParams({
    response_type: "code", client_id: st.cfg.clientId, redirect_uri: redirectURI(),
    scope: "openid", state, code_challenge: challenge, code_challenge_method: "S256",
  }).toString();
  location.assign(u.toString());
}

async function finishSignIn(params) {
  const pkce = JSON.parse(sessionStorage.getItem(KEY + ":pkce") || "{}");
  sessionStorage.removeItem(KEY + ":pkce");
  history.replaceState(null, "", location.pathname + (pkce.hash || ""));
  if (!pkce.state || params.get("state") !== pkce.state) throw new Error("sign-in state mismatch");
  const r = await fetch(st.cfg.tokenUrl, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "authorization_code", code: params.get("code"), code_verifier: pkce.verifier,
      redirect_uri: redirectURI(), client_id: st.cfg.clientId }),
  });
  if (!r.ok) throw new Error("the identity provider refused the sign-in");
  const tok = (await r.json()).access_token;
  const s = await fetch(new URL(st.cfg.sessionsUrl, location.href), { method: "POST", headers: { Authorization: "Bearer " + tok, "Content-Type": "application/json" }, body: "{}" });
  if (!s.ok) throw new Error("could not start a session (" + s.status + ")");
  sessionStorage.setItem(KEY, JSON.stringify({ token: tok, sid: (await s.json()).sessionId }));
}

async function signOut() {
  await fetch(new URL(st.cfg.sessionsUrl + "/current", location.href), { method: "DELETE", headers: { "X-Session-Id": st.sid } });
  sessionStorage.removeItem(KEY);
  location.reload();
}

function signedOut(text) {
  sessionStorage.removeItem(KEY);
  $("#app").hidden = true;
  $("#env-bar").hidden = true;
  $("#signout").hidden = true;
  $("#who").textContent = text;
  $("#signin").hidden = false;
}

// ---- Routing ----

// route reads the hash: #/<view>?env=…&… (an unknown view is the
// overview; only VIEWS' own names are views, not what every object
// inherits, such as constructor).
function route() {
  const h = location.hash.replace(/^#\/?/, "");
  const i = h.indexOf("?");
  const name = i < 0 ? h : h.slice(0, i);
  return { view: Object.hasOwn(VIEWS, name) ? name : "overview", named: name, params: new URLSearchParams(i < 0 ? "" : h.slice(i + 1)) };
}

// link is the hash of a view in the current environment, with more
// parameters (a user, a search).
function link(view, extra) {
  const p = new URLSearchParams({ env: st.env });
  for (const [k, v] of Object.entries(extra || {})) if (v) p.set(k, v);
  return "#/" + view + "?" + p.toString();
}

// render shows the view the hash names, and loads it with the header.
async function render() {
  const { view, named, params } = route();
  const env = st.envs.some((e) => e.id === params.get("env")) ? params.get("env") : st.envs[0].id;
  if (params.get("env") !== env || named !== view) { // no or an unknown environment or view: name the one shown
    params.set("env", env);
    history.replaceState(null, "", "#/" + view + "?" + params.toString());
  }
  const moved = view !== st.view;
  st.env = env;
  st.view = view;
  $("#env").value = env;
  for (const sec of document.querySelectorAll("section.view")) sec.hidden = sec.dataset.view !== view;
  for (const a of document.querySelectorAll("[data-nav]")) {
    a.href = link(a.dataset.nav);
    if (a.dataset.nav === view) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  document.title = VIEWS[view].title + " — " + env + " — sessionguard";
  // busy is "true" while any render is loading, an overtaken one too.
  const seq = ++st.renderSeq;
  st.loading++;
  document.documentElement.dataset.busy = "true";
  $("#view-status").textContent = "";
  let failed = null;
  try {
    await Promise.all([loadHeader(), VIEWS[view].load(params)]);
  } catch (e) {
    failed = e;
  }
  st.loading--;
  if (seq === st.renderSeq) { // else another render started meanwhile: its view is shown
    if (failed) {
      console.error("could not load the view " + view + ":", failed);
      $("#view-status").textContent = "Could not load this view: " + failed.message;
    }
    document.documentElement.dataset.view = view;
    if (moved && st.focusOnRender) {
      const h = document.querySelector('section.view[data-view="' + view + '"] h2');
      if (h) h.focus();
    }
    st.focusOnRender = true;
  }
  if (st.loading === 0) document.documentElement.dataset.busy = "false";
}

// refresh loads the current view again, after a change made in it.
const refresh = () => render();

// loadHeader reads the environments and their settings versions.
async function loadHeader() {
  const r = await api("GET", "environments");
  if (r.status !== 200 || !r.data) throw new Error(problemText(r, "could not list the environments"));
  st.envs = r.data.environments;
  st.transmitters = !!r.data.transmitters;
  const sel = $("#env");
  const ids = st.envs.map((e) => e.id);
  if ([...sel.options].map((o) => o.value).join() !== ids.join()) {
    sel.replaceChildren(...ids.map((id) => new Option(id, id)));
    sel.value = st.env;
  }
  const cur = st.envs.find((e) => e.id === st.env);
  $("#version").textContent = cur ? "settings version " + cur.version : "";
  $("#nav-streams").hidden = !st.transmitters;
}

// ---- Overview ----

async function loadOverview() {
  const [s, a, b] = await Promise.all([api("GET", envPath("/settings")), api("GET", envPath("/audits?limit=1")), api("GET", envPath("/budget"))]);
  if (s.status !== 200) throw new Error(problemText(s, "could not read the settings"));
  $("#ov-version").textContent = versionOf(s.etag);
  const latest = a.status === 200 && a.data && a.data.reports[0];
  $("#ov-active").textContent = latest ? String(latest.report.activeSessions || 0) : NONE;
  $("#ov-revoked").textContent = latest ? String(revocationsOf(latest.report)) : NONE;
  $("#ov-audit").textContent = latest ? when(latest.at) : "none yet";
  $("#ov-policy").replaceChildren(...policyLines(s.data).map((t) => el("li", { text: t })));
  $("#ov-edit").href = link("settings");
  drawBudget(b);
}

// policyLines says what the settings do, as an admin would put it.
function policyLines(s) {
  const out = [];
  const e = s.sessionExpiration || {}, i = s.inactivityTimeout || {}, ssi = s.staySignedIn || {};
  out.push(e.enabled ? "Sessions end " + human(e.maxSessionMinutes) + " after sign-in; the app warns " + human(e.warningMinutes) + " before."
    : "No fixed session length: a session lives as long as the IdP's tokens and the policy checks allow.");
  out.push(i.enabled ? "Sessions end after " + human(i.minutes) + " without a request." : "No inactivity timeout.");
  out.push(ssi.allowed ? "Users may stay signed in" + (ssi.inactivityMinutes ? "; such sessions end after " + human(ssi.inactivityMinutes) + " of inactivity" : "") + "."
    : "Users may not stay signed in: sessions end with the browser.");
  out.push("Users are checked again at the IdP every " + human(s.policyCheckIntervalMinutes).replace(/^1 /, "") + ".");
  out.push(s.maxSessionsPerUser ? "At most " + plural(s.maxSessionsPerUser, "session") + " per user; at the limit, " +
    (s.onSessionLimit === "deny_new" ? "a new sign-in is refused." : "the oldest session ends.") : "No limit on sessions per user.");
  if (s.strictReauthentication) out.push("After a sign-out, only a new authentication at the IdP signs in.");
  if ((s.exemptClients || []).length) out.push("No timeouts for: " + s.exemptClients.join(", ") + ".");
  return out;
}

// duration reads seconds as people do: "30 seconds", "1 hour 15 minutes".
function duration(sec) {
  if (sec === 0) return "at once";
  const parts = [];
  for (const [n, unit] of [[86400, "day"], [3600, "hour"], [60, "minute"], [1, "second"]]) {
    const k = Math.floor(sec / n);
    if (k > 0) { parts.push(k + " " + unit + (k === 1 ? "" : "s")); sec -= k * n; }
  }
  return parts.slice(0, 2).join(" ");
}

function pairs(dl, items) {
  dl.replaceChildren();
  for (const [k, v] of items) dl.append(el("dt", { text: k }), el("dd", { text: String(v) }));
}

function drawBudget(r) {
  const dl = $("#budget");
  if (r.status !== 200 || !r.data) { pairs(dl, [["Budget", "not available (" + r.status + ")"]]); return; }
  const b = r.data;
  pairs(dl, [
    ["Revoked, signed out, or pushed by the IdP", b.revocationSeconds ? "up to " + duration(b.revocationSeconds) : "at once (the authorizer cache is off)"],
    ["Disabled at the IdP, found by the policy check", b.policyChecks ? "up to " + duration(b.policyCheckSeconds) : "no policy checks in this deployment"],
    ["Idle timeout", b.idleEndsEarlySeconds ? "ends up to " + duration(b.idleEndsEarlySeconds) + " early, never late" : "no idle timeout"],
    ["To lower it", b.howToLower],
  ]);
}

// ---- Settings ----

function buildForm() {
  const root = $("#fields");
  root.textContent = "";
  const groups = {};
  for (const f of FIELDS) {
    if (!groups[f.group]) {
      const fs = el("fieldset", {}, el("legend", { text: f.group }));
      root.append(fs);
      groups[f.group] = fs;
    }
    const id = idOf(f.path);
    const label = el("label", { for: id, text: f.label });
    const control = el("div", { class: "control" });
    let input;
    if (f.kind === "select") {
      input = document.createElement("select");
      for (const [v, t] of f.options) input.append(new Option(t, v));
    } else {
      input = document.createElement("input");
      input.type = f.kind === "bool" ? "checkbox" : (f.kind === "int" || f.kind === "minutes") ? "number" : "text";
      if (f.kind === "bool") { input.setAttribute("role", "switch"); input.className = "switch"; }
      if (input.type === "number") input.min = "0";
    }
    input.id = id;
    input.setAttribute("aria-describedby", "help-" + id + " hint-" + id + " err-" + id);
    input.addEventListener("input", validate);
    input.addEventListener("change", validate);
    control.append(input);
    if (f.kind === "bool") control.append(el("span", { class: "switch-state", id: "state-" + id, "aria-hidden": "true" }));
    if (f.kind === "minutes") {
      const unit = el("select", { id: id + "-unit", class: "unit", "aria-label": f.label + ": unit" });
      for (const [factor, many] of UNITS.slice().reverse()) unit.append(new Option(many, String(factor)));
      unit.addEventListener("change", validate);
      control.append(unit);
    }
    const hint = el("span", { class: "hint", id: "hint-" + id });
    if (f.limit && st.limits[f.limit]) {
      const r = st.limits[f.limit];
      hint.textContent = (f.zero ? "0 or " : "") + (f.kind === "minutes" ? human(r.min) + " to " + human(r.max) : r.min + " to " + r.max);
    }
    control.append(hint);
    const help = el("p", { class: "help", id: "help-" + id, text: f.help || "" });
    const err = el("span", { class: "error", id: "err-" + id, "aria-live": "polite" });
    groups[f.group].append(el("div", { class: "field field-" + f.kind, id: "field-" + id }, label, control, help, err));
  }
}

// showHelp makes each help line follow its switch: a switch's line for
// its state, and a setting that needs a switch that is off says so.
function showHelp() {
  for (const f of FIELDS) {
    const id = idOf(f.path);
    const help = document.getElementById("help-" + id);
    if (f.kind === "bool") {
      const on = document.getElementById(id).checked;
      help.textContent = on ? f.on : f.off;
      document.getElementById("state-" + id).textContent = on ? "On" : "Off";
    } else if (f.needs) {
      const on = document.getElementById(idOf(f.needs)).checked;
      help.textContent = on ? f.help : "Not in force while “" + fieldOf(f.needs).label + "” is off.";
      document.getElementById("field-" + id).classList.toggle("inactive", !on);
    }
  }
}

function fill(s) {
  for (const f of FIELDS) {
    const e = document.getElementById(idOf(f.path));
    const v = get(s, f.path);
    if (f.kind === "bool") e.checked = !!v;
    else if (f.kind === "list") e.value = (v || []).join(", ");
    else if (f.kind === "minutes") {
      const u = unitOf(v);
      document.getElementById(idOf(f.path) + "-unit").value = String(u);
      e.value = v / u;
    } else e.value = v;
  }
  validate();
}

// read is the settings document of the form: the document as loaded (so a
// setting the form does not show keeps its value), with the form's fields.
function read() {
  const out = JSON.parse(JSON.stringify(st.loaded || {}));
  for (const f of FIELDS) {
    const e = document.getElementById(idOf(f.path));
    let v;
    if (f.kind === "bool") v = e.checked;
    else if (f.kind === "int") v = e.value.trim() === "" ? NaN : Number(e.value);
    else if (f.kind === "minutes") {
      const n = e.value.trim() === "" ? NaN : Number(e.value);
      v = n * Number(document.getElementById(idOf(f.path) + "-unit").value);
    } else if (f.kind === "list") v = e.value.split(",").map((x) => x.trim()).filter(Boolean);
    else v = e.value;
    set(out, f.path, v);
  }
  return out;
}

// Validation as the admin types, with the deployment's ranges; the server
// checks again and its messages land in the same places.
function validate() {
  showHelp();
  const s = read();
  const errs = {};
  const range = (path, lim, zero, max) => {
    const v = get(s, path);
    const r = Object.assign({}, st.limits[lim]);
    if (max !== undefined) r.max = Math.min(r.max, max);
    if (!Number.isInteger(v)) errs[path] = "must be a whole number";
    else if (!(zero && v === 0) && (v < r.min || v > r.max)) errs[path] = "must be between " + r.min + " and " + r.max + " minutes (" + human(r.min) + " to " + human(r.max) + ")" + (zero ? ", or 0" : "");
  };
  range("sessionExpiration.maxSessionMinutes", "maxSessionMinutes");
  const max = get(s, "sessionExpiration.maxSessionMinutes");
  const w = get(s, "sessionExpiration.warningMinutes");
  if (!Number.isInteger(w) || w < 1 || (Number.isInteger(max) && w > max - 1)) errs["sessionExpiration.warningMinutes"] = "must be between 1 and " + ((max || 2) - 1) + " minutes";
  $("#hint-sessionExpiration-warningMinutes").textContent = Number.isInteger(max) ? "1 minute to " + human(max - 1) : "";
  const bothOn = s.sessionExpiration.enabled && s.inactivityTimeout.enabled && Number.isInteger(max);
  range("inactivityTimeout.minutes", "inactivityMinutes", false, bothOn ? max - 1 : undefined);
  range("staySignedIn.inactivityMinutes", "staySignedInInactivityMinutes", true);
  range("staySignedIn.maxSessionMinutes", "staySignedInMaxSessionMinutes", true);
  range("policyCheckIntervalMinutes", "policyCheckIntervalMinutes");
  range("outageGraceMinutes", "outageGraceMinutes");
  range("maxSessionsPerUser", "maxSessionsPerUser");
  showErrors(errs);
  $("#save").disabled = Object.keys(errs).length > 0;
  return errs;
}

function showErrors(errs) {
  for (const f of FIELDS) {
    const e = document.getElementById(idOf(f.path));
    const msg = errs[f.path] || "";
    document.getElementById("err-" + idOf(f.path)).textContent = msg;
    e.setAttribute("aria-invalid", msg ? "true" : "false");
  }
}

async function loadSettings() {
  const r = await api("GET", envPath("/settings"));
  if (r.status !== 200) throw new Error(problemText(r, "could not read the settings"));
  st.etag = r.etag;
  st.loaded = r.data;
  $("#conflict").hidden = true;
  fill(r.data);
}

async function save(body, query) {
  $("#status").textContent = "Saving…";
  const r = await api("PUT", envPath("/settings" + query), body, { "If-Match": st.etag });
  if (r.status === 200) {
    $("#apply-running").checked = false;
    await refresh(); // the form, the header's version
    $("#status").textContent = "Saved: version " + versionOf(r.etag) + ".";
    return;
  }
  $("#status").textContent = "";
  if (r.status === 412) {
    $("#conflict-text").textContent = "Someone else saved these settings (now version " + versionOf(r.etag) +
      ") after you loaded them. Your change was not saved, so theirs is not overwritten. Load their version, then make your change again.";
    $("#conflict").hidden = false;
    $("#reload").focus();
    return;
  }
  const errs = {};
  for (const e of (r.data && r.data.errors) || []) errs[e.field] = e.message;
  showErrors(errs);
  $("#status").textContent = problemText(r, "The settings were not saved");
}

// ---- History ----

// changes lists what a settings change changed: "Maximum session length:
// 1 day → 8 hours".
function changes(oldS, newS) {
  const out = [];
  for (const f of FIELDS) {
    const a = get(oldS, f.path), b = get(newS, f.path);
    if (JSON.stringify(a) === JSON.stringify(b)) continue;
    const show = (v) => f.kind === "minutes" ? human(v) : f.kind === "bool" ? (v ? "on" : "off") : Array.isArray(v) ? (v.join(", ") || "none") : String(v);
    out.push(f.group + " — " + f.label + ": " + show(a) + " → " + show(b));
  }
  return out;
}

async function loadHistory(_, more) {
  const q = "/settings/history?limit=20" + (more ? "&cursor=" + encodeURIComponent(st.historyNext) : "");
  const r = await api("GET", envPath(q));
  if (r.status !== 200) throw new Error(problemText(r, "could not read the history"));
  const tb = $("#history tbody");
  if (!more) tb.textContent = "";
  for (const c of r.data.changes || []) {
    const tr = el("tr");
    for (const v of [c.version, when(c.at), c.actor, c.preset || "", c.applyToRunning ? "yes" : "no"]) tr.append(el("td", { text: String(v) }));
    const lines = changes(c.old, c.new);
    tr.append(lines.length ? el("td", {}, el("ul", { class: "diff" }, ...lines.map((l) => el("li", { text: l })))) : el("td", { text: "no change" }));
    tb.append(tr);
  }
  st.historyNext = r.data.next || "";
  $("#history-more").hidden = !st.historyNext;
  $("#history-empty").hidden = tb.childElementCount > 0;
  $("#history").hidden = tb.childElementCount === 0;
}

// ---- Sessions ----

function fillIssuers() {
  const issuers = st.cfg.issuers || [];
  $("#issuer").replaceChildren(...issuers.map((iss) => new Option(iss, iss)));
  $("#issuer-row").hidden = issuers.length < 2;
}

// chosenIssuer is the issuer picked (a deployment may trust several; with
// one, "": the API takes it).
const chosenIssuer = () => ((st.cfg.issuers || []).length > 1 ? $("#issuer").value : "");

// issuerQuery names issuer in a query, if there is one to name.
const issuerQuery = (sep, issuer) => (issuer ? sep + "issuer=" + encodeURIComponent(issuer) : "");

async function loadSessions(params) {
  const issuers = st.cfg.issuers || [];
  if (params.get("issuer") && issuers.includes(params.get("issuer"))) $("#issuer").value = params.get("issuer");
  const q = params.get("q") || "";
  if (document.activeElement !== $("#user")) $("#user").value = q;
  const user = params.get("user");
  await Promise.all([searchUsers(q, false), user ? showSessions(user) : hideSessions()]);
}

function hideSessions() {
  st.sessionsSeq++; // a list still on its way is not shown
  st.shown = null;
  $("#user-sessions").hidden = true;
  $("#sessions-status").textContent = "";
}

// searchUsers lists the users whose subject starts with prefix, under the
// chosen issuer, 20 at a time; more goes on with the search shown (its
// prefix and issuer, whatever the box holds now). An answer that a newer
// search overtook is dropped.
async function searchUsers(prefix, more) {
  const seq = ++st.searchSeq;
  const issuer = more ? st.usersIssuer : chosenIssuer();
  if (more) prefix = st.usersPrefix;
  const cursor = more ? "&cursor=" + encodeURIComponent(st.usersNext) : "";
  const r = await api("GET", envPath("/users?limit=20&prefix=" + encodeURIComponent(prefix) + issuerQuery("&", issuer) + cursor));
  if (seq !== st.searchSeq) return;
  if (r.status !== 200) {
    $("#users-status").textContent = problemText(r, "Could not search the users");
    $("#user-results").replaceChildren();
    $("#more-users").hidden = true;
    return;
  }
  st.users = (more ? st.users : []).concat(r.data.users);
  st.usersNext = r.data.next || "";
  st.usersPrefix = prefix;
  st.usersIssuer = issuer;
  const cur = route().params.get("user");
  $("#user-results").replaceChildren(...st.users.map((u) => {
    const b = el("button", { type: "button", class: "user-pick", text: u.subject });
    if (u.subject === cur) b.setAttribute("aria-current", "true");
    b.addEventListener("click", () => { location.hash = link("sessions", { q: prefix, user: u.subject, issuer }); });
    return el("li", {}, b);
  }));
  $("#more-users").hidden = !st.usersNext;
  const n = st.users.length + (st.usersNext ? "+" : "");
  $("#users-status").textContent = prefix === ""
    ? (st.users.length ? "Users who signed in: " + n + " shown." : "No user has signed in to " + st.env + " yet.")
    : (st.users.length ? n + (st.users.length === 1 ? " user" : " users") + " whose subject starts with “" + prefix + "”." : "No user whose subject starts with “" + prefix + "”.");
}

// showSessions lists user's sessions (under the chosen issuer). An
// answer that a newer list overtook is dropped: picking one user, then
// another, shows the second's sessions, whichever answer comes last.
async function showSessions(user) {
  const seq = ++st.sessionsSeq;
  const issuer = chosenIssuer();
  const r = await api("GET", envPath("/sessions?limit=100&user=" + encodeURIComponent(user) + issuerQuery("&", issuer)));
  if (seq !== st.sessionsSeq) return;
  st.shown = { user, issuer };
  $("#user-sessions").hidden = false;
  $("#su-name").textContent = user;
  const tb = $("#sessions tbody");
  tb.textContent = "";
  if (r.status !== 200) {
    $("#sessions-status").textContent = problemText(r, "Could not list the sessions");
    $("#revoke-all").hidden = true;
    return;
  }
  const list = r.data.sessions || [];
  st.sessions = list;
  $("#sessions").hidden = list.length === 0;
  $("#revoke-all").hidden = list.length === 0;
  $("#sessions-status").textContent = list.length ? plural(list.length, "live session") + "." : "No live session.";
  for (const s of list) {
    const tr = el("tr");
    tr.append(el("td", {}, el("code", { text: s.shortId })));
    for (const v of [s.device || NONE, s.clientId || NONE, when(s.createdAt), when(s.lastActivityAt), endsText(s), s.staySignedIn ? "yes" : "no"]) tr.append(el("td", { text: v }));
    const b = el("button", { type: "button", class: "revoke danger", text: "Revoke…", "aria-label": "Revoke session " + s.shortId });
    b.addEventListener("click", () => revokeOne(user, s));
    tr.append(el("td", {}, b));
    tb.append(tr);
  }
}

// endsText is when a session ends at the latest: its absolute end, or its
// idle end if sooner; "not set" when neither applies.
function endsText(s) {
  const ends = [s.expiresAt, s.idleExpiresAt].filter(Boolean).sort();
  if (!ends.length) return "no fixed end";
  return when(ends[0]) + (ends[0] === s.idleExpiresAt ? " (idle)" : "");
}

// confirmAction asks in a modal dialog and says whether the admin
// confirmed; Cancel (the default) and Escape decline.
function confirmAction(title, text, yes) {
  const d = $("#confirm");
  $("#confirm-title").textContent = title;
  $("#confirm-text").textContent = text;
  $("#confirm-yes").textContent = yes;
  return new Promise((resolve) => {
    const done = (ok) => {
      $("#confirm-yes").onclick = $("#confirm-no").onclick = d.onclose = null;
      if (d.open) d.close();
      resolve(ok);
    };
    $("#confirm-yes").onclick = () => done(true);
    $("#confirm-no").onclick = () => done(false);
    // Escape closes the dialog; a close event of an earlier question,
    // dispatched after this one opened, finds it open and is ignored.
    d.onclose = () => { if (!d.open) done(false); };
    d.showModal();
    $("#confirm-no").focus();
  });
}

async function revokeOne(user, s) {
  const ok = await confirmAction("Revoke session " + s.shortId + "?",
    "Session " + s.shortId + " of " + user + " (started " + when(s.createdAt) + (s.clientId ? ", client " + s.clientId : "") + ") ends now: " +
    "its next request is refused, and the user must sign in again there. Their other sessions go on.", "Revoke session " + s.shortId);
  if (!ok) return;
  const r = await api("DELETE", envPath("/sessions/" + s.id));
  await refresh();
  $("#sessions-status").textContent = (r.status === 204 ? "Session " + s.shortId + " of " + user + " revoked. " : problemText(r, "The session was not revoked") + " ") +
    $("#sessions-status").textContent;
  $("#h-user-sessions").focus();
}

// revokeAll ends every session of the user whose sessions are listed.
async function revokeAll() {
  if (!st.shown) return;
  const { user, issuer } = st.shown;
  const n = (st.sessions || []).length;
  const ok = await confirmAction("Revoke all sessions of " + user + "?",
    (n === 1 ? "The live session" : "All " + n + " live sessions") + " of " + user + " in " + st.env + (n === 1 ? " ends" : " end") +
    " now, and so does any session of theirs started before now that this list missed: " +
    "each next request is refused, and the user must sign in again everywhere.", n === 1 ? "Revoke the session" : "Revoke all " + n + " sessions");
  if (!ok) return;
  const r = await api("POST", envPath("/users/" + encodeURIComponent(user) + "/revoke" + issuerQuery("?", issuer)));
  await refresh();
  $("#sessions-status").textContent = (r.status === 200 ? plural(r.data.revoked, "session") + " of " + user + " revoked. " : problemText(r, "Nothing was revoked") + " ") +
    $("#sessions-status").textContent;
  $("#h-user-sessions").focus();
}

// ---- Audits ----

async function loadAudits() {
  const r = await api("GET", envPath("/audits?limit=50"));
  if (r.status !== 200) throw new Error(problemText(r, "could not read the audits"));
  const reps = (r.data.reports || []).slice().reverse(); // oldest first
  $("#audit-empty").hidden = reps.length > 0;
  $("#audit-body").hidden = reps.length === 0;
  if (!reps.length) return;
  // One table of numbers, read by the charts and the summary alike.
  const rows = reps.map((x) => ({
    t: Date.parse(x.at), active: x.report.activeSessions || 0, causes: x.report.revocations || {},
    revoked: revocationsOf(x.report), errors: 100 * (x.report.directoryErrorRate || 0),
  }));
  const byCause = {};
  for (const row of rows) for (const [k, v] of Object.entries(row.causes)) byCause[k] = (byCause[k] || 0) + v;
  const causes = Object.entries(byCause).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const total = rows.reduce((a, row) => a + row.revoked, 0);
  const first = rows[0], last = rows[rows.length - 1];
  const actives = rows.map((row) => row.active), errs = rows.map((row) => row.errors);
  const pct = (v) => (Math.round(v * 10) / 10) + "%";
  $("#audit-range").textContent = plural(rows.length, "audit") + (rows.length > 1 ? ", from " + when(first.t) + " to " + when(last.t) : ", at " + when(first.t)) + ".";
  pairs($("#audit-summary"), [
    ["Active sessions", "latest " + last.active + ", lowest " + Math.min(...actives) + ", highest " + Math.max(...actives)],
    ["Revocations", total ? total + ": " + causes.map(([k, v]) => cause(k) + " " + v).join(", ") : "none"],
    ["Directory error rate", "latest " + pct(last.errors) + ", highest " + pct(Math.max(...errs))],
  ]);
  const series = (key) => rows.map((row) => [row.t, row[key]]);
  timeChart("chart-active", "Active sessions per audit", series("active"), { fmt: String, integer: true, line: true });
  timeChart("chart-revocations", "Revocations per audit", series("revoked"), { fmt: String, integer: true });
  causeChart("chart-causes", "Revocations by cause, over these audits", causes.map(([k, v]) => [cause(k), v]));
  timeChart("chart-errors", "Directory error rate per audit", series("errors"), { fmt: pct, percent: true, line: true });
  const rep = reps[reps.length - 1].report;
  const latestCauses = Object.entries(rep.revocations || {});
  pairs($("#audit"), [
    ["Reported", when(reps[reps.length - 1].at)],
    ["Period counted", rep.from ? when(rep.from) + " to " + when(reps[reps.length - 1].at) : NONE],
    ["Active sessions", rep.activeSessions || 0],
    ["Under older settings", (rep.olderSettingsSessions || 0) + (rep.exceedingCurrent ? " (" + rep.exceedingCurrent + " past what the current settings allow)" : "")],
    ["Idle sessions", rep.idleSessions || 0],
    ["Revocations in its period", latestCauses.length ? latestCauses.map(([k, v]) => cause(k) + " " + v).join(", ") : "none"],
    ["Users", (rep.users || 0) + (rep.usersDisabled ? ", " + rep.usersDisabled + " disabled" : "")],
    ["Users failing checks", rep.usersCheckFailing || 0],
    ["Directory error rate", pct(100 * (rep.directoryErrorRate || 0))],
    ["Settings changes in its period", (rep.settingsChanges || []).length],
  ]);
}

// Charts of the stored audits, drawn as inline SVG (no library): a time
// axis whose ticks fit the range (seconds for audits seconds apart, days
// for weeks of them), a y-axis with round ticks from 0, and the numbers
// in a table under each chart.
const SVGNS = "http://www.w3.org/2000/svg";
function svgEl(tag, attrs, text) {
  const e = document.createElementNS(SVGNS, tag);
  for (const k in attrs) e.setAttribute(k, attrs[k]);
  if (text !== undefined) e.textContent = text;
  return e;
}

const SEC = 1000, MIN = 60 * SEC, HOUR = 60 * MIN, DAY = 24 * HOUR;
const TIME_STEPS = [SEC, 2 * SEC, 5 * SEC, 10 * SEC, 15 * SEC, 30 * SEC, MIN, 2 * MIN, 5 * MIN, 10 * MIN, 15 * MIN, 30 * MIN,
  HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, DAY, 2 * DAY, 7 * DAY, 14 * DAY, 30 * DAY, 91 * DAY, 365 * DAY];

// timeTicks are at most max round instants in [t0, t1], on the local
// clock, with labels in the unit of their step.
function timeTicks(t0, t1, max) {
  const span = Math.max(t1 - t0, SEC);
  let i = TIME_STEPS.findIndex((s) => span / s <= max);
  if (i < 0) i = TIME_STEPS.length - 1;
  const at = (step) => {
    const off = new Date(t0).getTimezoneOffset() * MIN; // local = UTC - offset
    const out = [];
    for (let t = Math.ceil((t0 - off) / step) * step + off; t <= t1; t += step) out.push(t);
    return out;
  };
  let ticks = at(TIME_STEPS[i]);
  while (ticks.length < 2 && i > 0) ticks = at(TIME_STEPS[--i]);
  const step = TIME_STEPS[i];
  const opts = step < MIN ? { hour: "2-digit", minute: "2-digit", second: "2-digit" }
    : step < DAY ? { hour: "2-digit", minute: "2-digit" }
    : step < 30 * DAY ? { month: "short", day: "numeric" } : { month: "short", year: "numeric" };
  // Under a day's step, a tick at midnight names its date, and so does the
  // first when the range spans days.
  const date = (t) => new Date(t).toLocaleDateString(undefined, { month: "short", day: "numeric" });
  const midnight = (t) => { const d = new Date(t); return d.getHours() === 0 && d.getMinutes() === 0 && d.getSeconds() === 0; };
  const crossesDays = step < DAY && new Date(t0).toDateString() !== new Date(t1).toDateString();
  return ticks.map((t, k) => {
    const time = new Date(t).toLocaleString(undefined, opts);
    if (step >= DAY) return [t, time];
    if (crossesDays && midnight(t)) return [t, date(t)];
    return [t, crossesDays && k === 0 ? date(t) + " " + time : time];
  });
}

// valueTicks are round values from 0 to at least max: 1, 2 or 5 times a
// power of ten apart (whole numbers for counts).
function valueTicks(max, integer) {
  if (!(max > 0)) max = 1;
  let raw = max / 4;
  const p = 10 ** Math.floor(Math.log10(raw));
  let step = [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw);
  if (integer) step = Math.max(1, Math.ceil(step));
  const out = [];
  for (let v = 0; v < max + step; v += step) { out.push(v); if (v >= max) break; }
  return out;
}

function numbersTable(caption, head, rows) {
  return el("details", { class: "numbers" }, el("summary", { text: "Numbers" }),
    el("table", {}, el("caption", { class: "visually-hidden", text: caption }),
      el("thead", {}, el("tr", {}, ...head.map((h) => el("th", { scope: "col", text: h })))),
      el("tbody", {}, ...rows.map((r) => el("tr", {}, ...r.map((c) => el("td", { text: c })))))));
}

const W = 440, H = 210, ML = 48, MR = 16, MT = 12, MB = 34;

// timeChart draws points: [time ms, value] as a line (opts.line) or bars
// on a time axis, with a y-axis.
function timeChart(id, title, points, opts) {
  const box = document.getElementById(id);
  box.textContent = "";
  let t0 = points[0][0], t1 = points[points.length - 1][0];
  if (t1 - t0 < MIN) { const mid = (t0 + t1) / 2; t0 = mid - MIN / 2; t1 = mid + MIN / 2; } // one audit: a minute around it
  const pad = (t1 - t0) * 0.05;
  const x0 = t0 - pad, x1 = t1 + pad;
  const ys = valueTicks(Math.max(...points.map((p) => p[1]), opts.percent ? 1 : 0), opts.integer);
  const top = ys[ys.length - 1] || 1;
  const X = (t) => ML + (W - ML - MR) * (t - x0) / (x1 - x0);
  const Y = (v) => H - MB - (H - MB - MT) * v / top;
  const svg = svgEl("svg", { viewBox: "0 0 " + W + " " + H, role: "img", class: "chart-svg",
    "aria-label": title + ": " + points.map((p) => when(p[0]) + " " + opts.fmt(p[1])).join(", ") });
  const yAxis = svgEl("g", { class: "y-axis" });
  for (const v of ys) {
    yAxis.append(svgEl("line", { x1: ML, x2: W - MR, y1: Y(v), y2: Y(v), class: v === 0 ? "axis" : "grid" }));
    yAxis.append(svgEl("text", { x: ML - 6, y: Y(v) + 4, "text-anchor": "end", class: "tick" }, opts.fmt(v)));
  }
  const xAxis = svgEl("g", { class: "x-axis" });
  xAxis.append(svgEl("line", { x1: ML, x2: ML, y1: MT, y2: H - MB, class: "axis" }));
  for (const [t, label] of timeTicks(t0 - pad, t1 + pad, 4)) {
    xAxis.append(svgEl("line", { x1: X(t), x2: X(t), y1: H - MB, y2: H - MB + 4, class: "axis" }));
    xAxis.append(svgEl("text", { x: X(t), y: H - MB + 17, "text-anchor": "middle", class: "tick" }, label));
  }
  svg.append(yAxis, xAxis);
  const marks = svgEl("g", { class: "marks" });
  if (opts.line) {
    marks.append(svgEl("polyline", { points: points.map((p) => X(p[0]) + "," + Y(p[1])).join(" "), class: "line" }));
    for (const [t, v] of points) marks.append(svgEl("circle", { cx: X(t), cy: Y(v), r: 3.5, class: "dot", "data-value": v }));
  } else {
    const bw = Math.max(2, Math.min(18, (W - ML - MR) / points.length * 0.6));
    for (const [t, v] of points) {
      const r = svgEl("rect", { x: X(t) - bw / 2, y: Y(v), width: bw, height: Math.max(H - MB - Y(v), v > 0 ? 1 : 0), class: "bar", "data-value": v });
      marks.append(r);
    }
  }
  svg.append(marks);
  box.append(svg, numbersTable(title, ["Audit", title.replace(/ per audit$/, "")], points.map((p) => [when(p[0]), opts.fmt(p[1])])));
}

// causeChart draws [label, count] as horizontal bars, the counts on a
// value axis with round ticks.
function causeChart(id, title, items) {
  const box = document.getElementById(id);
  box.textContent = "";
  if (!items.length) {
    box.append(el("p", { class: "help", text: "No revocation over these audits." }));
    return;
  }
  const ml = 150, row = 28, h = MT + items.length * row + 30;
  const ticks = valueTicks(Math.max(...items.map((i) => i[1])), true);
  const top = ticks[ticks.length - 1];
  const X = (v) => ml + (W - ml - MR) * v / top;
  const svg = svgEl("svg", { viewBox: "0 0 " + W + " " + h, role: "img", class: "chart-svg",
    "aria-label": title + ": " + items.map((i) => i[0] + " " + i[1]).join(", ") });
  for (const v of ticks) {
    svg.append(svgEl("line", { x1: X(v), x2: X(v), y1: MT, y2: h - 26, class: v === 0 ? "axis" : "grid" }));
    svg.append(svgEl("text", { x: X(v), y: h - 10, "text-anchor": "middle", class: "tick" }, String(v)));
  }
  items.forEach(([label, v], k) => {
    const y = MT + k * row;
    svg.append(svgEl("text", { x: ml - 8, y: y + row / 2 + 4, "text-anchor": "end", class: "tick" }, label));
    svg.append(svgEl("rect", { x: ml, y: y + 4, width: X(v) - ml, height: row - 8, class: "bar", "data-value": v }));
  });
  box.append(svg, numbersTable(title, ["Cause", "Revocations"], items.map((i) => [i[0], String(i[1])])));
}

// ---- Shared Signals streams ----

async function loadTransmitters() {
  const box = $("#transmitters");
  if (!st.transmitters) { // not this admin's, or none configured: no call that would fail
    box.replaceChildren(el("p", { text: "This deployment has no Shared Signals transmitters, or they are managed by an admin of every environment." }));
    return;
  }
  const r = await api("GET", "transmitters");
  if (r.status !== 200 || !r.data) throw new Error(problemText(r, "could not list the transmitters"));
  box.textContent = "";
  r.data.transmitters.forEach((tx, i) => {
    const panel = el("fieldset", { class: "transmitter" }, el("legend", { text: tx.issuer }));
    const info = el("p", { class: "stream-info" });
    info.textContent = tx.stream
      ? "Stream " + tx.stream.streamId + " (" + tx.stream.delivery + "), " + (tx.status ? "status " + tx.status.status : "status unknown") + ", " +
        (tx.stream.verified ? "verified " + when(tx.stream.verifiedAt) : "not verified")
      : "No stream yet.";
    if (tx.problem) info.textContent += " " + tx.problem;
    panel.append(info);
    const button = (label, cls, fn) => {
      const b = el("button", { type: "button", class: cls, text: label });
      b.addEventListener("click", fn);
      panel.append(b, " ");
      return b;
    };
    const q = "?issuer=" + encodeURIComponent(tx.issuer);
    const run = async (method, path, body, done) => {
      $("#signals-status").textContent = "Working…";
      const res = await api(method, path + q, body);
      await refresh();
      $("#signals-status").textContent = res.status === 200 ? done(res.data) : problemText(res, "Failed");
    };
    button("Set up push stream", "setup-push", () => run("PUT", "transmitters/stream", { delivery: "push" }, () => "Stream set up: events are pushed to this deployment."));
    button("Set up poll stream", "setup-poll", () => run("PUT", "transmitters/stream", { delivery: "poll" }, () => "Stream set up: this deployment polls for events."));
    if (tx.stream) {
      button("Request verification", "verify", () => run("POST", "transmitters/stream/verify", undefined,
        (d) => d.verified ? "Verification event received." : "Verification requested; the event has not arrived yet."));
      const id = "status-" + i;
      const sel = el("select", { id, class: "stream-status" });
      for (const v of ["enabled", "paused", "disabled"]) {
        const o = new Option(v, v);
        if (tx.status && tx.status.status === v) o.selected = true;
        sel.append(o);
      }
      panel.append(el("label", { for: id, text: "Status" }), " ", sel, " ");
      button("Change status", "set-status", () => run("PUT", "transmitters/stream/status", { status: sel.value, reason: "changed in the console" },
        (d) => "Status: " + d.status + "."));
      // Reset asks first: the stream is deleted at the transmitter, and
      // no event arrives until a stream is set up again.
      button("Reset stream…", "reset danger", async () => {
        const ok = await confirmAction("Reset the stream at " + tx.issuer + "?",
          "It is deleted at the transmitter and forgotten here; no event arrives until you set up a stream again, which creates a new one.", "Reset the stream");
        if (ok) await run("DELETE", "transmitters/stream", undefined, () => "Stream reset: set up a stream to receive events again.");
      });
    }
    box.append(panel);
  });
}

// whoText names the signed-in admin and their role, from the token's
// claims (shown only; the API verifies the token on every call).
function whoText(token) {
  let c = {};
  try {
    c = JSON.parse(atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
  } catch (e) { /* not shown then */ }
  const name = c.name || c.preferred_username || c.username || c.sub || "an administrator";
  const roles = [].concat(c.roles || c["cognito:groups"] || []);
  const role = roles.find((r) => r === "sessionguard-admin") ? "admin of every environment"
    : roles.filter((r) => r.startsWith("sessionguard-admin:")).map((r) => "admin of " + r.split(":")[1]).join(", ") || "admin";
  return "Signed in as " + name + " (" + role + ")";
}

async function main() {
  st.cfg = await (await fetch("config.json")).json();
  fillIssuers();
  $("#signin").addEventListener("click", signIn);
  const params = new URLSearchParams(location.search);
  if (params.get("code")) await finishSignIn(params);
  const saved = JSON.parse(sessionStorage.getItem(KEY) || "null");
  if (!saved) { signedOut("Sign in as an administrator."); return; }
  st.token = saved.token;
  st.sid = saved.sid;
  const envs = await api("GET", "environments");
  if (envs.status !== 200) {
    signedOut(envs.status === 403 ? "Your account does not have the administrator role." : "Your sign-in has ended. Sign in again.");
    return;
  }
  st.envs = envs.data.environments;
  st.transmitters = !!envs.data.transmitters;
  st.limits = (await api("GET", "limits")).data;
  for (const p of (await api("GET", "presets")).data.presets) $("#preset").append(new Option(p.name + " — " + p.description, p.name));
  $("#who").textContent = whoText(st.token);
  $("#signout").hidden = false;
  $("#signout").addEventListener("click", signOut);
  $("#env-bar").hidden = false;
  $("#app").hidden = false;
  buildForm();
  $("#env").addEventListener("change", () => {
    st.env = $("#env").value;
    location.hash = link(st.view);
  });
  $("#settings").addEventListener("submit", async (e) => {
    e.preventDefault();
    if (Object.keys(validate()).length) return;
    await save(read(), $("#apply-running").checked ? "?applyToRunning=true" : "");
  });
  $("#apply-preset").addEventListener("click", () => save(undefined, "?preset=" + encodeURIComponent($("#preset").value)));
  $("#reload").addEventListener("click", async () => { await refresh(); $("#status").textContent = "Loaded version " + versionOf(st.etag) + "."; });
  $("#history-more").addEventListener("click", () => loadHistory(null, true));
  // The user search: as the admin types (a quarter second after the last
  // key), and on Search; the search is kept in the hash, so a reload
  // shows it again.
  let timer = 0;
  const search = () => {
    clearTimeout(timer);
    const q = $("#user").value.trim();
    const p = route().params;
    if ((p.get("q") || "") !== q) {
      p.set("q", q);
      history.replaceState(null, "", "#/sessions?" + p.toString());
    }
    return searchUsers(q, false);
  };
  $("#user").addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(search, 250); });
  $("#user-search").addEventListener("submit", (e) => { e.preventDefault(); search(); });
  $("#issuer").addEventListener("change", () => {
    location.hash = link("sessions", { q: $("#user").value.trim(), issuer: $("#issuer").value });
  });
  $("#more-users").addEventListener("click", () => searchUsers(st.usersPrefix, true));
  $("#revoke-all").addEventListener("click", revokeAll);
  window.addEventListener("hashchange", render);
  // The current view's link shows it afresh (the address does not change,
  // so no hashchange would).
  for (const a of document.querySelectorAll("[data-nav]")) {
    a.addEventListener("click", (e) => {
      if (new URL(a.href).hash === location.hash) { e.preventDefault(); render(); }
    });
  }
  st.focusOnRender = false;
  await render();
}

main().catch((e) => { $("#who").textContent = "Error: " + e.message; });
