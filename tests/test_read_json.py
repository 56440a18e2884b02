"""``traffic.read_json``, the one reader of GitHub's answers: ``json.loads``, lone surrogates mended.

A lone surrogate (``\\ud83d`` without its partner: half an emoji's escape) is valid JSON that no UTF-8
file can hold; it crashed the crawl writing its checkpoint, and a rebuild writing its snapshot. It now
becomes U+FFFD wherever an answer is read: in the crawl, in a rebuild, in a committed cassette.
"""

from __future__ import annotations

import gzip
import json
import math
from pathlib import Path
from typing import Any

import pytest
from github import Github
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_ghseed.cache.cassettes import read_gzip, replay_vcr
from pytest_ghseed.cache.layout import SHARD_SUFFIX, pr_shard
from pytest_ghseed.cache.rebuild import rebuild_project
from pytest_ghseed.cache.store import ProjectStore
from pytest_ghseed.models import FetchParams
from pytest_ghseed.network import network_blocked
from pytest_ghseed.projects import resolve_project
from pytest_ghseed.replay import replay_github
from pytest_ghseed.seed import FetchOptions, ensure
from pytest_ghseed.traffic import read_json
from tests import hostile
from tests.helpers import REPO, make_config

PROJECT = resolve_project(REPO)

#: JSON values as answers hold them (hypothesis's text holds no surrogate): any text, nested.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=30,
)


def same(a: Any, b: Any) -> bool:
    """Equal values of equal types all the way down (``1 == 1.0`` and ``True == 1`` do not count)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return bool(a == b)


def without_surrogates(value: Any) -> Any:
    """The oracle: each surrogate code point replaced by U+FFFD, keys and values, at every depth."""
    if isinstance(value, str):
        return "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in value)
    if isinstance(value, list):
        return [without_surrogates(v) for v in value]
    if isinstance(value, dict):
        return {without_surrogates(k): without_surrogates(v) for k, v in value.items()}
    return value


def verdict(text: str, reader: Any) -> tuple[str, Any]:
    try:
        return "value", reader(text)
    except RecursionError:
        return "error", RecursionError
    except ValueError:
        return "error", ValueError


@settings(max_examples=300, deadline=None)
@given(json_values, st.booleans(), st.integers(min_value=0, max_value=2))
def test_every_json_text_reads_as_json_loads_reads_it(value: Any, ascii_only: bool, indent: int) -> None:
    """Spelled either way (``\\u`` escapes, paired for astral characters, or characters as they are)."""
    text = json.dumps(value, ensure_ascii=ascii_only, indent=indent or None)
    assert same(read_json(text), json.loads(text))


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.sampled_from('{}[]:,"\\ -.0123456789abcdefDEuU')))
def test_any_text_gets_the_verdict_json_loads_gives_surrogates_mended(text: str) -> None:
    """Texts of JSON's characters and hex escapes: ``json.loads``'s value without surrogates, or its refusal."""
    kind, expected = verdict(text, json.loads)
    got_kind, got = verdict(text, read_json)
    assert kind == got_kind
    assert same(got, without_surrogates(expected)) if kind == "value" else got is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"title": "half an emoji \\ud83d"}', {"title": "half an emoji \ufffd"}),
        ('{"title": "\\uDE00 upper-case hex"}', {"title": "\ufffd upper-case hex"}),
        ('["\\ud83d\\ude00", "\\ude00\\ud83d"]', ["\U0001f600", "\ufffd\ufffd"]),  # a pair is one emoji
        ('{"\\ud800": [{"deep": ["\\udfff"]}]}', {"\ufffd": [{"deep": ["\ufffd"]}]}),
        ('"a \\\\ud83d that is text"', "a \\ud83d that is text"),  # an escaped backslash: no surrogate
        ('"\\ud55c\\uad6d"', "\ud55c\uad6d"),  # Hangul, escaped: no surrogate to mend
        ("NaN", math.nan),  # not JSON, but json.loads reads it, and always did
    ],
)
def test_a_lone_surrogate_becomes_the_replacement_character(text: str, expected: Any) -> None:
    assert same(read_json(text), expected)


def test_mending_goes_as_deep_as_json_loads() -> None:
    """700 levels (``json.loads`` reads about 1,000 here): one frame a level, not two."""
    text = "[" * 700 + '"\\ud800"' + "]" * 700
    value = read_json(text)
    for _ in range(700):
        (value,) = value
    assert value == "\ufffd"


@pytest.mark.parametrize(
    ("text", "error"), [("[" * 5000 + "]" * 5000, RecursionError), ("{", ValueError), ("", ValueError)]
)
def test_what_json_loads_refuses_is_refused(text: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        read_json(text)


def test_a_crawl_stores_a_lone_surrogate_as_the_replacement_character(
    emulator_factory, tmp_path: Path
) -> None:
    """PyGithub -> a real proxy -> the emulator: a PR title starting with an escaped lone surrogate is
    stored with U+FFFD in its place, by the crawl and by a rebuild from its cassettes (which keep the
    escape as it came). Before, the crawl ended in "unexpected error (UnicodeEncodeError ...)"."""
    emu = emulator_factory(make_config(n_prs=3))
    victim = emu.truth(REPO)[1]

    def half_emoji(request: hostile.Request, forward: hostile.Forward) -> hostile.Answer | None:
        if not (hostile.is_detail(request) and request.path.endswith(f"/{victim.number}")):
            return None
        answer = forward(request)
        answer.body = answer.body.replace('"title":"', '"title":"\\ud83d', 1)
        return answer

    with hostile.Hostile(emu.base_url, half_emoji) as proxy:
        result = ensure(
            PROJECT, tmp_path, FetchParams(max_prs=None), options=FetchOptions(base_url=proxy.base_url)
        )
    titles = {pr.number: pr.title for pr in result.snapshot.prs}
    assert titles[victim.number] == "\ufffd" + victim.title
    store = ProjectStore(tmp_path, PROJECT.folder)
    cassette = read_gzip(store.cassette_dir / f"{pr_shard(victim.number)}{SHARD_SUFFIX}").decode("utf-8")
    assert '\\"title\\":\\"\\\\ud83d' in cassette  # the escape as it came (inside the cassette's JSON string)
    with network_blocked():
        rebuilt = rebuild_project(store)
    assert rebuilt.prs == result.snapshot.prs


def test_a_committed_cassette_spelling_a_lone_surrogate_is_rebuilt_with_the_replacement_character(
    emulator_factory, tmp_path: Path
) -> None:
    """A cassette edited in a pull request: its own escape puts a lone surrogate into a recorded body.
    The rebuild stores U+FFFD (it crashed writing the snapshot before) and a later refresh can append
    to that cassette."""
    emu = emulator_factory(make_config(n_prs=3))
    victim = emu.truth(REPO)[0]
    ensure(PROJECT, tmp_path, FetchParams(max_prs=None), options=FetchOptions(base_url=emu.base_url))
    store = ProjectStore(tmp_path, PROJECT.folder)
    path = store.cassette_dir / f"{pr_shard(victim.number)}{SHARD_SUFFIX}"
    text = read_gzip(path).decode("utf-8")
    planted = text.replace('\\"title\\":\\"', '\\"title\\":\\"\\ud83d', 1)
    assert planted != text
    path.write_bytes(gzip.compress(planted.encode("utf-8")))
    with network_blocked():
        rebuilt = rebuild_project(store)
    assert {pr.number: pr.title for pr in rebuilt.prs}[victim.number] == "\ufffd" + victim.title
    # A user's own test replaying it reads it too, through replay_github or plain vcrpy with our
    # persister (which failed: vcrpy kept the body a str it could not encode, then wanted bytes).
    with replay_github(store.cassette_dir, victim.number) as gh:
        assert gh.get_repo(REPO).get_pull(victim.number).title == "\ufffd" + victim.title
    gh = Github(base_url=emu.base_url, retry=None, seconds_between_requests=None, lazy=True)
    with replay_vcr().use_cassette(str(path)):
        assert gh.get_repo(REPO).get_pull(victim.number).title == "\ufffd" + victim.title
    emu.project(REPO).update_pull(victim.number, title="changed upstream")
    again = ensure(
        PROJECT,
        tmp_path,
        FetchParams(max_prs=None),
        record_mode="new_episodes",
        options=FetchOptions(base_url=emu.base_url),
    )
    assert {pr.number: pr.title for pr in again.snapshot.prs}[victim.number] == "changed upstream"
    assert len(json.loads(read_gzip(path))["interactions"]) > len(json.loads(text)["interactions"])
