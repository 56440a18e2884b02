"""The attack run: every hostile input of issue 11, one line each, as a user would meet them.

Run it whole with ``python -m tests.attacks`` (it prints one line per attack: outcome, exit code, time
and the first line the tool printed); ``tests/test_attacks.py`` runs each attack as a test.

Every attack runs the real ``ghseed`` command (or pytest) in a subprocess, against the emulator or a
misbehaving proxy in front of it (``tests/hostile.py``), or on a cache with a hostile file planted,
with four tokens of four shapes in the environment. Each is checked the same way: the documented exit
code, no traceback, no token anywhere in the output or under the work folder (raw, base64, prefixed
forms, gzip decompressed), a bounded time, and afterwards a cache that is as before or healed by the
next ordinary run (``ghseed fetch`` against the plain emulator, then ``ghseed verify``).
"""

from __future__ import annotations

import functools
import gzip
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_ghseed.emulator import Emulator, start
from pytest_ghseed.secrets import encoded_forms
from tests import hostile
from tests.helpers import REPO, make_config

GHSEED = str(Path(sys.executable).with_name("ghseed"))
FOLDER = "acme__widgets"
#: Four shapes of token: a classic PAT, a fine-grained PAT, an App installation token, and an old
#: installation token (``v1.`` + 40 hex) that no pattern recognises: only the pool's own values do.
TOKENS = {
    "ghp_" + "Cl4ss1cT0k3n" * 3: "alice",
    "github_pat_11ABCDEFG0" + "_FineGrained9" * 6: "bob",
    "ghs_" + "1nst4ll4t10n" * 3: "carol",
    "v1." + "0123456789abcdef" * 2 + "01234567": "dave",
}
#: Seconds an attack may take before it counts as a hang.
TIME_LIMIT = 45.0


@dataclass
class Run:
    """One subprocess: exit code, output, seconds, and (when measured) peak memory in MiB."""

    code: int
    out: str
    err: str
    seconds: float
    peak_mib: float | None = None

    @property
    def text(self) -> str:
        return self.out + self.err

    @property
    def first_line(self) -> str:
        lines = [line for line in self.err.splitlines() + self.out.splitlines() if line.startswith("ghseed")]
        return (lines or (self.err + self.out).splitlines() or [""])[-1][:140]


@dataclass
class Lab:
    """An attack's work folder, its emulator, and ways to run the tool there."""

    root: Path
    emulator: Emulator
    runs: list[Run] = field(default_factory=list)

    @property
    def cache(self) -> Path:
        return self.root / "cache"

    @property
    def folder(self) -> Path:
        return self.cache / FOLDER

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "CI"))}
        env["GITHUB_TOKENS"] = ",".join(TOKENS)
        env.update(extra)
        return env

    def ghseed(self, *args: str, timeout: float = TIME_LIMIT, **env: str) -> Run:
        return self.run([GHSEED, *args], timeout=timeout, env=self.env(**env))

    def fetch(self, base_url: str | None = None, *extra: str, **env: str) -> Run:
        base = base_url or self.emulator.base_url
        args = ["fetch", REPO, "--base-url", base, "--cache-dir", str(self.cache), "--max-wait", "5", *extra]
        return self.ghseed(*args, **env)

    def run(self, argv: list[str], *, timeout: float, env: dict[str, str], cwd: Path | None = None) -> Run:
        started = time.monotonic()
        process = subprocess.Popen(
            argv, env=env, cwd=cwd or self.root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        try:
            out, err = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            out, err = process.communicate()
            err += f"\n[attacks] killed after {timeout:.0f}s: a hang"
        run = Run(process.returncode, out, err, time.monotonic() - started)
        self.runs.append(run)
        return run


def measure_peak(argv: list[str], env: dict[str, str], timeout: float) -> Run:
    """Run ``argv`` and read its own peak RSS from ``wait4`` (kilobytes on Linux)."""
    started = time.monotonic()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen(argv, env=env, stdout=out, stderr=err, text=True)
        deadline = started + timeout
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                process.kill()
                pid, status, usage = os.wait4(process.pid, 0)
                break
            time.sleep(0.02)
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Run(
            process.returncode, out.read(), err.read(), time.monotonic() - started, usage.ru_maxrss / 1024
        )


# -- the checks every attack gets ----------------------------------------------------------------------------


def secret_forms() -> list[str]:
    forms: list[str] = []
    for token in TOKENS:
        forms.append(token)
        forms.extend(encoded_forms(token))
    return forms


def files_under(root: Path) -> Iterator[tuple[Path, str]]:
    for path in root.rglob("*"):
        if not path.is_file() or path.is_symlink() or path.stat().st_size > 64 * 1024 * 1024:
            continue
        raw = path.read_bytes()
        yield path, raw.decode("utf-8", errors="replace")
        if path.name.endswith(".gz") or ".gz." in path.name:
            inflater = zlib.decompressobj(wbits=31)
            try:
                yield path, inflater.decompress(raw, 64 * 1024 * 1024).decode("utf-8", errors="replace")
            except zlib.error:
                continue


def leaks(lab: Lab) -> list[str]:
    forms = secret_forms()
    found = [f"output of run {i + 1}" for i, run in enumerate(lab.runs) if any(f in run.text for f in forms)]
    for path, text in files_under(lab.root):
        if any(form in text for form in forms):
            found.append(str(path.relative_to(lab.root)))
    return found


def heals(lab: Lab, first: tuple[str, ...] = (), *, truth: bool = True) -> list[str]:
    """After the attack, an ordinary run puts the cache right: fetch from the emulator, then verify.

    ``first``: a command the user is told to run before (``rebuild``, which sets a corrupt cassette aside).
    """
    problems = []
    if first:
        lab.ghseed(*first, REPO, "--cache-dir", str(lab.cache))
    fetch = lab.fetch()
    if fetch.code != 0:
        problems.append(f"the next fetch failed ({fetch.code}): {fetch.first_line}")
    verify = lab.ghseed("verify", "--cache-dir", str(lab.cache))
    if verify.code != 0:
        problems.append(f"verify after the next fetch failed: {verify.text.strip()[-600:]}")
    snapshot = lab.folder / "snapshot.json"
    if truth and fetch.code == 0 and snapshot.is_file():
        prs = json.loads(snapshot.read_text())["prs"]
        if prs != [pr.to_dict() for pr in lab.emulator.truth(REPO)]:
            problems.append("the healed snapshot differs from the truth")
    return problems


# -- attacks ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attack:
    name: str
    act: Callable[[Lab], Run]
    code: int
    says: str
    heal: bool = True
    #: The command a message tells the user to run before the next fetch, if any.
    heal_first: tuple[str, ...] = ()
    #: Whether the healed snapshot must equal the emulator's truth (not when the attack changed the data
    #: legitimately, e.g. a secret planted in a body, which is recorded scrubbed).
    truth: bool = True
    #: Checked on the attacked run, e.g. a memory bound.
    extra: Callable[[Lab, Run], list[str]] | None = None


def through(mode: hostile.Mode, *extra: str) -> Callable[[Lab], Run]:
    """A fetch through the misbehaving proxy in ``mode``."""

    def act(lab: Lab) -> Run:
        with hostile.Hostile(lab.emulator.base_url, mode) as proxy:
            return lab.fetch(proxy.base_url, *extra)

    return act


def recorded(change: Callable[[Lab], None], *command: str) -> Callable[[Lab], Run]:
    """Record the project, plant something hostile with ``change``, then run ``ghseed COMMAND``."""

    def act(lab: Lab) -> Run:
        first = lab.fetch()
        assert first.code == 0, first.err
        lab.runs.clear()
        change(lab)
        if command == ("fetch",):
            return lab.fetch()
        return lab.ghseed(*(arg.replace("{cache}", str(lab.cache)) for arg in command))

    return act


def plant_json(name: str, text: str) -> Callable[[Lab], None]:
    def change(lab: Lab) -> None:
        (lab.folder / name).write_text(text)

    return change


def edit_snapshot(edit: Callable[[dict[str, Any]], None]) -> Callable[[Lab], None]:
    def change(lab: Lab) -> None:
        path = lab.folder / "snapshot.json"
        data = json.loads(path.read_text())
        edit(data)
        path.write_text(json.dumps(data))

    return change


def plant_cassette(
    payload: bytes | Callable[[], bytes], name: str = "pr-000002.json.gz"
) -> Callable[[Lab], None]:
    """Write ``payload`` (or what calling it gives, built only when the attack runs) over a cassette."""

    def change(lab: Lab) -> None:
        (lab.folder / "cassettes" / name).write_bytes(payload if isinstance(payload, bytes) else payload())

    return change


@functools.cache
def gzip_bomb(size: int = 1024**3) -> bytes:
    """About 1 MB of gzip that inflates to ``size`` bytes of zeros (6 s of CPU: built once, when used)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = b"\0" * (1024 * 1024)
    parts = [compressor.compress(chunk) for _ in range(size // len(chunk))]
    parts.append(compressor.flush())
    return b"".join(parts)


def bomb_verify(lab: Lab) -> Run:
    first = lab.fetch()
    assert first.code == 0, first.err
    lab.runs.clear()
    plant_cassette(gzip_bomb)(lab)
    run = measure_peak([GHSEED, "verify", "--cache-dir", str(lab.cache)], lab.env(), TIME_LIMIT)
    lab.runs.append(run)
    return run


def under_200_mib(lab: Lab, run: Run) -> list[str]:
    return [] if run.peak_mib is not None and run.peak_mib < 200 else [f"peak RSS {run.peak_mib} MiB"]


def interruptible() -> None:
    """In the child, before exec: Ctrl-C back to its default, whatever this process inherited.

    A shell without job control starts background commands with SIGINT ignored, and a Python started
    with SIGINT ignored keeps ignoring it: the suite run that way (``pytest ... &``) would test the
    shell, not ghseed's handling of one Ctrl-C.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def ctrl_c(lab: Lab) -> Run:
    """One SIGINT while every worker waits on a silent server: the command ends at once."""
    with hostile.Hostile(lab.emulator.base_url, hostile.silent_details) as proxy:
        args = [GHSEED, "fetch", REPO, "--base-url", proxy.base_url, "--cache-dir", str(lab.cache)]
        started = time.monotonic()
        process = subprocess.Popen(
            args,
            env=lab.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=interruptible,
        )
        time.sleep(2.0)  # the probes are done, the workers sit in requests that never end
        process.send_signal(signal.SIGINT)
        try:
            out, err = process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            out, err = process.communicate()
            err += "\n[attacks] still running 10 s after one Ctrl-C"
        run = Run(process.returncode, out, err, time.monotonic() - started - 2.0)
        lab.runs.append(run)
        return run


def in_mount(options: str, *command: str) -> Callable[[Lab], Run]:
    """``ghseed`` with its cache dir on a tmpfs mounted with ``options``, in a private mount namespace."""

    def act(lab: Lab) -> Run:
        lab.cache.mkdir(parents=True, exist_ok=True)
        inner = " ".join(
            [
                GHSEED,
                *command,
                REPO,
                "--base-url",
                lab.emulator.base_url,
                "--cache-dir",
                str(lab.cache),
                "--max-wait",
                "5",
            ]
        )
        script = f"mount -t tmpfs -o {options} tmpfs {lab.cache} && exec {inner}"
        return lab.run(["unshare", "-m", "sh", "-c", script], timeout=TIME_LIMIT, env=lab.env())

    return act


def cache_dir_is_a_file(lab: Lab) -> Run:
    lab.cache.parent.mkdir(parents=True, exist_ok=True)
    lab.cache.write_text("not a folder")
    run = lab.fetch()
    lab.cache.unlink()
    return run


def rebuild_after_interrupted_fetch(lab: Lab) -> Run:
    with hostile.Hostile(lab.emulator.base_url, hostile.retry_after_huge) as proxy:
        lab.fetch(proxy.base_url)  # fails after planning: checkpoint and listing, no metadata
    lab.runs.clear()
    return lab.ghseed("rebuild", REPO, "--cache-dir", str(lab.cache))


def crash_between_snapshot_and_metadata(lab: Lab) -> Run:
    """The snapshot of a later recording is on disk, its metadata is not: the next run repairs it."""
    first = lab.fetch()
    assert first.code == 0, first.err
    saved_metadata = (lab.folder / "metadata.json").read_bytes()
    lab.emulator.project(REPO).update_pull(1, title="Retitled while we were away")
    lab.fetch(None, "--record-mode", "all")
    (lab.folder / "metadata.json").write_bytes(saved_metadata)  # as if killed before its write
    lab.runs.clear()
    return lab.fetch()


def leftovers(lab: Lab) -> Run:
    """Temp files, a staging folder and a saved-but-not-discarded checkpoint, as kills leave them."""
    first = lab.fetch()
    assert first.code == 0, first.err
    (lab.folder / ".snapshot.json.abc123.tmp").write_text("{half")
    (lab.folder / "cassettes" / ".pr-000001.json.gz.xyz.tmp").write_bytes(b"\x1f\x8b")
    staging = lab.cache / f".{FOLDER}.k2j3h4g5"
    staging.mkdir()
    shutil.copy(lab.folder / "CACHEDIR.TAG", staging / "CACHEDIR.TAG")
    status = lab.ghseed("status", "--cache-dir", str(lab.cache))
    verify = lab.ghseed("verify", "--cache-dir", str(lab.cache))
    if status.code or verify.code:
        return status if status.code else verify
    lab.runs.clear()
    run = lab.fetch()
    left = [p.name for p in lab.cache.rglob("*") if p.name.endswith(".tmp")] + (
        [staging.name] if staging.exists() else []
    )
    if left:
        run.err += f"\n[attacks] still there: {left}"
        run.code = 99
    return run


def pytest_long_locals(lab: Lab) -> Run:
    """``pytest --tb=long -l`` on a fetch that crashes inside: no token in what pytest prints."""
    project = lab.root / "suite"
    project.mkdir()
    (project / "conftest.py").write_text(
        "import pytest_ghseed.fetch.fetcher as fetcher\n\n"
        "def crash(self, number, previous=None):\n"
        "    pool = self.client.pool\n"
        "    accounts = list(pool.accounts)\n"
        "    raise RuntimeError(f'simulated bug while fetching #{number} with {accounts!r}')\n\n"
        "fetcher.Fetcher.fetch_pull = crash\n"
    )
    (project / "test_it.py").write_text("def test_uses_the_data(real_prs):\n    assert real_prs\n")
    argv = [
        sys.executable,
        "-m",
        "pytest",
        "--tb=long",
        "-l",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:randomly",
        f"--ghseed-project={REPO}",
        f"--ghseed-base-url={lab.emulator.base_url}",
        f"--ghseed-cache-dir={lab.cache}",
        "-o",
        "addopts=",
        "test_it.py",
    ]
    return lab.run(argv, timeout=TIME_LIMIT, env=lab.env(), cwd=project)


def pytest_echoed_token(lab: Lab) -> Run:
    """pytest on a server that echoes the token in an error body: the failure shows it masked."""
    project = lab.root / "suite"
    project.mkdir()
    (project / "test_it.py").write_text("def test_uses_the_data(real_prs):\n    assert real_prs\n")
    with hostile.Hostile(lab.emulator.base_url, hostile.echo_token_403) as proxy:
        argv = [
            sys.executable,
            "-m",
            "pytest",
            "--tb=long",
            "-l",
            "-p",
            "no:cacheprovider",
            f"--ghseed-project={REPO}",
            f"--ghseed-base-url={proxy.base_url}",
            f"--ghseed-cache-dir={lab.cache}",
            "-o",
            "addopts=",
            "test_it.py",
        ]
        return lab.run(argv, timeout=TIME_LIMIT, env=lab.env(), cwd=project)


def hostile_clients_of_serve(lab: Lab) -> Run:
    """``ghseed serve`` meets a Content-Length of ``abc`` and of ``1e12``, and a forged Host header."""
    import http.client
    import socket

    first = lab.fetch()
    assert first.code == 0, first.err
    lab.runs.clear()
    argv = [GHSEED, "serve", REPO, "--cache-dir", str(lab.cache)]
    process = subprocess.Popen(
        argv,
        env=lab.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=interruptible,
    )
    started = time.monotonic()
    notes: list[str] = []
    try:
        assert process.stdout is not None
        line = process.stdout.readline()  # "ghseed: serving acme/widgets from ... at http://127.0.0.1:PORT"
        port = int(line.rsplit(":", 1)[1])
        for length in ("abc", "1000000000000"):
            with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
                sock.sendall(
                    f"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n\r\n{{}}".encode()
                )
                status = sock.recv(4096).split(b"\r\n", 1)[0].decode()
                notes.append(f"Content-Length {length}: {status}")
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", f"/repos/{REPO}", headers={"Host": "evil.example"})
        body = connection.getresponse().read().decode()
        notes.append("forged Host copied into bodies" if "evil.example" in body else "forged Host ignored")
        connection.close()
        time.sleep(0.2)
        alive = process.poll() is None
        notes.append("server still serving" if alive else "server died")
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=10)
    run = Run(process.returncode, out + "\n".join(notes), err, time.monotonic() - started)
    lab.runs.append(run)
    return run


def pytest_cache_dir_is_a_file(lab: Lab) -> Run:
    """Under pytest, a cache dir that is a file fails the test with one clear line."""
    project = lab.root / "suite"
    project.mkdir()
    (project / "cassettes").write_text("not a folder")
    (project / "test_it.py").write_text("def test_uses_the_data(real_prs):\n    assert real_prs\n")
    argv = [
        sys.executable,
        "-m",
        "pytest",
        "--tb=long",
        "-l",
        "-p",
        "no:cacheprovider",
        f"--ghseed-project={REPO}",
        f"--ghseed-base-url={lab.emulator.base_url}",
        "-o",
        "addopts=",
        "test_it.py",
    ]
    return lab.run(argv, timeout=TIME_LIMIT, env=lab.env(), cwd=project)


def deep(levels: int = 100_000) -> str:
    return "[" * levels + "]" * levels


ATTACKS: list[Attack] = [
    # -- secrets
    Attack("echo-token-in-401", through(hostile.echo_token_401), 2, "no usable token among the 4 given"),
    Attack("echo-token-in-403", through(hostile.echo_token_403), 1, "permission denied (HTTP 403)"),
    Attack("token-in-link-header", through(hostile.link_access_token), 0, "PRs fetched"),
    Attack("base64-token-in-body", through(hostile.base64_token_in_body), 0, "PRs fetched", truth=False),
    Attack("pytest-tb-long-locals", pytest_long_locals, 1, "unexpected error while getting acme/widgets"),
    Attack("pytest-echoed-token", pytest_echoed_token, 1, "permission denied"),
    # -- malformed answers
    Attack("pull-list-is-a-dict", through(hostile.pulls_list_dict), 1, "is not a list of pull requests"),
    Attack("pull-list-of-strings", through(hostile.pulls_list_strings), 1, "is not a list of pull requests"),
    Attack("pull-detail-is-a-list", through(hostile.detail_list), 1, "is not pull request #"),
    Attack("pull-without-id", through(hostile.detail_without("id")), 1, "missing 'id'"),
    Attack(
        "pull-without-created-at", through(hostile.detail_without("created_at")), 1, "created_at is missing"
    ),
    Attack("additions-1e400", through(hostile.additions_1e400), 1, "OverflowError"),
    Attack("json-200000-deep", through(hostile.deep_json), 1, "nested too deeply"),
    Attack(
        "redirect-to-other-host",
        through(hostile.redirect_other_host),
        1,
        "to another host (http://127.0.0.2:9)",
    ),
    Attack("redirect-loop", through(hostile.redirect_loop), 1, "in a loop"),
    Attack("redirect-302-same-host", through(hostile.redirect_same_host(302)), 0, "PRs fetched"),
    Attack("redirect-307-same-host", through(hostile.redirect_same_host(307)), 0, "PRs fetched"),
    Attack("user-answers-html", through(hostile.user_html), 0, "PRs fetched"),
    # -- loops that never end
    Attack("link-next-to-itself", through(hostile.link_self_loop), 1, "goes round in a circle"),
    Attack("retry-after-1e9", through(hostile.retry_after_huge), 1, "longer than max_wait=5s"),
    Attack("rate-limit-0-reset-past", through(hostile.rate_limit_zero), 2, "rate limit of 0 requests"),
    Attack("always-202", through(hostile.always_202), 1, "longer than max_wait=5s"),
    Attack("one-ctrl-c", ctrl_c, 130, "interrupted; finished work is kept"),
    # -- data of another repository
    Attack(
        "repository-of-another-name",
        through(hostile.other_repository),
        1,
        "with another repository ('evil/other')",
    ),
    Attack("pull-of-another-repository", through(hostile.pr_of_other_repository), 1, "one of 'evil/other'"),
    # -- untrusted cache files
    Attack("gzip-bomb-verify", bomb_verify, 1, "a gzip bomb", heal_first=("rebuild",), extra=under_200_mib),
    Attack(
        "gzip-bomb-rebuild",
        recorded(plant_cassette(gzip_bomb), "rebuild", REPO, "--cache-dir", "{cache}"),
        1,
        "moved aside",
    ),
    Attack(
        "metadata-100000-deep",
        recorded(plant_json("metadata.json", deep()), "verify", "--cache-dir", "{cache}"),
        1,
        "nested too deeply",
    ),
    Attack(
        "metadata-deep-status",
        recorded(plant_json("metadata.json", deep()), "status", "--cache-dir", "{cache}"),
        0,
        "metadata.json unreadable",
    ),
    Attack(
        "snapshot-100000-deep",
        recorded(plant_json("snapshot.json", deep()), "verify", "--cache-dir", "{cache}"),
        1,
        "snapshot.json is corrupt",
    ),
    Attack(
        "snapshot-number-1e999",
        recorded(
            plant_json("snapshot.json", '{"schema_version": 1, "prs": [{"number": 1e999}]}'),
            "verify",
            "--cache-dir",
            "{cache}",
        ),
        1,
        "snapshot.json is corrupt",
    ),
    Attack(
        "snapshot-number-abc",
        recorded(
            edit_snapshot(lambda d: d["prs"][0].update(number="abc")), "verify", "--cache-dir", "{cache}"
        ),
        1,
        "must be a whole number",
    ),
    Attack(
        "snapshot-duplicate-pr",
        recorded(edit_snapshot(lambda d: d["prs"].append(d["prs"][0])), "verify", "--cache-dir", "{cache}"),
        1,
        "more than once",
    ),
    Attack(
        "snapshot-of-evil-other",
        recorded(
            edit_snapshot(lambda d: d["repository"].update(full_name="evil/other")),
            "verify",
            "--cache-dir",
            "{cache}",
        ),
        1,
        "holds 'evil/other'",
    ),
    Attack(
        "cassette-100000-deep",
        recorded(plant_cassette(gzip.compress(deep().encode())), "verify", "--cache-dir", "{cache}"),
        1,
        "is corrupt",
        heal_first=("rebuild",),
    ),
    Attack(
        "checkpoint-100000-deep",
        recorded(plant_json("checkpoint.json", deep()), "fetch"),
        0,
        "checkpoint.json is unusable",
    ),
    Attack(
        "rebuild-sets-aside-a-corrupt-cassette",
        recorded(plant_cassette(b"\x1f\x8b not gzip"), "rebuild", REPO, "--cache-dir", "{cache}"),
        1,
        "moved aside",
    ),
    Attack(
        "clear-foreign-tag",
        recorded(
            lambda lab: (lab.folder / "CACHEDIR.TAG").write_text(
                "Signature: 8a477f597d28d172789f06886806bc55\n# cargo\n"
            ),
            "clear",
            REPO,
            "--yes",
            "--cache-dir",
            "{cache}",
        ),
        1,
        "refusing to remove",
        heal=False,
    ),
    Attack(
        "export-over-a-file",
        recorded(
            lambda lab: (lab.root / "out.csv").write_text("keep"),
            "export",
            REPO,
            "--format",
            "csv",
            "--output",
            "out.csv",
            "--cache-dir",
            "{cache}",
        ),
        2,
        "pass --force",
    ),
    Attack(
        "export-into-the-cache",
        recorded(
            lambda lab: None,
            "export",
            REPO,
            "--format",
            "csv",
            "--output",
            "cache/acme__widgets/snapshot.json",
            "--force",
            "--cache-dir",
            "{cache}",
        ),
        2,
        "inside the cache dir",
    ),
    # -- ghseed serve
    Attack(
        "serve-hostile-clients",
        hostile_clients_of_serve,
        0,
        "400 Bad Request",
        extra=lambda lab, run: [
            problem
            for problem, bad in (
                ("no 413 for a huge Content-Length", "413" not in run.out),
                ("the forged Host reached a body", "forged Host ignored" not in run.out),
                ("the server died", "server still serving" not in run.out),
            )
            if bad
        ],
    ),
    # -- the cache heals itself
    Attack("rebuild-after-interrupted-fetch", rebuild_after_interrupted_fetch, 1, "unfinished fetch"),
    Attack("killed-between-snapshot-and-metadata", crash_between_snapshot_and_metadata, 0, "wrote it again"),
    Attack("leftovers-of-kills", leftovers, 0, "left by an interrupted run"),
    # -- the file system
    Attack("cache-dir-is-a-file", cache_dir_is_a_file, 1, "is not a folder"),
    Attack("read-only-cache-dir", in_mount("size=1m,ro", "fetch"), 1, "cannot"),
    Attack("disk-full", in_mount("size=48k", "fetch"), 1, "No space left on device"),
    Attack("pytest-cache-dir-is-a-file", pytest_cache_dir_is_a_file, 1, "exists but is not a folder"),
    Attack(
        "verify-missing-cache-dir",
        lambda lab: lab.ghseed("verify", "--cache-dir", str(lab.root / "nowhere")),
        1,
        "does not exist",
        heal=False,
    ),
    Attack(
        "status-missing-cache-dir",
        lambda lab: lab.ghseed("status", "--cache-dir", str(lab.root / "nowhere")),
        1,
        "does not exist",
        heal=False,
    ),
]


def attempt(attack: Attack, root: Path) -> tuple[Run, list[str]]:
    """Run one attack in ``root``; return its run and every problem found (empty: it held)."""
    root.mkdir(parents=True, exist_ok=True)
    with start(make_config(n_prs=6, seed=11, tokens=TOKENS)) as emulator:
        lab = Lab(root, emulator)
        run = attack.act(lab)
        problems = []
        if run.code != attack.code:
            problems.append(f"exit {run.code}, expected {attack.code}: {run.first_line}")
        if attack.says not in run.text:
            problems.append(f"does not say {attack.says!r}: {run.first_line}")
        if "Traceback" in run.text:
            problems.append("a traceback")
        if run.seconds > TIME_LIMIT:
            problems.append(f"took {run.seconds:.0f}s")
        if attack.extra is not None:
            problems.extend(attack.extra(lab, run))
        if attack.heal:
            problems.extend(heals(lab, attack.heal_first, truth=attack.truth))
        problems.extend(f"a token in {where}" for where in leaks(lab))
        return run, problems


def main() -> int:
    failed = 0
    with tempfile.TemporaryDirectory(prefix="ghseed-attacks-") as tmp:
        for attack in ATTACKS:
            run, problems = attempt(attack, Path(tmp) / attack.name)
            failed += bool(problems)
            verdict = "held" if not problems else "FAILED: " + "; ".join(problems)
            peak = f" {run.peak_mib:.0f} MiB" if run.peak_mib is not None else ""
            print(
                f"{attack.name:40} exit {run.code:<3} {run.seconds:5.1f}s{peak}  {verdict}  | {run.first_line}"
            )
    print(f"{len(ATTACKS) - failed} of {len(ATTACKS)} attacks held")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
