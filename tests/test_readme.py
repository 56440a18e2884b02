"""The README cannot drift from the code: every code block in it is run, or says why it is not.

Each fenced block is preceded by an HTML comment (invisible on GitHub) that says how it is checked:

- ``<!-- run: pytest ARGS -->``: the block is a test file, run by pytest with ARGS; every test passes;
- ``<!-- run: python -->``: the block runs as a script (``..., in a folder where `ghseed demo` has
  recorded the demo`` records it first);
- ``<!-- run: toml aliases -->``: the block is ``pyproject.toml`` content whose aliases resolve;
- ``<!-- run: tests/test_examples.py -->``: the commands are the ones that test runs;
- ``<!-- not run: REASON -->``: not runnable here (a token, GitHub, a Django project), and why.

A block without such a comment fails the test.
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from pytest_ghseed.projects import find_aliases, resolve_project
from tests.test_examples import README_COMMANDS

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
GHSEED = str(Path(sys.executable).with_name("ghseed"))
_BLOCK = re.compile(r"(?:<!-- (?P<how>(?:not )?run: [^>]*?) -->\n)?```(?P<lang>\w*)\n(?P<code>.*?)```", re.S)


@dataclass(frozen=True)
class Block:
    line: int
    how: str | None
    lang: str
    code: str

    @property
    def id(self) -> str:
        return f"line-{self.line}-{self.lang or 'text'}"


def blocks() -> list[Block]:
    text = README.read_text(encoding="utf-8")
    return [
        Block(text.count("\n", 0, m.start("lang")) + 1, m.group("how"), m.group("lang"), m.group("code"))
        for m in _BLOCK.finditer(text)
    ]


BLOCKS = blocks()


def test_every_block_says_how_it_is_checked() -> None:
    """No code block is left without a `run:` or `not run: why` comment."""
    unannotated = [block.id for block in BLOCKS if block.how is None]
    assert unannotated == [], f"README code blocks without a <!-- run: ... --> comment: {unannotated}"
    unexplained = [b.id for b in BLOCKS if b.how is not None and b.how.strip() == "not run:"]
    assert unexplained == [], f"say why these are not run: {unexplained}"


def test_the_two_commands_are_the_ones_the_examples_test_runs() -> None:
    """The README's two commands are, verbatim, the ones tests/test_examples.py stands for."""
    (block,) = [b for b in BLOCKS if b.how == "run: tests/test_examples.py"]
    assert tuple(line for line in block.code.splitlines() if line.strip()) == README_COMMANDS


@pytest.mark.slow
@pytest.mark.parametrize(
    "block", [b for b in BLOCKS if (b.how or "").startswith("run: pytest")], ids=lambda b: b.id
)
def test_pytest_blocks_pass(block: Block, pytester: pytest.Pytester) -> None:
    """A test-file block passes under pytest with the arguments its comment gives."""
    args = block.how.removeprefix("run: pytest").split() if block.how else []
    pytester.makepyfile(test_readme_block=block.code)
    result = pytester.runpytest_subprocess(*args, "-p", "no:cacheprovider")
    outcomes = result.parseoutcomes()
    assert result.ret == 0 and outcomes.get("passed", 0) > 0, result.stdout.str()
    assert not {"failed", "errors", "skipped"} & set(outcomes), result.stdout.str()


@pytest.mark.slow
@pytest.mark.parametrize(
    "block", [b for b in BLOCKS if (b.how or "").startswith("run: python")], ids=lambda b: b.id
)
def test_python_blocks_run(block: Block, tmp_path: Path) -> None:
    """A script block runs to the end (after recording the demo when its comment asks for it)."""
    assert block.how is not None
    if "demo" in block.how:
        recorded = subprocess.run(
            [GHSEED, "demo", "--cache-dir", "cassettes"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert recorded.returncode == 0, recorded.stderr
    done = subprocess.run(
        [sys.executable, "-c", block.code], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr


def test_alias_blocks_resolve(tmp_path: Path) -> None:
    """The aliases the README shows resolve, for the ghseed command as for pytest."""
    (block,) = [b for b in BLOCKS if b.how == "run: toml aliases"]
    (tmp_path / "pyproject.toml").write_text(block.code)
    aliases = find_aliases(tmp_path)
    assert aliases, block.code
    for name, target in aliases.items():
        assert resolve_project(name, aliases).full_name == target
