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
from typing import Any, Literal, get_args

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
