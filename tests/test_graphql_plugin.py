"""The plugin's --ghseed-api option and ghseed_api ini key, through pytest itself (pytester)."""

from __future__ import annotations

import pytest

# In-process runs drop the modules they imported when they end (pytester's sys.modules snapshot): the
# emulator, in this process, would then meet a second graphql-core. Import them here, once.
import pytest_ghseed.cache.cassettes
import pytest_ghseed.emulator.graphql.execute
import pytest_ghseed.fetch.choose
import pytest_ghseed.seed  # noqa: F401
from pytest_ghseed.emulator import Emulator
from tests.helpers import REPO, TOKENS


@pytest.fixture
def emu(emulator_factory, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    """A small emulator of acme/widgets (6 PRs) whose tokens are in GITHUB_TOKENS."""
    monkeypatch.setenv("GITHUB_TOKENS", ",".join(TOKENS))
    return emulator_factory(n_prs=6)


def graphql_queries(emu: Emulator) -> int:
    return sum(1 for record in emu.stats.log if record.method == "POST")


@pytest.mark.parametrize("where", ["cli", "ini"])
def test_api_option_and_ini_key_fetch_through_graphql(
    pytester: pytest.Pytester, emu: Emulator, where: str
) -> None:
    """--ghseed-api=graphql (or ghseed_api = graphql) fetches through GraphQL; the fixtures get the same PRs."""
    pytester.makepyfile(
        "def test_prs(real_prs):\n"
        f"    assert [pr.number for pr in real_prs] == {[pr.number for pr in emu.truth(REPO)]}\n"
    )
    args = [f"--ghseed-project={REPO}", f"--ghseed-base-url={emu.base_url}"]
    if where == "cli":
        args.append("--ghseed-api=graphql")
    else:
        pytester.makeini("[pytest]\nghseed_api = graphql\n")
    result = pytester.runpytest_inprocess(*args)
    result.assert_outcomes(passed=1)
    assert graphql_queries(emu) > 0


@pytest.mark.parametrize(
    ("args", "ini", "expected"),
    [
        (["--ghseed-api=soap"], "", "--ghseed-api must be one of auto, rest, graphql; got 'soap'"),
        ([], "ghseed_api = soap", "ghseed_api must be one of auto, rest, graphql; got 'soap'"),
    ],
)
def test_a_bad_api_is_a_usage_error(
    pytester: pytest.Pytester, args: list[str], ini: str, expected: str
) -> None:
    """A bad --ghseed-api or ghseed_api stops pytest with the value and what fits."""
    if ini:
        pytester.makeini(f"[pytest]\n{ini}\n")
    result = pytester.runpytest_inprocess(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert expected in "\n".join(result.errlines + result.outlines)
