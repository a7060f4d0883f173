package environment

import (
	"strings"
	"testing"
)

func TestSources(t *testing.T) {
	tests := []struct {
		e         Config
		candidate string
		want      string
	}{
		{Config{Source: "fixed", Name: "demo", Known: []string{"demo"}}, "ignored", "demo"},
		{Config{Source: "stage", Name: "environment", Known: []string{"demo"}}, "demo", "demo"},
		{Config{Source: "header", Name: "X-Environment", Known: []string{"demo"}}, "demo", "demo"},
		{Config{Source: "host", Hosts: map[string]string{"api.contoso.com": "demo"}, Known: []string{"demo"}}, "API.contoso.com", "demo"},
		{Config{Source: "host", Hosts: map[string]string{"api.contoso.com": "demo"}, Known: []string{"demo"}}, "evil.com", ""},
		{Config{Source: "stage", Name: "environment", Known: []string{"demo"}}, "prod", ""},
	}
	for _, tt := range tests {
		if err := tt.e.Validate(); err != nil {
			t.Fatalf("Validate(%+v) = %v", tt.e, err)
		}
		got, err := tt.e.Resolve(tt.candidate)
		if got != tt.want || (err == nil) != (tt.want != "") {
			t.Errorf("Resolve(%q) with %s = %q, %v; want %q", tt.candidate, tt.e.Source, got, err, tt.want)
		}
	}
	if err := (Config{Source: "query", Known: []string{"Bad_Env"}}).Validate(); err == nil || !strings.Contains(err.Error(), "Bad_Env") || !strings.Contains(err.Error(), "query") {
		t.Fatalf("Validate of a bad config = %v; want both problems named", err)
	}
}
