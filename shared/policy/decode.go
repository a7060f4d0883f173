package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"sort"

	"github.com/sessionguard/sessionguard/shared/jsonread"
)

// Decode reads a settings document. Fields that are absent keep their
// defaults; unknown fields, wrong types and out-of-range values are all
// reported together as FieldErrors. The result is validated against l.
func Decode(data []byte, l Limits) (Settings, error) {
	s := Defaults()
	d := decoder{}
	if json.Valid(data) && !jsonread.Valid(data) { // well-formed, yet read two ways
		d.fail("(body)", "names a member twice in one object, or is not valid UTF-8")
		return s, d.errs
	}
	d.object("", data, map[string]func(string, json.RawMessage){
		"sessionExpiration": func(p string, v json.RawMessage) {
			d.object(p, v, map[string]func(string, json.RawMessage){
				"enabled":           d.boolInto(&s.SessionExpiration.Enabled),
				"maxSessionMinutes": d.intInto(&s.SessionExpiration.MaxSessionMinutes),
				"warningMinutes":    d.intInto(&s.SessionExpiration.WarningMinutes),
			})
		},
		"inactivityTimeout": func(p string, v json.RawMessage) {
			d.object(p, v, map[string]func(string, json.RawMessage){
				"enabled": d.boolInto(&s.InactivityTimeout.Enabled),
				"minutes": d.intInto(&s.InactivityTimeout.Minutes),
			})
		},
		"staySignedIn": func(p string, v json.RawMessage) {
			d.object(p, v, map[string]func(string, json.RawMessage){
				"allowed":           d.boolInto(&s.StaySignedIn.Allowed),
				"inactivityMinutes": d.intInto(&s.StaySignedIn.InactivityMinutes),
				"maxSessionMinutes": d.intInto(&s.StaySignedIn.MaxSessionMinutes),
				"renewAfterMinutes": d.intInto(&s.StaySignedIn.RenewAfterMinutes),
			})
		},
		"policyCheckIntervalMinutes": d.intInto(&s.PolicyCheckIntervalMinutes),
		"outageGraceMinutes":         d.intInto(&s.OutageGraceMinutes),
		"maxSessionsPerUser":         d.intInto(&s.MaxSessionsPerUser),
		"onSessionLimit": func(p string, v json.RawMessage) {
			var str string
			if d.value(p, v, &str, "a string") {
				s.OnSessionLimit = OnLimit(str)
			}
		},
		"strictReauthentication": d.boolInto(&s.StrictReauthentication),
		"dpop": func(p string, v json.RawMessage) {
			var str string
			if d.value(p, v, &str, "a string") {
				s.DPoP = DPoPMode(str)
			}
		},
		"exemptClients": func(p string, v json.RawMessage) {
			var list []string
			if d.value(p, v, &list, "a list of strings") {
				if list == nil {
					list = []string{}
				}
				s.ExemptClients = list
			}
		},
	})
	// Range errors are reported beside structural ones, except for fields
	// that already have one (their value is the default, not the input).
	errs := d.errs
	var verrs FieldErrors
	if errors.As(s.Validate(l), &verrs) {
		for _, e := range verrs {
			if !slices.ContainsFunc(d.errs, func(de FieldError) bool { return de.Field == e.Field }) {
				errs = append(errs, e)
			}
		}
	}
	if len(errs) > 0 {
		return Settings{}, errs
	}
	return s, nil
}

type decoder struct{ errs FieldErrors }

func join(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

func (d *decoder) object(path string, data json.RawMessage, fields map[string]func(string, json.RawMessage)) {
	var m map[string]json.RawMessage
	if !d.value(path, data, &m, "an object") {
		return
	}
	if m == nil { // JSON null
		d.fail(or(path, "(body)"), "must be an object, got null")
		return
	}
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names) // stable error order
	for _, k := range names {
		p := join(path, k)
		f, ok := fields[k]
		if !ok {
			d.fail(p, "unknown field")
			continue
		}
		f(p, m[k])
	}
}

func (d *decoder) value(path string, data json.RawMessage, into any, want string) bool {
	if bytes.Equal(bytes.TrimSpace(data), []byte("null")) && want != "an object" {
		d.fail(path, "must be "+want+", got null")
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(into); err != nil {
		var se *json.SyntaxError
		if path == "" && errors.As(err, &se) {
			d.fail("(body)", "is not valid JSON: "+err.Error())
			return false
		}
		d.fail(or(path, "(body)"), "must be "+want)
		return false
	}
	if dec.More() {
		d.fail(or(path, "(body)"), "has trailing data after the JSON value")
		return false
	}
	return true
}

func (d *decoder) intInto(dst *int) func(string, json.RawMessage) {
	return func(p string, v json.RawMessage) {
		var n int
		if d.value(p, v, &n, "a whole number") {
			*dst = n
		}
	}
}

func (d *decoder) boolInto(dst *bool) func(string, json.RawMessage) {
	return func(p string, v json.RawMessage) {
		var b bool
		if d.value(p, v, &b, "true or false") {
			*dst = b
		}
	}
}

func (d *decoder) fail(field, msg string) { d.errs = append(d.errs, FieldError{field, msg}) }

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
