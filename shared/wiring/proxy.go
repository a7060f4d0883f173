package wiring

import (
	"net/http"

	"github.com/sessionguard/sessionguard/shared/edge"
)

// Proxy is an HTTP function as Lambda runs it: HTTP API (payload 2.0)
// events checked by the edge (shared/edge), then handed to h through
// aws-lambda-go-api-proxy. Every function that serves HTTP goes through
// it, in Lambda and in the local stack.
func Proxy(d Deps, h http.Handler) *edge.V2 {
	return edge.NewV2(h, Edge(d))
}

// Edge is the edge's configuration: the identity sources it holds to one
// value, and the log of its refusals.
func Edge(d Deps) edge.Config {
	c := edge.Config{Sources: d.Config.Sources, Log: d.Log}
	if e := d.Config.Environments; e.Source == "header" {
		c.EnvironmentHeader = e.Name
	}
	return c
}
