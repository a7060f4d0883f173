package config

import (
	"fmt"
	"slices"
)

// checkTransmitters holds each SIGNALS_TRANSMITTERS entry to its scope:
// its subjectIssuers must be trusted issuers, and with several trusted
// issuers an entry must list them (it cannot default to the one); its
// issuer is where its Shared Signals metadata is read (the metadata names
// the stream endpoints, which are sent its credential), so it must be
// https. grantsAdmin is for TRUSTED_ISSUERS entries.
func (c Config) checkTransmitters(r *reader) {
	trusted := c.IssuerNames()
	for _, t := range c.Signals {
		if t.GrantsAdmin {
			r.bad("SIGNALS_TRANSMITTERS: transmitter %q: grantsAdmin is for TRUSTED_ISSUERS entries", t.Issuer)
		}
		r.checkURL(fmt.Sprintf("SIGNALS_TRANSMITTERS: transmitter %q: its Shared Signals metadata is read under the issuer", t.Issuer), t.Issuer)
		subjects, ok := c.SignalsSubjectIssuers[t.Issuer]
		switch {
		case !ok && len(trusted) > 1:
			r.bad("SIGNALS_TRANSMITTERS: transmitter %q has no subjectIssuers: with %d TRUSTED_ISSUERS entries, list the issuers whose users it may revoke", t.Issuer, len(trusted))
		case ok && len(subjects) == 0:
			r.bad("SIGNALS_TRANSMITTERS: transmitter %q: subjectIssuers is empty: list the TRUSTED_ISSUERS issuers whose users it may revoke", t.Issuer)
		}
		for _, s := range subjects {
			if !slices.Contains(trusted, s) {
				r.bad("SIGNALS_TRANSMITTERS: transmitter %q: subjectIssuers: %q is not a TRUSTED_ISSUERS issuer", t.Issuer, s)
			}
		}
	}
}

// SubjectIssuers lists, by transmitter, the trusted issuers whose users
// it may revoke: its subjectIssuers, or, when it has none and there is
// exactly one trusted issuer, that one. A transmitter without either
// revokes no one (Load refuses that configuration).
func (c Config) SubjectIssuers() map[string][]string {
	out := map[string][]string{}
	for _, t := range c.Signals {
		if s, ok := c.SignalsSubjectIssuers[t.Issuer]; ok {
			out[t.Issuer] = s
		} else if len(c.Token.Issuers) == 1 {
			out[t.Issuer] = []string{c.Token.Issuers[0].Issuer}
		}
	}
	return out
}
