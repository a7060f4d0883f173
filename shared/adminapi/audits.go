package adminapi

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/sessionguard/sessionguard/shared/httpjson"
	"github.com/sessionguard/sessionguard/shared/token"
)

// audits lists the environment's stored audit reports, newest first.
func (a *API) audits(w http.ResponseWriter, r *http.Request, _ token.Claims, env string) {
	p, ok := page(w, r)
	if !ok {
		return
	}
	reports, next, err := a.cfg.Store.Reports(r.Context(), env, p)
	if err != nil {
		a.fail(w, r, "audits", err)
		return
	}
	type view struct {
		At     time.Time       `json:"at"`
		Report json.RawMessage `json:"report"`
	}
	out := make([]view, 0, len(reports))
	for _, rep := range reports {
		out = append(out, view{rep.At, rep.Body})
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"reports": out, "next": next})
}

// budget is the environment's revocation-latency budget: at worst, how
// long a revoked, disabled or idle session can still get through, from its
// current settings and the deployment's enforcement.
func (a *API) budget(w http.ResponseWriter, r *http.Request, _ token.Claims, env string) {
	s, v, err := a.cfg.Store.Settings(r.Context(), env)
	if err != nil {
		a.fail(w, r, "get settings", err)
		return
	}
	b := s.Budget(a.cfg.Enforcement)
	secs := func(d time.Duration) int { return int(d / time.Second) }
	out := map[string]any{
		"environment": env, "settingsVersion": v,
		"cacheTtlSeconds":                  secs(a.cfg.Enforcement.Horizon),
		"revocationSeconds":                secs(b.Revocation),
		"idleEndsEarlySeconds":             secs(b.IdleEarly),
		"idleEndsEarlySecondsStaySignedIn": secs(b.IdleEarlyStaySignedIn),
		"policyChecks":                     b.PolicyCheck != nil,
		"howToLower": "Revocations bite after the authorizer cache TTL: lower ReauthorizeEvery (the template parameter; 0 turns the cache off, at one authorizer call per request). " +
			"A disable found by the policy check takes up to the check interval plus the schedule's slack: lower policyCheckIntervalMinutes here, " +
			"or push revocations (Shared Signals, the Cognito rule, back-channel logout) so that no check has to find them.",
	}
	if b.PolicyCheck != nil {
		out["policyCheckSeconds"] = secs(*b.PolicyCheck)
	}
	httpjson.Write(w, http.StatusOK, out)
}
