// Package version is the release's one version number: the functions log
// it when they start, and a test holds every other place that names a
// version to it (the template's Serverless Application Repository
// metadata, the OpenAPI document, the browser client package, the
// changelog's newest entry).
package version

// Version is this release (semantic versioning).
const Version = "0.5.0"
