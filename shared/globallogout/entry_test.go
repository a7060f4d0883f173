package globallogout

import (
	"reflect"
	"strings"
	"testing"

	"github.com/sessionguard/sessionguard/shared/token"
)

// Entries that share a signer are one issuer of the verifier, with every
// audience and algorithm of theirs; their key sets must agree.
func TestSigners(t *testing.T) {
	got, err := Signers([]Entry{
		{Issuer: "https://org.example/a", Signer: "https://org.example", Audience: "https://x.example/global-token-revocation"},
		{Issuer: "https://org.example/b", Signer: "https://org.example", Audience: "https://y.example/global-token-revocation", Algorithms: []string{"ES256"}},
		{Issuer: "https://idp.example/", Signer: "https://idp.example/", SignerKeys: "https://idp.example/keys", Audience: "https://x.example/global-token-revocation"},
	})
	want := []token.Issuer{
		{Issuer: "https://org.example", Audiences: []string{"https://x.example/global-token-revocation", "https://y.example/global-token-revocation"}, Algorithms: []string{"RS256", "ES256"}},
		{Issuer: "https://idp.example/", JWKSURL: "https://idp.example/keys", Audiences: []string{"https://x.example/global-token-revocation"}, Algorithms: []string{"RS256"}},
	}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("Signers = %+v, %v; want %+v", got, err, want)
	}
	_, err = Signers([]Entry{
		{Issuer: "https://org.example/a", Signer: "https://org.example", SignerKeys: "https://org.example/k1", Audience: "https://x.example/global-token-revocation"},
		{Issuer: "https://org.example/b", Signer: "https://org.example", Audience: "https://x.example/global-token-revocation"},
	})
	if err == nil || !strings.Contains(err.Error(), "https://org.example/b") {
		t.Errorf("Signers with two key sets for one signer = %v; want an error naming the entry", err)
	}
}

func TestCheckAudience(t *testing.T) {
	for u, ok := range map[string]bool{
		"https://api.example/global-token-revocation":      true,
		"https://api.example/auth/global-token-revocation": true,
		"http://127.0.0.1:8080/global-token-revocation":    true,
		"http://api.example/global-token-revocation":       false,
		"https://api.example/":                             false,
		"https://api.example/global-token-revocation?x=1":  false,
		"https://api.example/global-token-revocation?":     false,
		"https://api.example/global-token-revocation#f":    false,
		"https://u:p@api.example/global-token-revocation":  false,
		"/global-token-revocation":                         false,
		"":                                                 false,
	} {
		if err := CheckAudience(u); (err == nil) != ok {
			t.Errorf("CheckAudience(%q) = %v; want ok %v", u, err, ok)
		}
	}
}
