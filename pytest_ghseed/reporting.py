"""Text for pytest's terminal summary: one line per project, the same in every run mode (xdist too)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

_SOURCE_RANK = {"cache": 0, "refreshed": 1, "fetched": 2}


def merge_summary(into: dict[str, dict[str, Any]], reported: dict[str, dict[str, Any]]) -> None:
    """Fold one report in (keyed by project): a fetch anywhere makes the source 'fetched'; requests add up."""
    for key, line in reported.items():
        mine = into.get(key)
        if mine is None:
            into[key] = dict(line)
            continue
        if _SOURCE_RANK[line["source"]] > _SOURCE_RANK[mine["source"]]:
            mine.update(
                source=line["source"], quota_left=line.get("quota_left"), recorded_at=line["recorded_at"]
            )
        mine["requests"] = mine.get("requests", 0) + line.get("requests", 0)
        mine["prs"] = max(mine["prs"], line["prs"])


def describe_age(seconds: float) -> str:
    """``42s``, ``5m``, ``3h``, ``12d``: an age at a glance."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{max(int(seconds), 0)}s"


def summary_lines(
    summary: dict[str, dict[str, Any]], seed: int | None, now: datetime | None = None
) -> list[str]:
    """One line per project (its selections merged), then the factory seed; nothing when ghseed was not used."""
    if not summary:
        return []
    current = now or datetime.now(UTC)
    lines = []
    for line in sorted(summary.values(), key=lambda entry: (entry["project"], entry["prs"])):
        recorded = datetime.fromisoformat(line["recorded_at"])
        age = describe_age((current - recorded).total_seconds())
        quota = "" if line.get("quota_left") is None else f", quota left {line['quota_left']}"
        lines.append(
            f"{line['project']} ({line['repository']}): {line['source']}, {line['prs']} PRs, "
            f"recorded {recorded:%Y-%m-%d %H:%M} UTC ({age} ago), {line['requests']} API requests this run{quota}"
        )
    if seed is not None:
        lines.append(f"factory seed: {seed} (reproduce with --ghseed-seed={seed})")
    return lines
