// Package app is the example app behind sessionguard's authorizer: a tiny
// API whose routes learn who the caller is from the authorizer context
// API Gateway passes on, never from a request header (which a client
// could forge).
package app

import (
	"encoding/json"
	"net/http"

	"github.com/awslabs/aws-lambda-go-api-proxy/core"
)

// Caller is who the authorizer said the request is from.
type Caller struct {
	UserID      string `json:"userId"`
	Environment string `json:"environment"`
	SessionID   string `json:"sessionId"` // a hash prefix, never the session id
	ExpiresAt   string `json:"expiresAt,omitempty"`
	WarnAt      string `json:"warnAt,omitempty"`
}

// callerOf reads the authorizer context of an HTTP API (payload 2.0) or
// REST API request, as aws-lambda-go-api-proxy's ProxyWithContext put it
// in the request's context.
func callerOf(r *http.Request) (Caller, bool) {
	var ctx map[string]any
	if v2, ok := core.GetAPIGatewayV2ContextFromContext(r.Context()); ok && v2.Authorizer != nil {
		ctx = v2.Authorizer.Lambda
	} else if v1, ok := core.GetAPIGatewayContextFromContext(r.Context()); ok {
		ctx = v1.Authorizer
	}
	str := func(k string) string { s, _ := ctx[k].(string); return s }
	c := Caller{UserID: str("userId"), Environment: str("environment"), SessionID: str("sessionId"), ExpiresAt: str("expiresAt"), WarnAt: str("warnAt")}
	return c, c.UserID != ""
}

// Handler serves the app's routes:
//
//	GET /hello  who is calling, from the authorizer context
//	GET /items  the caller's items (a stand-in for the app's real data)
func Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello", func(w http.ResponseWriter, r *http.Request) {
		c, ok := callerOf(r)
		if !ok {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "no authorizer context: is the route behind the authorizer?"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"message": "hello, " + c.UserID, "caller": c})
	})
	mux.HandleFunc("GET /items", func(w http.ResponseWriter, r *http.Request) {
		c, ok := callerOf(r)
		if !ok {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "no authorizer context"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"owner": c.UserID, "items": []string{"first", "second"}})
	})
	return mux
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
