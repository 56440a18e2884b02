"""The README's first command: the example suite on the demo project, fetched once, then replayed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
@pytest.mark.skipif(not (ROOT / "examples").is_dir(), reason="examples/ is not next to the tests")
def test_example_suite_fetches_the_demo_once_then_replays_it(tmp_path: Path) -> None:
    """`pytest examples --ghseed-project=demo` passes twice: first fetched from the emulator, then from cache with 0 requests."""
    examples = tmp_path / "examples"
    shutil.copytree(ROOT / "examples", examples, ignore=shutil.ignore_patterns("cassettes", "__pycache__"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "CI", "PYTEST_"))}
    command = [sys.executable, "-m", "pytest", "examples", "--ghseed-project=demo", "-p", "no:cacheprovider"]
    first = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "demo (ghseed/demo): fetched, 60 PRs" in first.stdout
    second = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "demo (ghseed/demo): cache, 60 PRs" in second.stdout
    assert "0 API requests this run" in second.stdout
    assert list(tmp_path.rglob("cassettes/demo/snapshot.json")), "the demo is recorded under the rootdir"
