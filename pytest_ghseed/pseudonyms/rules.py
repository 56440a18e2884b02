"""The pure rules of pseudonymization: how a pseudonym is derived, and how one is recognised.

Every pseudonym is a keyed hash (HMAC-SHA256) of one original under a key made from the project's
secret salt, so it is stable wherever and whenever the same original is met (snapshot, cassettes, a
refresh next month) and cannot be reversed by hashing known logins without the salt:

- an account, by its GitHub user id (a rename keeps the pseudonym): login ``user-<12 hex>`` (a bot:
  ``bot-<12 hex>[bot]``, type ``Bot`` kept), id ``10**15 + <hash>`` (GitHub's ids are nowhere near;
  a real id would name the account through ``GET /user/{id}``), avatar ``.../u/<that id>``;
- an e-mail: ``person-<12 hex>@pseudonym.invalid`` (RFC 2606's reserved top-level domain), and
  GitHub's ``<id>+<login>@users.noreply.github.com`` as the same shape made of the account's pseudonyms;
- a name: ``Person <12 hex>``.

A pseudonym is never an original: the recognisers here let every rule leave pseudonyms alone, so
pseudonymizing data twice (a refresh merges the recording with new data) changes nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import re

#: Pseudonymous user ids start here: far above GitHub's (about 2.5e8 in 2026), below 2**53 (JavaScript).
PSEUDO_ID_BASE = 10**15
#: Hex digits of a pseudonym: 48 bits, so a collision among 100,000 people has odds of about 2e-5.
_HEX = 12
EMAIL_DOMAIN = "pseudonym.invalid"
NOREPLY_DOMAIN = "users.noreply.github.com"
BOT_SUFFIX = "[bot]"

PSEUDO_LOGIN = re.compile(r"(?:user|bot)-[0-9a-f]{12}(?:\[bot\])?", re.IGNORECASE)
PSEUDO_NAME = re.compile(r"Person [0-9a-f]{12}")
_PSEUDO_LOCAL = re.compile(r"person-[0-9a-f]{12}")
#: An e-mail address in text: a local part, ``@``, a domain with a top-level domain of letters.
EMAIL = re.compile(r"(?<![\w.%+-])[\w.%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![\w-])")
#: GitHub's private e-mail: ``<id>+<login>@users.noreply.github.com`` (older ones: ``<login>@...``).
NOREPLY = re.compile(
    r"(?:(\d{1,20})\+)?([A-Za-z0-9-]+(?:\[bot\])?)@users\.noreply\.github\.com", re.IGNORECASE
)
#: A word that may be a login: letters and digits, single hyphens inside, GitHub's ``[bot]`` suffix.
LOGIN_WORD = re.compile(r"(?<![A-Za-z0-9])[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9]))*(?:\[bot\])?")
#: ``Name <e-mail>`` after a trailer key (``Signed-off-by:``, ``Co-authored-by:``, ...) or a git
#: header (``author``, ``committer``, ``tagger`` in a signed commit's payload).
TRAILER = re.compile(
    r"^(?P<lead>[ \t]*(?:[A-Za-z][A-Za-z-]*:|author|committer|tagger)[ \t]+)(?P<name>[^<>\n]*?)(?P<gap>[ \t]*)"
    r"<(?P<email>[^<>\s]+)>",
    re.MULTILINE | re.IGNORECASE,
)
#: Avatars by account id (older answers: ``avatars0`` to ``avatars3``; apps' are under ``/in/``, and stay).
AVATAR = re.compile(r"(avatars\d?\.githubusercontent\.com/u/)(\d{1,20})")
AVATAR_URL = "https://avatars.githubusercontent.com/u/{}?v=4"

#: Words never replaced in text even when a login or name equals them: the words of GitHub's URLs and of
#: the pseudonyms themselves. Replacing ``github`` or ``com`` would break every URL of a recording.
RESERVED_WORDS = frozenset(
    {
        "api",
        "apps",
        "avatars",
        "bot",
        "com",
        "github",
        "githubusercontent",
        "http",
        "https",
        "invalid",
        "issues",
        "noreply",
        "orgs",
        "person",
        "pseudonym",
        "pulls",
        "repos",
        "user",
        "users",
        "www",
    }
)


def is_pseudo_login(login: str) -> bool:
    return PSEUDO_LOGIN.fullmatch(login) is not None


def is_pseudo_name(name: str) -> bool:
    return PSEUDO_NAME.fullmatch(name) is not None


def is_pseudo_id(user_id: int) -> bool:
    return user_id >= PSEUDO_ID_BASE


def is_kept_email(email: str) -> bool:
    """Whether an e-mail is not a person's to replace: already a pseudonym, or GitHub's own service address.

    ``noreply@github.com`` commits every merge made in the web interface; ``git@github.com`` is the SSH
    remote of every clone URL.
    """
    local, _, domain = email.rpartition("@")
    domain = domain.lower()
    if domain == "github.com":
        return True
    if domain == EMAIL_DOMAIN:
        return _PSEUDO_LOCAL.fullmatch(local) is not None
    noreply = NOREPLY.fullmatch(email)
    if noreply is not None:
        number, login = noreply.groups()
        return is_pseudo_login(login) and (number is None or is_pseudo_id(int(number)))
    return False


class Keys:
    """The keyed derivations of one salt. The salt itself is not kept: only the key made from it."""

    __slots__ = ("_key", "_memo")

    def __init__(self, salt: bytes) -> None:
        self._key = hmac.new(salt, b"pytest-ghseed pseudonyms v1", hashlib.sha256).digest()
        # The same few people are met thousands of times: each digest is computed once.
        self._memo: dict[tuple[str, str], str] = {}

    def __repr__(self) -> str:
        return f"Keys({self.fingerprint})"

    def _digest(self, kind: str, value: str) -> str:
        digest = self._memo.get((kind, value))
        if digest is None:
            digest = hmac.new(self._key, f"{kind}\0{value}".encode(), hashlib.sha256).hexdigest()
            self._memo[(kind, value)] = digest
        return digest

    @property
    def fingerprint(self) -> str:
        """Names the salt in the metadata, so a refresh with another salt is refused; reveals nothing of it."""
        return "hmac-sha256:" + self._digest("fingerprint", "")[:16]

    def user_id(self, user_id: int) -> int:
        return (
            PSEUDO_ID_BASE + int(self._digest("account", str(user_id))[_HEX : _HEX + 13], 16) % PSEUDO_ID_BASE
        )

    def login(self, user_id: int, *, bot: bool, suffix: bool) -> str:
        stem = ("bot-" if bot else "user-") + self._digest("account", str(user_id))[:_HEX]
        return stem + BOT_SUFFIX if suffix else stem

    def name(self, name: str) -> str:
        return "Person " + self._digest("name", name.strip().casefold())[:_HEX]

    def email(self, email: str) -> str:
        """The pseudonym of an e-mail (not a kept one): GitHub's private form keeps its shape."""
        noreply = NOREPLY.fullmatch(email)
        if noreply is not None and noreply.group(1) is not None:
            number, login = int(noreply.group(1)), noreply.group(2)
            bot = login.lower().endswith(BOT_SUFFIX)
            return f"{self.user_id(number)}+{self.login(number, bot=bot, suffix=bot)}@{NOREPLY_DOMAIN}"
        return f"person-{self._digest('email', email.casefold())[:_HEX]}@{EMAIL_DOMAIN}"
