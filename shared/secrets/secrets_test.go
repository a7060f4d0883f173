package secrets

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestGet(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Aws-Parameters-Secrets-Token") != "session-token" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		switch r.URL.Path {
		case "/secretsmanager/get":
			if r.URL.Query().Get("secretId") == "arn:aws:secretsmanager:eu-west-1:1:secret:graph" {
				w.Write([]byte(`{"Name":"graph","SecretString":"s3cret"}`))
				return
			}
		case "/systemsmanager/parameters/get":
			if r.URL.Query().Get("name") == "/sg/graph" && r.URL.Query().Get("withDecryption") == "true" {
				w.Write([]byte(`{"Parameter":{"Name":"/sg/graph","Value":"p4ram"}}`))
				return
			}
		}
		w.WriteHeader(http.StatusNotFound)
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	t.Setenv("PARAMETERS_SECRETS_EXTENSION_HTTP_PORT", port)
	t.Setenv("AWS_SESSION_TOKEN", "session-token")
	for ref, want := range map[string]string{"arn:aws:secretsmanager:eu-west-1:1:secret:graph": "s3cret", "ssm:/sg/graph": "p4ram"} {
		if got, err := Get(context.Background(), ref); err != nil || got != want {
			t.Errorf("Get(%s) = %q, %v; want %q", ref, got, err, want)
		}
	}
	if _, err := Get(context.Background(), "missing"); err == nil {
		t.Error("Get(missing) succeeded")
	}
}
