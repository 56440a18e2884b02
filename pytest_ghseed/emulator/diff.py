"""A pull request's diff and patch media types (``application/vnd.github.diff`` / ``.patch``).

GitHub builds them from the repository; we have only the recorded ``/files`` entries, whose ``patch``
holds each file's hunks. The diff is git's format rebuilt from them: a ``diff --git`` header, the
mode or rename lines, ``---``/``+++`` and the hunks. GitHub omits the patch of binary files and of
large diffs, and a recording may hold fewer files than the pull request changed: what is missing is
said in a preamble before the first ``diff --git`` (``git apply`` and ``patch`` skip such text, as
they skip an e-mail's message) and counted in the ``X-Ghseed-Missing-Patches`` header.

The patch media type is one ``git format-patch`` message for the whole pull request: the recorded
commits have no diffs of their own, so they are listed in its message rather than split.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from email.utils import format_datetime
from typing import Any

MISSING_HEADER = "X-Ghseed-Missing-Patches"


def _file_diff(entry: Mapping[str, Any]) -> str | None:
    """One file's part of the diff, or None when its patch was not recorded (and it is no rename)."""
    name = str(entry["filename"])
    old = str(entry.get("previous_filename") or name)
    status = entry.get("status")
    patch = entry.get("patch")
    lines = [f"diff --git a/{old} b/{name}"]
    if status == "added":
        lines.append("new file mode 100644")
    elif status == "removed":
        lines.append("deleted file mode 100644")
    elif status == "renamed":
        similarity = 100 if not patch else 90
        lines += [f"similarity index {similarity}%", f"rename from {old}", f"rename to {name}"]
    if not patch:
        # A pure rename is complete without hunks; anything else lost its content.
        return "\n".join(lines) + "\n" if status == "renamed" and not entry.get("changes") else None
    lines.append("--- /dev/null" if status == "added" else f"--- a/{old}")
    lines.append("+++ /dev/null" if status == "removed" else f"+++ b/{name}")
    body = str(patch)
    return "\n".join(lines) + "\n" + body + ("" if body.endswith("\n") else "\n")


def unified_diff(files: Sequence[Mapping[str, Any]], changed_files: int | None = None) -> tuple[str, int]:
    """The pull request's diff from its recorded files, and how many files it could not include."""
    parts: list[str] = []
    missing: list[str] = []
    for entry in files:
        part = _file_diff(entry)
        if part is None:
            missing.append(
                f"  {entry['filename']} ({entry.get('status')}, +{entry.get('additions', 0)} "
                f"-{entry.get('deletions', 0)})"
            )
        else:
            parts.append(part)
    notes: list[str] = []
    if missing:
        notes.append(
            f"ghseed: {len(missing)} of {len(files)} changed files have no recorded patch (GitHub omits "
            "the patch of binary files and of large diffs); they are left out of this diff:"
        )
        notes.extend(missing)
    unrecorded = (changed_files or 0) - len(files)
    if unrecorded > 0:
        notes.append(
            f"ghseed: the recording holds {len(files)} of the {changed_files} changed files (GitHub lists "
            f"at most 3000); {unrecorded} are not in this diff."
        )
    preamble = "\n".join(notes) + "\n\n" if notes else ""
    return preamble + "".join(parts), len(missing) + max(0, unrecorded)


def _subject(commit: Mapping[str, Any]) -> str:
    message = str((commit.get("commit") or {}).get("message") or "")
    return message.splitlines()[0] if message else ""


def format_patch(detail: Mapping[str, Any], commits: Sequence[Mapping[str, Any]], diff: str) -> str:
    """The pull request as one ``git format-patch`` message carrying the whole diff."""
    head = detail.get("head") or {}
    login = (detail.get("user") or {}).get("login") or "ghost"
    author: Mapping[str, Any] = {}
    if commits:
        author = (commits[0].get("commit") or {}).get("author") or {}
    name = author.get("name") or login
    email = author.get("email") or f"{login}@users.noreply.github.com"
    created = datetime.fromisoformat(str(detail["created_at"]).replace("Z", "+00:00"))
    message = str(detail.get("body") or "").strip()
    if commits:
        listed = "\n".join(f"  {str(c.get('sha', ''))[:12]} {_subject(c)}" for c in commits)
        squash = f"Squashed from {len(commits)} commit(s); per-commit diffs were not recorded:\n{listed}"
    else:
        squash = "No commits were recorded."
    return (
        f"From {head.get('sha', '0' * 40)} Mon Sep 17 00:00:00 2001\n"
        f"From: {name} <{email}>\n"
        f"Date: {format_datetime(created)}\n"
        f"Subject: [PATCH] {detail.get('title', '')}\n\n"
        + (f"{message}\n\n" if message else "")
        + f"{squash}\n---\n{diff}--\n"
    )
