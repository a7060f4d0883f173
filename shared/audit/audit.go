// Package audit holds the daily audit reports as the store keeps them:
// the auditor (shared/auditor) writes them, the admin API lists them.
package audit

import "time"

// Record is one environment's audit report as stored: when it was
// written and its body (an auditor.Report, as JSON).
type Record struct {
	Environment string    `json:"environment"`
	At          time.Time `json:"at"`
	Body        []byte    `json:"-"` // JSON
}
