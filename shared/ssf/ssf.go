// Package ssf is the receiver side of OpenID Shared Signals Framework 1.0
// stream management: read a transmitter's configuration metadata
// (/.well-known/ssf-configuration), create or update this receiver's
// stream there (push delivery per RFC 8935 to this deployment's /signals,
// or poll delivery per RFC 8936), request verification events, read and
// change the stream's status, and poll for SETs, acknowledging what was
// processed. The SETs themselves are verified and applied by the signals
// receiver, the same way however they arrive.
package ssf

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sessionguard/sessionguard/shared/endpoint"
)

// The delivery methods a stream names in delivery.method: push (the
// transmitter POSTs each SET to endpoint_url) and poll (the receiver asks
// the transmitter's endpoint_url for them).
const (
	PushDelivery = "urn:ietf:rfc:8935"
	PollDelivery = "urn:ietf:rfc:8936"
)

// Metadata is a transmitter's configuration metadata: the document at its
// /.well-known/ssf-configuration, naming its keys and stream endpoints.
type Metadata struct {
	SpecVersion              string   `json:"spec_version,omitempty"`
	Issuer                   string   `json:"issuer"`
	JWKSURI                  string   `json:"jwks_uri,omitempty"`
	DeliveryMethodsSupported []string `json:"delivery_methods_supported,omitempty"`
	ConfigurationEndpoint    string   `json:"configuration_endpoint,omitempty"`
	StatusEndpoint           string   `json:"status_endpoint,omitempty"`
	VerificationEndpoint     string   `json:"verification_endpoint,omitempty"`
}

// Delivery is a stream's delivery method.
type Delivery struct {
	Method      string `json:"method"`
	EndpointURL string `json:"endpoint_url,omitempty"`
}

// StreamConfig is a stream's configuration, as the configuration
// endpoint reads and writes it.
type StreamConfig struct {
	StreamID        string          `json:"stream_id,omitempty"`
	Iss             string          `json:"iss,omitempty"`
	Aud             json.RawMessage `json:"aud,omitempty"`
	Delivery        Delivery        `json:"delivery"`
	EventsSupported []string        `json:"events_supported,omitempty"`
	EventsRequested []string        `json:"events_requested,omitempty"`
	EventsDelivered []string        `json:"events_delivered,omitempty"`
	Description     string          `json:"description,omitempty"`
}

// Status is a stream's status, as the status endpoint reads and writes it.
type Status struct {
	StreamID string `json:"stream_id"`
	Status   string `json:"status"` // enabled, paused or disabled
	Reason   string `json:"reason,omitempty"`
}

// Statuses are the values a stream's status takes.
var Statuses = []string{"enabled", "paused", "disabled"}

// MaxBody caps what is read of a transmitter's answer.
const MaxBody = 1 << 20

func httpClient(hc *http.Client) *http.Client {
	if hc != nil {
		return hc
	}
	return &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
		return errors.New("redirects are not followed")
	}}
}

// wellKnown lists where the metadata of issuer may be: the issuer with
// /.well-known/ssf-configuration appended (as transmitters publish it in
// practice), then RFC 8615's form, the well-known segment between the
// host and the issuer's path.
func wellKnown(issuer string) []string {
	out := []string{strings.TrimSuffix(issuer, "/") + "/.well-known/ssf-configuration"}
	if u, err := url.Parse(issuer); err == nil && strings.Trim(u.Path, "/") != "" {
		v := *u
		v.Path = "/.well-known/ssf-configuration" + strings.TrimSuffix(u.Path, "/")
		out = append(out, v.String())
	}
	return out
}

// Discover reads issuer's configuration metadata; its issuer must be
// issuer, exactly.
func Discover(ctx context.Context, hc *http.Client, issuer string) (Metadata, error) {
	var last error
	for _, u := range wellKnown(issuer) {
		var m Metadata
		status, err := do(ctx, httpClient(hc), http.MethodGet, u, "", nil, &m)
		if err != nil {
			last = err
			continue
		}
		if status != http.StatusOK {
			last = fmt.Errorf("ssf: %s answered %d", u, status)
			continue
		}
		if m.Issuer != issuer {
			return Metadata{}, fmt.Errorf("ssf: the metadata at %s names issuer %q, not %q", u, m.Issuer, issuer)
		}
		return m, nil
	}
	return Metadata{}, last
}

// ErrStreamNotFound is a transmitter's 404 for a stream id: it does not
// know the stream (it was deleted there, or the transmitter lost its
// streams).
var ErrStreamNotFound = errors.New("ssf: the transmitter does not know this stream")

// answered is the error for a transmitter's unexpected status to what:
// a 404 wraps ErrStreamNotFound.
func answered(what string, status int) error {
	if status == http.StatusNotFound {
		return fmt.Errorf("ssf: %s answered 404: %w", what, ErrStreamNotFound)
	}
	return fmt.Errorf("ssf: %s answered %d", what, status)
}

// Client manages this receiver's stream at one transmitter.
type Client struct {
	Meta   Metadata
	Bearer string // the transmitter's credential for this receiver
	HTTP   *http.Client
}

// Create creates a stream; the transmitter assigns its id.
func (c *Client) Create(ctx context.Context, cfg StreamConfig) (StreamConfig, error) {
	var out StreamConfig
	status, err := c.call(ctx, http.MethodPost, c.Meta.ConfigurationEndpoint, cfg, &out)
	if err == nil && status != http.StatusCreated && status != http.StatusOK {
		err = fmt.Errorf("ssf: creating the stream answered %d", status)
	}
	return out, err
}

// Get reads a stream's configuration.
func (c *Client) Get(ctx context.Context, id string) (StreamConfig, error) {
	var out StreamConfig
	status, err := c.call(ctx, http.MethodGet, withStream(c.Meta.ConfigurationEndpoint, id), nil, &out)
	if err == nil && status != http.StatusOK {
		err = answered("reading stream "+id, status)
	}
	return out, err
}

// Update changes a stream's configuration (PATCH: the members given).
func (c *Client) Update(ctx context.Context, cfg StreamConfig) (StreamConfig, error) {
	var out StreamConfig
	status, err := c.call(ctx, http.MethodPatch, c.Meta.ConfigurationEndpoint, cfg, &out)
	if err == nil && status != http.StatusOK {
		err = answered("updating stream "+cfg.StreamID, status)
	}
	return out, err
}

// Delete deletes a stream (DELETE on the configuration endpoint with its
// stream_id); the transmitter answers 204.
func (c *Client) Delete(ctx context.Context, id string) error {
	status, err := c.call(ctx, http.MethodDelete, withStream(c.Meta.ConfigurationEndpoint, id), nil, nil)
	if err == nil && status != http.StatusNoContent && status != http.StatusOK {
		err = answered("deleting stream "+id, status)
	}
	return err
}

// Status reads a stream's status.
func (c *Client) Status(ctx context.Context, id string) (Status, error) {
	var out Status
	status, err := c.call(ctx, http.MethodGet, withStream(c.Meta.StatusEndpoint, id), nil, &out)
	if err == nil && status != http.StatusOK {
		err = answered("reading the status of stream "+id, status)
	}
	return out, err
}

// SetStatus changes a stream's status.
func (c *Client) SetStatus(ctx context.Context, s Status) (Status, error) {
	var out Status
	status, err := c.call(ctx, http.MethodPost, c.Meta.StatusEndpoint, s, &out)
	if err == nil && status != http.StatusOK {
		err = answered("changing the status of stream "+s.StreamID, status)
	}
	return out, err
}

// Verify asks the transmitter to send a verification event carrying state.
func (c *Client) Verify(ctx context.Context, id, state string) error {
	status, err := c.call(ctx, http.MethodPost, c.Meta.VerificationEndpoint, map[string]string{"stream_id": id, "state": state}, nil)
	if err == nil && status != http.StatusNoContent && status != http.StatusOK {
		err = answered("the verification request for stream "+id, status)
	}
	return err
}

func withStream(endpoint, id string) string {
	sep := "?"
	if strings.Contains(endpoint, "?") {
		sep = "&"
	}
	return endpoint + sep + "stream_id=" + url.QueryEscape(id)
}

func (c *Client) call(ctx context.Context, method, u string, in, out any) (int, error) {
	if u == "" {
		return 0, errors.New("ssf: the transmitter publishes no endpoint for this")
	}
	return do(ctx, httpClient(c.HTTP), method, u, c.Bearer, in, out)
}

// do sends one request. Every URL, the configured issuer's metadata and
// each endpoint the metadata or a stream names, must be https (plain http
// only to a loopback host): the stream endpoints are sent the
// transmitter's credential.
func do(ctx context.Context, hc *http.Client, method, u, bearer string, in, out any) (int, error) {
	if err := endpoint.Check(u); err != nil {
		return 0, fmt.Errorf("ssf: %s: %w", method, err)
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return 0, fmt.Errorf("ssf: encode: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return 0, fmt.Errorf("ssf: %w", err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, fmt.Errorf("ssf: %s %s: %w", method, u, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxBody))
	if err != nil {
		return resp.StatusCode, fmt.Errorf("ssf: read the answer of %s: %w", u, err)
	}
	if out != nil && resp.StatusCode/100 == 2 && len(bytes.TrimSpace(data)) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, fmt.Errorf("ssf: the answer of %s is not the JSON expected: %w", u, err)
		}
	}
	return resp.StatusCode, nil
}

// SetErr is a receiver's error for one polled SET, sent back in the next
// poll's setErrs instead of an acknowledgement: a short error code (err,
// such as invalid_request or invalid_key) and a human-readable description.
type SetErr struct {
	Err         string `json:"err"`
	Description string `json:"description"`
}

// PollRequest is an RFC 8936 poll: acknowledgements and errors for SETs
// received before, and how many new ones to return.
type PollRequest struct {
	Ack               []string          `json:"ack"`
	SetErrs           map[string]SetErr `json:"setErrs,omitempty"`
	MaxEvents         int               `json:"maxEvents"`
	ReturnImmediately bool              `json:"returnImmediately"`
}

// PollResponse is the transmitter's answer: SETs by jti.
type PollResponse struct {
	Sets          map[string]string `json:"sets"`
	MoreAvailable bool              `json:"moreAvailable"`
}

// Poll sends one poll request to a stream's poll endpoint.
func Poll(ctx context.Context, hc *http.Client, endpoint, bearer string, req PollRequest) (PollResponse, error) {
	if req.Ack == nil {
		req.Ack = []string{}
	}
	var out PollResponse
	status, err := do(ctx, httpClient(hc), http.MethodPost, endpoint, bearer, req, &out)
	if err == nil && status != http.StatusOK {
		err = answered("the poll endpoint", status)
	}
	return out, err
}
