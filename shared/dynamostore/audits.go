// Audits: stored audit reports.

package dynamostore

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"

	"github.com/sessionguard/sessionguard/shared/audit"
	"github.com/sessionguard/sessionguard/shared/session"
)

// PutReport stores an audit report. Reports do not expire.
func (st *Store) PutReport(ctx context.Context, r audit.Record) error {
	if err := r.Check(); err != nil {
		return fmt.Errorf("dynamodb: %w", err)
	}
	it := key(envPK(r.Environment), "A#"+sortTime(r.At))
	it["at"] = nanos(r.At)
	it["body"] = str(string(r.Body))
	if err := st.putItem(ctx, it, expression.ConditionBuilder{}); err != nil {
		return fmt.Errorf("dynamodb: put report of %s: %w", r.Environment, err)
	}
	return nil
}

// Reports lists env's audit reports, newest first.
func (st *Store) Reports(ctx context.Context, env string, p session.Page) ([]audit.Record, string, error) {
	items, next, err := st.newestFirst(ctx, env, "A#", p)
	if err != nil {
		if errors.Is(err, session.ErrBadCursor) {
			return nil, "", err
		}
		return nil, "", fmt.Errorf("dynamodb: reports of %s: %w", env, err)
	}
	out := make([]audit.Record, 0, len(items))
	for _, it := range items {
		r := readItem(it)
		out = append(out, audit.Record{Environment: env, At: r.t("at"), Body: []byte(r.s("body"))})
		if r.err != nil {
			return nil, "", fmt.Errorf("dynamodb: report of %s: %w", env, r.err)
		}
	}
	return out, next, nil
}
