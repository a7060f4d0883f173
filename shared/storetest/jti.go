package storetest

import (
	"context"
	"testing"
	"time"
)

// jtiReplay: a token id is received once per issuer until its record expires
// or is forgotten.
func jtiReplay(t *testing.T, st Store, clock *Clock) {
	ctx := context.Background()
	until := T0.Add(time.Hour)
	for _, c := range []struct {
		iss, jti string
		want     bool
	}{{"https://tx.example/", "j1", true}, {"https://tx.example/", "j1", false}, {"https://other.example/", "j1", true}, {"https://tx.example/", "j2", true}} {
		if got, err := st.RecordJTI(ctx, c.iss, c.jti, until); err != nil || got != c.want {
			t.Errorf("RecordJTI(%s, %s) = %v, %v; want %v", c.iss, c.jti, got, err, c.want)
		}
	}
	clock.Set(until)
	if got, _ := st.RecordJTI(ctx, "https://tx.example/", "j1", until.Add(time.Hour)); !got {
		t.Errorf("RecordJTI after its record expired = false; want true")
	}
	// A forgotten jti (its token's effects could not be applied) is
	// received afresh; another issuer's same jti stays remembered.
	later := until.Add(time.Hour)
	for _, iss := range []string{"https://tx.example/", "https://other.example/"} {
		if got, err := st.RecordJTI(ctx, iss, "j4", later); err != nil || !got {
			t.Fatalf("RecordJTI(%s, j4) = %v, %v; want true", iss, got, err)
		}
	}
	if err := st.ForgetJTI(ctx, "https://tx.example/", "j4"); err != nil {
		t.Fatal(err)
	}
	if got, err := st.RecordJTI(ctx, "https://tx.example/", "j4", later); err != nil || !got {
		t.Errorf("RecordJTI after ForgetJTI = %v, %v; want true", got, err)
	}
	if got, _ := st.RecordJTI(ctx, "https://other.example/", "j4", later); got {
		t.Errorf("RecordJTI of another issuer's jti after forgetting = true; want false (still remembered)")
	}
}
