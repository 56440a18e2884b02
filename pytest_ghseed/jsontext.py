"""The JSON text of the cache's data files: one spelling for the snapshot, the checkpoint and the etags.

The snapshot reuses the text the checkpoint wrote for each PR (``Checkpoint.stored_text`` and
``FetchedPull.pr_text`` cut it out of a log line) instead of serializing and scanning it again. That
reuse is only right while every writer spells JSON the same way, so the spelling lives here, once:
compact separators, sorted keys (small diffs of committed caches), characters as they are (not
``\\u`` escapes), and no NaN or Infinity (not JSON; nothing we store is a float).
"""

from __future__ import annotations

import json
from typing import Any


def compact(value: Any) -> str:
    """``value`` as the cache writes it; ``ValueError`` for NaN or Infinity, ``TypeError`` for what
    JSON cannot hold."""
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"), sort_keys=True)
