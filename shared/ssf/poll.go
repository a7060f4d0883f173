package ssf

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/sessionguard/sessionguard/shared/signals"
)

// Processor verifies and applies one SET (the signals receiver).
type Processor interface {
	Process(ctx context.Context, raw string) signals.Outcome
}

// PollReport is what one poll run did at one transmitter.
type PollReport struct {
	Received int `json:"received"`
	Applied  int `json:"applied"`
	Refused  int `json:"refused"`
	Retry    int `json:"retry"` // not acknowledged: delivered again later
}

// maxPollRounds bounds one run's requests per transmitter.
const maxPollRounds = 20

// pollBatch is how many SETs one poll request asks for.
const pollBatch = 50

// pollMargin is the time before the run's deadline under which no new
// poll round starts: what is left serves the last round's acknowledgement.
const pollMargin = 15 * time.Second

// Poll fetches the SETs waiting at every poll stream (RFC 8936), has each
// processed exactly as a pushed one, and acknowledges it (or reports its
// error), so the transmitter drops it; a SET that could not be processed
// now (503) is neither, and comes again.
func (m *Manager) Poll(ctx context.Context, p Processor) (map[string]PollReport, error) {
	out := map[string]PollReport{}
	var errs []error
	for _, t := range m.Transmitters {
		s, ok, err := m.Store.Stream(ctx, t.Issuer)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !ok || s.Delivery != "poll" || s.PollURL == "" {
			continue
		}
		bearer := ""
		if t.Credential != nil {
			if bearer, err = t.Credential(ctx); err != nil {
				errs = append(errs, fmt.Errorf("ssf: the credential for %s: %w", t.Issuer, err))
				continue
			}
		}
		rep, err := m.pollOne(ctx, p, s.PollURL, bearer)
		out[t.Issuer] = rep
		if err != nil {
			errs = append(errs, fmt.Errorf("ssf: poll %s: %w", t.Issuer, err))
		}
	}
	return out, errors.Join(errs...)
}

// pollOne polls one stream. Each request acknowledges the SETs of the
// round before; when polling stops (nothing more waits, the run's rounds
// are spent, or its deadline is near) a last request acknowledges the last
// round's SETs and asks for none (maxEvents 0), so they are not delivered
// again. That request goes out on a short context of its own: the run's
// context may have ended, which is one reason to stop.
func (m *Manager) pollOne(ctx context.Context, p Processor, endpoint, bearer string) (PollReport, error) {
	var rep PollReport
	req := PollRequest{MaxEvents: pollBatch, ReturnImmediately: true}
	for round := 1; ; round++ {
		resp, err := Poll(ctx, m.HTTP, endpoint, bearer, req)
		if err != nil {
			return rep, err
		}
		req = PollRequest{MaxEvents: pollBatch, ReturnImmediately: true, SetErrs: map[string]SetErr{}}
		for jti, raw := range resp.Sets {
			rep.Received++
			switch o := p.Process(ctx, raw); o.Status {
			case http.StatusAccepted:
				rep.Applied++
				req.Ack = append(req.Ack, jti)
			case http.StatusServiceUnavailable:
				rep.Retry++
			default:
				rep.Refused++
				req.SetErrs[jti] = SetErr{Err: o.Err, Description: o.Description}
			}
		}
		if resp.MoreAvailable && round < maxPollRounds && !nearDeadline(ctx) {
			continue // the next request acknowledges these and asks for more
		}
		if n := len(req.Ack) + len(req.SetErrs); n > 0 {
			req.MaxEvents = 0 // acknowledge only
			actx, cancel := detached(ctx)
			_, err := Poll(actx, m.HTTP, endpoint, bearer, req)
			cancel()
			if err != nil {
				return rep, fmt.Errorf("ssf: acknowledge %d SETs: %w", n, err)
			}
		}
		return rep, nil
	}
}

// nearDeadline reports whether no new poll round should start.
func nearDeadline(ctx context.Context) bool {
	dl, ok := ctx.Deadline()
	return ctx.Err() != nil || (ok && time.Until(dl) < pollMargin)
}
