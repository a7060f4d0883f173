package devidp

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// The development issuer is also a Shared Signals Framework 1.0
// transmitter, for the tests and `make run`: configuration metadata at
// /.well-known/ssf-configuration, stream create/read/update/delete at
// /ssf/streams, status at /ssf/status, verification at /ssf/verify, push
// delivery (RFC 8935) to a stream's endpoint_url, and poll delivery (RFC
// 8936) at /ssf/poll/<stream id>. The management API wants the bearer
// credential TransmitterCredential.

// TransmitterCredential is the bearer credential of the development
// transmitter's stream management API.
const TransmitterCredential = "dev-transmitter-credential"

const (
	pushMethod   = "urn:ietf:rfc:8935"
	pollMethod   = "urn:ietf:rfc:8936"
	verification = "https://schemas.openid.net/secevent/ssf/event-type/verification"
)

type devStream struct {
	ID              string          `json:"stream_id"`
	Iss             string          `json:"iss"`
	Aud             json.RawMessage `json:"aud,omitempty"`
	Delivery        devDelivery     `json:"delivery"`
	EventsSupported []string        `json:"events_supported"`
	EventsRequested []string        `json:"events_requested"`
	EventsDelivered []string        `json:"events_delivered"`
	Description     string          `json:"description,omitempty"`
	status, reason  string
	queue           []queuedSET // poll delivery: SETs not yet acknowledged
}

type devDelivery struct {
	Method      string `json:"method"`
	EndpointURL string `json:"endpoint_url,omitempty"`
}

type queuedSET struct{ jti, set string }

// transmitter is the issuer's stream state.
type transmitter struct {
	mu      sync.Mutex
	streams map[string]*devStream
	pushed  int
	ids     func() string // names new streams; nil: 16 random hex digits
}

func (i *Issuer) tx() *transmitter {
	i.txOnce.Do(func() { i.txState = &transmitter{streams: map[string]*devStream{}} })
	return i.txState
}

var supportedEvents = []string{
	"https://schemas.openid.net/secevent/caep/event-type/session-revoked",
	"https://schemas.openid.net/secevent/caep/event-type/credential-change",
	"https://schemas.openid.net/secevent/risc/event-type/account-disabled",
	"https://schemas.openid.net/secevent/risc/event-type/account-purged",
}

// Pushed counts the SETs pushed to receivers.
func (i *Issuer) Pushed() int {
	t := i.tx()
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.pushed
}

// SetStreamIDs makes the transmitter name the streams it creates from now
// on with next (nil: 16 random hex digits, the default), for a test that
// shows stream ids and wants the same ones every run.
func (i *Issuer) SetStreamIDs(next func() string) {
	t := i.tx()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.ids = next
}

// ForgetStreams drops every stream, as a transmitter that lost its state
// (restarted without a persistent store) would: the stream ids its
// receivers stored are unknown to it from now on (404).
func (i *Issuer) ForgetStreams() {
	t := i.tx()
	t.mu.Lock()
	defer t.mu.Unlock()
	clear(t.streams)
}

// serveTransmitter serves the transmitter's routes; false for other paths.
func (i *Issuer) serveTransmitter(w http.ResponseWriter, r *http.Request) bool {
	switch {
	case r.URL.Path == "/.well-known/ssf-configuration":
		writeJSON(w, map[string]any{
			"spec_version": "1_0", "issuer": i.URL(), "jwks_uri": i.URL() + "/jwks.json",
			"delivery_methods_supported": []string{pushMethod, pollMethod},
			"configuration_endpoint":     i.URL() + "/ssf/streams",
			"status_endpoint":            i.URL() + "/ssf/status",
			"verification_endpoint":      i.URL() + "/ssf/verify",
			"authorization_schemes":      []map[string]string{{"spec_urn": "urn:ietf:rfc:6750"}},
		})
	case strings.HasPrefix(r.URL.Path, "/ssf/poll/"):
		i.servePoll(w, r, strings.TrimPrefix(r.URL.Path, "/ssf/poll/"))
	case strings.HasPrefix(r.URL.Path, "/ssf/"):
		if r.Header.Get("Authorization") != "Bearer "+TransmitterCredential {
			w.Header().Set("WWW-Authenticate", "Bearer")
			http.Error(w, "the transmitter's credential is required", http.StatusUnauthorized)
			return true
		}
		switch r.URL.Path {
		case "/ssf/streams":
			i.serveStreams(w, r)
		case "/ssf/status":
			i.serveStatus(w, r)
		case "/ssf/verify":
			i.serveVerify(w, r)
		default:
			http.NotFound(w, r)
		}
	default:
		return false
	}
	return true
}

func (i *Issuer) serveStreams(w http.ResponseWriter, r *http.Request) {
	t := i.tx()
	var in devStream
	if r.Method == http.MethodPost || r.Method == http.MethodPatch {
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&in); err != nil {
			http.Error(w, "the stream configuration is not JSON", http.StatusBadRequest)
			return
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	switch r.Method {
	case http.MethodPost:
		var b [8]byte
		rand.Read(b[:])
		id := hex.EncodeToString(b[:])
		if t.ids != nil {
			id = t.ids()
		}
		s := &devStream{ID: id, Iss: i.URL(), Aud: in.Aud, EventsSupported: supportedEvents, status: "enabled", Description: in.Description}
		if err := i.configure(s, in); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		t.streams[s.ID] = s
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(s)
	case http.MethodGet:
		s, ok := t.streams[r.URL.Query().Get("stream_id")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		writeJSON(w, s)
	case http.MethodPatch:
		s, ok := t.streams[in.ID]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if in.Aud != nil {
			s.Aud = in.Aud
		}
		if err := i.configure(s, in); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		writeJSON(w, s)
	case http.MethodDelete:
		id := r.URL.Query().Get("stream_id")
		if _, ok := t.streams[id]; !ok {
			http.NotFound(w, r)
			return
		}
		delete(t.streams, id)
		w.WriteHeader(http.StatusNoContent)
	default:
		w.Header().Set("Allow", "GET, POST, PATCH, DELETE")
		w.WriteHeader(http.StatusMethodNotAllowed)
	}
}

// configure applies a requested delivery and events to s.
func (i *Issuer) configure(s *devStream, in devStream) error {
	switch in.Delivery.Method {
	case pushMethod:
		if !strings.HasPrefix(in.Delivery.EndpointURL, "http") {
			return fmt.Errorf("push delivery needs an endpoint_url")
		}
		s.Delivery = in.Delivery
	case pollMethod:
		s.Delivery = devDelivery{Method: pollMethod, EndpointURL: i.URL() + "/ssf/poll/" + s.ID}
	case "":
	default:
		return fmt.Errorf("delivery method %q is not supported", in.Delivery.Method)
	}
	if in.EventsRequested != nil {
		s.EventsRequested = in.EventsRequested
		s.EventsDelivered = nil
		for _, e := range in.EventsRequested {
			if slices.Contains(supportedEvents, e) {
				s.EventsDelivered = append(s.EventsDelivered, e)
			}
		}
	}
	return nil
}

func (i *Issuer) serveStatus(w http.ResponseWriter, r *http.Request) {
	t := i.tx()
	var in struct{ StreamID, Status, Reason string }
	id := r.URL.Query().Get("stream_id")
	if r.Method == http.MethodPost {
		var body struct {
			StreamID string `json:"stream_id"`
			Status   string `json:"status"`
			Reason   string `json:"reason"`
		}
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&body); err != nil || !slices.Contains([]string{"enabled", "paused", "disabled"}, body.Status) {
			http.Error(w, "want {stream_id, status: enabled|paused|disabled}", http.StatusBadRequest)
			return
		}
		in.StreamID, in.Status, in.Reason, id = body.StreamID, body.Status, body.Reason, body.StreamID
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	s, ok := t.streams[id]
	if !ok {
		http.NotFound(w, r)
		return
	}
	if r.Method == http.MethodPost {
		s.status, s.reason = in.Status, in.Reason
	}
	writeJSON(w, map[string]string{"stream_id": s.ID, "status": s.status, "reason": s.reason})
}

func (i *Issuer) serveVerify(w http.ResponseWriter, r *http.Request) {
	var in struct {
		StreamID string `json:"stream_id"`
		State    string `json:"state"`
	}
	if r.Method != http.MethodPost || json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&in) != nil {
		http.Error(w, "want POST {stream_id, state}", http.StatusBadRequest)
		return
	}
	t := i.tx()
	t.mu.Lock()
	s, ok := t.streams[in.StreamID]
	t.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	set, jti, err := i.mintEvent(s, map[string]any{"format": "opaque", "id": s.ID}, verification, map[string]any{"state": in.State})
	if err != nil {
		http.Error(w, "could not mint the verification event", http.StatusInternalServerError)
		return
	}
	if err := i.deliver(s, jti, set); err != nil {
		http.Error(w, "could not deliver the verification event: "+err.Error(), http.StatusBadGateway)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// mintEvent signs a SET of one event for a stream.
func (i *Issuer) mintEvent(s *devStream, subject map[string]any, event string, payload map[string]any) (string, string, error) {
	var b [12]byte
	rand.Read(b[:])
	jti := hex.EncodeToString(b[:])
	var aud any = ""
	if len(s.Aud) > 0 {
		json.Unmarshal(s.Aud, &aud)
	}
	c := map[string]any{}
	for _, k := range []string{"sub", "azp", "exp", "auth_time", "scope", "name", "preferred_username", "roles", "ver", "tid"} {
		c[k] = nil
	}
	c["jti"], c["sub_id"], c["events"], c["aud"] = jti, subject, map[string]any{event: payload}, aud
	set, err := i.Mint(Token{Audience: "-", Claims: c, Headers: map[string]any{"typ": "secevent+jwt"}})
	return set, jti, err
}

// deliver pushes a SET to the stream's receiver, or queues it for polling.
func (i *Issuer) deliver(s *devStream, jti, set string) error {
	if s.Delivery.Method == pollMethod {
		t := i.tx()
		t.mu.Lock()
		s.queue = append(s.queue, queuedSET{jti, set})
		t.mu.Unlock()
		return nil
	}
	req, err := http.NewRequest(http.MethodPost, s.Delivery.EndpointURL, bytes.NewReader([]byte(set)))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/secevent+jwt")
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("the receiver answered %d", resp.StatusCode)
	}
	t := i.tx()
	t.mu.Lock()
	t.pushed++
	t.mu.Unlock()
	return nil
}

// Emit sends a CAEP/RISC event about user (a short name such as
// session-revoked, or a full URI) to every enabled stream that asked for
// it, by its delivery method.
func (i *Issuer) Emit(user, event string) (int, error) {
	if !strings.Contains(event, "://") {
		family := "caep"
		if strings.HasPrefix(event, "account-") {
			family = "risc"
		}
		event = "https://schemas.openid.net/secevent/" + family + "/event-type/" + event
	}
	t := i.tx()
	t.mu.Lock()
	var targets []*devStream
	for _, s := range t.streams {
		if s.status == "enabled" && slices.Contains(s.EventsDelivered, event) {
			targets = append(targets, s)
		}
	}
	t.mu.Unlock()
	n := 0
	for _, s := range targets {
		set, jti, err := i.mintEvent(s, map[string]any{"format": "iss_sub", "iss": i.URL(), "sub": user}, event, map[string]any{"event_timestamp": i.now().Unix()})
		if err != nil {
			return n, err
		}
		if err := i.deliver(s, jti, set); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// servePoll answers RFC 8936 poll requests: it drops the acknowledged and
// errored SETs, then returns up to maxEvents of those waiting.
func (i *Issuer) servePoll(w http.ResponseWriter, r *http.Request, id string) {
	if r.Header.Get("Authorization") != "Bearer "+TransmitterCredential {
		w.Header().Set("WWW-Authenticate", "Bearer")
		http.Error(w, "the transmitter's credential is required", http.StatusUnauthorized)
		return
	}
	var in struct {
		Ack       []string                   `json:"ack"`
		SetErrs   map[string]json.RawMessage `json:"setErrs"`
		MaxEvents *int                       `json:"maxEvents"`
	}
	if r.Method != http.MethodPost || json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&in) != nil {
		http.Error(w, "want POST with an RFC 8936 poll request", http.StatusBadRequest)
		return
	}
	t := i.tx()
	t.mu.Lock()
	defer t.mu.Unlock()
	s, ok := t.streams[id]
	if !ok || s.Delivery.Method != pollMethod {
		http.NotFound(w, r)
		return
	}
	kept := s.queue[:0]
	for _, q := range s.queue {
		if _, errored := in.SetErrs[q.jti]; !slices.Contains(in.Ack, q.jti) && !errored {
			kept = append(kept, q)
		}
	}
	s.queue = kept
	max := 10
	if in.MaxEvents != nil {
		max = *in.MaxEvents
	}
	sets := map[string]string{}
	for _, q := range s.queue {
		if len(sets) == max {
			break
		}
		sets[q.jti] = q.set
	}
	writeJSON(w, map[string]any{"sets": sets, "moreAvailable": len(s.queue) > len(sets)})
}
