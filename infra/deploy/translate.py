"""Translates template.yaml with AWS SAM's own translator (samtranslator) and
prints the CloudFormation it would deploy, as JSON, for the template tests.

usage: python3 translate.py template.yaml
"""
import json
import os
import sys

from cfnlint.decode import decode
from samtranslator.translator.transform import transform


class NoManagedPolicies:
    """The template names no managed policies by name; nothing to look up."""

    def load(self):
        return {}


# The translator needs a region for the ARNs it builds; any will do.
os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-1")
template, errors = decode(sys.argv[1])
if errors:
    sys.exit("cannot read %s: %s" % (sys.argv[1], errors))
# What `sam package` does first: local code becomes an S3 object.
for name, res in template.get("Resources", {}).items():
    props = res.get("Properties", {})
    if res.get("Type") == "AWS::Serverless::Function" and not str(props.get("CodeUri", "")).startswith("s3://"):
        props["CodeUri"] = "s3://sessionguard-artifacts/%s.zip" % name
    # ...and a nested application's local template, a packaged one.
    if res.get("Type") == "AWS::Serverless::Application" and isinstance(props.get("Location"), str):
        props["Location"] = "https://sessionguard-artifacts.s3.amazonaws.com/%s.template" % name
print(json.dumps(transform(template, {}, NoManagedPolicies()), default=str))
