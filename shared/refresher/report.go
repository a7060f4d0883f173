package refresher

import (
	"context"
	"log/slog"

	"github.com/sessionguard/sessionguard/shared/obs"
)

// Report is what one run did.
type Report struct {
	Checked         int  `json:"checked"` // users the directory answered for
	Active          int  `json:"active"`
	Disabled        int  `json:"disabled"`
	Deleted         int  `json:"deleted"`
	Errors          int  `json:"errors"`          // users it could not answer for
	RevokedUsers    int  `json:"revokedUsers"`    // users whose sessions were revoked
	RevokedSessions int  `json:"revokedSessions"` // sessions revoked
	GuardTripped    bool `json:"guardTripped"`
	Held            int  `json:"held"` // revocations the guard held back
	StoppedEarly    bool `json:"stoppedEarly"`
	FromChanges     int  `json:"fromChanges"`  // users judged from the change feed's entries
	ChangesAsked    int  `json:"changesAsked"` // changed users asked one by one (the feed could not tell)
	Shards          int  `json:"shards"`       // shards queued for workers
	Queued          int  `json:"queued"`       // users in them
	Skipped         int  `json:"skipped"`      // a shard's users no longer due
}

// add sums another report's counts into rep.
func (rep *Report) add(o Report) {
	rep.Checked += o.Checked
	rep.Active += o.Active
	rep.Disabled += o.Disabled
	rep.Deleted += o.Deleted
	rep.Errors += o.Errors
	rep.RevokedUsers += o.RevokedUsers
	rep.RevokedSessions += o.RevokedSessions
	rep.Held += o.Held
	rep.GuardTripped = rep.GuardTripped || o.GuardTripped
	rep.StoppedEarly = rep.StoppedEarly || o.StoppedEarly
	rep.FromChanges += o.FromChanges
	rep.ChangesAsked += o.ChangesAsked
	rep.Shards += o.Shards
	rep.Queued += o.Queued
	rep.Skipped += o.Skipped
}

// runMetrics are the metrics each report logs, per environment and for
// the whole deployment.
var runMetrics = obs.NewEMF([][]string{{}, {"environment"}}, // {}: the deployment-wide alarm
	obs.Metric{Name: "usersChecked", Unit: "Count"}, obs.Metric{Name: "directoryErrors", Unit: "Count"},
	obs.Metric{Name: "revokedSessions", Unit: "Count"}, obs.Metric{Name: "massRevocationGuard", Unit: "Count"})

// logReport logs a run's (or a shard's) report with its metrics.
func (r *Refresher) logReport(ctx context.Context, env string, rep Report) {
	guard := 0
	if rep.GuardTripped {
		guard = 1
		r.cfg.Log.LogAttrs(ctx, slog.LevelError, "mass revocation guard tripped: no user revoked",
			slog.String("environment", env), slog.Int("checked", rep.Checked), slog.Int("held", rep.Held))
	}
	r.cfg.Log.LogAttrs(ctx, slog.LevelInfo, "policy checks", slog.String("environment", env),
		slog.Int("usersChecked", rep.Checked), slog.Int("directoryErrors", rep.Errors), slog.Int("revokedSessions", rep.RevokedSessions),
		slog.Int("massRevocationGuard", guard), slog.Int("disabled", rep.Disabled), slog.Int("deleted", rep.Deleted),
		slog.Int("fromChanges", rep.FromChanges), slog.Int("shards", rep.Shards), slog.Int("skipped", rep.Skipped),
		slog.Bool("stoppedEarly", rep.StoppedEarly), runMetrics.Attr(r.cfg.Now()))
}
