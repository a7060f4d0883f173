// Package deploy holds the deployment checks: template.yaml must pass
// cfn-lint, and what AWS SAM's own translator makes of it must have the
// runtimes, authorizer, schedules, table settings and least-privilege
// permissions the product needs (template_test.go; translate.py does the
// translation).
package deploy
