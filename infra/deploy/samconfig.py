"""Reads samconfig.toml.example's parameter_overrides as the SAM CLI does
and prints them, per section, as JSON: {"section": {"Name": "value"}}.

usage: python3 samconfig.py samconfig.toml.example
"""
import json
import sys
import tomllib

from samcli.cli.types import CfnParameterOverridesType

with open(sys.argv[1], "rb") as f:
    doc = tomllib.load(f)
out = {}
for env, commands in doc.items():
    if not isinstance(commands, dict):
        continue
    for command, sections in commands.items():
        params = sections.get("parameters", {})
        if "parameter_overrides" in params:
            out["%s.%s" % (env, command)] = CfnParameterOverridesType().convert(params["parameter_overrides"], None, None)
print(json.dumps(out))
