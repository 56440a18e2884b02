"""The pseudonymization switches: ``--ghseed-pseudonymize`` and ``ghseed_pseudonymize`` (through pytester), and
``ghseed fetch --pseudonymize`` / ``ghseed status`` (through the command's ``main``), on the emulator over HTTP.
"""

from __future__ import annotations

import contextlib
import json
import shutil
from pathlib import Path

import pytest

# As in test_plugin.py: import the heavy modules once, so in-process runs share them.
import pytest_ghseed.cache.cassettes
import pytest_ghseed.factories
import pytest_ghseed.fetch.fetcher
import pytest_ghseed.seed  # noqa: F401
from pytest_ghseed.cli import main
from pytest_ghseed.emulator import Emulator
from pytest_ghseed.pseudonyms.rules import is_pseudo_login
from tests.helpers import REPO, TOKENS

with contextlib.suppress(ImportError):
    import hypothesis  # noqa: F401

FOLDER = "acme__widgets"
#: Every account the fixtures hand out is a pseudonym, the factory's too.
ONLY_PSEUDONYMS = """
from pytest_ghseed.pseudonyms.rules import is_pseudo_login

def test_people_are_pseudonyms(real_prs, real_pr_factory):
    users = [u for pr in real_prs for u in (pr.user, *(r.user for r in pr.reviews)) if u is not None]
    built = [pr.user for pr in real_pr_factory.build_batch(20) if pr.user is not None]
    assert users and built and all(is_pseudo_login(u.login) for u in users + built)
"""


@pytest.fixture
def emu(emulator_factory, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    """A small emulator of acme/widgets (6 PRs) whose tokens are in GITHUB_TOKENS; no CI."""
    monkeypatch.setenv("GITHUB_TOKENS", ",".join(TOKENS))
    return emulator_factory(n_prs=6)


def emu_args(emu: Emulator, *extra: str) -> list[str]:
    return [f"--ghseed-project={REPO}", f"--ghseed-base-url={emu.base_url}", "-p", "no:cacheprovider", *extra]


@pytest.mark.parametrize("where", ["option", "ini"])
def test_the_option_or_the_ini_key_records_pseudonyms(
    pytester: pytest.Pytester, emu: Emulator, where: str
) -> None:
    """--ghseed-pseudonymize (or ghseed_pseudonymize = true): fixtures and factory see pseudonyms; the salt stays outside."""
    pytester.makepyfile(ONLY_PSEUDONYMS)
    if where == "ini":
        pytester.makeini("[pytest]\nghseed_pseudonymize = true\n")
        result = pytester.runpytest_inprocess(*emu_args(emu))
    else:
        result = pytester.runpytest_inprocess(*emu_args(emu, "--ghseed-pseudonymize"))
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["ghseed: cache dir *, people pseudonymized"])
    metadata = json.loads((pytester.path / "cassettes" / FOLDER / "metadata.json").read_text())
    assert metadata["pseudonymized"] is True
    assert (pytester.path / ".ghseed" / "salt").is_file()
    assert not list((pytester.path / "cassettes").rglob("salt"))


def test_a_bad_ini_value_is_a_usage_error(pytester: pytest.Pytester) -> None:
    """ghseed_pseudonymize = maybe: a usage error naming the key and the value, no traceback."""
    pytester.makeini("[pytest]\nghseed_pseudonymize = maybe\n")
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*ghseed_pseudonymize must be true or false, got 'maybe'*"])
    assert "Traceback" not in result.stderr.str()


def test_a_pseudonymized_recording_replays_in_ci_without_the_salt(
    pytester: pytest.Pytester, emu: Emulator
) -> None:
    """Recorded with the option, then replayed with CI set and no .ghseed (a fresh clone): the same pseudonyms."""
    pytester.makepyfile(ONLY_PSEUDONYMS)
    pytester.runpytest_inprocess(*emu_args(emu, "--ghseed-pseudonymize")).assert_outcomes(passed=1)
    shutil.rmtree(pytester.path / ".ghseed")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CI", "true")
        result = pytester.runpytest_inprocess(*emu_args(emu))
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*acme/widgets (acme/widgets): cache, 6 PRs*0 API requests*"])


def test_ghseed_fetch_pseudonymize_then_status_and_verify(emu: Emulator, tmp_path: Path, capsys) -> None:
    """`ghseed fetch --pseudonymize` records pseudonyms; status --json says so; verify passes against the originals."""
    cache = tmp_path / "cassettes"
    args = ["fetch", REPO, "--base-url", emu.base_url, "--cache-dir", str(cache), "--pseudonymize"]
    assert main(args) == 0
    snapshot = json.loads((cache / FOLDER / "snapshot.json").read_text())
    assert all(is_pseudo_login(pr["user"]["login"]) for pr in snapshot["prs"] if pr["user"])
    capsys.readouterr()
    assert main(["status", "--cache-dir", str(cache), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["projects"][0]["pseudonymized"] is True
    assert main(["verify", "--cache-dir", str(cache)]) == 0
    assert (
        "people pseudonymized in 1 project(s), 1 checked against the list of originals"
        in capsys.readouterr().out
    )


def test_ghseed_fetch_pseudonymize_over_real_people_is_refused(emu: Emulator, tmp_path: Path, capsys) -> None:
    """`ghseed fetch --pseudonymize` into a recording of real people: exit 1, the message says how to record afresh."""
    cache = tmp_path / "cassettes"
    base = ["fetch", REPO, "--base-url", emu.base_url, "--cache-dir", str(cache)]
    assert main(base) == 0
    capsys.readouterr()
    assert main([*base, "--pseudonymize"]) == 1
    err = capsys.readouterr().err
    assert "holds a recording of real people" in err and "--pseudonymize" in err and "Traceback" not in err
