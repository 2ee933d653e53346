#!/usr/bin/python3
"""Validates a JSON document against a JSON Schema: validate_json.py SCHEMA DOCUMENT.

Exit 0 when it is valid; 1 with every error (its path in the document and the message) when it
is not; 2 when either file cannot be read. Uses Debian's python3-jsonschema, with the validator
the schema's own "$schema" names (SARIF 2.1.0's is draft-04).
"""
import json
import sys

import jsonschema


def main():
    if len(sys.argv) != 3:
        print("usage: validate_json.py SCHEMA DOCUMENT", file=sys.stderr)
        return 2
    try:
        with open(sys.argv[1], encoding="utf-8") as f:
            schema = json.load(f)
        with open(sys.argv[2], encoding="utf-8") as f:
            document = json.load(f)
    except (OSError, ValueError) as e:
        print(f"validate_json.py: {e}", file=sys.stderr)
        return 2
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    errors = sorted(validator_class(schema).iter_errors(document), key=lambda e: list(e.path))
    for error in errors:
        path = "/".join(str(p) for p in error.absolute_path)
        print(f"{sys.argv[2]}: /{path}: {error.message}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
