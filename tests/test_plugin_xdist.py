"""The plugin under pytest-xdist: one fetch for all workers, one summary, one factory seed.

The inner runs are subprocesses (xdist starts its own workers); the emulator runs in this process and
counts what every worker asked for.
"""

from __future__ import annotations

import json

import pytest

from pytest_ghseed.emulator import Emulator
from tests.helpers import REPO, TOKENS

pytest.importorskip("xdist")
pytestmark = pytest.mark.slow

#: Nine tests that need the data; each writes which worker ran it and the factory seed it got.
INNER_TESTS = """
import json
import os
from pathlib import Path

import pytest


@pytest.mark.parametrize("i", range(9))
def test_data(real_prs, real_pr_factory, i):
    assert len(real_prs) == 8
    record = {"worker": os.environ.get("PYTEST_XDIST_WORKER"), "seed": real_pr_factory.seed}
    with Path(__file__).with_name("workers.jsonl").open("a") as out:
        out.write(json.dumps(record) + "\\n")
"""


@pytest.fixture
def emu(emulator_factory, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    """A small emulator of acme/widgets (8 PRs), its tokens in GITHUB_TOKENS, no CI variable."""
    monkeypatch.setenv("GITHUB_TOKENS", ",".join(TOKENS))
    return emulator_factory(n_prs=8)


def ghseed_section(result: pytest.RunResult) -> list[str]:
    """The lines of the ghseed terminal-summary section; fails if it is printed more than once."""
    heads = [i for i, line in enumerate(result.outlines) if line.startswith("=") and " ghseed " in line]
    assert len(heads) == 1, result.stdout.str()
    body = []
    for line in result.outlines[heads[0] + 1 :]:
        if line.startswith("="):
            break
        body.append(line)
    return body


def run_xdist(pytester: pytest.Pytester, emu: Emulator, *extra: str) -> pytest.RunResult:
    """Run the inner tests on three xdist workers against the emulator."""
    return pytester.runpytest_subprocess(
        "-n",
        "3",
        "-p",
        "no:hypothesispytest",  # it imports hypothesis in every worker: seconds, for nothing here
        f"--ghseed-project={REPO}",
        f"--ghseed-base-url={emu.base_url}",
        *extra,
        timeout=120,
    )


def test_three_workers_fetch_once_then_read_the_cache(pytester: pytest.Pytester, emu: Emulator) -> None:
    """With -n 3 every PR is fetched once and one summary says fetched; a second run reads the cache."""
    pytester.makepyfile(test_data=INNER_TESTS)
    result = run_xdist(pytester, emu)
    result.assert_outcomes(passed=9)

    stats = emu.stats
    assert stats.duplicate_fetches == 0, {path: n for path, n in stats.fetch_counts.items() if n > 1}
    assert all(stats.fetch_counts.get(f"/repos/{REPO}/pulls/{n}") == 1 for n in range(1, 9))

    records = [json.loads(line) for line in (pytester.path / "workers.jsonl").read_text().splitlines()]
    assert len({record["worker"] for record in records}) >= 2  # the fetch really was contended

    lines = ghseed_section(result)
    assert len(lines) == 2, lines
    assert lines[0].startswith(f"{REPO} ({REPO}): fetched, 8 PRs, recorded ")
    assert " 0 API requests" not in lines[0]
    seed = lines[1].split()[2]
    assert lines[1] == f"factory seed: {seed} (reproduce with --ghseed-seed={seed})"
    # Every worker's factory got the controller's seed.
    assert {record["seed"] for record in records} == {int(seed)}

    emu.reset_stats()
    result = run_xdist(pytester, emu, "--ghseed-seed=99")
    result.assert_outcomes(passed=9)
    assert emu.stats.total_requests == 0
    lines = ghseed_section(result)
    assert lines[0].startswith(f"{REPO} ({REPO}): cache, 8 PRs, recorded ")
    assert lines[0].endswith(", 0 API requests this run")
    assert lines[1] == "factory seed: 99 (reproduce with --ghseed-seed=99)"


#: Each test records a digest of the data its worker loaded.
DIGEST_TESTS = """
import hashlib
import json
import os
from pathlib import Path

import pytest


@pytest.mark.parametrize("i", range(12))
def test_data(real_prs, i):
    digest = hashlib.sha256(json.dumps([pr.to_dict() for pr in real_prs], sort_keys=True).encode()).hexdigest()
    record = {"worker": os.environ.get("PYTEST_XDIST_WORKER"), "digest": digest}
    with Path(__file__).with_name("digests.jsonl").open("a") as out:
        out.write(json.dumps(record) + "\\n")
"""


def test_four_workers_fetch_once_and_all_see_identical_data(pytester: pytest.Pytester, emu: Emulator) -> None:
    """With -n 4 the emulator sees one fetch, and every worker loads byte-identical data equal to the truth."""
    import hashlib

    pytester.makepyfile(test_data=DIGEST_TESTS)
    result = pytester.runpytest_subprocess(
        "-n",
        "4",
        "-p",
        "no:hypothesispytest",
        f"--ghseed-project={REPO}",
        f"--ghseed-base-url={emu.base_url}",
        timeout=120,
    )
    result.assert_outcomes(passed=12)
    stats = emu.stats
    assert stats.duplicate_fetches == 0
    assert stats.requests_by_path(f"/repos/{REPO}/pulls?") == 1, "one listing: one fetch for all workers"
    records = [json.loads(line) for line in (pytester.path / "digests.jsonl").read_text().splitlines()]
    assert len({record["worker"] for record in records}) >= 2
    truth = [pr.to_dict() for pr in emu.truth(REPO)]
    expected = hashlib.sha256(json.dumps(truth, sort_keys=True).encode()).hexdigest()
    assert {record["digest"] for record in records} == {expected}


def test_record_mode_all_fetches_once_across_workers(pytester: pytest.Pytester, emu: Emulator) -> None:
    """--ghseed-record-mode=all under -n 3 fetches again, once for the session, not once per worker."""
    pytester.makepyfile(test_data=INNER_TESTS)
    run_xdist(pytester, emu).assert_outcomes(passed=9)
    emu.reset_stats()
    result = run_xdist(pytester, emu, "--ghseed-record-mode=all")
    result.assert_outcomes(passed=9)
    assert emu.stats.requests_by_path(f"/repos/{REPO}/pulls?") == 1, "one listing: one fetch for the session"
    assert all(emu.stats.fetch_counts.get(f"/repos/{REPO}/pulls/{n}") == 1 for n in range(1, 9))
    assert ghseed_section(result)[0].startswith(f"{REPO} ({REPO}): fetched, 8 PRs")
