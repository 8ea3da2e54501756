#!/usr/bin/env python3
"""Validates a STIX 2.1 bundle against the official JSON schemas.

Usage: stix_validate.py SCHEMA_DIR BUNDLE.json
SCHEMA_DIR is the schemas/ folder of the OASIS cti-stix2-json-schemas
(common/, sdos/, sros/, observables/). The bundle is checked against
common/bundle.json and each object against the schema of its type. Prints
one line per problem and exits 1, or prints a summary and exits 0.
"""
import json
import pathlib
import sys

from jsonschema import Draft202012Validator

try:
    from referencing import Registry, Resource
except ImportError:  # jsonschema < 4.18
    Registry = None


def main():
    root = pathlib.Path(sys.argv[1]).resolve()
    bundle = json.loads(pathlib.Path(sys.argv[2]).read_text())
    schemas = {}
    for path in root.rglob("*.json"):
        schemas[path] = json.loads(path.read_text())

    registry = None
    if Registry is not None:
        # Every schema under both its $id and its file URI, so that the
        # relative $refs ("../common/core.json") resolve either way.
        resources = []
        for p, s in schemas.items():
            res = Resource.from_contents(s)
            resources.append((p.as_uri(), res))
            if "$id" in s:
                resources.append((s["$id"], res))
        registry = Registry().with_resources(resources)
    cache = {}

    def validator(path):
        if path in cache:
            return cache[path]
        schema = schemas[path]
        if registry is not None:
            v = Draft202012Validator(schema, registry=registry)
        else:
            from jsonschema import RefResolver

            store = {p.as_uri(): s for p, s in schemas.items()}
            store.update({s["$id"]: s for s in schemas.values() if "$id" in s})
            v = Draft202012Validator(
                schema, resolver=RefResolver(path.as_uri(), schema, store=store))
        cache[path] = v
        return v

    problems = []
    for e in validator(root / "common" / "bundle.json").iter_errors(bundle):
        problems.append(f"bundle: {e.message}")
    counts = {}
    for obj in bundle.get("objects", []):
        kind = obj.get("type", "?")
        counts[kind] = counts.get(kind, 0) + 1
        path = None
        for folder in ("sdos", "sros", "observables", "common"):
            p = root / folder / f"{kind}.json"
            if p.exists():
                path = p
                break
        if path is None:
            problems.append(f"{obj.get('id')}: no schema for type {kind}")
            continue
        for e in validator(path).iter_errors(obj):
            problems.append(f"{obj.get('id')}: {e.message}")
    for p in problems:
        print(p)
    if problems:
        return 1
    print("valid STIX 2.1: " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
