package config

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/sessionguard/sessionguard/shared/endpoint"
	"github.com/sessionguard/sessionguard/shared/token"
)

// issuerJSON is one element of TRUSTED_ISSUERS.
type issuerJSON struct {
	Issuer      string   `json:"issuer"`
	JWKSURL     string   `json:"jwksUrl"`
	Profile     string   `json:"profile"`
	ClientIDs   []string `json:"clientIds"`
	Tenants     []string `json:"tenants"`
	Audiences   []string `json:"audiences"`
	Algorithms  []string `json:"algorithms"`
	UserClaim   string   `json:"userClaim"`
	TenantClaim string   `json:"tenantClaim"`
	RoleClaim   string   `json:"roleClaim"`
	// GrantsAdmin (TRUSTED_ISSUERS only): the admin API takes the admin
	// role from this issuer's tokens (AdminIssuers).
	GrantsAdmin bool `json:"grantsAdmin"`
	// Credential (SIGNALS_TRANSMITTERS only) names the secret holding the
	// transmitter's bearer credential for its stream management API.
	Credential string `json:"credential"`
	// SubjectIssuers (SIGNALS_TRANSMITTERS only) are the TRUSTED_ISSUERS
	// issuers whose users the transmitter may revoke.
	SubjectIssuers []string `json:"subjectIssuers"`
	// UniversalLogout (TRUSTED_ISSUERS only): the identity provider may
	// end this issuer's users' sessions through the global token
	// revocation endpoint (universallogout.go).
	UniversalLogout *universalLogoutJSON `json:"universalLogout"`
}

// issuerList is a parsed TRUSTED_ISSUERS or SIGNALS_TRANSMITTERS.
type issuerList struct {
	issuers     []token.Issuer
	credentials map[string]string               // by issuer, when set
	subjects    map[string][]string             // by issuer, when set (an empty list too)
	logouts     map[string]*universalLogoutJSON // by issuer, when set
}

// issuers reads a JSON list of issuers from the variable name; the key
// set of each must be read over https (or from a loopback host).
func (r *reader) issuers(name string) issuerList {
	raw := r.getenv(name)
	if raw == "" {
		return issuerList{}
	}
	var issuers []issuerJSON
	if err := decodeStrict(raw, &issuers); err != nil {
		r.bad("%s: %v", name, err)
		return issuerList{}
	}
	out := issuerList{credentials: map[string]string{}, subjects: map[string][]string{}, logouts: map[string]*universalLogoutJSON{}}
	for _, is := range issuers {
		if is.Credential != "" {
			out.credentials[is.Issuer] = is.Credential
		}
		if is.SubjectIssuers != nil {
			out.subjects[is.Issuer] = is.SubjectIssuers
		}
		if is.UniversalLogout != nil {
			out.logouts[is.Issuer] = is.UniversalLogout
		}
		ti := token.Issuer{
			Issuer: is.Issuer, JWKSURL: is.JWKSURL, Audiences: is.Audiences, Profile: is.Profile, ClientIDs: is.ClientIDs, Tenants: is.Tenants,
			Algorithms: is.Algorithms, UserClaim: is.UserClaim, TenantClaim: is.TenantClaim, RoleClaim: is.RoleClaim, GrantsAdmin: is.GrantsAdmin,
		}
		if u, discovered := ti.KeySetURL(); discovered {
			r.checkURL(fmt.Sprintf("%s: issuer %q has no jwksUrl, so its key set is found through its discovery document", name, is.Issuer), u)
		} else {
			r.checkURL(fmt.Sprintf("%s: issuer %q: jwksUrl", name, is.Issuer), u)
		}
		out.issuers = append(out.issuers, ti)
	}
	return out
}

// decodeStrict decodes the JSON value raw into v, refusing unknown
// members.
func decodeStrict(raw string, v any) error {
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// checkURL reports u, named what, unless endpoint.Check allows it.
func (r *reader) checkURL(what, u string) {
	if err := endpoint.Check(u); err != nil {
		r.bad("%s: %v", what, err)
	}
}

// AdminIssuers lists the trusted issuers whose tokens may carry the admin
// role: the entries with grantsAdmin, or, when none has it and there is
// exactly one single-tenant entry, that one. With several and none marked,
// or one multi-tenant entry (whose every tenant would grant it), it is
// empty: the admin API refuses everyone.
func (c Config) AdminIssuers() []string {
	var out []string
	for _, is := range c.Token.Issuers {
		if is.GrantsAdmin {
			out = append(out, is.Issuer)
		}
	}
	if len(out) == 0 && len(c.Token.Issuers) == 1 && !strings.Contains(c.Token.Issuers[0].Issuer, token.TenantPlaceholder) {
		out = []string{c.Token.Issuers[0].Issuer}
	}
	return out
}

// IssuerNames lists the trusted issuers' "iss" values.
func (c Config) IssuerNames() []string {
	out := make([]string, len(c.Token.Issuers))
	for i, is := range c.Token.Issuers {
		out[i] = is.Issuer
	}
	return out
}

// UserPoolIssuer is the token issuer of the user pool
// DIRECTORY_USER_POOL_ID: the trusted issuer that ends with its id.
func (c Config) UserPoolIssuer() (string, bool) {
	for _, is := range c.IssuerNames() {
		if strings.HasSuffix(strings.TrimSuffix(is, "/"), "/"+c.Directory.UserPoolID) {
			return is, true
		}
	}
	return "", false
}
