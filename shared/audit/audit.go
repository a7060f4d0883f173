// Package audit holds the daily audit reports as the store keeps them:
// the auditor (shared/auditor) writes them, the admin API lists them.
package audit

import (
	"encoding/json"
	"fmt"
	"time"
)

// Record is one environment's audit report as stored: when it was
// written and its body (an auditor.Report, as JSON).
type Record struct {
	Environment string    `json:"environment"`
	At          time.Time `json:"at"`
	Body        []byte    `json:"-"` // JSON
}

// Check reports whether r can be stored: its body must be JSON (the admin
// API hands it out as it is).
func (r Record) Check() error {
	if !json.Valid(r.Body) {
		return fmt.Errorf("audit: report of %s at %s is not JSON", r.Environment, r.At.Format(time.RFC3339))
	}
	return nil
}
