// Package oidcprovider starts a real OpenID Provider for the tests:
// `oidc-provider` from npm (OpenID Certified; pinned in the repository's
// package.json and installed by `make test` with `npm ci`), run by Node
// from server.mjs on a free loopback port, and stopped again.
//
// It issues RFC 9068 JWT access tokens for one API resource (resource
// indicators), runs the authorization code flow with PKCE for a public
// client (the admin console), client credentials for a machine client,
// its development login pages, back-channel logout, and DPoP-bound access
// tokens for a token request that carries a proof (features.dPoP). Its signing keys
// are generated here; Rotate restarts it on the same issuer with a new
// signing key first and the old one still published.
package oidcprovider

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"
)

// Resource is the API the access tokens are for (their aud).
const Resource = "api://sessionguard"

// The clients.
const (
	ConsoleClient = "sessionguard-console" // public, authorization code + PKCE
	AppClient     = "sessionguard-app"     // public, authorization code + PKCE, back-channel logout
	MachineClient = "sessionguard-machine" // confidential, client credentials
	MachineSecret = "machine-secret-for-tests-only"
)

// Options configure a provider.
type Options struct {
	// RedirectURIs are the console's and the app's redirect URIs.
	RedirectURIs []string
	// BackchannelLogoutURI, when set, is where the app client's
	// back-channel logout tokens are posted.
	BackchannelLogoutURI string
}

// Server is a running provider.
type Server struct {
	Issuer string
	opts   Options
	port   int
	dir    string
	keys   []jwk.Key // private; the first signs
	mu     sync.Mutex
	cmd    *exec.Cmd
	done   chan struct{}
	logs   bytes.Buffer
}

// Root is the repository root (where package.json and node_modules are).
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// SetBackchannelLogoutURI changes where logout tokens go (for a provider
// started before its receiver's address was known); Rotate or a restart
// applies it.
func (s *Server) SetBackchannelLogoutURI(u string) { s.opts.BackchannelLogoutURI = u }

// Start generates a signing key and starts the provider. It fails, never
// skips, when Node or the npm packages are missing (`make test` installs
// them with npm ci).
func Start(o Options) (*Server, error) {
	if _, err := os.Stat(filepath.Join(Root(), "node_modules", "oidc-provider", "package.json")); err != nil {
		return nil, fmt.Errorf("oidcprovider: oidc-provider is not installed (run `npm ci` at the repository root; make test does): %w", err)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "oidcprovider")
	if err != nil {
		return nil, fmt.Errorf("oidcprovider: %w", err)
	}
	s := &Server{Issuer: "http://127.0.0.1:" + strconv.Itoa(port), opts: o, port: port, dir: dir}
	k, err := newKey()
	if err != nil {
		return nil, err
	}
	s.keys = []jwk.Key{k}
	if err := s.start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return s, nil
}

// newKey generates an RS256 signing key with a random kid.
func newKey() (jwk.Key, error) {
	raw, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("oidcprovider: generate a key: %w", err)
	}
	k, err := jwk.FromRaw(raw)
	if err != nil {
		return nil, fmt.Errorf("oidcprovider: key: %w", err)
	}
	var id [8]byte
	rand.Read(id[:])
	_ = k.Set(jwk.KeyIDKey, fmt.Sprintf("op-%x", id))
	_ = k.Set(jwk.AlgorithmKey, "RS256")
	_ = k.Set(jwk.KeyUsageKey, "sig")
	return k, nil
}

// SigningKid is the kid of the key that signs now.
func (s *Server) SigningKid() string { return s.keys[0].KeyID() }

// Rotate restarts the provider with a new signing key; the previous keys
// stay published (and verify what they signed) after it.
func (s *Server) Rotate() error {
	k, err := newKey()
	if err != nil {
		return err
	}
	s.Stop()
	s.keys = append([]jwk.Key{k}, s.keys...)
	return s.start()
}

// start writes the key set, starts Node with the clients and waits until
// the provider serves its discovery document.
func (s *Server) start() error {
	set := jwk.NewSet()
	for _, k := range s.keys {
		set.AddKey(k)
	}
	keys, err := json.Marshal(set)
	if err != nil {
		return fmt.Errorf("oidcprovider: keys: %w", err)
	}
	keyFile := filepath.Join(s.dir, "jwks.json")
	if err := os.WriteFile(keyFile, keys, 0o600); err != nil {
		return fmt.Errorf("oidcprovider: %w", err)
	}
	app := map[string]any{"client_id": AppClient, "token_endpoint_auth_method": "none", "redirect_uris": s.opts.RedirectURIs,
		"grant_types": []string{"authorization_code", "refresh_token"}, "response_types": []string{"code"},
		"post_logout_redirect_uris": s.opts.RedirectURIs}
	if s.opts.BackchannelLogoutURI != "" {
		app["backchannel_logout_uri"] = s.opts.BackchannelLogoutURI
		app["backchannel_logout_session_required"] = true
	}
	clients, _ := json.Marshal([]map[string]any{
		{"client_id": ConsoleClient, "token_endpoint_auth_method": "none", "redirect_uris": s.opts.RedirectURIs,
			"grant_types": []string{"authorization_code"}, "response_types": []string{"code"}},
		app,
		{"client_id": MachineClient, "client_secret": MachineSecret, "grant_types": []string{"client_credentials"},
			"redirect_uris": []string{}, "response_types": []string{}},
	})
	cmd := exec.Command("node", filepath.Join(Root(), "infra", "oidcprovider", "server.mjs"))
	cmd.Dir = Root()
	cmd.Env = append(os.Environ(), "OP_ISSUER="+s.Issuer, "OP_PORT="+strconv.Itoa(s.port), "OP_JWKS_FILE="+keyFile,
		"OP_CLIENTS="+string(clients), "OP_RESOURCE="+Resource)
	s.mu.Lock()
	s.logs.Reset()
	cmd.Stdout, cmd.Stderr = &lockedWriter{s}, &lockedWriter{s}
	s.mu.Unlock()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("oidcprovider: start node (is Node.js on PATH?): %w", err)
	}
	s.cmd, s.done = cmd, make(chan struct{})
	go func(done chan struct{}) { cmd.Wait(); close(done) }(s.done)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			return fmt.Errorf("oidcprovider: node exited at start:\n%s", s.Logs())
		default:
		}
		resp, err := http.Get(s.Issuer + "/.well-known/openid-configuration")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.Stop()
	return fmt.Errorf("oidcprovider: not ready within 20s:\n%s", s.Logs())
}

// lockedWriter appends the provider's output to its logs.
type lockedWriter struct{ s *Server }

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	return w.s.logs.Write(p)
}

// Logs is what the provider printed.
func (s *Server) Logs() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logs.String()
}

// Stop stops the provider.
func (s *Server) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	<-s.done
	s.cmd = nil
}

// Close stops the provider and removes its key file.
func (s *Server) Close() {
	s.Stop()
	os.RemoveAll(s.dir)
}

// freePort is a loopback port free now.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("oidcprovider: find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
