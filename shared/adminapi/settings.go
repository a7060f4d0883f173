package adminapi

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/sessionguard/sessionguard/shared/httpjson"
	"github.com/sessionguard/sessionguard/shared/policy"
	"github.com/sessionguard/sessionguard/shared/problem"
	"github.com/sessionguard/sessionguard/shared/reason"
	"github.com/sessionguard/sessionguard/shared/session"
	"github.com/sessionguard/sessionguard/shared/token"
)

type environmentView struct {
	ID      string `json:"id"`
	Version int    `json:"version"`
}

// environments lists the environments the caller administers.
func (a *API) environments(w http.ResponseWriter, r *http.Request, c token.Claims, _ string) {
	out := []environmentView{}
	for _, env := range a.cfg.Environments {
		if !a.isAdmin(c, env) {
			continue
		}
		_, v, err := a.cfg.Store.Settings(r.Context(), env)
		if err != nil {
			a.fail(w, r, "environments", err)
			return
		}
		out = append(out, environmentView{env, v})
	}
	if len(out) == 0 {
		problem.Deny(w, reason.Forbidden, "the token does not carry the admin role for any environment")
		return
	}
	// transmitters tells the console whether to offer the Shared Signals
	// streams: GET /transmitters would answer this caller.
	httpjson.Write(w, http.StatusOK, map[string]any{"environments": out, "transmitters": a.cfg.Streams != nil && a.isAdmin(c, "")})
}

// presets lists the settings presets.
func (a *API) presets(w http.ResponseWriter, _ *http.Request, _ token.Claims, _ string) {
	httpjson.Write(w, http.StatusOK, map[string]any{"presets": policy.Presets()})
}

// limits are the ranges this deployment allows in a settings document.
func (a *API) limits(w http.ResponseWriter, _ *http.Request, _ token.Claims, _ string) {
	httpjson.Write(w, http.StatusOK, a.cfg.Limits)
}

func etag(version int) string { return `"` + strconv.Itoa(version) + `"` }

// getSettings answers the environment's settings, their version as the ETag.
func (a *API) getSettings(w http.ResponseWriter, r *http.Request, _ token.Claims, env string) {
	s, v, err := a.cfg.Store.Settings(r.Context(), env)
	if err != nil {
		a.fail(w, r, "get settings", err)
		return
	}
	w.Header().Set("ETag", etag(v))
	httpjson.Write(w, http.StatusOK, s)
}

// matches reports whether an If-Match header names the current version.
// "*" does not: it would let a write skip the lost-update check.
func matches(ifMatch string, version int) bool {
	want := etag(version)
	for _, tag := range strings.Split(ifMatch, ",") {
		if strings.TrimSpace(tag) == want {
			return true
		}
	}
	return false
}

// putSettings replaces an environment's settings: with a settings document
// as the body, or with ?preset=<name> and no body. If-Match must carry
// the ETag read: 428 without it, 412 when someone else wrote first.
// ?applyToRunning=true also applies the change to running sessions.
func (a *API) putSettings(w http.ResponseWriter, r *http.Request, c token.Claims, env string) {
	ifMatch := r.Header.Get("If-Match")
	if ifMatch == "" || strings.TrimSpace(ifMatch) == "*" {
		problem.Write(w, problem.Details{Status: http.StatusPreconditionRequired, Detail: "send the ETag of the settings you read in If-Match",
			Errors: []problem.FieldError{{Field: "If-Match", Message: `required: the ETag from GET, e.g. "3"`}}})
		return
	}
	q := r.URL.Query()
	apply := false
	switch v := q.Get("applyToRunning"); v {
	case "", "false":
	case "true":
		apply = true
	default:
		problem.Fields(w, "bad applyToRunning", []problem.FieldError{{Field: "applyToRunning", Message: "must be true or false"}})
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		problem.Write(w, problem.Details{Status: http.StatusRequestEntityTooLarge, Detail: "the settings document is too large",
			Errors: []problem.FieldError{{Field: "body", Message: fmt.Sprintf("at most %d bytes", MaxBodyBytes)}}})
		return
	}
	presetName := q.Get("preset")
	var next policy.Settings
	if presetName != "" {
		p, found := policy.PresetNamed(presetName)
		if !found {
			problem.Fields(w, "unknown preset", []problem.FieldError{{Field: "preset", Message: "not one of the presets listed by GET /presets"}})
			return
		}
		if len(strings.TrimSpace(string(body))) > 0 {
			problem.Fields(w, "a preset replaces the whole document", []problem.FieldError{{Field: "body", Message: "must be empty when preset is given"}})
			return
		}
		next = p.Settings
		if err := next.Validate(a.cfg.Limits); err != nil {
			writeFieldErrors(w, "preset "+presetName+" does not fit this deployment's limits (SETTINGS_LIMITS)", err)
			return
		}
	} else if next, err = policy.Decode(body, a.cfg.Limits); err != nil {
		writeFieldErrors(w, "the settings document is not valid", err)
		return
	}
	cur, version, err := a.cfg.Store.Settings(r.Context(), env)
	if err != nil {
		a.fail(w, r, "put settings", err)
		return
	}
	if presetName != "" && cur.DPoP != "" {
		// A preset sets session lifetimes; it leaves the environment's
		// DPoP setting as it is (a preset never turns DPoP off). ""
		// (settings stored before the setting existed) is off, the
		// preset's own.
		next.DPoP = cur.DPoP
	}
	if next.DPoP != policy.DPoPOff && a.cfg.Enforcement.Horizon > 0 {
		// API Gateway would serve a cached allow to a request with no
		// proof, or a replayed one (docs/integrating-your-app.md). Judged
		// on what will be stored: a preset keeps the current dpop.
		problem.Fields(w, "DPoP needs the authorizer cache off", []problem.FieldError{{Field: "dpop",
			Message: "this deployment caches the authorizer's answers (AUTHORIZER_CACHE_TTL_SECONDS, ReauthorizeEvery): set them to 0 before turning DPoP on, or set dpop off"}})
		return
	}
	if !matches(ifMatch, version) {
		a.stale(w, version)
		return
	}
	change := policy.SettingsChange{Environment: env, Version: version + 1, At: a.cfg.Now(), Actor: actor(c),
		Old: cur, New: next, ApplyToRunning: apply, Preset: presetName}
	if err := a.cfg.Store.PutSettings(r.Context(), change); errors.Is(err, session.ErrVersionConflict) {
		_, latest, _ := a.cfg.Store.Settings(r.Context(), env)
		a.stale(w, latest)
		return
	} else if err != nil {
		a.fail(w, r, "put settings", err)
		return
	}
	a.audit(r, c, env, "put settings", slog.Int("version", change.Version), slog.Bool("applyToRunning", apply), slog.String("preset", presetName))
	w.Header().Set("ETag", etag(change.Version))
	httpjson.Write(w, http.StatusOK, next)
}

func (a *API) stale(w http.ResponseWriter, current int) {
	w.Header().Set("ETag", etag(current))
	problem.Write(w, problem.Details{Status: http.StatusPreconditionFailed,
		Detail: "the settings changed since you read them (now version " + strconv.Itoa(current) + "); read them again and reapply your change",
		Errors: []problem.FieldError{{Field: "If-Match", Message: "stale: the current ETag is " + etag(current)}}})
}

func writeFieldErrors(w http.ResponseWriter, detail string, err error) {
	var fe policy.FieldErrors
	if !errors.As(err, &fe) {
		problem.Fields(w, detail, []problem.FieldError{{Field: "body", Message: err.Error()}})
		return
	}
	out := make([]problem.FieldError, len(fe))
	for i, e := range fe {
		out[i] = problem.FieldError{Field: e.Field, Message: e.Message}
	}
	problem.Fields(w, detail, out)
}

// actor names the admin in the history: issuer and subject.
func actor(c token.Claims) string { return c.Subject + " (" + c.Issuer + ")" }

// history lists the environment's settings changes, newest first.
func (a *API) history(w http.ResponseWriter, r *http.Request, _ token.Claims, env string) {
	p, ok := page(w, r)
	if !ok {
		return
	}
	changes, next, err := a.cfg.Store.History(r.Context(), env, p)
	if err != nil {
		a.fail(w, r, "history", err)
		return
	}
	if changes == nil {
		changes = []policy.SettingsChange{}
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"changes": changes, "next": next})
}
