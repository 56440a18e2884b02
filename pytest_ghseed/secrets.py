"""Secrets, in one place: what a token looks like, how it travels, how it is hidden and how it is found.

- ``TOKEN_PATTERN``: the token formats GitHub issues (classic and fine-grained personal access tokens,
  OAuth, user-to-server, server-to-server and refresh tokens). Every consumer (the cassettes, the
  snapshot, the checkpoint, error messages, ``ghseed verify``) uses this one pattern, so a string is a
  token everywhere or nowhere.
- ``Token``: a token value that never shows itself. Its ``repr`` and ``str`` are masked, so a token
  that sits in a local variable, a dataclass or an exception's arguments is not printed by a
  traceback (``pytest --tb=long -l`` shows locals). Only ``reveal()`` gives the value, at the one
  place that builds the ``Authorization`` header.
- ``Scrubber``: replaces the run's own token values (raw, and their base64 forms as they appear in
  Basic authentication and git credentials) and every token-shaped string; ``find_leak`` and
  ``scan`` are the guard that refuses to write what the scrubber missed, and the scan of ``verify``.
- ``redact``: the masking of anything shown to a person (messages, notes, progress).
- ``tokens_from_env``: the tokens a user configured (``GITHUB_TOKENS``, else ``GITHUB_TOKEN``).

A neutral module: it imports nothing of ours but ``errors``, so ``fetch``, ``cache`` and the edges all
use it without importing each other.
"""

from __future__ import annotations

import base64
import hashlib
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
#: The prefixes of GitHub's token formats, longest first (a literal pre-check before the pattern).
TOKEN_PREFIXES = ("github_pat_", "ghp_", "gho_", "ghu_", "ghs_", "ghr_")
#: GitHub tokens: a prefix, then at least 20 characters (classic tokens carry 36, fine-grained 82; the
#: lower bound also catches shortened or older forms), 255 characters at most in all. A token is a
#: whole word: not preceded or followed by a letter, digit or underscore.
TOKEN_PATTERN = re.compile(
    r"(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{20,251}|github_pat_[A-Za-z0-9_]{20,244})(?![A-Za-z0-9_])"
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
    ``PLACEHOLDER`` in its raw and base64 forms. Every other token-shaped string becomes ``REDACTED``.
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
            for form in encoded_forms(value):
                forms.setdefault(form, f"{label}, base64-encoded ({mask(value)})")
        self._forms = sorted(forms.items(), key=lambda item: len(item[0]), reverse=True)

    @property
    def secrets(self) -> list[str]:
        """The raw secret values this scrubber knows (for building another scrubber)."""
        return list(self._raw)

    def scrub(self, text: str) -> str:
        """``text`` with the known secrets' forms replaced by ``PLACEHOLDER``, other tokens by ``REDACTED``."""
        for form, _ in self._forms:
            if form in text:
                text = text.replace(form, PLACEHOLDER)
        if _may_hold_token(text):
            text = TOKEN_PATTERN.sub(REDACTED, text)
        return text

    def leaks(self, text: str) -> Iterator[Leak]:
        """Every secret in ``text``: the known values in any form, and token-shaped strings.

        A place is reported once, by the longest form found there.
        """
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
        if _may_hold_token(text):
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
        for form, _ in self._forms:
            if form in text:
                text = text.replace(form, "<token>")
        if _may_hold_token(text):
            text = TOKEN_PATTERN.sub(lambda m: mask(m.group(0)), text)
        return text


def redact(text: str, secrets: Iterable[Token | str | None] = ()) -> str:
    """``text`` safe to show: the given secrets (any form) and every token-shaped string masked."""
    return Scrubber(secrets).redact(text)


def _may_hold_token(text: str) -> bool:
    # A few substring searches (C speed) spare most texts the regular expression.
    return any(prefix in text for prefix in TOKEN_PREFIXES)
