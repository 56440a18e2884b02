"""``ghseed export``: a project's pull requests as JSON lines (whole) or CSV (one summary row each).

JSON lines carry each pull request whole, as the snapshot stores it (``PullRequest.to_dict()``: body,
labels, reviews, commits, files, comments), one per line; CSV is a flat table of scalar fields and
the length of each sub-list, for spreadsheets.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal, get_args

from pytest_ghseed.errors import UsageError
from pytest_ghseed.models import PullRequest, format_datetime

ExportFormat = Literal["jsonl", "csv"]
FORMATS: tuple[ExportFormat, ...] = get_args(ExportFormat)

CSV_FIELDS = (
    "number",
    "title",
    "state",
    "merged",
    "author",
    "created_at",
    "merged_at",
    "additions",
    "deletions",
    "changed_files",
    "reviews",
    "commits",
    "files",
    "review_comments",
    "issue_comments",
)


def summary_row(pr: PullRequest) -> dict[str, Any]:
    """One PR as a CSV row: scalar fields and the length of each sub-list."""
    return {
        "number": pr.number,
        "title": pr.title,
        "state": pr.state,
        "merged": pr.merged,
        "author": pr.user.login if pr.user else None,
        "created_at": format_datetime(pr.created_at),
        "merged_at": format_datetime(pr.merged_at),
        "additions": pr.additions,
        "deletions": pr.deletions,
        "changed_files": pr.changed_files,
        "reviews": len(pr.reviews),
        "commits": len(pr.commits),
        "files": len(pr.files),
        "review_comments": len(pr.review_comments),
        "issue_comments": len(pr.issue_comments),
    }


def render(prs: Iterable[PullRequest], export_format: ExportFormat) -> str:
    """The whole export as text."""
    buffer = io.StringIO(newline="")
    if export_format == "jsonl":
        for pr in prs:
            buffer.write(json.dumps(pr.to_dict(), ensure_ascii=False, sort_keys=True) + "\n")
    else:
        writer = csv.DictWriter(buffer, fieldnames=CSV_FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(summary_row(pr) for pr in prs)
    return buffer.getvalue()


def check_target(output: Path, cache_dir: Path, *, force: bool) -> None:
    """Refuse an export target inside the cache, behind a link, or over a file without ``force``."""
    resolved_cache = cache_dir.resolve()
    target = output.parent.resolve() / output.name
    if target == resolved_cache or resolved_cache in target.parents:
        msg = f"--output {output} is inside the cache dir {cache_dir}; write the export elsewhere"
        raise UsageError(msg)
    if output.is_symlink():
        msg = f"--output {output} is a symbolic link; name the file itself"
        raise UsageError(msg)
    if output.exists() and not force:
        msg = f"--output {output} exists; pass --force to replace it, or name another file"
        raise UsageError(msg)
    if output.exists() and not output.is_file():
        msg = f"--output {output} is not a file; name a file"
        raise UsageError(msg)
