package dynamotest

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"
)

// Fault is what a Proxy does to a request.
type Fault int

// The faults.
const (
	Pass            Fault = iota // forward to the backend
	Fail                         // answer 500
	Throttle                     // answer DynamoDB's ThrottlingException
	Hang                         // never answer (until the client gives up or the proxy closes)
	TooManyRequests              // answer Cognito's TooManyRequestsException
)

// Proxy fronts a backend (the DynamoDB or Cognito server, a JWKS endpoint) and injects
// faults into the requests it forwards.
type Proxy struct {
	URL     string
	backend string
	srv     *httptest.Server
	stop    chan struct{}

	mu       sync.Mutex
	delay    time.Duration // added to every forwarded request
	fault    Fault
	left     int // requests still to fault; -1: all
	requests int
}

// NewProxy starts a proxy to backend, passing everything through.
func NewProxy(backend string) *Proxy {
	p := &Proxy{backend: backend, stop: make(chan struct{}), left: -1}
	p.srv = httptest.NewServer(p)
	p.URL = p.srv.URL
	return p
}

// Set makes the next n requests (all when n is 0) meet fault, and resets
// the request count.
func (p *Proxy) Set(fault Fault, n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fault, p.left, p.requests = fault, -1, 0
	if n > 0 {
		p.left = n
	}
}

// SetDelay delays every forwarded request by d (requests still run
// concurrently): a stand-in for a real service's latency.
func (p *Proxy) SetDelay(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.delay = d
}

// Requests counts the requests since the last Set.
func (p *Proxy) Requests() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.requests
}

// Close releases hanging requests and stops the proxy.
func (p *Proxy) Close() {
	close(p.stop)
	p.srv.Close()
}

func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.requests++
	fault, delay := p.fault, p.delay
	if p.left == 0 {
		fault = Pass
	} else if p.left > 0 {
		p.left--
	}
	p.mu.Unlock()
	switch fault {
	case Fail:
		w.WriteHeader(http.StatusInternalServerError)
		return
	case Throttle:
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(`{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"Rate of requests exceeds the allowed throughput."}`))
		return
	case TooManyRequests:
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(`{"__type":"TooManyRequestsException","message":"Too many requests"}`))
		return
	case Hang:
		select {
		case <-r.Context().Done():
		case <-p.stop:
		}
		return
	}
	if delay > 0 {
		time.Sleep(delay) // the service's latency, not a test waiting on time
	}
	body, _ := io.ReadAll(r.Body)
	req, _ := http.NewRequestWithContext(r.Context(), r.Method, p.backend+r.URL.RequestURI(), bytes.NewReader(body))
	req.Header = r.Header.Clone()
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		w.WriteHeader(http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, resp.Body)
}
