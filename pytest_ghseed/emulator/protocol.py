"""HTTP rules GitHub applies before any resource: API versions, media types, conditional requests.

Pure functions over header values, so the server stays a thin layer and each rule is tested alone.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

#: ``X-GitHub-Api-Version`` values GitHub accepts, oldest first ("API Versions" in GitHub's REST docs:
#: 2022-11-28, the default without the header, and 2026-03-10, the first with breaking changes).
SUPPORTED_API_VERSIONS = ("2022-11-28", "2026-03-10")
VERSIONS_DOCS = "https://docs.github.com/rest"

Media = Literal["json", "diff", "patch"]


def api_version_error(requested: str | None) -> str | None:
    """GitHub's 400 message for an unsupported ``X-GitHub-Api-Version``, or None when it is fine.

    The wording is GitHub's, as answered to a request with ``X-GitHub-Api-Version: v3`` in 2023
    (quoted in expipiplus1/update-nix-fetchgit issue #79), with today's list of versions.
    """
    if requested is None or requested.strip() in SUPPORTED_API_VERSIONS:
        return None
    *older, newest = SUPPORTED_API_VERSIONS
    listed = ", ".join([*(f'"{v}"' for v in older), f'"{newest}" (most recent)'])
    return (
        f'The version you specified in the "X-GitHub-API-Version" request header, "{requested}", is not '
        f"a supported version. The following versions are currently supported: {listed}."
    )


def media_type(accept: str | None) -> Media:
    """Which representation ``Accept`` asks for: GitHub's diff and patch media types, or JSON.

    ``application/vnd.github.diff``, ``application/vnd.github.v3.diff`` and ``application/vnd.github
    .raw+diff`` style names all select the diff (likewise patch); anything else gets JSON.
    """
    for part in (accept or "").split(","):
        name = part.split(";", 1)[0].strip().lower()
        if not name.startswith("application/vnd.github"):
            continue
        if name.endswith("diff"):
            return "diff"
        if name.endswith("patch"):
            return "patch"
    return "json"


@dataclass(frozen=True)
class EntityTag:
    """One entity tag: its opaque quoted value and whether it is weak (``W/``)."""

    opaque: str
    weak: bool

    @classmethod
    def parse(cls, text: str) -> EntityTag:
        text = text.strip()
        weak = text[:2] in ("W/", "w/")
        return cls(text[2:] if weak else text, weak)


def etag_for(text: str) -> str:
    """Weak ETag for a non-empty body, strong one for ``[]`` (as GitHub sends them); content-derived."""
    digest = hashlib.sha256(text.encode()).hexdigest()
    return f'"{digest}"' if text == "[]" else f'W/"{digest}"'


def none_match(header: str | None, etag: str) -> bool:
    """Whether ``If-None-Match`` matches the current ``etag`` (RFC 9110, section 13.1.2).

    ``*`` matches any current representation; otherwise the *weak* comparison applies: two tags
    match when their opaque values are equal, whether or not either is weak.
    """
    if not header:
        return False
    if header.strip() == "*":
        return True
    ours = EntityTag.parse(etag).opaque
    return any(EntityTag.parse(part).opaque == ours for part in header.split(",") if part.strip())
