// Package events embeds the sample events of this folder: the exact JSON
// API Gateway sends to each function, for `sam local invoke -e` and for the
// tests, which feed every file through the Lambda runtime's own handler.
//
// Events carry placeholders where a live value must go: __ACCESS_TOKEN__
// (an access token from a trusted issuer) and __SESSION_ID__ (a session id
// from sign-in). Replace them before `sam local invoke`; as they are, the
// authorizer denies the event.
package events

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"strings"
)

//go:embed */*.json
var files embed.FS

// Placeholders in the event files.
const (
	AccessToken = "__ACCESS_TOKEN__"
	SessionID   = "__SESSION_ID__"
)

// Names lists the event files of one function folder ("authorizer",
// "sessions"), as "folder/file.json".
func Names(folder string) ([]string, error) {
	entries, err := fs.ReadDir(files, folder)
	if err != nil {
		return nil, fmt.Errorf("events: list %s: %w", folder, err)
	}
	var out []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".json") {
			out = append(out, path.Join(folder, e.Name()))
		}
	}
	return out, nil
}

// Load returns an event file with each placeholder replaced by its value.
func Load(name string, values map[string]string) ([]byte, error) {
	b, err := files.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("events: read %s: %w", name, err)
	}
	s := string(b)
	for k, v := range values {
		s = strings.ReplaceAll(s, k, v)
	}
	return []byte(s), nil
}
