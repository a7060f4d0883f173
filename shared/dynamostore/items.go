package dynamostore

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sessionguard/sessionguard/shared/policy"
	"github.com/sessionguard/sessionguard/shared/session"
)

// The item layout is documented in infra/dynamodb/README.md; keep the two
// in step.

type item = map[string]types.AttributeValue

const (
	gsiUserSessions = "gsi1" // a user's sessions (revoked ones until their TTL), oldest first
	gsiDueChecks    = "gsi2" // users by next policy check, per environment
)

func str(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

func boolean(b bool) types.AttributeValue { return &types.AttributeValueMemberBOOL{Value: b} }

func nanos(t time.Time) types.AttributeValue { return num(t.UnixNano()) }

// keyEscaper makes a key part safe to join with '#'; built once, as it is
// used on the decision path.
var keyEscaper = strings.NewReplacer("%", "%25", "#", "%23")

func esc(s string) string { return keyEscaper.Replace(s) }

func userID(u session.UserKey) string { return esc(u.Issuer) + "#" + esc(u.Subject) }

func key(pk, sk string) item { return item{"pk": str(pk), "sk": str(sk)} }

func sessionKey(h session.Hash) item { return key("S#"+h.String(), "S") }

func userKey(env string, u session.UserKey) item { return key("U#"+env+"#"+userID(u), "U") }

func envPK(env string) string { return "E#" + env }

func settingsKey(env string) item { return key(envPK(env), "SETTINGS") }

func userSessionsPK(env string, u session.UserKey) string { return "US#" + env + "#" + userID(u) }

func sortTime(t time.Time) string { return fmt.Sprintf("%020d", t.UnixNano()) }

func dueSK(t time.Time, u session.UserKey) string { return sortTime(t) + "#" + userID(u) }

// reader decodes attributes, remembering the first problem.
type reader struct {
	it  item
	err error
}

// readItem is the reader of every item the store reads: its first
// problem is the item's format when this release cannot read it
// (checkFormat), so no decoder reads an item of a newer format.
func readItem(it item) reader {
	return reader{it: it, err: checkFormat(it)}
}

func (r *reader) s(name string) string {
	v, ok := r.it[name].(*types.AttributeValueMemberS)
	if !ok {
		if _, present := r.it[name]; present {
			r.fail(name)
		}
		return ""
	}
	return v.Value
}

func (r *reader) n(name string) int64 {
	v, ok := r.it[name].(*types.AttributeValueMemberN)
	if !ok {
		if _, present := r.it[name]; present {
			r.fail(name)
		}
		return 0
	}
	n, err := strconv.ParseInt(v.Value, 10, 64)
	if err != nil {
		r.fail(name)
	}
	return n
}

func (r *reader) b(name string) bool {
	v, _ := r.it[name].(*types.AttributeValueMemberBOOL)
	return v != nil && v.Value
}

// t reads a time stored as Unix nanoseconds; absent is the zero time.
func (r *reader) t(name string) time.Time {
	if _, ok := r.it[name]; !ok {
		return time.Time{}
	}
	return time.Unix(0, r.n(name)).UTC()
}

func (r *reader) settings(name string) policy.Settings {
	var s policy.Settings
	if err := json.Unmarshal([]byte(r.s(name)), &s); err != nil && r.err == nil {
		r.err = fmt.Errorf("attribute %s: %w", name, err)
	}
	if s.DPoP == "" { // written before the setting existed: off
		s.DPoP = policy.DPoPOff
	}
	return s
}

func (r *reader) fail(name string) {
	if r.err == nil {
		r.err = fmt.Errorf("attribute %s has the wrong type", name)
	}
}

// expired reports whether an item is past its expiry (attribute exp, Unix
// nanoseconds; ttl holds the same instant in seconds, rounded up, for
// DynamoDB's TTL, which deletes late). An item this release cannot read
// is not taken for expired: its decoder says why.
func expired(it item, now time.Time) bool {
	r := readItem(it)
	exp := r.t("exp")
	return r.err == nil && !exp.IsZero() && !now.Before(exp)
}

func settingsJSON(s policy.Settings) string {
	b, err := json.Marshal(s)
	if err != nil {
		panic("dynamostore: settings do not encode: " + err.Error()) // plain data: cannot happen
	}
	return string(b)
}

// expiry sets or removes exp and ttl for an item expiring at exp.
func expiry(set map[string]types.AttributeValue, exp time.Time) {
	if exp.IsZero() {
		return
	}
	set["exp"] = nanos(exp)
	secs := exp.Unix()
	if exp.Nanosecond() > 0 {
		secs++
	}
	set["ttl"] = num(secs)
}

func sessionItem(s session.Session) item {
	it := sessionKey(s.Hash)
	it["env"] = str(s.Environment)
	it["iss"] = str(s.User.Issuer)
	it["sub"] = str(s.User.Subject)
	it["cid"] = str(s.ClientID)
	if s.IdPSession != "" {
		it["sid"] = str(s.IdPSession)
	}
	it["cr"] = nanos(s.CreatedAt)
	if !s.LastActivityAt.IsZero() {
		it["la"] = nanos(s.LastActivityAt)
	}
	it["au"] = nanos(s.AuthTime)
	it["ssi"] = boolean(s.StaySignedIn)
	it["sv"] = num(int64(s.SettingsVersion))
	it["set"] = str(settingsJSON(s.Settings))
	if s.Revoked() {
		it["rv"] = nanos(s.RevokedAt)
		it["why"] = str(string(s.RevokeReason))
	}
	if s.Device != "" {
		it["dev"] = str(s.Device)
	}
	if s.DPoPKey != "" {
		it["jkt"] = str(s.DPoPKey)
	}
	it["gsi1pk"] = str(userSessionsPK(s.Environment, s.User))
	it["gsi1sk"] = str(sortTime(s.CreatedAt) + "#" + s.Hash.String())
	expiry(it, s.ExpiresAt())
	return it
}

func decodeSession(it item) (session.Session, error) {
	r := readItem(it)
	pk := r.s("pk")
	h, err := session.ParseHash(strings.TrimPrefix(pk, "S#"))
	if err != nil {
		return session.Session{}, fmt.Errorf("session item %q: %w", pk, err)
	}
	s := session.Session{
		Hash:            h,
		Environment:     r.s("env"),
		User:            session.UserKey{Issuer: r.s("iss"), Subject: r.s("sub")},
		ClientID:        r.s("cid"),
		IdPSession:      r.s("sid"),
		CreatedAt:       r.t("cr"),
		LastActivityAt:  r.t("la"),
		AuthTime:        r.t("au"),
		StaySignedIn:    r.b("ssi"),
		SettingsVersion: int(r.n("sv")),
		Settings:        r.settings("set"),
		RevokedAt:       r.t("rv"),
		RevokeReason:    session.Cause(r.s("why")),
		Device:          r.s("dev"), // absent before format 2: unknown
		DPoPKey:         r.s("jkt"),
	}
	if r.err != nil {
		return session.Session{}, fmt.Errorf("session item %s: %w", h.Prefix(), r.err)
	}
	return s, nil
}

func decodeUser(it item, env string, key session.UserKey) (session.User, error) {
	u := session.User{Environment: env, Key: key}
	if it == nil {
		return u, nil
	}
	r := readItem(it)
	u.SignedOutAt = r.t("out")
	u.Disabled = r.b("dis")
	u.DisabledAt = r.t("da")
	u.LastCheckAt = r.t("chk")
	u.SessionsValidFrom = r.t("vf")
	u.NextCheckAt = r.t("nxt")
	u.CheckFailures = int(r.n("cf"))
	if r.err != nil {
		return session.User{}, fmt.Errorf("user item of %s in %s: %w", key.Subject, env, r.err)
	}
	return u, nil
}

func decodeOverride(it item) (session.Override, error) {
	if it == nil {
		return session.Override{}, nil
	}
	r := readItem(it)
	if _, ok := it["ovv"]; !ok {
		return session.Override{}, r.err
	}
	o := session.Override{Version: int(r.n("ovv")), Settings: r.settings("ovs")}
	o.AppliedAt = r.t("ova") // absent (zero) before changes carried when they were applied
	return o, r.err
}

func historySK(version int) string { return fmt.Sprintf("H#%010d", version) }

func decodeChange(it item) (policy.SettingsChange, error) {
	r := readItem(it)
	c := policy.SettingsChange{
		Environment:    r.s("env"),
		Version:        int(r.n("ver")),
		At:             r.t("at"),
		Actor:          r.s("by"),
		Old:            r.settings("old"),
		New:            r.settings("new"),
		ApplyToRunning: r.b("apply"),
		Preset:         r.s("preset"),
	}
	return c, r.err
}

// idpSessionPK is the partition of the sessions of one IdP session: a
// hash of issuer and sid, so the IdP's session id is not a key in clear.
func idpSessionPK(issuer, sid string) string {
	sum := sha256.Sum256([]byte(issuer + "\x00" + sid))
	return "L#" + hex.EncodeToString(sum[:])
}

// endedIdPSessionKey is the record that an IdP session ended in env: in
// the IdP session's partition, beside its links (whose sort keys are
// session hashes, which "X#" cannot be).
func endedIdPSessionKey(env, issuer, sid string) item {
	return key(idpSessionPK(issuer, sid), "X#"+env)
}

// idpSessionItem links a session to its IdP session, with the session's
// environment, subject and creation (so that the sign-in check of
// SessionOfIdPSessionBy reads only the links). It expires no earlier than
// the session can ever be allowed (session.Session.LinkExpiresAt): a
// session's own expiry moves with its activity (Touch), the link's
// cannot, so it is set from the absolute end, or not at all.
func idpSessionItem(s session.Session) item {
	it := key(idpSessionPK(s.User.Issuer, s.IdPSession), s.Hash.String())
	it["env"] = str(s.Environment)
	it["sub"] = str(s.User.Subject)
	it["cr"] = nanos(s.CreatedAt)
	expiry(it, s.LinkExpiresAt())
	return it
}
