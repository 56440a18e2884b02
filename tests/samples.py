"""Locate the real GitHub response bodies kept beside the project in ``../shared/github-samples``.

They are public recordings (PyGithub's replay data) and are not copied into this repository; tests
that read them skip, with the reason, where the folder is absent. ``GHSEED_SAMPLES_DIR`` overrides.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

SAMPLES_DIR = Path(
    os.environ.get("GHSEED_SAMPLES_DIR") or Path(__file__).resolve().parents[2] / "shared" / "github-samples"
)


def load_sample(name: str) -> Any:
    """Parsed JSON of one sample file, or skip the test when the samples are not on this machine."""
    path = SAMPLES_DIR / name
    if not path.is_file():
        pytest.skip(
            f"real GitHub samples not found at {path}: they live in ../shared/github-samples beside the "
            "repository (set GHSEED_SAMPLES_DIR to point elsewhere)"
        )
    return json.loads(path.read_text(encoding="utf-8"))
