package globallogout

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"slices"
	"strings"
	"unicode"

	"github.com/sessionguard/sessionguard/shared/jsonread"
	"github.com/sessionguard/sessionguard/shared/problem"
)

// MaxBodyBytes caps the request body: a subject identifier is a few
// hundred bytes.
const MaxBodyBytes = 8 << 10

// The subject identifier formats this receiver reads (a subject
// identifier, as security event tokens name users), and the members each
// has besides "format".
var formats = map[string][]string{
	"iss_sub": {"iss", "sub"},
	"opaque":  {"id"},
	"email":   {"email"},
}

// maxValue caps each member of the subject: longer values name no user
// (they could not be a key in the store).
var maxValue = map[string]int{"iss": 512, "sub": 256, "id": 256, "email": 320}

// subjectID is the user a request names: its format and members, and the
// body member that held it (sub_id, or subject), for messages.
type subjectID struct {
	member string
	format string
	values map[string]string
}

// field names a member of the subject in a field error: "sub_id.format".
func (s subjectID) field(name string) string { return s.member + "." + name }

// readRequest reads the body: a JSON object whose one member, sub_id (or
// subject: senders use both names), is a subject identifier of a format
// in formats. Every problem is a field error naming the header, the body
// or the member.
func readRequest(r *http.Request) (subjectID, []problem.FieldError) {
	bad := func(field, format string, args ...any) (subjectID, []problem.FieldError) {
		return subjectID{}, []problem.FieldError{{Field: field, Message: fmt.Sprintf(format, args...)}}
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return bad("Content-Type", "must be application/json")
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
	switch {
	case err != nil:
		return bad("(body)", "could not be read")
	case len(data) > MaxBodyBytes:
		return bad("(body)", "is larger than %d bytes", MaxBodyBytes)
	case !json.Valid(data):
		return bad("(body)", `must be a JSON object such as {"sub_id": {"format": "iss_sub", "iss": "…", "sub": "…"}}`)
	case !jsonread.Valid(data):
		return bad("(body)", "names a member twice in one object, or is not valid UTF-8")
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil || top == nil {
		return bad("(body)", `must be a JSON object such as {"sub_id": {"format": "iss_sub", "iss": "…", "sub": "…"}}`)
	}
	var errs []problem.FieldError
	for _, name := range slices.Sorted(maps.Keys(top)) {
		if name != "sub_id" && name != "subject" {
			errs = append(errs, problem.FieldError{Field: printable(name), Message: "is not a member of a revocation request (sub_id)"})
		}
	}
	_, hasSubID := top["sub_id"]
	_, hasSubject := top["subject"]
	member := "sub_id"
	switch {
	case hasSubID && hasSubject:
		errs = append(errs, problem.FieldError{Field: "subject", Message: "give the user in sub_id or in subject, not both"})
	case hasSubject:
		member = "subject"
	case !hasSubID:
		errs = append(errs, problem.FieldError{Field: "sub_id", Message: "is required: the user, as a subject identifier"})
	}
	if len(errs) > 0 {
		return subjectID{}, errs
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(top[member], &members); err != nil || members == nil {
		return bad(member, `must be an object with "format", such as {"format": "iss_sub", "iss": "…", "sub": "…"}`)
	}
	s := subjectID{member: member, values: map[string]string{}}
	for _, name := range slices.Sorted(maps.Keys(members)) {
		var v string
		if err := json.Unmarshal(members[name], &v); err != nil {
			errs = append(errs, problem.FieldError{Field: s.field(printable(name)), Message: "must be a string"})
			continue
		}
		s.values[name] = v
	}
	if len(errs) > 0 {
		return subjectID{}, errs
	}
	s.format = s.values["format"]
	want, ok := formats[s.format]
	if !ok {
		return bad(s.field("format"), "is %q: this receiver reads iss_sub, opaque and email", truncate(printable(s.format), 40))
	}
	for _, name := range slices.Sorted(maps.Keys(s.values)) {
		if name != "format" && !slices.Contains(want, name) {
			errs = append(errs, problem.FieldError{Field: s.field(printable(name)), Message: fmt.Sprintf("is not a member of the %s format (%s)", s.format, strings.Join(want, ", "))})
		}
	}
	for _, name := range want {
		v, present := s.values[name]
		switch {
		case !present || v == "":
			errs = append(errs, problem.FieldError{Field: s.field(name), Message: fmt.Sprintf("is required for the %s format", s.format)})
		case len(v) > maxValue[name]:
			errs = append(errs, problem.FieldError{Field: s.field(name), Message: fmt.Sprintf("is longer than %d bytes", maxValue[name])})
		case strings.IndexFunc(v, unicode.IsControl) >= 0:
			errs = append(errs, problem.FieldError{Field: s.field(name), Message: "holds a control character"})
		}
	}
	if len(errs) > 0 {
		return subjectID{}, errs
	}
	return s, nil
}

// printable is a member name for a field error: its control characters
// escaped, at most 64 bytes.
func printable(s string) string {
	if strings.IndexFunc(s, unicode.IsControl) >= 0 {
		s = strings.Trim(fmt.Sprintf("%q", s), `"`)
	}
	return truncate(s, 64)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
