"""The repository's own committed recording (``cassettes/demo``, pseudonymized) and the step of ``.ci/run``
that replays it as a user's CI would: CI set, the network blocked.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_ghseed.cache.store import ProjectStore
from pytest_ghseed.cli import main
from pytest_ghseed.pseudonyms.rules import PSEUDO_ID_BASE, is_pseudo_login

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "cassettes"
#: The committed recording stays small: the demo's 60 PRs take 2.4 MB on disk (0.75 MB in git's objects).
MAX_BYTES = 3_000_000


def replay_line() -> str:
    """The line of .ci/run that replays the committed recording."""
    lines = [
        line for line in (ROOT / ".ci" / "run").read_text().splitlines() if "-p tests.no_network" in line
    ]
    assert len(lines) == 1, "one step of .ci/run replays the committed recording"
    return lines[0]


def test_the_committed_recording_is_pseudonymized_sound_and_small(capsys: pytest.CaptureFixture[str]) -> None:
    """cassettes/demo: 60 PRs, every person a pseudonym, `ghseed verify` passes (the pre-commit hook), under 3 MB."""
    store = ProjectStore(COMMITTED, "demo")
    metadata, snapshot = store.read_metadata(), store.read_snapshot()
    assert metadata.pseudonymized and metadata.pseudonym_salt and len(snapshot.prs) == 60
    users = [u for pr in snapshot.prs for u in (pr.user, *(r.user for r in pr.reviews)) if u is not None]
    assert users and all(is_pseudo_login(u.login) and u.id >= PSEUDO_ID_BASE for u in users)
    assert main(["verify", "--cache-dir", str(COMMITTED)]) == 0, capsys.readouterr()
    assert sum(p.stat().st_size for p in store.path.rglob("*") if p.is_file()) < MAX_BYTES
    assert not (COMMITTED / ".ghseed").exists() and not list(COMMITTED.rglob("salt"))


@pytest.mark.slow
def test_ci_replays_the_committed_recording_with_the_network_blocked(tmp_path: Path) -> None:
    """The .ci/run step, run as written on a copy of the repository's examples and recording: 0 requests, all pass."""
    shutil.copytree(
        ROOT / "examples", tmp_path / "examples", ignore=shutil.ignore_patterns("cassettes", "__pycache__")
    )
    shutil.copytree(COMMITTED, tmp_path / "cassettes")
    shutil.copytree(ROOT / "tests", tmp_path / "tests", ignore=shutil.ignore_patterns("__pycache__"))
    line = replay_line().replace('"$PWD/cassettes"', str(tmp_path / "cassettes"))
    words = shlex.split(line)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "PYTEST_"))}
    env.update(word.split("=", 1) for word in words if "=" in word and not word.startswith("-"))
    command = [sys.executable, *words[words.index("-m") :]]
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "demo (ghseed/demo): cache, 60 PRs" in done.stdout and "0 API requests this run" in done.stdout
    assert " passed" in done.stdout and "failed" not in done.stdout


@pytest.mark.slow
def test_the_no_network_plugin_fails_a_run_that_even_tries_to_connect(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A test that swallows the refused connection still fails the run: tests.no_network counts the attempts."""
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    pytester.makepyfile(
        """
        import socket

        def test_quietly_tries():
            try:
                socket.create_connection(("127.0.0.1", 9), timeout=1)
            except OSError as exc:
                assert "network blocked by tests.no_network" in str(exc)
        """
    )
    result = pytester.runpytest_subprocess("-p", "tests.no_network", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*FAILED: 1 connection(s) attempted*", "*1 passed*"])
