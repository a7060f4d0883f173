package local

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessionguard/sessionguard/infra/dynamotest"
	"github.com/sessionguard/sessionguard/infra/needs"
)

var dynamo *dynamotest.Server

func TestMain(m *testing.M) { dynamotest.Main(m, func(s *dynamotest.Server) { dynamo = s }) }

// TestQuickStartWalkedOverHTTP runs the printed quick-start, as printed,
// in bash with curl against a running stack, on each store, and checks
// each answer.
func TestQuickStartWalkedOverHTTP(t *testing.T) {
	needs.Parts(t, needs.Curl, needs.Moto, needs.AWSCLI)
	if _, err := exec.LookPath("curl"); err != nil {
		t.Fatalf("the quick-start needs curl: %v", err)
	}
	for _, store := range []struct{ name, endpoint string }{{"memory", ""}, {"dynamodb", dynamo.Endpoint}} {
		t.Run(store.name, func(t *testing.T) {
			walkQuickStart(t, Options{Addr: "127.0.0.1:0", DynamoDB: store.endpoint, Table: "quickstart", CheckEvery: -1}, 0)
		})
	}
	// Run again after a restart, on the store the first run left behind:
	// the settings are at version 1, the transmitter forgot its stream.
	t.Run("dynamodb, again after a restart", func(t *testing.T) {
		walkQuickStart(t, Options{Addr: "127.0.0.1:0", DynamoDB: dynamo.Endpoint, Table: "quickstart", CheckEvery: -1}, 1)
	})
	// With a Cognito user pool (make run -cognito): the project's AWS CLI
	// mints the token against moto, as printed, in a shell whose PATH
	// does not hold the virtual environment.
	t.Run("cognito", func(t *testing.T) {
		if AWSCLI() == "aws" {
			t.Fatal("the Cognito quick-start needs the project's AWS CLI in .venv (make test installs it)")
		}
		walkQuickStart(t, Options{Addr: "127.0.0.1:0", CheckEvery: -1, Cognito: dynamo.Endpoint}, 0)
	})
}

// withoutVenv is the environment with every virtual environment taken
// off PATH.
func withoutVenv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			var keep []string
			for _, dir := range filepath.SplitList(v) {
				if !strings.Contains(dir, ".venv") {
					keep = append(keep, dir)
				}
			}
			kv = "PATH=" + strings.Join(keep, string(filepath.ListSeparator))
		}
		env = append(env, kv)
	}
	return env
}

// walkQuickStart runs the printed quick-start against a new stack; version
// is the settings version the store holds before it (0 on a new store).
func walkQuickStart(t *testing.T, o Options, version int) {
	var logs bytes.Buffer
	o.Log = &logs
	s, err := Start(o)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var script strings.Builder
	script.WriteString("set -eu\n")
	// The commands, as printed: every line between the header and the
	// closing line, comments turned into step markers.
	in := false
	for _, line := range strings.Split(s.QuickStart(), "\n") {
		switch {
		case strings.HasPrefix(line, "Quick start"):
			in = true
		case strings.HasPrefix(line, "Every decision"):
			in = false
		case !in || strings.TrimSpace(line) == "":
		case strings.HasPrefix(line, "#"):
			script.WriteString("echo '=== " + strings.ReplaceAll(line, "'", "") + "'\n")
		default:
			script.WriteString(line + "\n")
		}
	}
	cmd := exec.Command("bash", "-c", script.String())
	cmd.Env = withoutVenv()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("quick-start failed: %v\n%s", err, out)
	}
	steps := strings.Split(string(out), "=== ")
	want := []struct {
		step string
		re   string
	}{
		{"# 3.", `(?s)HTTP/1.1 200 OK.*"environment":"demo".*"userId":"alice"`},
		{"# 4.", `(?s)HTTP/1.1 403 Forbidden.*X-Sessionguard-Reason: binding_user`},
		{"# 5.", `(?s)HTTP/1.1 204 No Content.*HTTP/1.1 401 Unauthorized.*X-Sessionguard-Reason: session_revoked`},
		{"# 6.", `(?s)HTTP/1.1 401 Unauthorized.*"reason":"session_revoked"`},
		{"# 7.", fmt.Sprintf(`(?s)HTTP/1.1 200 OK.*Etag: "%d".*"sessionExpiration":\{"enabled":%v`, version, version > 0)},
		{"# 8.", fmt.Sprintf(`(?s)HTTP/1.1 200 OK.*Etag: "%d".*"maxSessionMinutes":480`, version+1)},
		{"# 9.", `"expiresAt":"[^"]+".*"warnAt":"[^"]+"`},
		{"# 10.", `"version":1,.*"actor":"root \(`},
		{"# 11.", `(?s)"disabled":[1-9].*HTTP/1.1 401 Unauthorized`}, // a rerun also checks the first run's bob, of the issuer on its old port
		{"# 12.", `(?s)HTTP/1.1 202 Accepted.*HTTP/1.1 401 Unauthorized`},
		{"# 13.", `"revocations":\{[^}]*"signal_session_revoked":1[^}]*\}`},
	}
	want = append(want, struct{ step, re string }{"# 14.", `(?s)"streamId":"[0-9a-f]+".*"verified":true.*delivered to 1 stream\(s\).*HTTP/1.1 401 Unauthorized`},
		struct{ step, re string }{"# 15.", `(?s)"dpop":"required".*HTTP/1.1 200 OK.*"environment":"staging".*"userId":"erin"`},
		struct{ step, re string }{"# 16.", `(?s)HTTP/1.1 401 Unauthorized.*X-Sessionguard-Reason: dpop_invalid.*HTTP/1.1 401 Unauthorized.*X-Sessionguard-Reason: dpop_invalid.*HTTP/1.1 401 Unauthorized.*X-Sessionguard-Reason: dpop_required`})
	if o.Cognito != "" {
		want = append(want, []struct{ step, re string }{
			{"# C2.", `(?s)HTTP/1.1 200 OK.*"clientId":"[^"]+".*"issuer":"https://cognito-idp\.eu-west-1\.amazonaws\.com/`},
			{"# C3.", `"applied":true,"revoked":1,"disabled":true`},
			{"# C4.", `(?s)HTTP/1.1 401 Unauthorized.*HTTP/1.1 401 Unauthorized.*"reason":"session_revoked".*disabled`},
		}...)
	}
	for _, w := range want {
		found := false
		for _, st := range steps {
			if strings.HasPrefix(st, w.step) {
				found = true
				if !regexp.MustCompile(w.re).MatchString(st) {
					t.Errorf("step %s answered:\n%s\nwant %s", w.step, st, w.re)
				}
			}
		}
		if !found {
			t.Errorf("step %s not in the output:\n%s", w.step, out)
		}
	}
	// No function logged a token or a raw session id (every function ran).
	if m := regexp.MustCompile(`eyJ[A-Za-z0-9_-]{20,}|(^|[^A-Za-z0-9_-])[A-Za-z0-9_-]{43}([^A-Za-z0-9_-]|$)`).FindString(logs.String()); m != "" {
		t.Errorf("a token or session id reached the logs: %q", m)
	}
	for _, reason := range []string{`"reason":"ok"`, `"reason":"binding_user"`, `"reason":"session_revoked"`, `"msg":"policy checks"`, `"msg":"audit"`,
		`"reason":"dpop_invalid","latencyMs"`, `"dpopCheck":"cnf.jkt"`, `"dpopCheck":"jti"`, `"reason":"dpop_required"`} {
		if !strings.Contains(logs.String(), reason) {
			t.Errorf("logs lack %s", reason)
		}
	}
}

func TestStartRefusesNonLoopback(t *testing.T) {
	if _, err := Start(Options{Addr: "0.0.0.0:0"}); err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("Start on 0.0.0.0 = %v; want a loopback error", err)
	}
}

// make run is quiet when nothing happens: a check run that checks nobody
// logs nothing, and an audit equal to the last one is not logged again.
func TestQuietWhenNothingHappens(t *testing.T) {
	logs := &syncBuffer{}
	s, err := Start(Options{Addr: "127.0.0.1:0", Log: logs, CheckEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for range 3 {
		if _, err := s.runChecks(context.Background(), false); err != nil {
			t.Fatal(err)
		}
	}
	if n := strings.Count(logs.String(), `"msg":"policy checks"`); n != 0 {
		t.Errorf("%d policy-check lines for runs that checked nobody; want 0", n)
	}
	// One audit line per environment (demo, staging) for the first run;
	// none for the equal ones after it.
	if n := strings.Count(logs.String(), `"msg":"audit"`); n != 2 {
		t.Errorf("%d audit lines for three equal audits of two environments; want 2", n)
	}
	signIn(t, s, "erin")
	if _, err := s.runChecks(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), `"msg":"policy checks"`) || strings.Count(logs.String(), `"msg":"audit"`) != 3 {
		t.Errorf("a run that checked erin and changed the audit logged nothing:\n%s", logs.String())
	}
}

// The gateway's requests arrive concurrently, and each function answers
// from a buffer its next invocation reuses: every answer must still be
// the requester's own (under -race, an overlap is also a reported race).
func TestConcurrentRequestsGetTheirOwnAnswers(t *testing.T) {
	s, err := Start(Options{Addr: "127.0.0.1:0", Log: &syncBuffer{}, CheckEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	users := []string{"alice", "bob", "carol", "dave"}
	type cred struct{ tok, sid string }
	creds := map[string]cred{}
	for _, u := range users {
		tok, sid := signIn(t, s, u)
		creds[u] = cred{tok, sid}
	}
	errs := make(chan error, 400)
	var wg sync.WaitGroup
	for i := range 400 {
		u := users[i%len(users)]
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("GET", s.URL+"/demo", nil)
			req.Header.Set("Authorization", "Bearer "+creds[u].tok)
			req.Header.Set("X-Session-Id", creds[u].sid)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				errs <- err
				return
			}
			defer resp.Body.Close()
			var body struct {
				Authorizer struct {
					UserID string `json:"userId"`
				} `json:"authorizer"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != 200 || body.Authorizer.UserID != u {
				errs <- fmt.Errorf("GET /demo as %s = %d, user %q, %v; want 200 as %s", u, resp.StatusCode, body.Authorizer.UserID, err, u)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// The stack's background checks are its policy checks: the budget counts
// them (the interval, plus one background period of slack) and without
// them it says there are none.
func TestBudgetCountsTheBackgroundChecks(t *testing.T) {
	for _, tc := range []struct {
		every        time.Duration
		policyChecks bool
		seconds      float64
	}{
		{time.Hour, true, 3600 + 3600}, // default interval (60 min) + the slack
		{-1, false, 0},
	} {
		s, err := Start(Options{Addr: "127.0.0.1:0", Log: &syncBuffer{}, CheckEvery: tc.every})
		if err != nil {
			t.Fatal(err)
		}
		tok, err := s.IdP.Mint(tokenFor("root", AdminRole))
		if err != nil {
			t.Fatal(err)
		}
		code, sid := startSession(t, s, tok)
		if code != http.StatusCreated {
			t.Fatalf("admin sign-in: %d", code)
		}
		req, _ := http.NewRequest("GET", s.URL+"/environments/demo/budget", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("X-Session-Id", sid)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var b map[string]any
		json.NewDecoder(resp.Body).Decode(&b)
		resp.Body.Close()
		if resp.StatusCode != 200 || b["policyChecks"] != tc.policyChecks || (tc.policyChecks && b["policyCheckSeconds"] != tc.seconds) {
			t.Errorf("CheckEvery %v: budget = %d %v; want policyChecks %v, policyCheckSeconds %v", tc.every, resp.StatusCode, b, tc.policyChecks, tc.seconds)
		}
		s.Close()
	}
}
