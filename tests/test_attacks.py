"""Issue 11's attack list, one test per attack: each hostile input ends clearly, bounded, without a
token anywhere, and leaves a cache that the next ordinary run puts right (see tests/attacks.py)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.attacks import ATTACKS, Attack, attempt

pytestmark = pytest.mark.slow


def _can_mount() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "-m", "sh", "-c", "mount -t tmpfs tmpfs /mnt"], capture_output=True, check=False
    )
    return probe.returncode == 0


NEEDS_MOUNT = {"read-only-cache-dir", "disk-full"}


@pytest.mark.parametrize("attack", ATTACKS, ids=[attack.name for attack in ATTACKS])
def test_attack_holds(attack: Attack, tmp_path: Path) -> None:
    """The attack ends as documented: exit code, message, no traceback, no token, bounded, healed after."""
    if attack.name in NEEDS_MOUNT and not _can_mount():
        pytest.skip("needs a private mount namespace (unshare -m, root) for a read-only or full file system")
    run, problems = attempt(attack, tmp_path)
    assert problems == [], f"{attack.name}: exit {run.code}\n{run.err}\n{run.out}"
