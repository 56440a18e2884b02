"""The `ghseed` subcommands that manage a cache: status, verify, export, clear, rebuild, demo."""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_ghseed import seed
from pytest_ghseed.cli import main
from pytest_ghseed.emulator import start
from pytest_ghseed.models import FetchParams, PullRequest, Snapshot
from pytest_ghseed.network import network_blocked
from pytest_ghseed.projects import resolve_project
from tests.helpers import REPO, make_config

GHSEED = str(Path(sys.executable).with_name("ghseed"))
FOLDER = "acme__widgets"
#: Token-shaped, so the pattern scan must find it even when no token is configured.
PLANTED = "ghp_" + "Zq8Wx2Lm" * 4 + "Rt5Y"


@pytest.fixture(scope="module")
def recorded_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """acme/widgets fetched once per module from an emulator (then stopped); tests get copies."""
    cache_dir = tmp_path_factory.mktemp("recorded") / "cache"
    with start(make_config(n_prs=8)) as emu:
        seed.ensure(
            resolve_project(REPO),
            cache_dir,
            FetchParams(max_prs=None),
            options=seed.FetchOptions(base_url=emu.base_url, tokens=["tok-alice-1"]),
        )
    return cache_dir


@pytest.fixture
def cache(recorded_cache: Path, tmp_path: Path) -> Path:
    """A private copy of the recorded cache dir (conftest's clean_env leaves no token in the environment)."""
    return Path(shutil.copytree(recorded_cache, tmp_path / "cache"))


def load_snapshot(cache_dir: Path) -> Snapshot:
    return Snapshot.from_dict(json.loads((cache_dir / FOLDER / "snapshot.json").read_text()))


# -- status ------------------------------------------------------------------------------------------


def test_status_json_reports_counts_sizes_and_a_complete_fetch(
    cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`status --json` gives repository, PR count, params, sizes, checkpoint state and schema version."""
    assert main(["status", "--cache-dir", str(cache), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    (project,) = data["projects"]
    assert project["repository"] == REPO
    assert project["pr_count"] == 8
    assert project["params"]["max_prs"] is None
    assert project["bytes"]["cassettes"] > 0
    assert project["bytes"]["snapshot"] > 0
    assert project["checkpoint"] == {"state": "complete", "plan": None, "fetched": None}
    assert project["schema_version"] == 1
    assert project["age_seconds"] >= 0


def test_status_table_shows_an_interrupted_fetch(cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An unfinished checkpoint shows as `interrupted fetched/plan`, counting the data log too."""
    from pytest_ghseed.checkpoint import Checkpoint

    folder = cache / FOLDER
    checkpoint = Checkpoint.open(folder / "checkpoint.json", repo=REPO, params={"max_prs": 5})
    checkpoint.set_plan([1, 2, 3, 4, 5], 5)
    checkpoint.record_pr(1, {})
    checkpoint.record_pr(2, {})  # in the data log only: the JSON is saved every few records
    with (folder / "checkpoint.prs.jsonl").open("a") as log:
        log.write('{"numb')  # a kill mid-append
    assert main(["status", REPO, "--cache-dir", str(cache)]) == 0
    out = capsys.readouterr().out
    header, row = out.splitlines()
    assert header.split()[:3] == ["PROJECT", "REPOSITORY", "PRS"]
    assert "interrupted 2/5" in row
    assert REPO in row
    assert row.index(REPO, len(REPO)) == header.index("REPOSITORY"), "columns are aligned"
    assert "max_prs=all" in row


def test_status_of_an_unknown_project_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Asking for a project without a cache exits 1 with the command that records it."""
    assert main(["status", "posthog", "--cache-dir", str(tmp_path)]) == 1
    assert "ghseed fetch posthog" in capsys.readouterr().err


# -- verify ------------------------------------------------------------------------------------------


def test_verify_passes_on_a_fresh_cache(cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A cache as fetched is sound and clean: exit 0 with a short OK summary."""
    assert main(["verify", "--cache-dir", str(cache)]) == 0
    assert "OK: 1 project(s), 8 PRs" in capsys.readouterr().out


def plant_in_cassette(cache: Path, secret: str) -> Path:
    """Put ``secret`` into a PR title inside a gzip cassette; return the cassette."""
    snapshot = load_snapshot(cache)
    pr = snapshot.prs[0]
    path = cache / FOLDER / "cassettes" / f"pr-{pr.number:06d}.json.gz"
    text = gzip.decompress(path.read_bytes()).decode()
    assert pr.title in text
    path.write_bytes(gzip.compress(text.replace(pr.title, f"{pr.title} {secret}").encode()))
    return path


def test_verify_finds_planted_tokens_and_shows_them_masked(
    cache: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tokens planted in a gzip cassette and in the snapshot: exit 1, file and line named, only masked."""
    cassette = plant_in_cassette(cache, PLANTED)
    configured = "tok-alice-1-secret-value"
    monkeypatch.setenv("GITHUB_TOKENS", f"tok-bob-other,{configured}")
    snapshot_path = cache / FOLDER / "snapshot.json"
    snapshot_path.write_text(snapshot_path.read_text().replace('"title":"', f'"title":"{configured} ', 1))
    assert main(["verify", "--cache-dir", str(cache)]) == 1
    out, err = capsys.readouterr()
    assert PLANTED not in out + err
    assert configured not in out + err
    assert f"{cassette}:1: col " in out
    assert "a token-shaped string (ghp_…(40 chars))" in out
    assert f"{snapshot_path}:1: col " in out
    assert f"a configured token (…({len(configured)} chars))" in out
    assert "verify found" in err


def test_verify_reports_integrity_problems_without_changing_files(
    cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A wrong pr_count and a missing cassette are both reported, and verify moves no file."""
    folder = cache / FOLDER
    metadata = json.loads((folder / "metadata.json").read_text())
    metadata["pr_count"] = 99
    (folder / "metadata.json").write_text(json.dumps(metadata))
    snapshot = load_snapshot(cache)
    (folder / "cassettes" / f"pr-{snapshot.prs[-1].number:06d}.json.gz").unlink()
    before = sorted(p.name for p in folder.rglob("*"))
    assert main(["verify", REPO, "--cache-dir", str(cache)]) == 1
    out = capsys.readouterr().out
    assert "pr_count 99 but snapshot.json holds 8" in out
    assert f"no cassette for PR(s) #{snapshot.prs[-1].number}" in out
    assert sorted(p.name for p in folder.rglob("*")) == before


def test_verify_finds_a_snapshot_that_disagrees_with_its_cassettes(
    cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Editing a value in the snapshot alone is caught by comparing with the rebuild from cassettes."""
    path = cache / FOLDER / "snapshot.json"
    data = json.loads(path.read_text())
    data["prs"][0]["additions"] += 1
    path.write_text(json.dumps(data))
    assert main(["verify", "--cache-dir", str(cache)]) == 1
    assert f"PR(s) #{data['prs'][0]['number']} differ from their cassettes" in capsys.readouterr().out


# -- export ------------------------------------------------------------------------------------------


def test_export_jsonl_to_stdout(cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """JSON lines: one whole PR per line (body, reviews, commits, files, comments), in PR order."""
    assert main(["export", REPO, "--format", "jsonl", "--cache-dir", str(cache)]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    snapshot = load_snapshot(cache)
    assert [row["number"] for row in rows] == [pr.number for pr in snapshot.prs]
    assert rows == [pr.to_dict() for pr in snapshot.prs]
    assert PullRequest.from_dict(rows[0]) == snapshot.prs[0]


def test_export_csv_to_a_file(cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """CSV to --output: a header and one row per PR, written atomically (no temp file left)."""
    output = tmp_path / "out" / "prs.csv"
    assert main(["export", REPO, "--format", "csv", "--output", str(output), "--cache-dir", str(cache)]) == 0
    rows = list(csv.DictReader(io.StringIO(output.read_text())))
    assert len(rows) == 8
    assert rows[0]["number"] == str(load_snapshot(cache).prs[0].number)
    assert [p.name for p in output.parent.iterdir()] == ["prs.csv"]
    assert "wrote 8 PRs" in capsys.readouterr().err


def test_export_rejects_an_unknown_format(cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--format outside jsonl/csv is a usage error."""
    assert main(["export", REPO, "--format", "xml", "--cache-dir", str(cache)]) == 2
    assert "invalid choice: 'xml'" in capsys.readouterr().err


# -- clear -------------------------------------------------------------------------------------------


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_clear_without_yes_off_a_terminal_refuses(
    cache: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a terminal and without --yes, clear exits 2, says to pass --yes and removes nothing."""
    monkeypatch.setattr(sys, "stdin", io.StringIO("y\n"))
    assert main(["clear", REPO, "--cache-dir", str(cache)]) == 2
    assert "pass --yes" in capsys.readouterr().err
    assert (cache / FOLDER / "snapshot.json").exists()


def test_clear_asks_on_a_terminal(
    cache: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a terminal "n" keeps the folder; "y" removes it and its lock file, leaving other files alone."""
    (cache / "keep.txt").write_text("not ours")
    monkeypatch.setattr(sys, "stdin", _Terminal("n\n"))
    assert main(["clear", REPO, "--cache-dir", str(cache)]) == 0
    assert (cache / FOLDER).is_dir()
    monkeypatch.setattr(sys, "stdin", _Terminal("y\n"))
    assert main(["clear", REPO, "--cache-dir", str(cache)]) == 0
    assert not (cache / FOLDER).exists()
    assert [p.name for p in cache.iterdir() if p.name.startswith(".")] == [], "no lock files in the cache dir"
    assert (cache / "keep.txt").exists()
    assert "[y/N]" in capsys.readouterr().err


def test_clear_refuses_a_folder_without_the_marker(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A folder pytest-ghseed did not create (no CACHEDIR.TAG) is never removed, even with --yes."""
    folder = tmp_path / FOLDER
    folder.mkdir()
    (folder / "precious.txt").write_text("keep me")
    assert main(["clear", REPO, "--yes", "--cache-dir", str(tmp_path)]) == 1
    assert "no pytest-ghseed CACHEDIR.TAG" in capsys.readouterr().err
    assert (folder / "precious.txt").exists()


# -- rebuild -----------------------------------------------------------------------------------------


def test_rebuild_restores_the_snapshot_from_cassettes_with_the_network_blocked(
    cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With snapshot.json deleted, rebuild recreates the same snapshot; metadata keeps its recorded date."""
    folder = cache / FOLDER
    before = load_snapshot(cache)
    recorded_at = json.loads((folder / "metadata.json").read_text())["recorded_at"]
    (folder / "snapshot.json").unlink()
    assert main(["rebuild", REPO, "--cache-dir", str(cache)]) == 0
    assert "8 PRs" in capsys.readouterr().out
    assert [pr.to_dict() for pr in load_snapshot(cache).prs] == [pr.to_dict() for pr in before.prs]
    metadata = json.loads((folder / "metadata.json").read_text())
    assert metadata["recorded_at"] == recorded_at
    assert metadata["pr_count"] == 8


def test_network_blocked_refuses_connections_and_restores_them() -> None:
    """Inside the guard every connect fails; after it, sockets work again."""
    with network_blocked(), pytest.raises(OSError, match="network access is blocked"):
        socket.create_connection(("127.0.0.1", 9))
    with network_blocked(), socket.socket() as sock, pytest.raises(OSError, match="blocked"):
        sock.connect(("127.0.0.1", 9))
    assert socket.socket.connect is not None
    assert "refuse" not in socket.create_connection.__name__


def test_rebuild_without_cassettes_exits_1(cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """No cassettes to rebuild from: exit 1 with a message naming the folder."""
    for path in (cache / FOLDER / "cassettes").iterdir():
        path.unlink()
    assert main(["rebuild", REPO, "--cache-dir", str(cache)]) == 1
    assert "no cassettes in" in capsys.readouterr().err


def test_rebuild_with_a_corrupt_cassette_exits_1(cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A cassette that is not gzip: exit 1 naming it, no traceback."""
    victim = sorted((cache / FOLDER / "cassettes").iterdir())[-1]
    victim.write_bytes(b"not gzip at all")
    assert main(["rebuild", REPO, "--cache-dir", str(cache)]) == 1
    err = capsys.readouterr().err
    assert victim.name in err
    assert "corrupt" in err
    assert "Traceback" not in err


# -- demo, help, and the console script ---------------------------------------------------------------


@pytest.mark.slow
def test_demo_fetches_then_replays_offline(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`ghseed demo` records the built-in demo and summarizes the replay: PRs, reviews, top authors."""
    assert main(["demo", "--cache-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "ghseed/demo: 60 PRs fetched" in out
    assert "reviews:" in out
    assert "top authors:" in out
    assert (tmp_path / "demo" / "snapshot.json").is_file()


@pytest.mark.parametrize("command", ["status", "verify", "serve", "export", "clear", "rebuild", "demo"])
def test_every_subcommand_has_help_with_an_example(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    """`ghseed COMMAND --help` exits 0, documents --cache-dir and shows an example."""
    assert main([command, "--help"]) == 0
    out = capsys.readouterr().out
    assert "--cache-dir" in out
    assert "example" in out


def test_verify_help_carries_a_pre_commit_hook(capsys: pytest.CaptureFixture[str]) -> None:
    """The verify epilog holds a ready pre-commit hook entry."""
    assert main(["verify", "--help"]) == 0
    out = capsys.readouterr().out
    assert "id: ghseed-verify" in out
    assert "entry: ghseed verify" in out
    assert "pass_filenames: false" in out


def test_console_script_status_and_verify(cache: Path) -> None:
    """The installed `ghseed` script runs status and verify in a subprocess and exits 0."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    status = subprocess.run(
        [GHSEED, "status", "--cache-dir", str(cache)], capture_output=True, text=True, env=env, timeout=60
    )
    assert status.returncode == 0, status.stderr
    assert REPO in status.stdout
    plant_in_cassette(cache, PLANTED)
    verify = subprocess.run(
        [GHSEED, "verify", "--cache-dir", str(cache)], capture_output=True, text=True, env=env, timeout=60
    )
    assert verify.returncode == 1
    assert PLANTED not in verify.stdout + verify.stderr
    assert "Traceback" not in verify.stderr
