"""Regenerate ``github.graphql``, the emulator's extract of GitHub's published GraphQL schema.

One command, from the repository root (it runs ``npm pack``, so it needs npm and the registry)::

    python -m pytest_ghseed.emulator.graphql.extract            # the version pinned in subset.py
    python -m pytest_ghseed.emulator.graphql.extract --tarball octokit-graphql-schema-15.26.1.tgz

It reads ``schema.json`` (GitHub's introspection result, which is what GitHub serves; the package's
``schema.graphql`` has duplicate field definitions that a strict SDL parser rejects), keeps exactly
the types, fields and arguments named in :mod:`subset` plus the enums, input objects and scalars they
reach, and writes them as SDL with the source, version, checksum and licence on top. It fails,
naming the culprit, when the subset names something GitHub's schema does not have.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pytest_ghseed.emulator.graphql import subset

#: The committed extract, beside this module.
EXTRACT_PATH = Path(__file__).with_name("github.graphql")

_BUILTIN_SCALARS = {"String", "Int", "Float", "Boolean", "ID"}
_BUILTIN_DIRECTIVES = {"skip", "include", "deprecated", "specifiedBy"}


class ExtractError(Exception):
    """The subset and GitHub's schema disagree, or the package could not be read."""


def _named(ref: Mapping[str, Any]) -> str:
    while ref.get("ofType") is not None:
        ref = ref["ofType"]
    return str(ref["name"])


def prune(introspection: Mapping[str, Any]) -> dict[str, Any]:
    """The introspection result cut down to :mod:`subset` (same shape, so graphql-core can build it)."""
    schema = introspection.get("__schema") or introspection.get("data", {}).get("__schema")
    if not schema:
        msg = "not an introspection result: no __schema key"
        raise ExtractError(msg)
    types = {t["name"]: t for t in schema["types"]}
    composite = set(subset.OBJECTS) | set(subset.INTERFACES) | set(subset.UNIONS)
    kept: dict[str, dict[str, Any]] = {}
    wanted: list[str] = []

    def keep_fields(name: str, fields: Mapping[str, tuple[str, ...]]) -> dict[str, Any]:
        source = types.get(name)
        if source is None:
            msg = f"GitHub's schema has no type {name!r}"
            raise ExtractError(msg)
        by_name = {f["name"]: f for f in source.get("fields") or ()}
        out = dict(source)
        out["fields"] = []
        for field_name, args in fields.items():
            field = by_name.get(field_name)
            if field is None:
                msg = f"GitHub's schema has no field {name}.{field_name}"
                raise ExtractError(msg)
            known = {a["name"]: a for a in field["args"]}
            missing = [a for a in args if a not in known]
            if missing:
                msg = f"{name}.{field_name} has no argument {missing[0]!r} in GitHub's schema"
                raise ExtractError(msg)
            out["fields"].append({**field, "args": [known[a] for a in args]})
            wanted.append(_named(field["type"]))
            wanted.extend(_named(known[a]["type"]) for a in args)
        return out

    for name, fields in subset.OBJECTS.items():
        out = keep_fields(name, fields)
        out["interfaces"] = [i for i in out.get("interfaces") or () if i["name"] in subset.INTERFACES]
        kept[name] = out
    for name, field_names in subset.INTERFACES.items():
        out = keep_fields(name, dict.fromkeys(field_names, ()))
        out["interfaces"] = [i for i in out.get("interfaces") or () if i["name"] in subset.INTERFACES]
        out["possibleTypes"] = [p for p in out["possibleTypes"] if p["name"] in subset.OBJECTS]
        kept[name] = out
    for name in subset.UNIONS:
        source = types.get(name)
        if source is None or source["kind"] != "UNION":
            msg = f"GitHub's schema has no union {name!r}"
            raise ExtractError(msg)
        kept[name] = {
            **source,
            "possibleTypes": [p for p in source["possibleTypes"] if p["name"] in subset.OBJECTS],
        }

    for name, out in kept.items():
        for interface in out.get("interfaces") or ():
            required = subset.INTERFACES[interface["name"]]
            have = {f["name"] for f in out["fields"]}
            if not set(required) <= have:
                msg = f"{name} implements {interface['name']} but lacks {sorted(set(required) - have)}"
                raise ExtractError(msg)

    # Leaf and input types the kept fields reach, whole (an input object's fields may reach more).
    while wanted:
        name = wanted.pop()
        if name in kept or name in _BUILTIN_SCALARS:
            continue
        source = types.get(name)
        if source is None:
            msg = f"GitHub's schema has no type {name!r}"
            raise ExtractError(msg)
        if source["kind"] in ("OBJECT", "INTERFACE", "UNION"):
            if name not in composite:
                msg = f"a kept field returns {name}, which subset.py does not keep: add it (and its resolver)"
                raise ExtractError(msg)
            continue
        kept[name] = source
        wanted.extend(_named(f["type"]) for f in source.get("inputFields") or ())

    scalars = [types[s] for s in sorted(_BUILTIN_SCALARS) if s in types]
    return {
        "__schema": {
            "queryType": {"name": "Query"},
            "mutationType": None,
            "subscriptionType": None,
            "types": [*scalars, *(kept[n] for n in sorted(kept))],
            "directives": [d for d in schema["directives"] if d["name"] in _BUILTIN_DIRECTIVES],
        }
    }


def render(introspection: Mapping[str, Any], *, version: str, sha256: str, licence: str) -> str:
    """The extract as SDL, with a header naming its source; checks that graphql-core accepts it."""
    from graphql import build_client_schema, build_schema, print_schema, validate_schema

    pruned = build_client_schema(prune(introspection))  # type: ignore[arg-type]
    sdl = print_schema(pruned)
    problems = validate_schema(build_schema(sdl))
    if problems:
        msg = "the extract is not a valid schema: " + "; ".join(p.message for p in problems)
        raise ExtractError(msg)
    notice = "\n".join(f"# {line}".rstrip() for line in licence.strip().splitlines())
    header = (
        "# GENERATED: do not edit. An extract of GitHub's public GraphQL schema: the types, fields and\n"
        "# arguments listed in pytest_ghseed/emulator/graphql/subset.py, copied unchanged (names, types,\n"
        "# nullability, descriptions, deprecations). Regenerate with:\n"
        "#     python -m pytest_ghseed.emulator.graphql.extract\n"
        f"# Source: npm {subset.SOURCE_PACKAGE}@{version}, schema.json (sha256 {sha256}).\n"
        "# Its licence, which applies to this extract:\n"
        f"{notice}\n\n"
    )
    return header + sdl + "\n"


def read_tarball(data: bytes) -> tuple[dict[str, Any], str, str, str]:
    """(introspection, version, sha256 of schema.json, licence text) from the npm package tarball."""
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:

        def member(name: str) -> bytes:
            try:
                handle = archive.extractfile(f"package/{name}")
            except KeyError:
                handle = None
            if handle is None:
                msg = f"the tarball has no package/{name}"
                raise ExtractError(msg)
            return handle.read()

        raw = member("schema.json")
        version = str(json.loads(member("package.json"))["version"])
        licence = member("LICENSE.md").decode()
    return json.loads(raw), version, hashlib.sha256(raw).hexdigest(), licence


def npm_pack(version: str, into: Path) -> bytes:
    """Download the package tarball with ``npm pack`` (the registry's ordinary client)."""
    spec = f"{subset.SOURCE_PACKAGE}@{version}"
    done = subprocess.run(
        ["npm", "pack", spec, "--pack-destination", str(into)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        msg = f"`npm pack {spec}` failed ({done.returncode}): {done.stderr.strip()[-500:]}"
        raise ExtractError(msg)
    tarballs = sorted(into.glob("*.tgz"))
    if not tarballs:
        msg = f"`npm pack {spec}` wrote no tarball into {into}"
        raise ExtractError(msg)
    return tarballs[-1].read_bytes()


def main(argv: list[str] | None = None) -> int:
    """Write the extract; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--version", default=subset.SOURCE_VERSION, help="package version to npm pack")
    parser.add_argument("--tarball", type=Path, help="use this downloaded package tarball instead")
    parser.add_argument("--output", type=Path, default=EXTRACT_PATH, help="where to write the SDL")
    args = parser.parse_args(argv)
    try:
        if args.tarball is not None:
            data = args.tarball.read_bytes()
        else:
            with tempfile.TemporaryDirectory() as tmp:
                data = npm_pack(args.version, Path(tmp))
        introspection, version, sha256, licence = read_tarball(data)
        if args.tarball is None and version != args.version:
            msg = f"npm pack gave version {version}, not {args.version}"
            raise ExtractError(msg)
        text = render(introspection, version=version, sha256=sha256, licence=licence)
    except (ExtractError, OSError, ValueError) as error:
        print(f"extract failed: {error}", file=sys.stderr)
        return 1
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output} ({len(text):,} characters) from {subset.SOURCE_PACKAGE}@{version}")
    if version != subset.SOURCE_VERSION:
        print(f"note: subset.SOURCE_VERSION says {subset.SOURCE_VERSION}; update it to {version}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
