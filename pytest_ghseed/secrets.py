"""Secrets, in one place: what a token looks like, how it travels, how it is hidden and how it is found.

- ``TOKEN_PATTERN``: the token formats GitHub issues (classic and fine-grained personal access tokens,
  OAuth, user-to-server, server-to-server and refresh tokens). Every consumer (the cassettes, the
  snapshot, the checkpoint, error messages, ``ghseed verify``) uses this one pattern, so a string is a
  token everywhere or nowhere.
- ``Token``: a token value that never shows itself. Its ``repr`` and ``str`` are masked, so a token
  that sits in a local variable, a dataclass or an exception's arguments is not printed by a
  traceback (``pytest --tb=long -l`` shows locals). Only ``reveal()`` gives the value, at the one
  place that builds the ``Authorization`` header.
- ``Scrubber``: replaces the run's own token values (raw, JSON-escaped, and their base64 forms as
  they appear in Basic authentication and git credentials) and every token-shaped string. Its
  ``clean`` is the one scan a writer makes of the exact text it is about to write (cassette shards,
  checkpoint records, the snapshot, the metadata): scrub what it finds, prove the result clean, or
  refuse to write. ``find_leak`` and ``leaks`` are the scan of ``verify``.
- ``redact``: the masking of anything shown to a person (messages, notes, progress).
- ``tokens_from_env``: the tokens a user configured (``GITHUB_TOKENS``, else ``GITHUB_TOKEN``).

A neutral module: it imports nothing of ours but ``errors``, so ``fetch``, ``cache`` and the edges all
use it without importing each other.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import NoReturn

from pytest_ghseed.errors import SecretLeakError

#: What replaces one of the run's own token values in stored data.
PLACEHOLDER = "<GITHUB_TOKEN>"
#: What replaces any other token-shaped string in stored data.
REDACTED = "<REDACTED>"
#: The prefixes of GitHub's token formats, longest first (what ``mask`` shows of a token).
TOKEN_PREFIXES = ("github_pat_", "ghp_", "gho_", "ghu_", "ghs_", "ghr_")
#: GitHub tokens: a prefix, then at least 20 characters (classic tokens carry 36, fine-grained 82; the
#: lower bound also catches shortened or older forms), 255 characters at most in all. A token is a
#: whole word: not preceded or followed by a letter, digit or underscore.
#:
#: Written literal first: every prefix starts with ``g``, and a pattern that starts with a literal lets
#: the regex engine skip to the next ``g`` in C; the word-boundary check comes after the ``g`` as a
#: two-character lookbehind (``(?<![A-Za-z0-9_]g)``), which accepts exactly the same strings as a
#: lookbehind in front. With the lookbehind first, the engine tries the whole pattern at every position:
#: on a 25 MiB snapshot-like text 700 ms, against 21 ms this way (``benchmarks/bench_secrets.py``).
TOKEN_PATTERN = re.compile(
    r"g(?<![A-Za-z0-9_]g)(?:h[pousr]_[A-Za-z0-9]{20,251}|ithub_pat_[A-Za-z0-9_]{20,244})(?![A-Za-z0-9_])"
)
#: Prefixes under which tools base64-encode a token: git's credential for App tokens, Basic auth
#: with a user name, the ``token`` scheme written into a header value.
_ENCODED_PREFIXES = ("", "x-access-token:", "token ", "Bearer ")


def mask(secret: str) -> str:
    """A secret's kind and length only, safe to print: ``ghp_…(40 chars)``."""
    prefix = next((p for p in TOKEN_PREFIXES if secret.startswith(p)), "")
    return f"{prefix}…({len(secret)} chars)"


def fingerprint(secret: str) -> str:
    """A short, stable, non-reversible name for a secret, safe to print: ``sha256:1a2b3c4d``."""
    return "sha256:" + hashlib.sha256(secret.encode("utf-8")).hexdigest()[:8]


class Token:
    """A token value whose ``repr`` and ``str`` never show it; ``reveal()`` gives the value.

    Equal and hashed by value, so tokens can be de-duplicated. Pickling is refused: a token has no
    business in a file, a cache or another process's arguments.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = str(value)

    def reveal(self) -> str:
        """The secret itself: only for the ``Authorization`` header and for scrubbing."""
        return self._value

    @property
    def fingerprint(self) -> str:
        return fingerprint(self._value)

    @property
    def masked(self) -> str:
        return mask(self._value)

    def __repr__(self) -> str:
        return f"Token({self.masked}, {self.fingerprint})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Token) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("ghseed-token", self._value))

    def __reduce__(self) -> NoReturn:
        msg = "a Token cannot be pickled: tokens are never written anywhere"
        raise TypeError(msg)

    @classmethod
    def wrap_all(cls, values: Iterable[str | Token]) -> list[Token]:
        """Tokens from plain strings or tokens, in order, without empty values or repeats."""
        seen: dict[Token, None] = {}
        for value in values:
            token = value if isinstance(value, Token) else cls(value)
            if token.reveal().strip():
                seen.setdefault(token, None)
        return list(seen)


def tokens_from_env(environ: Mapping[str, str] | None = None) -> list[Token]:
    """Tokens from ``GITHUB_TOKENS`` (comma-separated), else ``GITHUB_TOKEN``; blank entries dropped."""
    env = os.environ if environ is None else environ
    many = [part.strip() for part in env.get("GITHUB_TOKENS", "").split(",")]
    values = [part for part in many if part]
    if not values and env.get("GITHUB_TOKEN", "").strip():
        values = [env["GITHUB_TOKEN"].strip()]
    return Token.wrap_all(values)


def encoded_forms(secret: str) -> list[str]:
    """The substrings a base64 text contains wherever it encodes ``secret`` (with any prefix).

    Base64 encodes 3 bytes as 4 characters, so the characters a secret produces depend on its offset
    modulo 3 in the encoded data. For each offset, the characters fully determined by the secret's own
    bytes are the same whatever comes before or after: finding any of them finds the secret inside
    ``user:secret``, ``x-access-token:secret`` and the like. Standard and URL-safe alphabets both.
    """
    data = secret.encode("utf-8")
    forms: set[str] = set()
    for prefix in _ENCODED_PREFIXES:
        whole = base64.b64encode(prefix.encode() + data).decode("ascii")
        forms.add(whole.rstrip("="))
    bits = 8 * len(data)
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + data).decode("ascii")
        start = -(-8 * offset // 6)  # the first character made of the secret's bits only
        end = (8 * offset + bits) // 6  # past the last one
        fragment = encoded[start:end]
        if len(fragment) >= 16:
            forms.add(fragment)
    forms |= {form.replace("+", "-").replace("/", "_") for form in forms}
    return sorted(forms, key=len, reverse=True)


@dataclass(frozen=True, slots=True)
class Leak:
    """One secret found in a text: where it starts and a masked description (never the secret)."""

    offset: int
    description: str


class Scrubber:
    """Remove secrets from text before it is stored, and find any that are left.

    ``secrets``: the run's own token values (``Token`` or ``str``); each is replaced by
    ``PLACEHOLDER`` in its raw, JSON-escaped and base64 forms. Every other token-shaped string
    becomes ``REDACTED``.

    ``clean`` is what a writer calls, once, on the exact text it is about to write: one scan when the
    text holds no secret (the usual case), a scrub and a fresh scan of the result otherwise.
    """

    def __init__(
        self, secrets: Iterable[Token | str | None] = (), *, label: str = "a token of this run"
    ) -> None:
        values = {s.reveal() if isinstance(s, Token) else s for s in secrets if s}
        self._raw = sorted((v for v in values if v), key=len, reverse=True)
        # (form, what it is) for every form of every secret, longest first: a form that contains
        # another is replaced whole.
        forms: dict[str, str] = {}
        for value in self._raw:
            forms.setdefault(value, f"{label} ({mask(value)})")
            # Writers scan serialized JSON, where a quote or a backslash in a value is escaped: once in
            # a snapshot or a checkpoint, twice in a cassette (a JSON body inside the cassette's JSON).
            for escaped in _json_escaped(value):
                forms.setdefault(escaped, f"{label}, JSON-escaped ({mask(value)})")
            for form in encoded_forms(value):
                forms.setdefault(form, f"{label}, base64-encoded ({mask(value)})")
        self._forms = sorted(forms.items(), key=lambda item: len(item[0]), reverse=True)
        self._needles = _needles(form for form, _ in self._forms)

    @property
    def secrets(self) -> list[str]:
        """The raw secret values this scrubber knows (for building another scrubber)."""
        return list(self._raw)

    def spans(self, characters: str) -> bool:
        """Whether a form of a configured secret contains one of ``characters`` (then a text cut at them
        must be scanned whole, not piece by piece)."""
        return any(char in form for form, _ in self._forms for char in characters)

    def holds_secret(self, text: str) -> bool:
        """Whether ``text`` may hold a secret: one scan per needle and one of the token pattern.

        Never a false "no": every form of every secret contains one of the needles. A "yes" is
        then confirmed or refuted by ``leaks``.
        """
        return any(needle in text for needle in self._needles) or TOKEN_PATTERN.search(text) is not None

    def scrub(self, text: str) -> str:
        """``text`` with the known secrets' forms replaced by ``PLACEHOLDER``, other tokens by ``REDACTED``."""
        if not self.holds_secret(text):
            return text
        for form, _ in self._forms:
            if form in text:
                text = text.replace(form, PLACEHOLDER)
        return TOKEN_PATTERN.sub(REDACTED, text)

    def clean(self, text: str, where: object) -> str:
        """``text`` as it may be written: scrubbed, and proven free of secrets; the one scan of a writer.

        A text without secrets is scanned once and returned as it is. Otherwise it is scrubbed and the
        result scanned again: a replacement can make a new token-shaped word (the placeholder ends
        with ``>``, so a token glued to a replaced value now starts a word), which the next round
        replaces. What still holds a secret after that raises ``SecretLeakError``: nothing is written.
        """
        for _ in range(_CLEAN_ROUNDS):
            if not self.holds_secret(text):
                return text
            text = self.scrub(text)
        self.check(text, where)
        return text

    def leaks(self, text: str) -> Iterator[Leak]:
        """Every secret in ``text``: the known values in any form, and token-shaped strings.

        A place is reported once, by the longest form found there.
        """
        if not self.holds_secret(text):
            return
        taken: list[tuple[int, int]] = []

        def fresh(start: int, end: int) -> bool:
            if any(start < other_end and other_start < end for other_start, other_end in taken):
                return False
            taken.append((start, end))
            return True

        for form, description in self._forms:
            start = text.find(form)
            while start >= 0:
                if fresh(start, start + len(form)):
                    yield Leak(start, description)
                start = text.find(form, start + len(form))
        for match in TOKEN_PATTERN.finditer(text):
            if fresh(match.start(), match.end()):
                yield Leak(match.start(), f"a token-shaped string ({mask(match.group(0))})")

    def find_leak(self, text: str) -> str | None:
        """A masked description of the first secret found in ``text``, or ``None``."""
        return next((leak.description for leak in self.leaks(text)), None)

    def check(self, text: str, where: object) -> None:
        """The leak guard: raise ``SecretLeakError`` (nothing is written) if ``text`` holds a secret."""
        leak = self.find_leak(text)
        if leak is not None:
            msg = (
                f"refusing to write {where}: it would contain {leak}. Nothing was saved; please report "
                "this as a pytest-ghseed bug"
            )
            raise SecretLeakError(msg)

    def redact(self, text: str) -> str:
        """``text`` made safe to show a person: every known secret and token-shaped string masked."""
        if not self.holds_secret(text):
            return text
        for form, _ in self._forms:
            if form in text:
                text = text.replace(form, "<token>")
        return TOKEN_PATTERN.sub(lambda m: mask(m.group(0)), text)


def _json_escaped(value: str) -> set[str]:
    """``value`` as it appears inside JSON strings, escaped once and twice, ASCII-only or not."""
    found: set[str] = set()
    for ascii_only in (True, False):
        once = json.dumps(value, ensure_ascii=ascii_only)[1:-1]
        found |= {once, json.dumps(once, ensure_ascii=ascii_only)[1:-1]}
    return found - {value}


#: Scrub-and-scan rounds before ``clean`` gives up (a secret inside the placeholder itself).
_CLEAN_ROUNDS = 3


def _needles(forms: Iterable[str]) -> tuple[str, ...]:
    """The fewest forms such that every form contains one of them: the substrings a scan looks for.

    A base64 fragment of a secret is a substring of every whole encoding of that secret at the same
    alignment, so the whole encodings need no scan of their own: 4 to 7 scans per secret instead of
    about 15. Shortest first, so that a needle found in a longer form makes that form redundant.
    """
    needles: list[str] = []
    for form in sorted(set(forms), key=len):
        if not any(needle in form for needle in needles):
            needles.append(form)
    return tuple(needles)


def redact(text: str, secrets: Iterable[Token | str | None] = ()) -> str:
    """``text`` safe to show: the given secrets (any form) and every token-shaped string masked."""
    return Scrubber(secrets).redact(text)
