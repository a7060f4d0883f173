package globallogout

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/sessionguard/sessionguard/shared/endpoint"
	"github.com/sessionguard/sessionguard/shared/token"
)

// Entry is the universalLogout of one TRUSTED_ISSUERS entry: who may sign
// out that issuer's users here, and how a request names one of them.
type Entry struct {
	// Issuer is the entry's issuer: the requests it accepts sign out its
	// users, and no one else's.
	Issuer string
	// Signer is the iss of the requests' JWTs: the entry's issuer, or the
	// identity provider's own when another server of it signs (Okta's org
	// authorization server signs for the custom authorization servers of
	// its org, whose tokens the entry trusts).
	Signer string
	// SignerKeys is the signer's key-set URL; "" reads it from the
	// signer's discovery document.
	SignerKeys string
	// Algorithms are the signer's accepted algorithms (the entry's; none:
	// RS256).
	Algorithms []string
	// Audience is this endpoint's URL as the IdP calls it: the JWT's aud
	// must hold it (CheckAudience).
	Audience string
	// Callers, when set, are the only accepted "sub" values of the JWT:
	// the IdP's ids of the app integrations allowed to call.
	Callers []string
	// Profile is the entry's profile; UserClaim and TenantClaim are the
	// claims its users are keyed by (token.Issuer.UserClaims).
	Profile, UserClaim, TenantClaim string
}

// mapsIssSub reports whether the sub of an iss_sub subject whose iss is
// this entry's issuer is the user's key under this entry: for issuers
// whose users are keyed by plain sub, and for those keyed by the signer's
// user id (mapsSignerSub): Okta names a user by its user id, whichever of
// its authorization servers iss is.
func (e Entry) mapsIssSub() bool {
	return (e.TenantClaim == "" && e.UserClaim == "sub") || e.mapsSignerSub()
}

// mapsSignerSub reports whether the sub of an iss_sub subject whose iss is
// the signer's, another issuer than this entry's, is the user's key under
// this entry. That sub is the signer's user id (Okta's org names a user by
// its user id, 00u…), which only the okta profile's default user claim,
// uid, carries: an entry keyed by its own tokens' sub (profile oidc, or
// okta with userClaim sub: a custom authorization server's access tokens
// carry the login there) or any other claim keys the same user otherwise.
func (e Entry) mapsSignerSub() bool {
	return e.TenantClaim == "" && e.Profile == "okta" && e.UserClaim == "uid"
}

// mapsEmail reports whether an email subject is the user's key under this
// entry: only when the entry keys its users by their email claim.
// sessionguard records no other email address of a user.
func (e Entry) mapsEmail() bool { return e.TenantClaim == "" && e.UserClaim == "email" }

// keyedBy names the claim(s) the entry's users are keyed by, for messages.
func (e Entry) keyedBy() string {
	if e.TenantClaim != "" {
		return e.TenantClaim + "/" + e.UserClaim
	}
	return e.UserClaim
}

// accepts reports whether the entry takes a request authenticated by rev:
// its signer signed it, it is addressed to the entry's endpoint URL, and
// its caller is one the entry lists (when it lists any).
func (e Entry) accepts(rev token.Revocation) bool {
	return e.Signer == rev.Issuer && slices.Contains(rev.Audience, e.Audience) && (len(e.Callers) == 0 || slices.Contains(e.Callers, rev.Caller))
}

// CheckAudience checks an endpoint URL an entry gives as its audience: an
// absolute https URL (plain http only on loopback, as the local stack
// serves), with no user, query or fragment (the IdP's JWT names the
// exact URL, and the URL alone), ending in Path.
func CheckAudience(raw string) error {
	if err := endpoint.Check(raw); err != nil {
		return err
	}
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	switch {
	case u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(raw, "#"):
		return fmt.Errorf("%q: the endpoint's URL has no user, query or fragment", raw)
	case !strings.HasSuffix(u.Path, Path):
		return fmt.Errorf("%q: the endpoint's URL ends with %s (this deployment's API URL, or its custom domain and base path, then %s)", raw, Path, Path)
	}
	return nil
}

// Signers are the issuers a verifier of the requests' JWTs trusts: one per
// signer of entries, with every audience of its entries and the union of
// their algorithms. Entries that share a signer must read its keys from
// the same URL.
func Signers(entries []Entry) ([]token.Issuer, error) {
	var out []token.Issuer
	var problems []string
	at := map[string]int{}
	for _, e := range entries {
		if e.Signer == "" || e.Audience == "" {
			problems = append(problems, fmt.Sprintf("issuer %q: the signer and the audience are required", e.Issuer))
			continue
		}
		algs := e.Algorithms
		if len(algs) == 0 {
			algs = []string{"RS256"}
		}
		i, seen := at[e.Signer]
		if !seen {
			at[e.Signer] = len(out)
			out = append(out, token.Issuer{Issuer: e.Signer, JWKSURL: e.SignerKeys, Audiences: []string{e.Audience}, Algorithms: slices.Clone(algs)})
			continue
		}
		s := &out[i]
		if s.JWKSURL != e.SignerKeys {
			problems = append(problems, fmt.Sprintf("issuer %q: the signer %q's key set is read from %q by another entry, %q here: give each entry that names the signer the same jwksUrl",
				e.Issuer, e.Signer, orDiscovery(s.JWKSURL), orDiscovery(e.SignerKeys)))
		}
		if !slices.Contains(s.Audiences, e.Audience) {
			s.Audiences = append(s.Audiences, e.Audience)
		}
		for _, a := range algs {
			if !slices.Contains(s.Algorithms, a) {
				s.Algorithms = append(s.Algorithms, a)
			}
		}
	}
	if len(problems) > 0 {
		return nil, errors.New(strings.Join(problems, "; "))
	}
	return out, nil
}

func orDiscovery(u string) string {
	if u == "" {
		return "its discovery document"
	}
	return u
}
