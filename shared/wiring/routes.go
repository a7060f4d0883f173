package wiring

import (
	"github.com/sessionguard/sessionguard/shared/adminapi"
	"github.com/sessionguard/sessionguard/shared/backchannel"
	"github.com/sessionguard/sessionguard/shared/route"
	"github.com/sessionguard/sessionguard/shared/sessionapi"
	"github.com/sessionguard/sessionguard/shared/signals"
)

// Routes are the HTTP routes each function serves, by function name (the
// folder under functions/): the one table that the template's events,
// the OpenAPI document and the local gateway are held to.
func Routes() map[string][]route.Route {
	return map[string][]route.Route{
		"sessions": append(sessionapi.Routes(), backchannel.Route),
		"settings": adminapi.Routes(),
		"signals":  {signals.Route},
	}
}
