// Package environment holds the environments a deployment serves and
// where a request names its own: a stage variable, a header, the host, or
// one fixed environment. The authorizer, the sessions API and the
// configuration share it.
package environment

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// ID is the shape of an environment id: 2 to 63 characters of a-z, 0-9
// and "-".
var ID = regexp.MustCompile(`^[a-z0-9-]{2,63}$`)

// Config resolves the environment of a request.
type Config struct {
	// Source is where the environment comes from: "fixed", "stage"
	// (a stage variable), "header" or "host".
	Source string
	// Name is the environment for "fixed", the stage variable for "stage",
	// the header for "header".
	Name string
	// Hosts maps host names to environments for "host".
	Hosts map[string]string
	// Known lists the environments of the deployment. A request for any
	// other is denied environment_unknown.
	Known []string
}

// Resolve turns the value read from the configured source into a known
// environment id.
func (e Config) Resolve(candidate string) (string, error) {
	env := candidate
	switch e.Source {
	case "fixed":
		env = e.Name
	case "host":
		env = e.Hosts[strings.ToLower(candidate)]
	}
	if env == "" {
		return "", fmt.Errorf("no environment from source %q", e.Source)
	}
	return e.Named(env)
}

// Named checks an environment id that a request names itself (the
// sessions API's environment query parameter): it must be one of Known.
// The configured source plays no part.
func (e Config) Named(id string) (string, error) {
	for _, k := range e.Known {
		if k == id {
			return id, nil
		}
	}
	return "", fmt.Errorf("environment %.70q is not one of this deployment's", id)
}

// Of is the environment of a request: the id it names itself when named
// (Named), else the value read from the configured source (Resolve).
func (e Config) Of(candidate string, named bool) (string, error) {
	if named {
		return e.Named(candidate)
	}
	return e.Resolve(candidate)
}

// Validate checks the configuration.
func (e Config) Validate() error {
	var problems []string
	switch e.Source {
	case "fixed", "stage", "header":
		if e.Name == "" {
			problems = append(problems, fmt.Sprintf("environment source %q needs a name", e.Source))
		}
	case "host":
		if len(e.Hosts) == 0 {
			problems = append(problems, `environment source "host" needs a host map`)
		}
	default:
		problems = append(problems, fmt.Sprintf("environment source %q is not fixed, stage, header or host", e.Source))
	}
	if len(e.Known) == 0 {
		problems = append(problems, "no environments listed")
	}
	for _, k := range e.Known {
		if !ID.MatchString(k) {
			problems = append(problems, fmt.Sprintf("environment id %q is not 2-63 of a-z, 0-9, -", k))
		}
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}
