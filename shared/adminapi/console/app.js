// The sessionguard admin console: no build step, no dependencies.
"use strict";

const $ = (sel) => document.querySelector(sel);
const st = { cfg: null, token: null, sid: null, env: null, etag: null, limits: null, loaded: null };

// The settings form: JSON path, kind, and the limits entry for its range.
const FIELDS = [
  { group: "Session expiration", path: "sessionExpiration.enabled", kind: "bool", label: "End sessions a fixed time after sign-in",
    help: "Off: a session lives as long as the IdP's tokens and the policy checks allow." },
  { group: "Session expiration", path: "sessionExpiration.maxSessionMinutes", kind: "minutes", label: "Maximum session length", limit: "maxSessionMinutes",
    help: "The session ends this long after sign-in, whatever the activity." },
  { group: "Session expiration", path: "sessionExpiration.warningMinutes", kind: "minutes", label: "Warn this long before the end", range: "warning",
    help: "When the app shows its expiry warning: less than the maximum length." },
  { group: "Inactivity timeout", path: "inactivityTimeout.enabled", kind: "bool", label: "End sessions after inactivity",
    help: "A session with no request for this long ends." },
  { group: "Inactivity timeout", path: "inactivityTimeout.minutes", kind: "minutes", label: "Inactivity timeout", limit: "inactivityMinutes",
    help: "Shorter than the maximum length when both are on." },
  { group: "Stay signed in", path: "staySignedIn.allowed", kind: "bool", label: "Users may choose to stay signed in",
    help: "Such sessions get a persistent cookie, the outage grace, and the limits below." },
  { group: "Stay signed in", path: "staySignedIn.inactivityMinutes", kind: "minutes", label: "Their inactivity timeout", limit: "staySignedInInactivityMinutes", zero: true,
    help: "0: the same as other sessions." },
  { group: "Stay signed in", path: "staySignedIn.maxSessionMinutes", kind: "minutes", label: "Their maximum length", limit: "staySignedInMaxSessionMinutes", zero: true,
    help: "0: the same as other sessions." },
  { group: "Stay signed in", path: "staySignedIn.renewAfterMinutes", kind: "minutes", label: "Activity renews them only after",
    help: "0: every request renews them (SharePoint renews after 24 hours)." },
  { group: "Policy checks", path: "policyCheckIntervalMinutes", kind: "minutes", label: "Re-check users at the IdP every", limit: "policyCheckIntervalMinutes",
    help: "How soon a user disabled at the IdP loses access (plus the schedule's slack)." },
  { group: "Policy checks", path: "outageGraceMinutes", kind: "minutes", label: "Stay-signed-in grace while the IdP is down", limit: "outageGraceMinutes",
    help: "Stay-signed-in sessions keep working this long past a missed check." },
  { group: "Session limit", path: "maxSessionsPerUser", kind: "int", label: "Sessions per user", limit: "maxSessionsPerUser",
    help: "0: no limit." },
  { group: "Session limit", path: "onSessionLimit", kind: "select", label: "At the limit", options: [["end_oldest", "end the oldest session"], ["deny_new", "refuse the new sign-in"]],
    help: "What a sign-in does when the user already holds the most sessions allowed." },
  { group: "Sign-out", path: "strictReauthentication", kind: "bool", label: "After a sign-out, require a new sign-in at the IdP",
    help: "On: a sign-in after a sign-out needs a token from a new authentication (a later auth_time, or another IdP session). A token with neither is refused." },
  { group: "Sender-constrained tokens", path: "dpop", kind: "select", label: "DPoP proofs",
    options: [["off", "off"], ["allowed", "allowed"], ["required", "required"]],
    help: "The app holds a private key; a copied token or session id is useless without it. Allowed: checked for bound tokens and sessions. Required: on every request. Needs the authorizer cache off." },
  { group: "Exempt apps", path: "exemptClients", kind: "list", label: "Client ids without timeouts",
    help: "Comma-separated; the age limits do not apply to these apps (binding and revocation still do)." },
];

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

function b64url(buf) {
  return btoa(String.fromCharCode(...new Uint8Array(buf))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

async function api(method, path, body, headers) {
  const h = Object.assign({ Authorization: "Bearer " + st.token, "X-Session-Id": st.sid }, headers || {});
  if (body !== undefined) h["Content-Type"] = "application/json";
  const r = await fetch(path, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
  return { status: r.status, etag: r.headers.get("ETag"), data };
}

// issuerParam names the chosen issuer of the user looked up (a deployment
// may trust several).
function issuerParam(sep) {
  const v = $("#issuer").value;
  return v ? sep + "issuer=" + encodeURIComponent(v) : "";
}

function fillIssuers() {
  const sel = $("#issuer");
  sel.replaceChildren();
  for (const iss of st.cfg.issuers || []) {
    const o = document.createElement("option");
    o.value = o.textContent = iss;
    sel.append(o);
  }
}

// Sign-in: OpenID Connect authorization code with PKCE, then a session.
async function signIn() {
  const verifier = b64url(crypto.getRandomValues(new Uint8Array(32)));
  const state = b64url(crypto.getRandomValues(new Uint8Array(16)));
  sessionStorage.setItem("sg_console_pkce", JSON.stringify({ verifier, state }));
  const challenge = b64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  const u = new URL(st.cfg.authorizeUrl, location.href);
  u.search = new URLSearchParams({
    response_type: "code", client_id: st.cfg.clientId, redirect_uri: location.origin + location.pathname,
    scope: "openid", state, code_challenge: challenge, code_challenge_method: "S256",
  }).toString();
  location.assign(u.toString());
}

async function finishSignIn(params) {
  const pkce = JSON.parse(sessionStorage.getItem("sg_console_pkce") || "{}");
  sessionStorage.removeItem("sg_console_pkce");
  history.replaceState(null, "", location.pathname);
  if (!pkce.state || params.get("state") !== pkce.state) throw new Error("sign-in state mismatch");
  const r = await fetch(st.cfg.tokenUrl, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "authorization_code", code: params.get("code"), code_verifier: pkce.verifier,
      redirect_uri: location.origin + location.pathname, client_id: st.cfg.clientId }),
  });
  if (!r.ok) throw new Error("the identity provider refused the sign-in");
  const tok = (await r.json()).access_token;
  const s = await fetch(st.cfg.sessionsUrl, { method: "POST", headers: { Authorization: "Bearer " + tok, "Content-Type": "application/json" }, body: "{}" });
  if (!s.ok) throw new Error("could not start a session (" + s.status + ")");
  sessionStorage.setItem("sg_console", JSON.stringify({ token: tok, sid: (await s.json()).sessionId }));
}

async function signOut() {
  await fetch(st.cfg.sessionsUrl + "/current", { method: "DELETE", headers: { "X-Session-Id": st.sid } });
  sessionStorage.removeItem("sg_console");
  location.reload();
}

function buildForm() {
  const root = $("#fields");
  root.textContent = "";
  const groups = {};
  for (const f of FIELDS) {
    if (!groups[f.group]) {
      const fs = document.createElement("fieldset");
      const lg = document.createElement("legend");
      lg.textContent = f.group;
      fs.append(lg);
      root.append(fs);
      groups[f.group] = fs;
    }
    const div = document.createElement("div");
    div.className = "field field-" + f.kind;
    const id = idOf(f.path);
    const label = document.createElement("label");
    label.htmlFor = id;
    label.textContent = f.label;
    const control = document.createElement("div");
    control.className = "control";
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
    if (f.kind === "minutes") {
      const unit = document.createElement("select");
      unit.id = id + "-unit";
      unit.className = "unit";
      unit.setAttribute("aria-label", f.label + ": unit");
      for (const [factor, many] of UNITS.slice().reverse()) unit.append(new Option(many, String(factor)));
      unit.addEventListener("change", validate);
      control.append(unit);
    }
    const hint = document.createElement("span");
    hint.className = "hint";
    hint.id = "hint-" + id;
    if (f.limit && st.limits[f.limit]) {
      const r = st.limits[f.limit];
      hint.textContent = (f.zero ? "0 or " : "") + (f.kind === "minutes" ? human(r.min) + " to " + human(r.max) : r.min + " to " + r.max);
    }
    control.append(hint);
    const help = document.createElement("p");
    help.className = "help";
    help.id = "help-" + id;
    help.textContent = f.help || "";
    const err = document.createElement("span");
    err.className = "error";
    err.id = "err-" + id;
    err.setAttribute("aria-live", "polite");
    div.append(label, control, help, err);
    groups[f.group].append(div);
  }
}

function fill(s) {
  for (const f of FIELDS) {
    const el = document.getElementById(idOf(f.path));
    const v = get(s, f.path);
    if (f.kind === "bool") el.checked = !!v;
    else if (f.kind === "list") el.value = (v || []).join(", ");
    else if (f.kind === "minutes") {
      const u = unitOf(v);
      document.getElementById(idOf(f.path) + "-unit").value = String(u);
      el.value = v / u;
    } else el.value = v;
  }
  validate();
}

function read() {
  const out = {};
  for (const f of FIELDS) {
    const el = document.getElementById(idOf(f.path));
    let v;
    if (f.kind === "bool") v = el.checked;
    else if (f.kind === "int") v = el.value.trim() === "" ? NaN : Number(el.value);
    else if (f.kind === "minutes") {
      const n = el.value.trim() === "" ? NaN : Number(el.value);
      v = n * Number(document.getElementById(idOf(f.path) + "-unit").value);
    } else if (f.kind === "list") v = el.value.split(",").map((x) => x.trim()).filter(Boolean);
    else v = el.value;
    set(out, f.path, v);
  }
  return out;
}

// Validation as the admin types, with the deployment's ranges; the server
// checks again and its messages land in the same places.
function validate() {
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
    const el = document.getElementById(idOf(f.path));
    const msg = errs[f.path] || "";
    document.getElementById("err-" + idOf(f.path)).textContent = msg;
    el.setAttribute("aria-invalid", msg ? "true" : "false");
  }
}

async function loadSettings() {
  const r = await api("GET", "/environments/" + encodeURIComponent(st.env) + "/settings");
  if (r.status !== 200) throw new Error("could not read the settings (" + r.status + ")");
  st.etag = r.etag;
  st.loaded = r.data;
  $("#version").textContent = "version " + r.etag.replace(/"/g, "");
  $("#ov-version").textContent = r.etag.replace(/"/g, "");
  $("#conflict").hidden = true;
  fill(r.data);
  await Promise.all([loadHistory(), loadAudit(), loadBudget(), loadTransmitters()]);
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

async function loadBudget() {
  const r = await api("GET", "/environments/" + encodeURIComponent(st.env) + "/budget");
  const dl = $("#budget");
  dl.textContent = "";
  if (r.status !== 200 || !r.data) { dl.textContent = "Not available."; return; }
  const b = r.data;
  const items = [
    ["Revoked, signed out, or pushed by the IdP", b.revocationSeconds ? "up to " + duration(b.revocationSeconds) : "at once (the authorizer cache is off)"],
    ["Disabled at the IdP, found by the policy check", b.policyChecks ? "up to " + duration(b.policyCheckSeconds) : "no policy checks in this deployment"],
    ["Idle timeout", b.idleEndsEarlySeconds ? "ends up to " + duration(b.idleEndsEarlySeconds) + " early, never late" : "no idle timeout"],
  ];
  for (const [k, v] of items) {
    const dt = document.createElement("dt");
    dt.textContent = k;
    const dd = document.createElement("dd");
    dd.textContent = v;
    dl.append(dt, dd);
  }
  const p = document.createElement("dd");
  p.className = "help";
  p.textContent = b.howToLower;
  dl.append(p);
}

async function save(body, query) {
  $("#status").textContent = "Saving…";
  const r = await api("PUT", "/environments/" + encodeURIComponent(st.env) + "/settings" + query, body, { "If-Match": st.etag });
  if (r.status === 200) {
    st.etag = r.etag;
    st.loaded = r.data;
    fill(r.data);
    $("#version").textContent = "version " + r.etag.replace(/"/g, "");
    $("#status").textContent = "Saved: version " + r.etag.replace(/"/g, "") + ".";
    await loadHistory();
    return;
  }
  $("#status").textContent = "";
  if (r.status === 412) {
    $("#conflict-text").textContent = "Someone else saved these settings (now version " + (r.etag || "?").replace(/"/g, "") +
      ") after you loaded them. Your change was not saved, so theirs is not overwritten. Load their version, then make your change again.";
    $("#conflict").hidden = false;
    $("#reload").focus();
    return;
  }
  const errs = {};
  for (const e of (r.data && r.data.errors) || []) errs[e.field] = e.message;
  showErrors(errs);
  $("#status").textContent = (r.data && r.data.detail) || "The settings were not saved (" + r.status + ").";
}

// changes lists what a settings change changed: "Maximum session length:
// 24 hours → 8 hours".
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

async function loadHistory() {
  const r = await api("GET", "/environments/" + encodeURIComponent(st.env) + "/settings/history?limit=20");
  const tb = $("#history tbody");
  tb.textContent = "";
  for (const c of (r.data && r.data.changes) || []) {
    const tr = document.createElement("tr");
    for (const v of [c.version, new Date(c.at).toLocaleString(), c.actor, c.preset || "", c.applyToRunning ? "yes" : "no"]) {
      const td = document.createElement("td");
      td.textContent = v;
      tr.append(td);
    }
    const td = document.createElement("td");
    const ul = document.createElement("ul");
    ul.className = "diff";
    for (const line of changes(c.old, c.new)) {
      const li = document.createElement("li");
      li.textContent = line;
      ul.append(li);
    }
    if (!ul.childElementCount) td.textContent = "no change";
    else td.append(ul);
    tr.append(td);
    tb.append(tr);
  }
}

// Shared Signals: one panel per transmitter, with its stream's setup,
// verification and status.
async function loadTransmitters() {
  const r = await api("GET", "/transmitters");
  const sec = $("#signals-section");
  if (r.status !== 200 || !r.data) { sec.hidden = true; return; }
  sec.hidden = false;
  const box = $("#transmitters");
  box.textContent = "";
  r.data.transmitters.forEach((tx, i) => {
    const panel = document.createElement("fieldset");
    panel.className = "transmitter";
    const legend = document.createElement("legend");
    legend.textContent = tx.issuer;
    const info = document.createElement("p");
    info.className = "stream-info";
    if (tx.stream) {
      info.textContent = "Stream " + tx.stream.streamId + " (" + tx.stream.delivery + "), " +
        (tx.status ? "status " + tx.status.status : "status unknown") + ", " +
        (tx.stream.verified ? "verified " + new Date(tx.stream.verifiedAt).toLocaleString() : "not verified");
    } else {
      info.textContent = "No stream yet.";
    }
    if (tx.problem) info.textContent += " " + tx.problem;
    panel.append(legend, info);
    const button = (label, cls, fn) => {
      const b = document.createElement("button");
      b.type = "button";
      b.className = cls;
      b.textContent = label;
      b.addEventListener("click", fn);
      panel.append(b, " ");
      return b;
    };
    const q = "?issuer=" + encodeURIComponent(tx.issuer);
    const run = async (method, path, body, done) => {
      $("#signals-status").textContent = "Working…";
      const res = await api(method, path + q, body);
      $("#signals-status").textContent = res.status === 200 ? done(res.data) : ((res.data && res.data.detail) || "Failed (" + res.status + ").");
      await loadTransmitters();
    };
    button("Set up push stream", "setup-push", () => run("PUT", "/transmitters/stream", { delivery: "push" }, () => "Stream set up: events are pushed to this deployment."));
    button("Set up poll stream", "setup-poll", () => run("PUT", "/transmitters/stream", { delivery: "poll" }, () => "Stream set up: this deployment polls for events."));
    if (tx.stream) {
      button("Request verification", "verify", () => run("POST", "/transmitters/stream/verify", undefined,
        (d) => d.verified ? "Verification event received." : "Verification requested; the event has not arrived yet."));
      const id = "status-" + i;
      const label = document.createElement("label");
      label.htmlFor = id;
      label.textContent = "Status";
      const sel = document.createElement("select");
      sel.id = id;
      sel.className = "stream-status";
      for (const v of ["enabled", "paused", "disabled"]) {
        const o = document.createElement("option");
        o.value = o.textContent = v;
        if (tx.status && tx.status.status === v) o.selected = true;
        sel.append(o);
      }
      panel.append(label, sel, " ");
      button("Change status", "set-status", () => run("PUT", "/transmitters/stream/status", { status: sel.value, reason: "changed in the console" },
        (d) => "Status: " + d.status + "."));
      // Reset asks first: the stream is deleted at the transmitter, and
      // no event arrives until a stream is set up again.
      const ask = document.createElement("div");
      ask.className = "reset-confirm";
      ask.setAttribute("role", "alert");
      ask.hidden = true;
      const askText = document.createElement("p");
      askText.textContent = "Reset the stream at " + tx.issuer + "? It is deleted at the transmitter and forgotten here; " +
        "no event arrives until you set up a stream again, which creates a new one.";
      const yes = document.createElement("button");
      yes.type = "button";
      yes.className = "reset-yes";
      yes.textContent = "Reset the stream";
      yes.addEventListener("click", () => run("DELETE", "/transmitters/stream", undefined, () => "Stream reset: set up a stream to receive events again."));
      const no = document.createElement("button");
      no.type = "button";
      no.className = "reset-no";
      no.textContent = "Keep it";
      const reset = button("Reset stream…", "reset", () => { ask.hidden = false; reset.disabled = true; yes.focus(); });
      no.addEventListener("click", () => { ask.hidden = true; reset.disabled = false; reset.focus(); });
      ask.append(askText, yes, " ", no);
      panel.append(ask);
    }
    box.append(panel);
  });
}

async function loadAudit() {
  const r = await api("GET", "/environments/" + encodeURIComponent(st.env) + "/audits?limit=30");
  const reps = ((r.data && r.data.reports) || []).slice().reverse(); // oldest first
  const latest = reps[reps.length - 1];
  $("#ov-active").textContent = latest ? latest.report.activeSessions : "–";
  $("#ov-audit").textContent = latest ? new Date(latest.at).toLocaleString() : "none yet";
  const dl = $("#audit");
  dl.textContent = "";
  $("#audit-empty").hidden = !!latest;
  $("#charts").hidden = !latest;
  if (!latest) return;
  const causes = Object.entries(latest.report.revocations || {}).map(([k, v]) => k.replace(/_/g, " ") + ": " + v).join(", ") || "none";
  const items = [["Reported", new Date(latest.at).toLocaleString()], ["Active sessions", latest.report.activeSessions],
    ["Under older settings", latest.report.olderSettingsSessions], ["Idle sessions", latest.report.idleSessions],
    ["Revocations by cause", causes], ["Users failing checks", latest.report.usersCheckFailing]];
  for (const [k, v] of items) {
    const dt = document.createElement("dt");
    dt.textContent = k;
    const dd = document.createElement("dd");
    dd.textContent = v;
    dl.append(dt, dd);
  }
  drawCharts(reps);
}

// Charts of the stored audits, drawn as inline SVG (no library).
const SVGNS = "http://www.w3.org/2000/svg";
function svgEl(tag, attrs, text) {
  const e = document.createElementNS(SVGNS, tag);
  for (const k in attrs) e.setAttribute(k, attrs[k]);
  if (text !== undefined) e.textContent = text;
  return e;
}
function chart(id, title, points, fmt) {
  // points: [label, value]; bars, with the value above each.
  const box = document.getElementById(id);
  box.textContent = "";
  const w = 360, h = 160, pad = 24, n = Math.max(points.length, 1);
  const max = Math.max(1, ...points.map((p) => p[1]));
  const svg = svgEl("svg", { viewBox: "0 0 " + w + " " + h, role: "img", class: "chart",
    "aria-label": title + ": " + (points.map((p) => p[0] + " " + fmt(p[1])).join(", ") || "no data") });
  svg.append(svgEl("title", {}, title));
  svg.append(svgEl("line", { x1: pad, y1: h - pad, x2: w - 4, y2: h - pad, class: "axis" }));
  const bw = (w - pad - 8) / n;
  points.forEach(([label, v], i) => {
    const bh = (h - 2 * pad) * (v / max);
    const x = pad + i * bw + bw * 0.15;
    svg.append(svgEl("rect", { x: x, y: h - pad - bh, width: bw * 0.7, height: Math.max(bh, 0.5), class: "bar" }));
    svg.append(svgEl("text", { x: x + bw * 0.35, y: h - pad - bh - 4, "text-anchor": "middle", class: "value" }, fmt(v)));
    if (n <= 8) svg.append(svgEl("text", { x: x + bw * 0.35, y: h - 6, "text-anchor": "middle", class: "label" }, label));
  });
  box.append(svg);
}
function drawCharts(reps) {
  const day = (at) => new Date(at).toLocaleDateString(undefined, { month: "short", day: "numeric" });
  chart("chart-active", "Active sessions per audit", reps.map((r) => [day(r.at), r.report.activeSessions || 0]), String);
  const causes = {};
  for (const r of reps) for (const [k, v] of Object.entries(r.report.revocations || {})) causes[k] = (causes[k] || 0) + v;
  chart("chart-causes", "Revocations by cause, over these audits", Object.entries(causes).map(([k, v]) => [k.replace(/_/g, " "), v]), String);
  chart("chart-errors", "Directory error rate per audit", reps.map((r) => [day(r.at), 100 * (r.report.directoryErrorRate || 0)]), (v) => Math.round(v) + "%");
}

async function showSessions(e) {
  if (e) e.preventDefault();
  const user = $("#user").value.trim();
  if (!user) return;
  const r = await api("GET", "/environments/" + encodeURIComponent(st.env) + "/sessions?user=" + encodeURIComponent(user) + issuerParam("&"));
  const tb = $("#sessions tbody");
  tb.textContent = "";
  const list = (r.data && r.data.sessions) || [];
  $("#sessions").hidden = list.length === 0;
  $("#sessions-status").textContent = r.status === 200 ? list.length + " live session(s) of " + user + "." : "Could not list sessions (" + r.status + ").";
  const when = (t) => (t ? new Date(t).toLocaleString() : "–");
  for (const s of list) {
    const tr = document.createElement("tr");
    for (const v of [when(s.createdAt), when(s.lastActivityAt), s.clientId || "–", s.staySignedIn ? "yes" : "no", when(s.expiresAt || s.idleExpiresAt)]) {
      const td = document.createElement("td");
      td.textContent = v;
      tr.append(td);
    }
    const td = document.createElement("td");
    const b = document.createElement("button");
    b.type = "button";
    b.className = "revoke";
    b.textContent = "Revoke";
    b.setAttribute("aria-label", "Revoke the session started " + when(s.createdAt));
    b.addEventListener("click", async () => {
      await api("DELETE", "/environments/" + encodeURIComponent(st.env) + "/sessions/" + s.id);
      await showSessions();
      $("#sessions-status").textContent = "Session revoked. " + $("#sessions-status").textContent;
    });
    td.append(b);
    tr.append(td);
    tb.append(tr);
  }
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
  const params = new URLSearchParams(location.search);
  if (params.get("code")) await finishSignIn(params);
  const saved = JSON.parse(sessionStorage.getItem("sg_console") || "null");
  if (!saved) {
    $("#who").textContent = "Sign in as an administrator.";
    $("#signin").hidden = false;
    $("#signin").addEventListener("click", signIn);
    return;
  }
  st.token = saved.token;
  st.sid = saved.sid;
  const envs = await api("GET", "/environments");
  if (envs.status !== 200) {
    $("#who").textContent = envs.status === 403 ? "Your account does not have the administrator role." : "Your sign-in has ended.";
    sessionStorage.removeItem("sg_console");
    $("#signin").hidden = false;
    $("#signin").addEventListener("click", signIn);
    return;
  }
  st.limits = (await api("GET", "/limits")).data;
  const presets = (await api("GET", "/presets")).data.presets;
  for (const p of presets) $("#preset").append(new Option(p.name + " — " + p.description, p.name));
  for (const e of envs.data.environments) $("#env").append(new Option(e.id, e.id));
  st.env = envs.data.environments[0].id;
  $("#who").textContent = whoText(st.token);
  $("#signout").hidden = false;
  $("#signout").addEventListener("click", signOut);
  $("#app").hidden = false;
  buildForm();
  $("#env").addEventListener("change", async () => { st.env = $("#env").value; await loadSettings(); });
  $("#settings").addEventListener("submit", async (e) => {
    e.preventDefault();
    if (Object.keys(validate()).length) return;
    const q = $("#apply-running").checked ? "?applyToRunning=true" : "";
    await save(read(), q);
  });
  $("#apply-preset").addEventListener("click", () => save(undefined, "?preset=" + encodeURIComponent($("#preset").value)));
  $("#reload").addEventListener("click", loadSettings);
  $("#sessions-form").addEventListener("submit", showSessions);
  $("#revoke-all").addEventListener("click", async () => {
    const user = $("#user").value.trim();
    if (!user) return;
    const r = await api("POST", "/environments/" + encodeURIComponent(st.env) + "/users/" + encodeURIComponent(user) + "/revoke" + issuerParam("?"));
    await showSessions();
    $("#sessions-status").textContent = (r.data ? r.data.revoked : 0) + " session(s) revoked. " + $("#sessions-status").textContent;
  });
  await loadSettings();
}

main().catch((e) => { $("#who").textContent = "Error: " + e.message; });
