"""Extract, from GitHub's published OpenAPI description, the responses of the endpoints we answer.

Regenerate the committed extract (needs ``npm`` and the npm registry) with one command::

    python tests/contracts/extract.py                 # the newest @octokit/openapi
    python tests/contracts/extract.py --version 23.0.2

It runs ``npm pack @octokit/openapi@<version>`` in a temporary folder, reads
``generated/api.github.com.json`` (GitHub's description from github/rest-api-description, as
published by Octokit), keeps the operations in :data:`OPERATIONS` with the component schemas they
reach, and writes ``github-openapi-extract.json`` beside this file. ``--from FILE`` reads an
already unpacked ``api.github.com.json`` (or the ``.tgz``) instead of asking npm.

The description is OpenAPI 3.0.3; the extract is plain JSON Schema (draft 2020-12), converted by the
rules OpenAPI 3.0.3 itself states, nothing looser:

- ``nullable: true`` adds ``"null"`` to the ``type`` of the same schema object, and only where that
  object has a ``type`` (3.0.3: "only if type is explicitly defined within the same Schema
  Object"); an ``enum`` keeps its values, so a nullable enum without ``null`` in it refuses null.
- documentation-only keywords (descriptions, examples, titles, ``x-*`` extensions,
  ``discriminator``, ``readOnly``/``writeOnly``, ``deprecated``) are dropped; they validate nothing.

Which description: the npm package is the newest *published* one (23.0.2 when this was written; its
``api.github.com.json`` is API version 2022-11-28, where a label has no ``archived_*`` fields).
githubkit-schemas 26.10.21 bundles a newer, unpublished one: API version 2026-03-10 from
github/rest-api-description's ``descriptions-next`` (commit 755ee33), where labels require
``archived_at`` and ``archived_by``. The JSON-schema checks follow the npm package (a regenerable,
versioned source); the 2026-03-10 shapes are held by githubkit's own pydantic models in
``test_clients.py`` (githubkit sends ``X-GitHub-Api-Version: 2026-03-10``), so the emulator satisfies
both: labels carry ``archived_at``/``archived_by`` (null), which 2022-11-28 allows as extra fields.

Where GitHub's real answers break the description, the fix is an erratum in ``errata.py`` with its
reason and evidence, applied at validation time; the extract itself is never edited by hand.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
OUTPUT = HERE / "github-openapi-extract.json"
PACKAGE = "@octokit/openapi"
MEMBER = "package/generated/api.github.com.json"

#: operationId -> what answers it. Every GET route of the emulator (and so of ``ghseed serve``).
OPERATIONS = (
    "meta/root",
    "meta/get-all-versions",
    "rate-limit/get",
    "users/get-authenticated",
    "users/get-by-username",
    "repos/get",
    "pulls/list",
    "pulls/get",
    "pulls/list-reviews",
    "pulls/list-commits",
    "pulls/list-files",
    "pulls/list-review-comments",
    "pulls/list-review-comments-for-repo",
    "issues/get",
    "issues/list-comments",
    "issues/list-comments-for-repo",
)

_DROPPED = {
    "description",
    "example",
    "examples",
    "title",
    "discriminator",
    "readOnly",
    "writeOnly",
    "deprecated",
    "externalDocs",
    "xml",
}


def to_json_schema(node: Any) -> Any:
    """One OpenAPI 3.0.3 schema (or part of one) as JSON Schema 2020-12, by the rules above."""
    if isinstance(node, list):
        return [to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _DROPPED or key.startswith("x-") or key == "nullable":
            continue
        if key in ("properties", "patternProperties"):
            out[key] = {name: to_json_schema(sub) for name, sub in value.items()}
        else:
            out[key] = to_json_schema(value)
    if node.get("nullable") is True and "type" in out:
        types = out["type"] if isinstance(out["type"], list) else [out["type"]]
        out["type"] = [*types, "null"] if "null" not in types else types
    for bound in ("Minimum", "Maximum"):
        # OpenAPI 3.0 spells an exclusive bound as a flag beside the bound; JSON Schema as a number.
        flag = out.get(f"exclusive{bound}")
        if isinstance(flag, bool):
            del out[f"exclusive{bound}"]
            if flag:
                out[f"exclusive{bound}"] = out.pop(bound.lower())
    return out


def _refs(node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            found.add(ref.rsplit("/", 1)[1])
        for value in node.values():
            _refs(value, found)
    elif isinstance(node, list):
        for value in node:
            _refs(value, found)


def _resolve_response(description: dict[str, Any], response: dict[str, Any]) -> dict[str, Any]:
    ref = response.get("$ref")
    if isinstance(ref, str):
        return dict(description["components"]["responses"][ref.rsplit("/", 1)[1]])
    return response


def extract(description: dict[str, Any], source: dict[str, Any]) -> dict[str, Any]:
    """The extract: our operations' responses and the component schemas they reach."""
    by_id: dict[str, tuple[str, dict[str, Any]]] = {}
    for path, item in description["paths"].items():
        operation = item.get("get")
        if operation is not None:
            by_id[operation["operationId"]] = (path, operation)
    missing = [name for name in OPERATIONS if name not in by_id]
    if missing:
        msg = f"the description has no GET operation {missing}; check the package version"
        raise SystemExit(msg)
    operations: dict[str, Any] = {}
    wanted: set[str] = {"basic-error"}  # GitHub's error body, for statuses an operation leaves out
    for name in OPERATIONS:
        path, operation = by_id[name]
        responses: dict[str, Any] = {}
        for status, raw in operation["responses"].items():
            response = _resolve_response(description, raw)
            schema = response.get("content", {}).get("application/json", {}).get("schema")
            responses[status] = None if schema is None else to_json_schema(schema)
            _refs(schema, wanted)
        operations[name] = {"method": "get", "path": path, "responses": responses}
    schemas = description["components"]["schemas"]
    done: dict[str, Any] = {}
    pending = sorted(wanted)
    while pending:
        name = pending.pop()
        if name in done:
            continue
        done[name] = to_json_schema(schemas[name])
        reached: set[str] = set()
        _refs(schemas[name], reached)
        pending.extend(sorted(reached - done.keys()))
    return {
        "source": source,
        "conversion": (
            "OpenAPI 3.0.3 -> JSON Schema 2020-12: nullable adds null to a sibling type only; "
            "documentation-only keywords dropped (tests/contracts/extract.py)"
        ),
        "operations": operations,
        "components": {"schemas": dict(sorted(done.items()))},
    }


def _npm_pack(version: str, workdir: Path) -> Path:
    spec = f"{PACKAGE}@{version}"
    result = subprocess.run(
        ["npm", "pack", spec, "--silent"], cwd=workdir, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise SystemExit(f"npm pack {spec} failed: {result.stderr.strip()}")
    return workdir / result.stdout.strip().splitlines()[-1]


def _read_package(tgz: Path) -> tuple[dict[str, Any], dict[str, Any], str]:
    with tarfile.open(tgz) as tar:

        def read(member: str) -> bytes:
            handle = tar.extractfile(member)
            assert handle is not None, member
            return handle.read()

        description = json.loads(read(MEMBER))
        package = json.loads(read("package/package.json"))
        licence = read("package/LICENSE").decode()
    return description, package, licence


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", default="latest", help="@octokit/openapi version (default: latest)")
    parser.add_argument("--from", dest="source", type=Path, help="a packed .tgz of @octokit/openapi")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        tgz = args.source or _npm_pack(args.version, Path(tmp))
        description, package, licence = _read_package(tgz)
    source = {
        "package": package["name"],
        "version": package["version"],
        "file": MEMBER.removeprefix("package/"),
        "openapi": description["openapi"],
        "info_version": description["info"]["version"],
        "upstream": "https://github.com/github/rest-api-description (descriptions/api.github.com)",
        "license": package["license"],
        "description_license": description["info"].get("license", {}),
        "license_text": licence.strip(),
        "regenerate": "python tests/contracts/extract.py [--version X.Y.Z]",
    }
    data = extract(description, source)
    args.output.write_text(json.dumps(data, indent=1, sort_keys=False) + "\n", encoding="utf-8")
    size = args.output.stat().st_size
    print(
        f"wrote {args.output} from {package['name']} {package['version']}: {len(data['operations'])} "
        f"operations, {len(data['components']['schemas'])} schemas, {size} bytes"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
