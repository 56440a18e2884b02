"""What a secret is, stated once: every consumer (cassettes, snapshot, checkpoint, messages, verify)
agrees on the same inputs, and a token never shows itself."""

from __future__ import annotations

import base64
import dataclasses
import gzip
import json
import pickle
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_ghseed.cache.cassettes import CassetteRecorder, load_interactions
from pytest_ghseed.cache.inspect import scan_secrets
from pytest_ghseed.cache.layout import listing_shard
from pytest_ghseed.cache.metadata import Metadata
from pytest_ghseed.cache.store import ProjectStore, dump_json, snapshot_json_pieces
from pytest_ghseed.checkpoint import Checkpoint
from pytest_ghseed.errors import SecretLeakError
from pytest_ghseed.factories import PullRequestFactory
from pytest_ghseed.fetch.ratelimit import decide
from pytest_ghseed.models import Repository, Snapshot
from pytest_ghseed.secrets import (
    PLACEHOLDER,
    REDACTED,
    TOKEN_PATTERN,
    Scrubber,
    Token,
    encoded_forms,
    fingerprint,
    mask,
    redact,
    tokens_from_env,
)
from pytest_ghseed.traffic import Exchange

ALNUM = "A1b2C3d4E5f6G7h8I9j0"
#: Token-shaped: GitHub's six formats, at the lengths GitHub issues and at the shortest we treat as one.
TOKENS = {
    "classic": "ghp_" + (ALNUM * 2)[:36],
    "oauth": "gho_" + (ALNUM * 2)[:36],
    "user-to-server": "ghu_" + (ALNUM * 2)[:36],
    "server-to-server": "ghs_" + (ALNUM * 2)[:36],
    "refresh": "ghr_" + (ALNUM * 4)[:76],
    "fine-grained": "github_pat_" + ("11ABCDEFG0" + "_" + ALNUM * 4)[:82],
    "shortest": "ghp_" + ALNUM,
}
#: Not token-shaped: too short, an unknown prefix, glued to a word, the bare prefix.
NOT_TOKENS = {
    "too-short": "ghp_" + ALNUM[:19],
    "unknown-prefix": "ghx_" + (ALNUM * 2)[:36],
    "inside-a-word": "xghp_" + (ALNUM * 2)[:36],
    "bare-prefix": "github_pat_",
}
CASES = [pytest.param(value, True, id=name) for name, value in TOKENS.items()] + [
    pytest.param(value, False, id=name) for name, value in NOT_TOKENS.items()
]


def record_one(tmp_path: Path, body: str) -> str:
    """Record one exchange whose body holds ``body``; return the cassette's stored body."""
    recorder = CassetteRecorder(tmp_path, secrets=[])
    recorder(Exchange("GET", "https://api.github.com/repos/a/b", {}, 200, {"content-type": "json"}, body))
    (interaction,) = load_interactions(tmp_path / f"{listing_shard(1)}.json.gz")
    return interaction.body


@pytest.mark.parametrize(("value", "is_token"), CASES)
def test_every_consumer_agrees_on_what_a_token_is(tmp_path: Path, value: str, is_token: bool) -> None:
    """Cassettes, snapshot scrubbing, the checkpoint guard, error messages and verify: one verdict."""
    text = f"see {value} here"
    # Cassettes (and the snapshot, which goes through the same scrubber).
    stored = record_one(tmp_path / "cassette", text)
    assert (REDACTED in stored) is is_token
    assert (value in stored) is not is_token
    assert (Scrubber().find_leak(text) is not None) is is_token
    # The checkpoint refuses to store a token anywhere in its state.
    if is_token:
        with pytest.raises(SecretLeakError, match="looks like a GitHub token"):
            Checkpoint.open(tmp_path / "cp.json", repo="a/b", params={"note": text})
    else:
        Checkpoint.open(tmp_path / "cp.json", repo="a/b", params={"note": text}).set_plan([1], 1)
    # Messages shown to a person: masked.
    message = decide(401, {}, {"message": text}, now=0, attempt=0).message
    assert (value in message) is not is_token
    assert (mask(value) in redact(text)) is is_token
    # verify, over a file holding the text.
    planted = tmp_path / "planted.json"
    planted.write_text(json.dumps({"body": text}))
    findings = list(scan_secrets(planted, []))
    assert bool(findings) is is_token
    assert all(value not in finding.describe() for finding in findings)


@pytest.mark.parametrize("prefix", ["", "x-access-token:", "token ", "user:"])
def test_base64_forms_of_a_pool_token_are_scrubbed_and_found(tmp_path: Path, prefix: str) -> None:
    """A pool token inside base64 (Basic auth, git credentials) is replaced, and verify finds it."""
    token = "tok-" + ALNUM  # not token-shaped: only the pool's own value can be recognised
    encoded = base64.b64encode(f"{prefix}{token}".encode()).decode()
    scrubber = Scrubber([token])
    text = f'{{"auth": "Basic {encoded}"}}'
    assert encoded not in scrubber.scrub(text)
    assert PLACEHOLDER in scrubber.scrub(text)
    assert scrubber.find_leak(text) is not None
    assert scrubber.find_leak(scrubber.scrub(text)) is None
    planted = tmp_path / "body.json.gz"
    planted.write_bytes(gzip.compress(text.encode()))
    assert [f.kind for f in scan_secrets(planted, [token])] == ["secret"]


def test_encoded_forms_cover_every_alignment() -> None:
    """Whatever precedes the token in the encoded data, one of its forms is a substring of the encoding."""
    token = "ghs_" + ALNUM * 2
    forms = encoded_forms(token)
    for pad in range(6):
        encoded = base64.b64encode(b"p" * pad + token.encode() + b"!").decode()
        assert any(form in encoded for form in forms), pad
        urlsafe = base64.urlsafe_b64encode(b"q" * pad + token.encode()).decode()
        assert any(form in urlsafe for form in forms), pad


def test_a_token_never_shows_itself() -> None:
    """repr, str, f-strings and containers show a mask and a fingerprint; pickling is refused."""
    value = TOKENS["classic"]
    token = Token(value)
    for shown in (repr(token), str(token), f"{token}", repr([token]), repr({"t": token})):
        assert value not in shown
        assert "ghp_…(40 chars)" in shown and fingerprint(value) in shown
    assert token.reveal() == value
    assert Token(value) == token and len({token, Token(value)}) == 1
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(token)


def test_tokens_from_the_environment_are_wrapped() -> None:
    """GITHUB_TOKENS (comma-separated, blanks dropped, repeats once) wins over GITHUB_TOKEN."""
    env = {"GITHUB_TOKENS": " a, ,b,a ", "GITHUB_TOKEN": "c"}
    assert [t.reveal() for t in tokens_from_env(env)] == ["a", "b"]
    assert [t.reveal() for t in tokens_from_env({"GITHUB_TOKEN": " c "})] == ["c"]
    assert tokens_from_env({"GITHUB_TOKENS": "  ,  "}) == []


# -- one scan, at the write, and the fast pattern --------------------------------------------------------

#: The pattern as it was written before it was made fast (lookbehind first): the reference.
_REFERENCE = re.compile(
    r"(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{20,251}|github_pat_[A-Za-z0-9_]{20,244})(?![A-Za-z0-9_])"
)
_PIECES = st.sampled_from(
    ["g", "gh", "ghp_", "gho_", "ghx_", "github_pat_", "_", "x", "9", " ", "-", ALNUM, ALNUM * 3]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_PIECES, max_size=30).map("".join))
def test_the_literal_first_pattern_matches_exactly_what_the_reference_matched(text: str) -> None:
    """Same matches at the same places as the lookbehind-first pattern, on texts dense in near-tokens."""
    assert [m.span() for m in TOKEN_PATTERN.finditer(text)] == [m.span() for m in _REFERENCE.finditer(text)]


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=60))
def test_every_form_of_a_secret_contains_a_needle(secret: str) -> None:
    """The scan looks for a few needles only; each of the many forms scrubbed contains one of them."""
    scrubber = Scrubber([secret])
    for form, _ in scrubber._forms:
        assert any(needle in form for needle in scrubber._needles), form
        assert scrubber.holds_secret(f"x {form} y")


def test_clean_returns_a_clean_text_itself_and_proves_a_scrubbed_one() -> None:
    """One scan for a clean text (the same object back); a dirty one is scrubbed and scanned again."""
    token = TOKENS["classic"]
    scrubber = Scrubber(["tok-" + ALNUM])
    clean = '{"body": "nothing to see"}'
    assert scrubber.clean(clean, "x") is clean
    assert scrubber.clean(f"a {token} b", "x") == f"a {REDACTED} b"
    # Replacing the pool token makes the token glued to it a word of its own: the second round gets it.
    glued = f"tok-{ALNUM}{token}"
    assert scrubber.clean(glued, "x") == f"{PLACEHOLDER}{REDACTED}"
    with pytest.raises(SecretLeakError, match="refusing to write x"):
        Scrubber(["GITHUB"]).clean("GITHUB", "x")  # a "secret" inside the placeholder itself


def test_a_secret_with_json_special_characters_is_scrubbed_from_serialized_text(tmp_path: Path) -> None:
    """Writers scan serialized JSON: a pool token with a quote or a backslash is found in its escaped form."""
    secret = 'tok"with\\slash-' + ALNUM
    recorder = CassetteRecorder(tmp_path, secrets=[secret])
    body = json.dumps({"echo": secret})
    recorder(Exchange("GET", "https://api.github.com/repos/a/b", {}, 200, {"content-type": "json"}, body))
    text = gzip.decompress((tmp_path / f"{listing_shard(1)}.json.gz").read_bytes()).decode()
    assert PLACEHOLDER in text
    assert json.dumps(secret)[1:-1] not in text and ALNUM not in text


def test_the_checkpoint_stores_a_record_scrubbed_and_says_what_it_stored(tmp_path: Path) -> None:
    """A record with a token is appended scrubbed; record_pr returns the stored copy, not the original."""
    token = TOKENS["fine-grained"]
    checkpoint = Checkpoint.open(tmp_path / "cp.json", repo="a/b", params={}, scrubber=Scrubber())
    checkpoint.set_plan([1, 2], 2)
    clean = {"title": "fine"}
    assert checkpoint.record_pr(1, clean) is clean
    stored = checkpoint.record_pr(2, {"title": f"see {token}"})
    assert stored == {"title": f"see {REDACTED}"}
    assert token not in checkpoint.log_path.read_text()


def test_the_snapshot_is_written_piece_by_piece_as_the_same_bytes_and_scrubbed(tmp_path: Path) -> None:
    """The streamed snapshot equals dump_json of the whole; a PR holding a token is stored and returned scrubbed."""
    token = TOKENS["classic"]
    prs = PullRequestFactory.build_batch(4)
    prs[2] = dataclasses.replace(prs[2], body=f"leaked {token} here")
    snapshot = Snapshot(
        repository=Repository(full_name="a/b", id=1), recorded_at=prs[0].created_at, prs=tuple(prs)
    )
    assert "".join(piece for _, piece, _ in snapshot_json_pieces(snapshot)).encode() == dump_json(
        snapshot.to_dict()
    )
    store = ProjectStore(tmp_path, "a__b")
    metadata = Metadata.describe("a/b", snapshot, base_url="https://api.github.com")
    saved = store.save(snapshot, metadata, Scrubber())
    assert saved.prs[2].body == f"leaked {REDACTED} here" and saved.prs[1] == prs[1]
    assert store.read_snapshot() == saved
    assert token not in store.snapshot_path.read_text()
