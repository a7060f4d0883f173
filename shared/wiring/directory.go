package wiring

import (
	"context"
	"errors"
	"net/url"
	"strings"

	"github.com/sessionguard/sessionguard/shared/config"
	"github.com/sessionguard/sessionguard/shared/directory"
	"github.com/sessionguard/sessionguard/shared/refresher"
	"github.com/sessionguard/sessionguard/shared/session"
	"github.com/sessionguard/sessionguard/shared/token"
)

// Directory builds the configured directory adapter; resolve reads its
// secret (in Lambda: secrets.Get, through the Parameters and Secrets
// extension). A Cognito directory finds usernames in usernames (the
// store).
func Directory(ctx context.Context, d Deps, usernames directory.Usernames, resolve func(ctx context.Context, ref string) (string, error)) (refresher.Directory, error) {
	c := d.Config.Directory
	secret := ""
	if c.SecretRef != "" {
		var err error
		if secret, err = resolve(ctx, c.SecretRef); err != nil {
			return nil, err
		}
	}
	switch c.Kind {
	case "graph":
		return &directory.Graph{TokenURL: c.TokenURL, GraphURL: c.URL, ClientID: c.ClientID, ClientSecret: secret}, nil
	case "scim":
		return &directory.SCIM{BaseURL: c.URL, Token: secret}, nil
	case "http":
		return &directory.HTTPJSON{BaseURL: c.URL, Token: secret}, nil
	case "cognito":
		client, err := directory.NewCognitoClient(ctx)
		if err != nil {
			return nil, err
		}
		iss, _ := d.Config.UserPoolIssuer()
		return &directory.Cognito{Client: client, UserPoolID: c.UserPoolID, Issuer: iss, Usernames: usernames}, nil
	}
	return nil, errors.New("config: DIRECTORY is none: the refresher has no directory to check users against")
}

// directoryKeys maps a directory id (Graph's object id) to the keys its
// user may have in the store: under each trusted issuer, the id, or
// "tenant/id" for an issuer with a tenant claim (Entra's tid), the tenant
// being the one in DIRECTORY_TOKEN_URL.
func directoryKeys(c config.Config) func(id string) []session.UserKey {
	tenant := ""
	if u, err := url.Parse(c.Directory.TokenURL); err == nil {
		tenant, _, _ = strings.Cut(strings.TrimPrefix(u.Path, "/"), "/")
	}
	return func(id string) []session.UserKey {
		out := make([]session.UserKey, 0, len(c.Token.Issuers))
		for _, is := range c.Token.Issuers {
			sub := id
			if tc := is.TenantClaim; tc != "" || profileTenantClaim(is.Profile) != "" {
				sub = tenant + "/" + id
			}
			out = append(out, session.UserKey{Issuer: is.Issuer, Subject: sub})
		}
		return out
	}
}

// profileTenantClaim is the tenant claim of the named profile, or "".
func profileTenantClaim(name string) string {
	p, _ := token.ProfileNamed(name)
	return p.TenantClaim
}
