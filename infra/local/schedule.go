package local

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"time"

	"github.com/sessionguard/sessionguard/shared/auditor"
	"github.com/sessionguard/sessionguard/shared/refresher"
	"github.com/sessionguard/sessionguard/shared/session"
)

// background runs the policy checks and the audit every `every`, as the
// schedules do in AWS.
func (s *Stack) background(every time.Duration) {
	defer close(s.done)
	if every < 0 {
		<-s.stop
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.runChecks(context.Background(), false)
		}
	}
}

// checksResult is what a run of the checks and the audit reports.
type checksResult struct {
	Refresher map[string]refresher.Report `json:"refresher"`
	Audits    []auditor.Report            `json:"audits"`
}

// runChecks runs the refresher and the auditor; with force, every user is
// made due first (the quick-start cannot wait an hour).
func (s *Stack) runChecks(ctx context.Context, force bool) (checksResult, error) {
	if force {
		now := s.now()
		users, _, err := s.Store.Users(ctx, Environment, session.Page{Limit: 100})
		if err != nil {
			return checksResult{}, err
		}
		for _, u := range users {
			if err := s.Store.ScheduleCheck(ctx, Environment, u.Key, now); err != nil {
				return checksResult{}, err
			}
		}
	}
	var res checksResult
	var err error
	if res.Refresher, err = s.refresher.Run(ctx); err != nil {
		s.log.Error("local: policy checks", "error", err)
		return res, err
	}
	if res.Audits, err = s.auditor.Run(ctx); err != nil {
		s.log.Error("local: audit", "error", err)
	}
	return res, err
}

func (s *Stack) runChecksHandler(w http.ResponseWriter, r *http.Request) {
	res, err := s.runChecks(r.Context(), true)
	w.Header().Set("Content-Type", "application/json")
	if err != nil {
		gatewayError(w, http.StatusInternalServerError, "checks failed: "+err.Error())
		return
	}
	json.NewEncoder(w).Encode(res)
}

// pollHandler runs the Shared Signals poll (the signalspoll function's
// job, on a schedule in AWS) now.
func (s *Stack) pollHandler(w http.ResponseWriter, r *http.Request) {
	rep, err := s.streams.Poll(r.Context(), s.receiver)
	if err != nil {
		gatewayError(w, http.StatusBadGateway, "Bad Gateway")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(rep)
}

// cloudtrailHandler hands an "AWS API Call via CloudTrail" event to the
// Cognito events function, as the template's EventBridge rule does (moto
// emits no CloudTrail events: the quick-start posts the one AWS would).
func (s *Stack) cloudtrailHandler(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 256<<10))
	if err != nil {
		gatewayError(w, http.StatusBadRequest, "Bad Request")
		return
	}
	out, err := s.cloudtrail.Invoke(r.Context(), body)
	if err != nil {
		gatewayError(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(append(out, '\n'))
}
