package directory

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/sessionguard/sessionguard/shared/endpoint"
)

// HTTPJSON is the protocol for custom directories:
//
//	GET {BaseURL}/users/{id}  (Authorization: Bearer {Token} if set)
//	200 {"enabled": true, "sessionsValidFrom": "2026-11-23T10:00:00Z"}  (the latter optional)
//	404 the user no longer exists
type HTTPJSON struct {
	BaseURL string
	Token   string
	Client  *http.Client
}

// BatchSize is 1: one request per user.
func (d *HTTPJSON) BatchSize() int { return 1 }

// Check asks about each subject.
func (d *HTTPJSON) Check(ctx context.Context, subjects []string) []Result {
	out := make([]Result, len(subjects))
	for i, s := range subjects {
		out[i] = d.one(ctx, s)
	}
	return out
}

func (d *HTTPJSON) one(ctx context.Context, subject string) Result {
	u := strings.TrimRight(d.BaseURL, "/") + "/users/" + url.PathEscape(objectID(subject))
	status, _, body, err := do(ctx, client(d.Client), func() (*http.Request, error) {
		req, err := http.NewRequest(http.MethodGet, u, nil)
		if err == nil && d.Token != "" {
			req.Header.Set("Authorization", "Bearer "+d.Token)
		}
		return req, err
	})
	switch {
	case err != nil:
		return Result{Err: err}
	case status == http.StatusNotFound:
		return Result{State: Deleted}
	case status != http.StatusOK:
		return Result{Err: statusError("user lookup", status)}
	}
	var doc struct {
		Enabled           *bool      `json:"enabled"`
		SessionsValidFrom *time.Time `json:"sessionsValidFrom"`
	}
	if err := json.Unmarshal(body, &doc); err != nil || doc.Enabled == nil {
		return Result{Err: fmt.Errorf("directory: user document without a boolean \"enabled\": %v", err)}
	}
	r := Result{State: Active}
	if !*doc.Enabled {
		r.State = Disabled
	}
	if doc.SessionsValidFrom != nil {
		r.SessionsValidFrom = doc.SessionsValidFrom.UTC()
	}
	return r
}

// SCIM asks a SCIM 2.0 service provider (RFC 7644): GET {BaseURL}/Users/{id};
// "active": false is disabled; 404 is deleted.
type SCIM struct {
	BaseURL string
	Token   string
	Client  *http.Client
	Now     func() time.Time // where change tracking starts; time.Now if nil

	filter scimFilter
}

// BatchSize is 1: SCIM bulk has no reads.
func (d *SCIM) BatchSize() int { return 1 }

// scimGet reads one SCIM document.
func (d *SCIM) scimGet(ctx context.Context, u string) (int, []byte, error) {
	status, _, body, err := do(ctx, client(d.Client), func() (*http.Request, error) {
		req, err := http.NewRequest(http.MethodGet, u, nil)
		if err == nil {
			req.Header.Set("Accept", "application/scim+json")
			if d.Token != "" {
				req.Header.Set("Authorization", "Bearer "+d.Token)
			}
		}
		return req, err
	})
	return status, body, err
}

// Check asks about each subject.
func (d *SCIM) Check(ctx context.Context, subjects []string) []Result {
	out := make([]Result, len(subjects))
	for i, s := range subjects {
		status, body, err := d.scimGet(ctx, strings.TrimRight(d.BaseURL, "/")+"/Users/"+url.PathEscape(objectID(s))+"?attributes=active")
		switch {
		case err != nil:
			out[i] = Result{Err: err}
		case status == http.StatusNotFound:
			out[i] = Result{State: Deleted}
		case status != http.StatusOK:
			out[i] = Result{Err: statusError("SCIM user lookup", status)}
		default:
			var doc struct {
				Active *bool `json:"active"`
			}
			if err := json.Unmarshal(body, &doc); err != nil || doc.Active == nil {
				out[i] = Result{Err: fmt.Errorf("directory: SCIM user without a boolean \"active\": %v", err)}
			} else if *doc.Active {
				out[i] = Result{State: Active}
			} else {
				out[i] = Result{State: Disabled}
			}
		}
	}
	return out
}

// Graph asks Microsoft Graph, with an app's client credentials, for each
// user's accountEnabled and signInSessionsValidFromDateTime, 20 users per
// JSON batch.
type Graph struct {
	TokenURL     string // https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token
	GraphURL     string // default https://graph.microsoft.com/v1.0
	ClientID     string
	ClientSecret string
	Client       *http.Client

	mu    sync.Mutex
	token *oauth2.Token // the app token, kept until a minute before it expires
}

// GraphBatchSize is Graph's JSON batching limit.
const GraphBatchSize = 20

// BatchSize is 20.
func (d *Graph) BatchSize() int { return GraphBatchSize }

// graphScope asks for the app's Graph permissions.
const graphScope = "https://graph.microsoft.com/.default"

// accessToken returns the app token, fetching a new one (client
// credentials, golang.org/x/oauth2/clientcredentials) a minute before the
// one kept expires. The request goes through do, as every directory
// request does: https only, checked before it is sent; 429 and 503 retried
// within the deadline; and it follows no redirect, so the client secret it
// carries reaches no other host. A token without an expiry is not kept.
func (d *Graph) accessToken(ctx context.Context) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := endpoint.Check(d.TokenURL); err != nil {
		return "", fmt.Errorf("directory: graph token: %w", err)
	}
	cc := clientcredentials.Config{ClientID: d.ClientID, ClientSecret: d.ClientSecret, TokenURL: d.TokenURL,
		Scopes: []string{graphScope}, AuthStyle: oauth2.AuthStyleInParams}
	hc := &http.Client{Transport: viaDo{noRedirects(client(d.Client))}, CheckRedirect: noRedirect}
	tok, err := oauth2.ReuseTokenSourceWithExpiry(d.token, cc.TokenSource(context.WithValue(ctx, oauth2.HTTPClient, hc)), time.Minute).Token()
	var answered *oauth2.RetrieveError
	var sending *url.Error
	switch {
	case errors.As(err, &answered) && answered.Response != nil && answered.Response.StatusCode != http.StatusOK:
		return "", statusError("graph token endpoint", answered.Response.StatusCode)
	case errors.As(err, &sending):
		return "", fmt.Errorf("directory: graph token: %w", err)
	case err != nil:
		return "", fmt.Errorf("directory: graph token response without access_token: %v", err)
	}
	d.token = tok
	if tok.Expiry.IsZero() {
		d.token = nil
	}
	return tok.AccessToken, nil
}

// Check asks about up to 20 subjects in one batch; items answered 429 are
// sent again after their Retry-After.
func (d *Graph) Check(ctx context.Context, subjects []string) []Result {
	out := make([]Result, len(subjects))
	tok, err := d.accessToken(ctx)
	if err != nil {
		for i := range out {
			out[i] = Result{Err: err}
		}
		return out
	}
	base := d.GraphURL
	if base == "" {
		base = "https://graph.microsoft.com/v1.0"
	}
	pending := make([]int, len(subjects))
	for i := range pending {
		pending[i] = i
	}
	for attempt := 0; len(pending) > 0; attempt++ {
		type item struct {
			ID     string `json:"id"`
			Method string `json:"method"`
			URL    string `json:"url"`
		}
		var batch struct {
			Requests []item `json:"requests"`
		}
		for _, i := range pending {
			batch.Requests = append(batch.Requests, item{strconv.Itoa(i), "GET",
				"/users/" + url.PathEscape(objectID(subjects[i])) + "?$select=accountEnabled,signInSessionsValidFromDateTime"})
		}
		payload, _ := json.Marshal(batch)
		status, _, body, err := do(ctx, client(d.Client), func() (*http.Request, error) {
			req, err := http.NewRequest(http.MethodPost, strings.TrimRight(base, "/")+"/$batch", bytes.NewReader(payload))
			if err == nil {
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+tok)
			}
			return req, err
		})
		if err == nil && status != http.StatusOK {
			err = statusError("graph $batch", status)
		}
		var resp struct {
			Responses []struct {
				ID      string            `json:"id"`
				Status  int               `json:"status"`
				Headers map[string]string `json:"headers"`
				Body    json.RawMessage   `json:"body"`
			} `json:"responses"`
		}
		if err == nil {
			if jerr := json.Unmarshal(body, &resp); jerr != nil {
				err = fmt.Errorf("directory: graph $batch answer: %w", jerr)
			}
		}
		if err != nil {
			for _, i := range pending {
				out[i] = Result{Err: err}
			}
			return out
		}
		answered := map[int]bool{}
		var again []int
		retryAfter := ""
		for _, r := range resp.Responses {
			i, err := strconv.Atoi(r.ID)
			if err != nil || i < 0 || i >= len(subjects) || answered[i] {
				continue
			}
			answered[i] = true
			switch {
			case r.Status == http.StatusTooManyRequests || r.Status == http.StatusServiceUnavailable:
				again = append(again, i)
				if ra := headerValue(r.Headers, "Retry-After"); ra != "" {
					retryAfter = ra
				}
			case r.Status == http.StatusNotFound:
				out[i] = Result{State: Deleted}
			case r.Status == http.StatusOK:
				out[i] = graphUser(r.Body)
			default:
				out[i] = Result{Err: statusError("graph user lookup", r.Status)}
			}
		}
		for _, i := range pending {
			if !answered[i] {
				out[i] = Result{Err: fmt.Errorf("directory: graph $batch left request %d unanswered", i)}
			}
		}
		if len(again) == 0 {
			return out
		}
		werr := error(nil)
		if attempt == MaxRetries {
			werr = fmt.Errorf("%w: graph items after %d retries", ErrThrottled, MaxRetries)
		} else {
			werr = waitRetry(ctx, retryAfter, attempt)
		}
		if werr != nil {
			for _, i := range again {
				out[i] = Result{Err: werr}
			}
			return out
		}
		pending = again
	}
	return out
}

func graphUser(body []byte) Result {
	var u struct {
		AccountEnabled                  *bool      `json:"accountEnabled"`
		SignInSessionsValidFromDateTime *time.Time `json:"signInSessionsValidFromDateTime"`
	}
	if err := json.Unmarshal(body, &u); err != nil || u.AccountEnabled == nil {
		return Result{Err: fmt.Errorf("directory: graph user without accountEnabled: %v", err)}
	}
	r := Result{State: Active}
	if !*u.AccountEnabled {
		r.State = Disabled
	}
	if u.SignInSessionsValidFromDateTime != nil {
		r.SessionsValidFrom = u.SignInSessionsValidFromDateTime.UTC()
	}
	return r
}

func headerValue(h map[string]string, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// noRedirects is c following no redirect: the token request carries the
// client secret, which a redirect (307, 308) would send on to another
// host; a redirect is answered as the error it is.
func noRedirects(c *http.Client) *http.Client {
	nc := *c
	nc.CheckRedirect = noRedirect
	return &nc
}

// noRedirect is a CheckRedirect that answers a redirect as it came.
func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// client is c, or a client that follows a redirect only to an https URL
// (or plain http to a loopback host), at most 10.
func client(c *http.Client) *http.Client {
	if c != nil {
		return c
	}
	return &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if len(via) >= 10 {
			return errors.New("directory: stopped after 10 redirects")
		}
		if err := endpoint.Check(req.URL.String()); err != nil {
			return fmt.Errorf("directory: redirect: %w", err)
		}
		return nil
	}}
}
