// Package directory asks an identity provider's directory whether users are
// still allowed: Microsoft Graph, SCIM 2.0, and a plain HTTP/JSON protocol
// for custom directories. One call per user (Graph: batches of 20); 429
// answers are retried after their Retry-After, within the caller's
// deadline. Every request, and every redirect followed, goes to an https
// URL (plain http only to a loopback host): they carry the directory's
// credentials.
package directory

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sessionguard/sessionguard/shared/endpoint"
)

// State is what a directory says of a user.
type State int

// The states. The zero value is Unknown, never Active: a result an
// adapter did not fill in must not clear a user.
const (
	Unknown  State = iota // no answer
	Active                // exists and may sign in
	Disabled              // exists; disabled or blocked from signing in
	Deleted               // no longer exists
)

func (s State) String() string {
	if s < Unknown || s > Deleted {
		return "unknown"
	}
	return [...]string{"unknown", "active", "disabled", "deleted"}[s]
}

// ErrNoAnswer is the error of a result the directory left unanswered.
var ErrNoAnswer = errors.New("directory: no answer for this user")

// Result is one user's answer. Err is set when the directory could not
// answer for this user (outage, 5xx, throttled past the deadline): the
// caller must then change nothing.
type Result struct {
	State State
	// SessionsValidFrom: sessions started before it are revoked (Graph
	// signInSessionsValidFromDateTime, a password reset). Zero: none.
	SessionsValidFrom time.Time
	Err               error
	// AskedAt is when the directory was asked for this answer (stamped by
	// the caller): a state recorded after it, such as a disable pushed
	// meanwhile, is newer than the answer and stands.
	AskedAt time.Time
}

// MaxRetries bounds the retries of one request answered 429 or 503.
const MaxRetries = 3

// MaxRetryWait caps one Retry-After wait.
const MaxRetryWait = 30 * time.Second

// ErrThrottled is the error of a request still throttled after its
// retries, or whose Retry-After would pass the deadline.
var ErrThrottled = errors.New("directory: throttled")

// do sends a request built by mk, retrying 429 and 503 after Retry-After
// (or a short backoff), never past ctx's deadline. It returns the final
// response, body read and closed. A URL that is not https (nor plain http
// to a loopback host) is refused before anything is sent.
func do(ctx context.Context, hc *http.Client, mk func() (*http.Request, error)) (int, http.Header, []byte, error) {
	for attempt := 0; ; attempt++ {
		req, err := mk()
		if err != nil {
			return 0, nil, nil, err
		}
		if err := endpoint.Check(req.URL.String()); err != nil {
			return 0, nil, nil, fmt.Errorf("directory: %s: %w", req.Method, err)
		}
		resp, err := hc.Do(req.WithContext(ctx))
		if err != nil {
			return 0, nil, nil, err
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if err != nil {
			return 0, nil, nil, err
		}
		if resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusServiceUnavailable {
			return resp.StatusCode, resp.Header, body, nil
		}
		if attempt == MaxRetries {
			return 0, nil, nil, fmt.Errorf("%w: %d after %d retries", ErrThrottled, resp.StatusCode, MaxRetries)
		}
		if err := waitRetry(ctx, resp.Header.Get("Retry-After"), attempt); err != nil {
			return 0, nil, nil, err
		}
	}
}

// viaDo is a RoundTripper that sends a request through do, with hc: a
// library's request (the oauth2 token request) gets the same https check,
// retries and body cap as the adapters' own.
type viaDo struct{ hc *http.Client }

// RoundTrip sends req through do and answers what do read; it closes
// req's body, as a RoundTripper must.
func (t viaDo) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		defer req.Body.Close()
	}
	status, h, body, err := do(req.Context(), t.hc, func() (*http.Request, error) {
		r := req.Clone(req.Context())
		if req.GetBody != nil {
			b, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			r.Body = b
		}
		return r, nil
	})
	if err != nil {
		return nil, err
	}
	return &http.Response{Status: strconv.Itoa(status) + " " + http.StatusText(status), StatusCode: status, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: h, Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body)), Request: req}, nil
}

// waitRetry waits as Retry-After says (seconds or an HTTP date; default a
// short backoff), unless that would pass ctx's deadline.
func waitRetry(ctx context.Context, retryAfter string, attempt int) error {
	wait := time.Duration(200*(attempt+1)) * time.Millisecond
	if s := strings.TrimSpace(retryAfter); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n >= 0 {
			wait = time.Duration(n) * time.Second
		} else if t, err := http.ParseTime(s); err == nil {
			wait = time.Until(t)
		}
	}
	wait = max(0, min(wait, MaxRetryWait))
	if dl, ok := ctx.Deadline(); ok && time.Now().Add(wait).After(dl) {
		return fmt.Errorf("%w: Retry-After %s passes the deadline", ErrThrottled, wait)
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// statusError is an unexpected answer.
func statusError(what string, status int) error {
	return fmt.Errorf("directory: %s answered %d", what, status)
}

// objectID is the directory's id for a subject: the part after a tenant
// prefix ("tid/oid" -> "oid").
func objectID(subject string) string {
	if i := strings.LastIndexByte(subject, '/'); i >= 0 {
		return subject[i+1:]
	}
	return subject
}
