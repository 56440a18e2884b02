"""Project names and value parsing: presets, owner/repo, aliases, and clear usage errors."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pytest_ghseed.errors import UsageError
from pytest_ghseed.parsing import parse_choice, parse_date, parse_duration, parse_positive_int
from pytest_ghseed.projects import parse_aliases, resolve_project


def test_preset_resolves_case_insensitively() -> None:
    """`posthog` and `PostHog` both name PostHog/posthog, cached under the short name."""
    for name in ("posthog", "PostHog"):
        project = resolve_project(name)
        assert project.full_name == "PostHog/posthog"
        assert project.folder == "posthog"


def test_owner_repo_resolves_to_an_unambiguous_folder() -> None:
    """Any owner/repo works; its folder joins owner and repo with a double underscore."""
    project = resolve_project("pytest-dev/pytest-xdist")
    assert project.full_name == "pytest-dev/pytest-xdist"
    assert project.folder == "pytest-dev__pytest-xdist"


def test_alias_wins_over_presets() -> None:
    """A user alias maps a short name to owner/repo."""
    aliases = parse_aliases("# ours\nbackend = acme/backend-api\n")
    assert resolve_project("backend", aliases).full_name == "acme/backend-api"


@pytest.mark.parametrize("name", ["", "no-slash-here", "a/b/c", "-bad/repo", "owner/", "ow ner/repo"])
def test_malformed_project_names_say_what_was_expected(name: str) -> None:
    """A malformed name is a usage error that shows the value and the expected form."""
    with pytest.raises(UsageError, match="owner/repo") as info:
        resolve_project(name)
    assert info.value.exit_code == 2


def test_bad_alias_line_is_a_usage_error() -> None:
    """An alias line without `=` or with a bad target is refused with the line quoted."""
    with pytest.raises(UsageError, match="not `name = owner/repo`"):
        parse_aliases(["backend acme/backend"])


def test_value_parsers_name_the_option_and_the_value() -> None:
    """Each parser's error names the option, the allowed values and what was given."""
    assert parse_positive_int("5", "--workers") == 5
    with pytest.raises(UsageError, match=r"--workers must be a whole number of at least 1, got '0'"):
        parse_positive_int("0", "--workers")
    with pytest.raises(UsageError, match=r"--state must be one of all, open, closed; got 'merged'"):
        parse_choice("merged", ("all", "open", "closed"), "--state")
    assert parse_date("2024-01-31", "--since") == datetime(2024, 1, 31, tzinfo=UTC)
    with pytest.raises(UsageError, match="ISO date"):
        parse_date("yesterday", "--since")
    assert parse_duration("15m", "--max-age") == 900.0
    assert parse_duration("2d", "--max-age") == 172800.0
    with pytest.raises(UsageError, match="duration like"):
        parse_duration("soon", "--max-age")


def test_aliases_from_the_nearest_pyproject(tmp_path) -> None:
    """`[tool.ghseed.aliases]` in the nearest pyproject.toml (here one folder up) names projects for the CLI."""
    from pytest_ghseed.projects import find_aliases

    (tmp_path / "pyproject.toml").write_text('[tool.ghseed.aliases]\nbackend = "acme/backend-api"\n')
    inner = tmp_path / "sub"
    inner.mkdir()
    aliases = find_aliases(inner)
    assert resolve_project("backend", aliases).full_name == "acme/backend-api"
    (tmp_path / "pyproject.toml").write_text('[tool.ghseed.aliases]\nbackend = "not a repo"\n')
    with pytest.raises(UsageError, match="not `name = owner/repo`"):
        find_aliases(inner)
