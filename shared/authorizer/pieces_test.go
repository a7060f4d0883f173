package authorizer

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"

	"github.com/sessionguard/sessionguard/shared/obs"
)

// BenchmarkDecisionParts breaks the decision into its parts, to see where
// the time over the bare signature check goes.
func BenchmarkDecisionParts(b *testing.B) {
	f := newFixture(b, options{simple: true})
	f.h.log = obs.NewLogger(io.Discard)
	tok := realisticToken(b, f, jwa.RS256, nil)
	sid := f.session(b, sessionSpec{})
	var buf bytes.Buffer
	json.Compact(&buf, load(b, "authorizer/http-api-v2.json", tok, sid.Reveal()))
	ev := buf.Bytes()
	b.Run("readEvent", func(b *testing.B) {
		for b.Loop() {
			readEvent(ev, f.h.src, f.h.auth.envs)
		}
	})
	// The same event with the session in the cookie, as a browser sends it.
	var cookieBuf bytes.Buffer
	json.Compact(&cookieBuf, load(b, "authorizer/http-api-v2-cookie.json", tok, sid.Reveal()))
	cookieEv := cookieBuf.Bytes()
	b.Run("readEvent-cookie", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			readEvent(cookieEv, f.h.src, f.h.auth.envs)
		}
	})
	e, _ := readEvent(ev, f.h.src, f.h.auth.envs)
	b.Run("verify", func(b *testing.B) {
		for b.Loop() {
			f.h.auth.verifier.Verify(context.Background(), tok)
		}
	})
	r := f.h.auth.Check(context.Background(), e.id)
	b.Run("check", func(b *testing.B) {
		for b.Loop() {
			f.h.auth.Check(context.Background(), e.id)
		}
	})
	b.Run("respond", func(b *testing.B) {
		for b.Loop() {
			f.h.respond(e, r, true)
		}
	})
	b.Run("log", func(b *testing.B) {
		for b.Loop() {
			f.h.logDecision(context.Background(), e, r, time.Now(), nil)
		}
	})
	b.Run("touch", func(b *testing.B) {
		for b.Loop() {
			f.h.auth.RecordActivity(context.Background(), r)
		}
	})
}
