#!/usr/bin/python3
"""docs/audit-policy.schema.json is a JSON Schema (draft 2020-12) that the documented example
(docs/audit-policy.example.yaml, which the unit tests read with socksnap's own parser) passes, and
that refuses what socksnap's parser refuses. Prints "N passed, N failed"."""
import json
import os
import sys

import jsonschema
import yaml

DOCS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs")
schema = json.load(open(os.path.join(DOCS, "audit-policy.schema.json")))
validator = jsonschema.Draft202012Validator(schema)
passed = failed = 0


def check(name, ok):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAILED:", name)


jsonschema.Draft202012Validator.check_schema(schema)
check("the schema is a draft 2020-12 schema", True)
example = yaml.safe_load(open(os.path.join(DOCS, "audit-policy.example.yaml")))
errors = list(validator.iter_errors(example))
check("the example is valid: " + "; ".join(e.message for e in errors), not errors)
for text in ["", "listeners:\nconnections:\n", "listeners: [{}]\n", "connections: [{from: {}}]\n",
             "listeners: [{protocol: udplite, port: 1}]\n"]:
    check(f"valid: {text!r}", validator.is_valid(yaml.safe_load(text)))
for text in ["listener: []\n",                               # an unknown key
             "listeners: [{port: 70000}]\n",                 # out of range
             "listeners: [{port: '80'}]\n",                  # a string
             "listeners: [{prot: TCP}]\n",
             "connections: [{protocol: ICMP}]\n",
             "connections: [{from: web}]\n",                 # not a mapping
             "connections: [{to: {cidr: 'a b'}}]\n",
             "connections: [{via: x}]\n",
             "- port: 80\n"]:
    check(f"invalid: {text!r}", not validator.is_valid(yaml.safe_load(text)))
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
