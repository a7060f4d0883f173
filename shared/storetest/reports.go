package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sessionguard/sessionguard/shared/audit"
	"github.com/sessionguard/sessionguard/shared/session"
)

// auditReports: audit reports list newest first, in pages.
func auditReports(t *testing.T, st Store, _ *Clock) {
	ctx := context.Background()
	for i := range 3 {
		r := audit.Record{Environment: "prod", At: T0.Add(time.Duration(i) * time.Hour), Body: []byte(fmt.Sprintf(`{"n":%d}`, i))}
		if err := st.PutReport(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	first, next, err := st.Reports(ctx, "prod", session.Page{Limit: 2})
	if err != nil || len(first) != 2 || string(first[0].Body) != `{"n":2}` || !first[0].At.Equal(T0.Add(2*time.Hour)) || next == "" {
		t.Fatalf("Reports page 1 = %+v, %q, %v; want the newest two", first, next, err)
	}
	rest, next, err := st.Reports(ctx, "prod", session.Page{Limit: 2, Cursor: next})
	if err != nil || len(rest) != 1 || string(rest[0].Body) != `{"n":0}` || next != "" {
		t.Errorf("Reports page 2 = %+v, %q, %v; want the oldest", rest, next, err)
	}
}
