"""The README's first command, verbatim: the example suite on the demo project, fetched once with live
progress on a terminal, recorded where the README says, then replayed with 0 requests."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: The README's two commands (tests/test_readme.py checks the README shows exactly these).
README_COMMANDS = (
    "python3 -m venv .venv && .venv/bin/pip install -q -e '.[test]' && .venv/bin/pytest examples --ghseed-project=demo",
    "python3 -m venv .venv && .venv/bin/pip install -q -e '.[test]' && .venv/bin/pytest",
)
#: What the first command runs once the package is installed (the venv is this one's).
FIRST = "pytest examples --ghseed-project=demo"


def in_a_terminal(command: str, cwd: Path, env: dict[str, str]) -> tuple[int, str, float]:
    """Run ``command`` under a pseudo-terminal (``script``), as a person at a terminal would."""
    started = time.monotonic()
    done = subprocess.run(
        ["script", "-qefc", command, "/dev/null"], cwd=cwd, env=env, capture_output=True, timeout=300
    )
    # Bytes, decoded by hand: text mode would turn the bar's carriage returns into newlines.
    return done.returncode, done.stdout.decode("utf-8", errors="replace"), time.monotonic() - started


@pytest.mark.slow
@pytest.mark.skipif(
    shutil.which("script") is None, reason="util-linux's `script` (a pseudo-terminal) is needed"
)
def test_the_first_readme_command_shows_progress_records_then_replays(tmp_path: Path) -> None:
    """`pytest examples --ghseed-project=demo`: live progress on a terminal, examples/cassettes/demo, then 0 requests."""
    shutil.copytree(
        ROOT / "examples", tmp_path / "examples", ignore=shutil.ignore_patterns("cassettes", "__pycache__")
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "CI", "PYTEST_"))}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["COLUMNS"] = "160"
    code, first, _ = in_a_terminal(FIRST, tmp_path, env)
    assert code == 0, first
    assert "\r[" in first and "] ghseed: ghseed/demo: 60/60 PRs" in first, "a live progress bar"
    assert "demo (ghseed/demo): fetched, 60 PRs" in first
    assert (tmp_path / "examples" / "cassettes" / "demo" / "snapshot.json").is_file(), "where the README says"
    assert "created: 2 workers" not in first and "bringing up nodes" not in first, (
        "no xdist from the repo's options"
    )
    code, second, _ = in_a_terminal(FIRST, tmp_path, env)
    assert code == 0, second
    assert "demo (ghseed/demo): cache, 60 PRs" in second
    assert "0 API requests this run" in second
