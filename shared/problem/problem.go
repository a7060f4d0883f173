// Package problem writes RFC 9457 problem details (application/problem+json)
// for the HTTP APIs. A problem always carries the sessionguard reason code;
// field errors name each bad field. A 5xx problem says nothing internal.
package problem

import (
	"net/http"

	"github.com/sessionguard/sessionguard/shared/httpjson"
	"github.com/sessionguard/sessionguard/shared/reason"
)

// FieldError names one bad field of a request.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Details is an RFC 9457 problem document.
type Details struct {
	Type   string       `json:"type"`
	Title  string       `json:"title"`
	Status int          `json:"status"`
	Detail string       `json:"detail,omitempty"`
	Reason reason.Code  `json:"reason,omitempty"`
	Errors []FieldError `json:"errors,omitempty"`
}

// Write sends p. Type defaults to a URN naming the reason (or the status).
func Write(w http.ResponseWriter, p Details) {
	if p.Title == "" {
		p.Title = http.StatusText(p.Status)
	}
	if p.Type == "" {
		if p.Reason != "" {
			p.Type = "urn:sessionguard:problem:" + string(p.Reason)
		} else {
			p.Type = "about:blank"
		}
	}
	if p.Status >= 500 {
		p.Detail = "the service could not complete the request; it has been logged"
	}
	httpjson.WriteAs(w, p.Status, "application/problem+json", p)
}

// Deny sends the problem for a deny reason, with the status of its class
// (reason.StatusOf: 401 sign in again, 403 not allowed; a dependency down,
// 500 there, is answered 503).
func Deny(w http.ResponseWriter, c reason.Code, detail string) {
	status := int(reason.StatusOf(c))
	if status == 500 {
		status = http.StatusServiceUnavailable
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
	}
	Write(w, Details{Status: status, Reason: c, Detail: detail})
}

// Fields sends a 400 listing every bad field.
func Fields(w http.ResponseWriter, detail string, errs []FieldError) {
	Write(w, Details{Status: http.StatusBadRequest, Title: "Invalid request", Detail: detail, Errors: errs})
}
