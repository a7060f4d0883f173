package deploy

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"gopkg.in/yaml.v3"

	"github.com/sessionguard/sessionguard/infra/dynamotest"
	"github.com/sessionguard/sessionguard/infra/lambdarun"
	"github.com/sessionguard/sessionguard/infra/needs"
)

// The nested example copied into an app's own repository, outside this
// one, with the default of SessionGuardTemplate changed to where
// sessionguard's template is, as docs/protecting-your-api.md says: an
// absolute path, a relative one, or the URL of a packaged template. Each
// copy passes sam validate --lint, sam build --build-in-source and sam
// package into a bucket (S3 served by moto): a path builds and uploads
// sessionguard's functions and nested template; a URL builds only the app
// and leaves the URL to CloudFormation.
func TestNestedExampleOutsideTheRepository(t *testing.T) {
	needs.Parts(t, needs.SAMCLI, needs.Moto)
	root, _ := filepath.Abs(filepath.Join("..", ".."))
	s3, err := dynamotest.Start() // moto's server speaks S3 as well
	if err != nil {
		t.Fatal(err)
	}
	defer s3.Stop()
	const bucket = "app-artifacts"
	req, _ := http.NewRequest(http.MethodPut, s3.Endpoint+"/"+bucket, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("create the bucket: %v %v", resp, err)
	}
	resp.Body.Close()

	for _, c := range []struct {
		name     string
		location func(dir string) string // the default of SessionGuardTemplate in the copy
		want     int                     // bootstraps
		// the nested stack's TemplateURL in the built and in the packaged template
		wantBuilt, wantPackaged func(t *testing.T, got string) bool
	}{{
		name:         "absolute-path",
		location:     func(string) string { return filepath.Join(root, "template.yaml") },
		want:         len(lambdarun.Functions) + 1,
		wantBuilt:    equals(filepath.Join("SessionGuard", "template.yaml")),
		wantPackaged: uploadedTo(s3.Endpoint, bucket),
	}, {
		name: "relative-path",
		location: func(dir string) string {
			rel, err := filepath.Rel(dir, filepath.Join(root, "template.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			return rel
		},
		want:         len(lambdarun.Functions) + 1,
		wantBuilt:    equals(filepath.Join("SessionGuard", "template.yaml")),
		wantPackaged: uploadedTo(s3.Endpoint, bucket),
	}, {
		name:         "packaged-template-url",
		location:     func(string) string { return packagedTemplateURL },
		want:         1,
		wantBuilt:    equals("Ref SessionGuardTemplate"),
		wantPackaged: equals("Ref SessionGuardTemplate"),
	}} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			if rel, err := filepath.Rel(root, dir); err == nil && !strings.HasPrefix(rel, "..") {
				t.Fatalf("%s is inside the repository", dir)
			}
			copyNestedExample(t, root, dir, c.location(dir))
			sam := func(args ...string) {
				t.Helper()
				cmd := exec.Command("sam", args...)
				cmd.Dir = dir
				cmd.Env = append(os.Environ(), "SAM_CLI_TELEMETRY=0", "AWS_ENDPOINT_URL="+s3.Endpoint,
					"AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing", "AWS_REGION=us-east-1", "AWS_DEFAULT_REGION=us-east-1")
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("sam %s: %v\n%s", strings.Join(args, " "), err, out)
				}
			}
			sam("validate", "--lint")
			sam("build", "--build-in-source")
			built := filepath.Join(dir, ".aws-sam", "build")
			if got := builtNestedLocation(t, filepath.Join(built, "template.yaml")); !c.wantBuilt(t, got) {
				t.Errorf("the built template's nested stack is at %q", got)
			}
			var boots int
			filepath.WalkDir(built, func(_ string, d fs.DirEntry, err error) error {
				if err == nil && d.Name() == "bootstrap" {
					boots++
				}
				return err
			})
			if boots != c.want {
				t.Errorf("%d bootstraps; want %d", boots, c.want)
			}
			sam("package", "--s3-bucket", bucket, "--output-template-file", "packaged.yaml")
			if got := builtNestedLocation(t, filepath.Join(dir, "packaged.yaml")); !c.wantPackaged(t, got) {
				t.Errorf("the packaged template's nested stack is at %q", got)
			}
		})
	}
}

// A packaged template's URL, as a copy of the nested example names it; the
// bucket is a placeholder no one owns (the SAM CLI fetches nothing from it).
const packagedTemplateURL = "https://amzn-s3-demo-bucket.s3.us-east-1.amazonaws.com/sessionguard-0.5.0.yaml"

func equals(want string) func(*testing.T, string) bool {
	return func(t *testing.T, got string) bool {
		if got != want {
			t.Logf("want %q", want)
		}
		return got == want
	}
}

// uploadedTo: the nested template is an object of the bucket, not a path,
// and its functions' code is in the bucket too.
func uploadedTo(endpoint, bucket string) func(*testing.T, string) bool {
	return func(t *testing.T, got string) bool {
		if !strings.HasPrefix(got, endpoint+"/"+bucket+"/") {
			t.Logf("want an object of the bucket %s", bucket)
			return false
		}
		resp, err := signedGet(got)
		if err != nil {
			t.Logf("fetch the nested template: %v", err)
			return false
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "AuthorizerFunctionArn") ||
			strings.Count(string(body), "s3://"+bucket+"/") < len(lambdarun.Functions) {
			t.Logf("the uploaded nested template (%d) is not sessionguard's, packaged into %s:\n%.400s", resp.StatusCode, bucket, body)
			return false
		}
		return true
	}
}

// copyNestedExample writes the nested example's template into dir as an
// app's repository would hold it: SessionGuardTemplate's default names
// location, and the app function's code is the app's own (here
// examples/app's module, by absolute path).
func copyNestedExample(t *testing.T, root, dir, location string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(root, "examples", "nested", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(raw)
	for _, r := range []struct{ old, new string }{
		{"    Default: ../../template.yaml\n", "    Default: " + location + "\n"},
		{"      CodeUri: ../..\n", "      CodeUri: " + root + "\n"},
	} {
		if strings.Count(s, r.old) != 1 {
			t.Fatalf("the nested example has no single %q any more; update the copy", strings.TrimSpace(r.old))
		}
		s = strings.Replace(s, r.old, r.new, 1)
	}
	if err := os.WriteFile(filepath.Join(dir, "template.yaml"), []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// builtNestedLocation reads the TemplateURL of the nested stack
// SessionGuard in a built or packaged template: a string, or "Ref <name>".
func builtNestedLocation(t *testing.T, path string) string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Resources map[string]struct {
			Type       string         `yaml:"Type"`
			Properties map[string]any `yaml:"Properties"`
		} `yaml:"Resources"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	r := doc.Resources["SessionGuard"]
	if r.Type != "AWS::CloudFormation::Stack" {
		t.Fatalf("SessionGuard is %q in %s; want a nested stack", r.Type, path)
	}
	switch u := r.Properties["TemplateURL"].(type) {
	case string:
		return u
	case map[string]any:
		if ref, ok := u["Ref"].(string); ok {
			return "Ref " + ref
		}
	}
	return fmt.Sprint(r.Properties["TemplateURL"])
}

// signedGet reads an object of the tests' S3 (moto) with the tests' keys.
func signedGet(url string) (*http.Response, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	const emptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	req.Header.Set("X-Amz-Content-Sha256", emptyHash)
	creds := aws.Credentials{AccessKeyID: "testing", SecretAccessKey: "testing"}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, emptyHash, "s3", "us-east-1", time.Now()); err != nil {
		return nil, err
	}
	return http.DefaultClient.Do(req)
}
