package config

// Directory configures the refresher's directory (DIRECTORY_*).
type Directory struct {
	Kind        string // none, graph, scim, http or cognito
	UserPoolID  string // cognito: the user pool
	URL         string // graph: the Graph base URL (default v1.0); scim/http: the base URL
	TokenURL    string // graph: the tenant's token endpoint
	ClientID    string // graph: the app's client id
	SecretRef   string // graph: the client secret; scim/http: a bearer token (optional). Secrets Manager id/ARN or ssm:<name>
	Concurrency int
	GuardShare  float64
	GuardMin    int
	// Changes: graph and scim runs read the directory's changes first
	// (users/delta; a meta.lastModified filter) (DIRECTORY_CHANGES).
	Changes bool
	// QueueURL is the refresh queue (REFRESH_QUEUE_URL): a due set above
	// FanOutAbove users is split into shards of ShardUsers for workers.
	QueueURL    string
	FanOutAbove int
	ShardUsers  int
}

// loadDirectory reads the refresher's directory, its fan-out and its
// mass-revocation guard.
func (c *Config) loadDirectory(r *reader) {
	d := &c.Directory
	d.Kind = r.str("DIRECTORY")
	d.URL, d.TokenURL, d.ClientID, d.SecretRef = r.str("DIRECTORY_URL"), r.str("DIRECTORY_TOKEN_URL"), r.str("DIRECTORY_CLIENT_ID"), r.str("DIRECTORY_SECRET")
	d.UserPoolID = r.str("DIRECTORY_USER_POOL_ID")
	if d.URL != "" {
		r.checkURL("DIRECTORY_URL", d.URL)
	}
	if d.TokenURL != "" {
		r.checkURL("DIRECTORY_TOKEN_URL", d.TokenURL)
	}
	switch d.Kind {
	case "none":
	case "graph":
		if d.TokenURL == "" || d.ClientID == "" || d.SecretRef == "" {
			r.bad("DIRECTORY=graph needs DIRECTORY_TOKEN_URL, DIRECTORY_CLIENT_ID and DIRECTORY_SECRET")
		}
	case "scim", "http":
		if d.URL == "" {
			r.bad("DIRECTORY=%s needs DIRECTORY_URL", d.Kind)
		}
	case "cognito":
		if d.UserPoolID == "" {
			r.bad("DIRECTORY=cognito needs DIRECTORY_USER_POOL_ID")
		} else if _, ok := c.UserPoolIssuer(); !ok {
			r.bad("DIRECTORY_USER_POOL_ID=%q: no TRUSTED_ISSUERS entry is that user pool's issuer", d.UserPoolID)
		}
	default:
		r.bad("DIRECTORY=%q: want none, graph, scim, http or cognito", d.Kind)
	}
	d.Changes = r.onOff("DIRECTORY_CHANGES") && (d.Kind == "graph" || d.Kind == "scim")
	d.QueueURL = r.str("REFRESH_QUEUE_URL")
	d.FanOutAbove = r.num("REFRESHER_FANOUT_ABOVE", 1, 10000000)
	d.ShardUsers = r.num("REFRESHER_SHARD_USERS", 10, 1500)
	d.Concurrency = r.num("DIRECTORY_CONCURRENCY", 1, 64)
	d.GuardShare = float64(r.num("MASS_REVOCATION_GUARD_PERCENT", 1, 100)) / 100
	d.GuardMin = r.num("MASS_REVOCATION_GUARD_MIN_USERS", 1, 100000)
}
