package lambdarun

// Answers holds, for each sample event (its path under events/), a
// regular expression the answer of its function must match when a
// Sandbox fills the event's placeholders: the tests that run the real
// binaries, under the emulator here and under `sam local`
// (infra/samlocal), check every event file against it.
var Answers = map[string]string{

	"authorizer/http-api-v1.json":                   `"Effect":"Allow"`,
	"authorizer/http-api-v2-cookie.json":            `"isAuthorized":true`,
	"authorizer/http-api-v2.json":                   `"isAuthorized":true`,
	"authorizer/rest-request.json":                  `"Effect":"Allow"`,
	"sessions/current.json":                         `"statusCode":200`,
	"sessions/list.json":                            `"statusCode":200.*\\"current\\":true`,
	"sessions/sign-in.json":                         `"statusCode":201`,
	"sessions/sign-out.json":                        `"statusCode":204`,
	"sessions/backchannel-logout.json":              `"statusCode":200`,
	"sessions/global-token-revocation.json":         `"statusCode":204`,
	"settings/environments.json":                    `"statusCode":200`,
	"settings/get-settings.json":                    `"statusCode":200`,
	"settings/history.json":                         `"statusCode":200`,
	"settings/put-preset.json":                      `"statusCode":200`,
	"settings/put-settings.json":                    `"statusCode":200`,
	"refresher/schedule.json":                       `"demo":\{"checked":1,"active":1`,
	"refreshworker/shard.json":                      `^\{"batchItemFailures":\[\]\}\s*$`,
	"signals/push.json":                             `"statusCode":202`,
	"auditor/schedule.json":                         `"environment":"demo".*"activeSessions":1`,
	"signalspoll/schedule.json":                     `^\{\}\s*$`,
	"cognitoevents/admin-disable-user.json":         `"applied":true,"revoked":1,"disabled":true`,
	"cognitoevents/admin-delete-user.json":          `"applied":true,"revoked":1,"disabled":true`,
	"cognitoevents/admin-user-global-sign-out.json": `"applied":true,"revoked":1,"disabled":false`,
	"cognitoevents/global-sign-out.json":            `"applied":true,"revoked":1,"disabled":false`,
	"cognitoevents/revoke-token.json":               `"applied":true,"revoked":1,"disabled":false`,
	"cognitoevents/admin-reset-user-password.json":  `"applied":true,"revoked":1,"disabled":false`,
	"cognitoevents/another-pool.json":               `"applied":false,"why":"another user pool","revoked":0`,
}
