package main

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

// Three rounds; the machine runs at half speed in the second, which leaves
// that round's ratios as in the first.
const authOutput = `goos: linux
BenchmarkAuthorize/RS256/bare-signature-2         	   100	     40000 ns/op	    2528 B/op	      11 allocs/op
BenchmarkAuthorize/RS256/decision-2               	   100	     10000 ns/op	    3707 B/op	      18 allocs/op
BenchmarkAuthorize/RS256/decision-uncached-2      	   100	     50000 ns/op	    4006 B/op	      36 allocs/op
BenchmarkAuthorize/RS256/bare-signature#01-2      	   100	     80000 ns/op	    2528 B/op	      11 allocs/op
BenchmarkAuthorize/RS256/decision#01-2            	   100	     20000 ns/op	    3707 B/op	      18 allocs/op
BenchmarkAuthorize/RS256/decision-uncached#01-2   	   100	    100000 ns/op	    4006 B/op	      36 allocs/op
BenchmarkAuthorize/RS256/bare-signature#02-2      	   100	     40000 ns/op	    2528 B/op	      11 allocs/op
BenchmarkAuthorize/RS256/decision#02-2            	   100	     20000 ns/op	    3707 B/op	      18 allocs/op
BenchmarkAuthorize/RS256/decision-uncached#02-2   	   100	     40000 ns/op	    4006 B/op	      36 allocs/op
PASS
`

// The DPoP pair of three rounds, appended to the ES256 lines of a run.
const dpopOutput = `BenchmarkAuthorize/ES256/decision-dpop-2          	   100	     50000 ns/op	    8900 B/op	      68 allocs/op
BenchmarkAuthorize/ES256/decision-dpop#01-2       	   100	    100000 ns/op	    8900 B/op	      68 allocs/op
BenchmarkAuthorize/ES256/decision-dpop#02-2       	   100	     60000 ns/op	    8900 B/op	      68 allocs/op
`

func TestRoundRatios(t *testing.T) {
	runs := parseBench([]byte(authOutput))
	got, err := roundRatios(runs, "BenchmarkAuthorize/RS256/decision", "BenchmarkAuthorize/RS256/bare-signature")
	if err != nil {
		t.Fatal(err)
	}
	if want := []float64{0.25, 0.25, 0.5}; !slices.Equal(got, want) {
		t.Fatalf("decision/bare per round %v, want %v", got, want)
	}
	got, err = roundRatios(runs, "BenchmarkAuthorize/RS256/decision-uncached", "BenchmarkAuthorize/RS256/bare-signature")
	if err != nil {
		t.Fatal(err)
	}
	if want := []float64{1.25, 1.25, 1}; !slices.Equal(got, want) {
		t.Fatalf("uncached/bare per round %v, want %v", got, want)
	}
	if m := median(got); m != 1.25 {
		t.Fatalf("median %v, want 1.25", m)
	}
	if m := median([]float64{4, 1, 3, 2}); m != 2.5 {
		t.Fatalf("median of an even count %v, want 2.5", m)
	}
	// A round missing on one side is an error, not a shifted pairing.
	short := strings.Replace(authOutput, "BenchmarkAuthorize/RS256/decision#02-2 ", "Other/x ", 1)
	if _, err := roundRatios(parseBench([]byte(short)), "BenchmarkAuthorize/RS256/decision", "BenchmarkAuthorize/RS256/bare-signature"); err == nil {
		t.Fatal("unequal rounds paired")
	}
}

func TestAuthorizerSectionReportsMisses(t *testing.T) {
	var w bytes.Buffer
	if err := authorizerSection(&w, []byte(authOutput)); err == nil {
		t.Fatal("ES256 and EdDSA missing, no error")
	}
	all := authOutput
	for _, alg := range []string{"ES256", "EdDSA"} {
		all += strings.ReplaceAll(authOutput, "RS256", alg)
	}
	w.Reset()
	if err := authorizerSection(&w, []byte(all)); err == nil || !strings.Contains(err.Error(), "decision-dpop") {
		t.Fatalf("no DPoP pair: %v; want an error naming decision-dpop", err)
	}
	all += dpopOutput
	w.Reset()
	if err := authorizerSection(&w, []byte(all)); err != nil {
		t.Fatal(err)
	}
	out := w.String()
	// Per round: dpop/decision 5, 5, 3; (dpop - decision)/bare 1, 1, 1.
	if !strings.Contains(out, "decision-dpop/decision **5.00x**; the proof adds **1.00** bare ES256 verifications") {
		t.Fatalf("no DPoP line:\n%s", out)
	}
	if !strings.Contains(out, "(3 paired rounds") || !strings.Contains(out, "**0.25x** | **1.25x**") {
		t.Fatalf("section:\n%s", out)
	}
	if !strings.Contains(out, "- decision/bare at most 0.3x: holds for every algorithm") || !strings.Contains(out, "- uncached/bare at most 1.4x: holds for every algorithm") {
		t.Fatalf("no verdict:\n%s", out)
	}
	// decision#01 slower: ratios 0.25, 0.5, 0.5, median 0.5, a miss that
	// the report names.
	w.Reset()
	if err := authorizerSection(&w, []byte(strings.Replace(all, "20000 ns/op", "40000 ns/op", 1))); err != nil {
		t.Fatal(err)
	}
	if out := w.String(); !strings.Contains(out, "- decision/bare at most 0.3x: holds for ES256, EdDSA; **NOT met** for RS256 (0.50x) in this run.") {
		t.Fatalf("miss not reported:\n%s", out)
	}
}
