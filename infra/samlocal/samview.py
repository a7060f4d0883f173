"""Each function of a template as the SAM CLI's local commands see it.

Prints a JSON object: for each function's logical id, the layers the SAM
CLI would put in its container and the environment variables the template
gives it, after the SAM CLI's own resolution of parameters and intrinsic
functions (what it cannot resolve stays as it is, or becomes the name it
refers to).

usage: python3 samview.py TEMPLATE [Name=Value ...]   (parameter overrides)
"""
import json
import sys

from samcli.lib.providers.sam_function_provider import SamFunctionProvider
from samcli.lib.providers.sam_stack_provider import SamLocalStackProvider


def main():
    overrides = dict(arg.split("=", 1) for arg in sys.argv[2:])
    stacks, _ = SamLocalStackProvider.get_stacks(sys.argv[1], parameter_overrides=overrides)
    view = {}
    for fn in SamFunctionProvider(stacks, ignore_code_extraction_warnings=True).get_all():
        env = (fn.environment or {}).get("Variables") or {}
        view[fn.name] = {"layers": [layer.arn for layer in fn.layers], "environment": env}
    json.dump(view, sys.stdout, default=str)


if __name__ == "__main__":
    main()
