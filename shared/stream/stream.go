// Package stream holds this receiver's Shared Signals streams as the
// store keeps them: the stream manager (shared/ssf) sets them up and
// verifies them, the admin API shows them.
package stream

import "time"

// Stream is this receiver's Shared Signals stream at one transmitter.
type Stream struct {
	Transmitter string // the transmitter's issuer
	StreamID    string
	Delivery    string // "push" or "poll"
	PollURL     string // poll: where SETs are fetched (the transmitter's endpoint_url)
	// VerifyState is the state of the last verification request;
	// VerifiedState and VerifiedAt are those of the last verification
	// event that arrived. The stream is verified when the two states match.
	VerifyState   string
	VerifiedState string
	VerifiedAt    time.Time
	UpdatedAt     time.Time
}

// Verified reports whether the last verification request was answered.
func (s Stream) Verified() bool { return s.VerifyState != "" && s.VerifiedState == s.VerifyState }
