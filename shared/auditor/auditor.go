// Package auditor writes the daily policy audit of each environment
// (docs/policy-checks.md): active sessions, sessions running under an older settings
// version than the current one and how far they exceed it, idle sessions,
// revocations and their causes, users failing checks, the directory error
// rate, and the settings changes since the last report. A report is
// stored (readable through the admin API), logged, and emitted as
// CloudWatch metrics.
package auditor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/sessionguard/sessionguard/shared/audit"
	"github.com/sessionguard/sessionguard/shared/obs"
	"github.com/sessionguard/sessionguard/shared/policy"
	"github.com/sessionguard/sessionguard/shared/session"
)

// Store is what the auditor needs of storage.
type Store interface {
	Settings(ctx context.Context, env string) (policy.Settings, int, error)
	History(ctx context.Context, env string, p session.Page) ([]policy.SettingsChange, string, error)
	Users(ctx context.Context, env string, p session.Page) ([]session.User, string, error)
	UserSessions(ctx context.Context, env string, user session.UserKey, p session.Page) ([]session.Session, string, error)
	Reports(ctx context.Context, env string, p session.Page) ([]audit.Record, string, error)
	PutReport(ctx context.Context, r audit.Record) error
}

// Config configures an Auditor.
type Config struct {
	Store        Store
	Environments []string
	// IdleAfter is how long without recorded activity makes a session
	// count as idle when its environment has no idle timeout. Default 24h.
	IdleAfter time.Duration
	// Since is the period a first report covers. Default 24h.
	Since time.Duration
	Now   func() time.Time
	Log   *slog.Logger
}

// Report is one environment's audit.
type Report struct {
	Environment     string    `json:"environment"`
	At              time.Time `json:"at"`
	From            time.Time `json:"from"` // the period revocations and changes are counted over
	SettingsVersion int       `json:"settingsVersion"`
	ActiveSessions  int       `json:"activeSessions"`
	// Sessions judged by an older settings snapshot than the current one;
	// of them, those the current settings would already have ended, and
	// by how much the furthest exceeds them.
	OlderSettingsSessions int     `json:"olderSettingsSessions"`
	ExceedingCurrent      int     `json:"exceedingCurrent"`
	MaxExceedMinutes      float64 `json:"maxExceedMinutes"`
	IdleSessions          int     `json:"idleSessions"`
	// Revocations in the period, by cause (sign_out, admin, session_limit,
	// user_disabled, signal_..., ...).
	Revocations       map[string]int          `json:"revocations"`
	Users             int                     `json:"users"`
	UsersDisabled     int                     `json:"usersDisabled"`
	UsersCheckFailing int                     `json:"usersCheckFailing"` // whose latest check the directory could not answer
	DirectoryErrRate  float64                 `json:"directoryErrorRate"`
	SettingsChanges   []policy.SettingsChange `json:"settingsChanges"`
}

// Auditor writes audits.
type Auditor struct{ cfg Config }

// New returns an Auditor.
func New(cfg Config) *Auditor {
	if cfg.IdleAfter <= 0 {
		cfg.IdleAfter = 24 * time.Hour
	}
	if cfg.Since <= 0 {
		cfg.Since = 24 * time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Auditor{cfg: cfg}
}

var auditMetrics = obs.NewEMF([][]string{{"environment"}},
	obs.Metric{Name: "activeSessions", Unit: "Count"}, obs.Metric{Name: "olderSettingsSessions", Unit: "Count"},
	obs.Metric{Name: "idleSessions", Unit: "Count"}, obs.Metric{Name: "revocations", Unit: "Count"},
	obs.Metric{Name: "usersCheckFailing", Unit: "Count"}, obs.Metric{Name: "directoryErrorRate", Unit: "None"})

// Run audits every environment, stores and logs each report.
func (a *Auditor) Run(ctx context.Context) ([]Report, error) {
	var out []Report
	for _, env := range a.cfg.Environments {
		rep, err := a.Audit(ctx, env)
		if err != nil {
			return out, err
		}
		body, err := json.Marshal(rep)
		if err != nil {
			return out, fmt.Errorf("auditor: encode report of %s: %w", env, err)
		}
		if err := a.cfg.Store.PutReport(ctx, audit.Record{Environment: env, At: rep.At, Body: body}); err != nil {
			return out, fmt.Errorf("auditor: store report of %s: %w", env, err)
		}
		revoked := 0
		for _, n := range rep.Revocations {
			revoked += n
		}
		a.cfg.Log.LogAttrs(ctx, slog.LevelInfo, "audit", slog.String("environment", env),
			slog.Int("activeSessions", rep.ActiveSessions), slog.Int("olderSettingsSessions", rep.OlderSettingsSessions),
			slog.Int("idleSessions", rep.IdleSessions), slog.Int("revocations", revoked), slog.Int("usersCheckFailing", rep.UsersCheckFailing),
			slog.Float64("directoryErrorRate", rep.DirectoryErrRate), slog.Any("report", json.RawMessage(body)), auditMetrics.Attr(rep.At))
		out = append(out, rep)
	}
	return out, nil
}

// Audit computes one environment's report (without storing it).
func (a *Auditor) Audit(ctx context.Context, env string) (Report, error) {
	now := a.cfg.Now()
	rep := Report{Environment: env, At: now, From: now.Add(-a.cfg.Since), Revocations: map[string]int{}, SettingsChanges: []policy.SettingsChange{}}
	if last, _, err := a.cfg.Store.Reports(ctx, env, session.Page{Limit: 1}); err != nil {
		return rep, fmt.Errorf("auditor: last report of %s: %w", env, err)
	} else if len(last) > 0 && last[0].At.Before(now) {
		rep.From = last[0].At
	}
	current, version, err := a.cfg.Store.Settings(ctx, env)
	if err != nil {
		return rep, fmt.Errorf("auditor: settings of %s: %w", env, err)
	}
	rep.SettingsVersion = version
	idleAfter := a.cfg.IdleAfter
	if current.InactivityTimeout.Enabled {
		idleAfter = time.Duration(current.InactivityTimeout.Minutes) * time.Minute
	}
	err = each(ctx, func(p session.Page) ([]session.User, string, error) { return a.cfg.Store.Users(ctx, env, p) }, func(u session.User) error {
		rep.Users++
		if u.Disabled {
			rep.UsersDisabled++
		}
		if u.CheckFailures > 0 {
			rep.UsersCheckFailing++
		}
		return each(ctx, func(p session.Page) ([]session.Session, string, error) {
			p.Revoked = true
			return a.cfg.Store.UserSessions(ctx, env, u.Key, p)
		}, func(s session.Session) error {
			a.session(&rep, s, u, current, version, idleAfter, now)
			return nil
		})
	})
	if err != nil {
		return rep, fmt.Errorf("auditor: sessions of %s: %w", env, err)
	}
	if rep.Users > 0 {
		rep.DirectoryErrRate = float64(rep.UsersCheckFailing) / float64(rep.Users)
	}
	err = each(ctx, func(p session.Page) ([]policy.SettingsChange, string, error) {
		return a.cfg.Store.History(ctx, env, p)
	},
		func(c policy.SettingsChange) error {
			if c.At.After(rep.From) {
				rep.SettingsChanges = append(rep.SettingsChanges, c)
				return nil
			}
			return errStop // newest first: the rest are older
		})
	if err != nil && err != errStop {
		return rep, fmt.Errorf("auditor: settings history of %s: %w", env, err)
	}
	return rep, nil
}

// session counts one session of u into rep.
func (a *Auditor) session(rep *Report, s session.Session, u session.User, current policy.Settings, version int, idleAfter time.Duration, now time.Time) {
	if s.Revoked() {
		if s.RevokedAt.After(rep.From) {
			rep.Revocations[string(s.RevokeReason)]++
		}
		return
	}
	if !s.Settings.Evaluate(s.PolicyView(u).AsSignedIn(), now, policy.Enforcement{}).Allowed() {
		return // ended by its own policy: not active
	}
	rep.ActiveSessions++
	last := s.LastActivityAt
	if last.IsZero() {
		last = s.CreatedAt
	}
	if now.Sub(last) >= idleAfter {
		rep.IdleSessions++
	}
	if s.SettingsVersion >= version {
		return
	}
	rep.OlderSettingsSessions++
	under := s
	under.Settings = current
	d := current.Evaluate(under.PolicyView(u).AsSignedIn(), now, policy.Enforcement{})
	if d.Allowed() {
		return
	}
	rep.ExceedingCurrent++
	end := d.ExpiresAt
	if end.IsZero() || (!d.IdleExpiresAt.IsZero() && d.IdleExpiresAt.Before(end)) {
		end = d.IdleExpiresAt
	}
	if !end.IsZero() {
		rep.MaxExceedMinutes = max(rep.MaxExceedMinutes, now.Sub(end).Minutes())
	}
}

var errStop = errors.New("stop")

// each calls fn on every item of a paged listing.
func each[T any](ctx context.Context, list func(session.Page) ([]T, string, error), fn func(T) error) error {
	cursor := ""
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		items, next, err := list(session.Page{Limit: 100, Cursor: cursor})
		if err != nil {
			return err
		}
		for _, it := range items {
			if err := fn(it); err != nil {
				return err
			}
		}
		if next == "" {
			return nil
		}
		cursor = next
	}
}
