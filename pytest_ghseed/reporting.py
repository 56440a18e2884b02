"""Text for pytest's terminal summary: one line per project, the same in every run mode (xdist too)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

_SOURCE_RANK = {"missing": -1, "cache": 0, "refreshed": 1, "fetched": 2}


def merge_summary(into: dict[str, dict[str, Any]], reported: dict[str, dict[str, Any]]) -> None:
    """Fold one report in (keyed by project): a fetch anywhere makes the source 'fetched'; requests add up."""
    for key, line in reported.items():
        mine = into.get(key)
        if mine is None:
            into[key] = dict(line)
            continue
        if line["source"] == "missing" or mine["source"] == "missing":
            continue  # missing lines are keyed apart and say the same in every worker
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
    summary: dict[str, dict[str, Any]],
    seed: int | None,
    now: datetime | None = None,
    configured: tuple[tuple[str, str], ...] = (),
) -> list[str]:
    """One line per project: served (from the cache, refreshed or fetched), or missing; then the seed.

    ``configured``: the session's projects (name, repository), so that one no test asked for is said
    too. Nothing at all when ghseed was neither configured nor used.
    """
    if not summary and not configured:
        return []
    current = now or datetime.now(UTC)
    lines = []
    served = [line for line in summary.values() if line["source"] != "missing"]
    for line in sorted(served, key=lambda entry: (entry["project"], entry["prs"])):
        recorded = datetime.fromisoformat(line["recorded_at"])
        age = describe_age((current - recorded).total_seconds())
        quota = "" if line.get("quota_left") is None else f", quota left {line['quota_left']}"
        lines.append(
            f"{line['project']} ({line['repository']}): {line['source']}, {line['prs']} PRs, "
            f"recorded {recorded:%Y-%m-%d %H:%M} UTC ({age} ago), {line['requests']} API requests this run{quota}"
        )
    for line in sorted((e for e in summary.values() if e["source"] == "missing"), key=lambda e: e["project"]):
        lines.append(
            f"{line['project']} ({line['repository']}): MISSING, nothing recorded; the tests that need it "
            f"{line['outcome']}. Record it with: {line['command']}"
        )
    used = {line["project"] for line in summary.values()}
    for name, repository in configured:
        if name not in used:
            lines.append(f"{name} ({repository}): not used by any test this run")
    if seed is not None and served:
        lines.append(f"factory seed: {seed} (reproduce with --ghseed-seed={seed})")
    return lines
