package config

import (
	"reflect"
	"strings"
	"testing"

	"github.com/sessionguard/sessionguard/shared/globallogout"
)

// universalLogout in a TRUSTED_ISSUERS entry: read into one entry per
// issuer (the signer, its key set, the user claims by profile), and each
// refusal at start names the variable, the entry and the field.
func TestLoadUniversalLogout(t *testing.T) {
	const url = "https://api.example/global-token-revocation"
	for _, c := range []struct {
		name, trusted, transmitters string
		want                        []globallogout.Entry // nil: Load fails
		errWants                    []string
	}{
		{name: "the entry's issuer signs, its key set by discovery",
			trusted: `[{"issuer":"https://idp.example/","audiences":["api://app"],"universalLogout":{"audience":"` + url + `"}}]`,
			want: []globallogout.Entry{{Issuer: "https://idp.example/", Signer: "https://idp.example/", Audience: url,
				Profile: "oidc", UserClaim: "sub"}}},
		{name: "Okta: the org server signs for a custom server's entry",
			trusted: `[{"issuer":"https://org.okta.com/oauth2/default","profile":"okta","audiences":["api://default"],"algorithms":["RS256"],
				"universalLogout":{"audience":"` + url + `","issuer":"https://org.okta.com","callers":["0oa1"]}}]`,
			want: []globallogout.Entry{{Issuer: "https://org.okta.com/oauth2/default", Signer: "https://org.okta.com", Audience: url, Callers: []string{"0oa1"},
				Algorithms: []string{"RS256"}, Profile: "okta", UserClaim: "uid"}}},
		{name: "the entry's jwksUrl is the signer's",
			trusted: `[{"issuer":"https://idp.example/","jwksUrl":"https://idp.example/keys","audiences":["a"],"universalLogout":{"audience":"` + url + `"}}]`,
			want: []globallogout.Entry{{Issuer: "https://idp.example/", Signer: "https://idp.example/", SignerKeys: "https://idp.example/keys",
				Audience: url, Profile: "oidc", UserClaim: "sub"}}},
		{name: "entra keys users by tenant and object id",
			trusted: `[{"issuer":"https://login.microsoftonline.com/t1/v2.0","profile":"entra","audiences":["api://app"],"universalLogout":{"audience":"` + url + `"}}]`,
			want: []globallogout.Entry{{Issuer: "https://login.microsoftonline.com/t1/v2.0", Signer: "https://login.microsoftonline.com/t1/v2.0",
				Audience: url, Profile: "entra", UserClaim: "oid", TenantClaim: "tid"}}},
		{name: "loopback http, as the local stack",
			trusted: `[{"issuer":"https://idp.example/","audiences":["a"],"universalLogout":{"audience":"http://127.0.0.1:8080/global-token-revocation"}}]`,
			want: []globallogout.Entry{{Issuer: "https://idp.example/", Signer: "https://idp.example/", Audience: "http://127.0.0.1:8080/global-token-revocation",
				Profile: "oidc", UserClaim: "sub"}}},
		{name: "no audience", trusted: `[{"issuer":"https://idp.example/","audiences":["a"],"universalLogout":{}}]`,
			errWants: []string{"TRUSTED_ISSUERS", "https://idp.example/", "universalLogout: audience"}},
		{name: "plain http audience", trusted: `[{"issuer":"https://idp.example/","audiences":["a"],"universalLogout":{"audience":"http://api.example/global-token-revocation"}}]`,
			errWants: []string{"universalLogout: audience", "not https"}},
		{name: "another path", trusted: `[{"issuer":"https://idp.example/","audiences":["a"],"universalLogout":{"audience":"https://api.example/"}}]`,
			errWants: []string{"universalLogout: audience", "/global-token-revocation"}},
		{name: "a query", trusted: `[{"issuer":"https://idp.example/","audiences":["a"],"universalLogout":{"audience":"` + url + `?x=1"}}]`,
			errWants: []string{"universalLogout: audience", "query"}},
		{name: "the audience of access tokens", trusted: `[{"issuer":"https://idp.example/","audiences":["` + url + `"],"universalLogout":{"audience":"` + url + `"}}]`,
			errWants: []string{"universalLogout", "also an audience or client id"}},
		{name: "another issuer's client id", trusted: `[{"issuer":"https://idp.example/","audiences":["a"],"universalLogout":{"audience":"` + url + `"}},
			{"issuer":"https://p.example/","audiences":["b"],"clientIds":["` + url + `"]}]`,
			errWants: []string{"also an audience or client id", "https://p.example/"}},
		{name: "a multi-tenant entry", trusted: `[{"issuer":"https://login.microsoftonline.com/{tenantid}/v2.0","profile":"entra","audiences":["a"],"tenants":["t1"],"universalLogout":{"audience":"` + url + `"}}]`,
			errWants: []string{"multi-tenant"}},
		{name: "a signer over plain http", trusted: `[{"issuer":"https://idp.example/","audiences":["a"],"universalLogout":{"audience":"` + url + `","issuer":"http://org.example"}}]`,
			errWants: []string{"universalLogout: issuer", "not https"}},
		{name: "a signer's key set over plain http", trusted: `[{"issuer":"https://idp.example/","audiences":["a"],"universalLogout":{"audience":"` + url + `","jwksUrl":"http://idp.example/keys"}}]`,
			errWants: []string{"universalLogout: jwksUrl", "not https"}},
		{name: "empty callers", trusted: `[{"issuer":"https://idp.example/","audiences":["a"],"universalLogout":{"audience":"` + url + `","callers":[]}}]`,
			errWants: []string{"universalLogout: callers"}},
		{name: "an unknown field", trusted: `[{"issuer":"https://idp.example/","audiences":["a"],"universalLogout":{"audience":"` + url + `","enabled":true}}]`,
			errWants: []string{"TRUSTED_ISSUERS", "enabled"}},
		{name: "two entries, one signer, two key sets", trusted: `[
			{"issuer":"https://org.example/a","audiences":["a"],"universalLogout":{"audience":"` + url + `","issuer":"https://org.example","jwksUrl":"https://org.example/k1"}},
			{"issuer":"https://org.example/b","audiences":["a"],"universalLogout":{"audience":"` + url + `","issuer":"https://org.example"}}]`,
			errWants: []string{"universalLogout", "https://org.example/b", "same jwksUrl"}},
		{name: "on a transmitter", transmitters: `[{"issuer":"https://tx.example/","audiences":["r"],"universalLogout":{"audience":"` + url + `"}}]`,
			errWants: []string{"SIGNALS_TRANSMITTERS: universalLogout is for TRUSTED_ISSUERS entries"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var kv []string
			if c.trusted != "" {
				kv = append(kv, "TRUSTED_ISSUERS", c.trusted)
			}
			if c.transmitters != "" {
				kv = append(kv, "SIGNALS_TRANSMITTERS", c.transmitters)
			}
			cfg, err := load(kv...)
			if c.want == nil {
				for _, w := range c.errWants {
					if err == nil || !strings.Contains(err.Error(), w) {
						t.Errorf("Load = %v; want an error naming %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(cfg.UniversalLogout, c.want) {
				t.Errorf("UniversalLogout = %+v; want %+v", cfg.UniversalLogout, c.want)
			}
		})
	}
	// Without universalLogout, none.
	if cfg, err := load(); err != nil || cfg.UniversalLogout != nil {
		t.Errorf("Load without universalLogout = %+v, %v; want none", cfg.UniversalLogout, err)
	}
}
