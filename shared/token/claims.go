package token

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/sessionguard/sessionguard/shared/jsonread"
)

// claimSet holds the claims the verifier reads, parsed once from the
// payload; any other claim is read by name from the payload (stringClaim).
type claimSet struct {
	Iss                  string
	Aud                  audience
	Exp, Nbf, Iat        numericDate
	AuthTime             numericDate
	Sub, Oid, Tid        string
	Azp, Appid, ClientID string
	Cid, Uid             string // Okta
	TokenUse, Username   string // Cognito
	Typ                  string // the "typ" claim (Keycloak: Bearer, ID)
	Sid                  string
	Jti                  string
	// Events is the raw "events" object of a security event or logout
	// token (nil when absent); HasNonce marks a "nonce" claim.
	Events   []byte
	HasNonce bool
	// Jkt is "cnf"."jkt": the thumbprint of the key a DPoP-bound token is
	// bound to ("" when the token is not bound to a key).
	Jkt string
}

func (c *claimSet) parse(data []byte) error {
	r := jsonread.New(data)
	defer r.Release()
	if !r.Object() {
		return r.Err()
	}
	for r.Next() {
		var err error
		switch string(r.Name()) {
		case "iss":
			var ok bool
			if c.Iss, ok = r.String(); !ok && r.Err() == nil {
				err = errors.New(`"iss" must be a string`)
			}
		case "aud":
			err = c.Aud.parse(r)
		case "exp":
			err = c.Exp.parse("exp", r)
		case "nbf":
			err = c.Nbf.parse("nbf", r)
		case "iat":
			err = c.Iat.parse("iat", r)
		case "auth_time":
			err = c.AuthTime.parse("auth_time", r)
		case "events":
			if r.Kind() == '{' {
				c.Events = append([]byte{}, r.Raw()...)
			} else {
				r.Skip()
				c.Events = []byte{} // present, but not an object
			}
		case "nonce":
			c.HasNonce = true
			r.Skip()
		case "cnf":
			err = c.parseCnf(r)
		default:
			if p := c.stringField(string(r.Name())); p != nil {
				*p = lenientString(r)
			} else {
				r.Skip()
			}
		}
		if err != nil {
			return err
		}
	}
	return r.Err()
}

// parseCnf reads the confirmation claim: an object whose "jkt", when
// present, is a string. A token that names a key it cannot be read to
// name is malformed (refused, never taken for an unbound one); other
// confirmation methods are not read.
func (c *claimSet) parseCnf(r *jsonread.Reader) error {
	if r.Kind() != '{' {
		r.Skip()
		if r.Err() != nil {
			return r.Err()
		}
		return errors.New(`"cnf" must be an object`)
	}
	r.Object()
	var err error
	for r.Next() {
		if !r.Is("jkt") {
			r.Skip()
			continue
		}
		var ok bool
		if c.Jkt, ok = r.String(); (!ok || c.Jkt == "") && r.Err() == nil {
			err = errors.New(`"cnf"."jkt" must be a non-empty string`)
		}
	}
	if r.Err() != nil {
		return r.Err()
	}
	return err
}

// stringField is where the claim set keeps the string claim name, or nil
// for a claim it does not keep.
func (c *claimSet) stringField(name string) *string {
	switch name {
	case "sub":
		return &c.Sub
	case "oid":
		return &c.Oid
	case "tid":
		return &c.Tid
	case "azp":
		return &c.Azp
	case "appid":
		return &c.Appid
	case "client_id":
		return &c.ClientID
	case "jti":
		return &c.Jti
	case "cid":
		return &c.Cid
	case "uid":
		return &c.Uid
	case "token_use":
		return &c.TokenUse
	case "username":
		return &c.Username
	case "typ":
		return &c.Typ
	case "sid":
		return &c.Sid
	}
	return nil
}

// hasEvent reports whether the events claim holds the member name with an
// object value.
func (c *claimSet) hasEvent(name string) bool {
	if len(c.Events) == 0 {
		return false
	}
	r := jsonread.New(c.Events)
	defer r.Release()
	if !r.Object() {
		return false
	}
	found := false
	for r.Next() {
		if r.Is(name) && r.Kind() == '{' {
			found = true
		}
		r.Skip()
	}
	return found && r.Err() == nil
}

// eventsObject reports whether the events claim is an object of one or
// more members, each an object, as a security event token's must be.
func (c *claimSet) eventsObject() bool {
	if len(c.Events) == 0 {
		return false
	}
	r := jsonread.New(c.Events)
	defer r.Release()
	if !r.Object() {
		return false
	}
	n := 0
	for r.Next() {
		if r.Kind() != '{' {
			return false
		}
		n++
		r.Skip()
	}
	return n > 0 && r.Err() == nil
}

// claim returns a string claim the set keeps, or "".
func (c *claimSet) claim(name string) string {
	if p := c.stringField(name); p != nil {
		return *p
	}
	return ""
}

// stringClaim returns a claim by name: the common ones from the parsed set,
// any other by reading the payload once more (only for unusual configs).
// The payload was read once already, so it is known to be valid JSON with
// no duplicate names.
func (c *claimSet) stringClaim(payload []byte, name string) (string, error) {
	if p := c.stringField(name); p != nil {
		return *p, nil
	}
	var out string
	r := jsonread.New(payload)
	defer r.Release()
	r.Object()
	for r.Next() {
		if r.Is(name) {
			out = lenientString(r)
		} else {
			r.Skip()
		}
	}
	return out, r.Err()
}

// rolesClaim reads the claim name as a list of strings; a single string is
// a list of one; anything else is no roles.
func rolesClaim(payload []byte, name string) []string {
	r := jsonread.New(payload)
	defer r.Release()
	r.Object()
	var out []string
	for r.Next() {
		if !r.Is(name) {
			r.Skip()
			continue
		}
		switch r.Kind() {
		case '"':
			s, _ := r.String()
			out = []string{s}
		case '[':
			out, _ = r.Strings()
		default:
			r.Skip()
		}
	}
	return out
}

// audience is "aud": a string or an array of strings (RFC 7519 4.1.3).
type audience []string

func (a *audience) parse(r *jsonread.Reader) error {
	switch r.Kind() {
	case '"':
		s, _ := r.String()
		*a = audience{s}
		return nil
	case '[':
		if list, ok := r.Strings(); ok {
			*a = list
			return nil
		}
	default:
		r.Skip()
	}
	if r.Err() != nil {
		return r.Err()
	}
	return errors.New(`"aud" must be a string or an array of strings`)
}

func (a audience) containsAny(want []string) bool {
	for _, v := range a {
		if slices.Contains(want, v) {
			return true
		}
	}
	return false
}

// numericDate is a JSON number of seconds since the epoch (RFC 7519 2),
// truncated to whole seconds. A zero value counts as absent.
type numericDate struct {
	t   time.Time
	set bool
}

func (n *numericDate) parse(name string, r *jsonread.Reader) error {
	if r.Kind() == 'n' {
		r.Skip()
		*n = numericDate{}
		return nil
	}
	f, ok := r.Number()
	if !ok {
		if r.Err() != nil {
			return r.Err()
		}
		return fmt.Errorf("%q is not a JSON number", name)
	}
	if math.IsNaN(f) || f < -1e11 || f > 1e11 { // beyond year 5000: refuse rather than overflow
		return fmt.Errorf("%q is out of range", name)
	}
	sec := int64(f)
	if sec == 0 {
		*n = numericDate{}
		return nil
	}
	*n = numericDate{t: time.Unix(sec, 0).UTC(), set: true}
	return nil
}

// lenientString reads a JSON string and treats any other type as absent,
// so an odd type in a claim we only sometimes use never makes a token
// unreadable.
func lenientString(r *jsonread.Reader) string {
	if r.Kind() != '"' {
		r.Skip()
		return ""
	}
	s, _ := r.String()
	return s
}
