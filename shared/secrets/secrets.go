// Package secrets reads a secret through the AWS Parameters and Secrets
// Lambda Extension (a layer that serves Secrets Manager and SSM Parameter
// Store on localhost, with caching), so that secrets never sit in plain
// environment variables or template parameters.
package secrets

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// Get returns the secret named by ref: "ssm:<parameter name>" for an SSM
// SecureString, anything else a Secrets Manager secret id or ARN (its
// SecretString).
func Get(ctx context.Context, ref string) (string, error) {
	port := os.Getenv("PARAMETERS_SECRETS_EXTENSION_HTTP_PORT")
	if port == "" {
		port = "2773"
	}
	base := "http://localhost:" + port
	var u string
	if name, ok := strings.CutPrefix(ref, "ssm:"); ok {
		u = base + "/systemsmanager/parameters/get?withDecryption=true&name=" + url.QueryEscape(name)
	} else {
		u = base + "/secretsmanager/get?secretId=" + url.QueryEscape(ref)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("X-Aws-Parameters-Secrets-Token", os.Getenv("AWS_SESSION_TOKEN"))
	resp, err := (&http.Client{Timeout: 3 * time.Second}).Do(req)
	if err != nil {
		return "", fmt.Errorf("secrets: read %s (is the Parameters and Secrets extension layer attached?): %w", ref, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil || resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("secrets: read %s: status %d %v", ref, resp.StatusCode, err)
	}
	var doc struct {
		SecretString string
		Parameter    struct{ Value string }
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return "", fmt.Errorf("secrets: read %s: %w", ref, err)
	}
	v := doc.SecretString
	if strings.HasPrefix(ref, "ssm:") {
		v = doc.Parameter.Value
	}
	if v == "" {
		return "", fmt.Errorf("secrets: %s is empty", ref)
	}
	return v, nil
}
