"""Who is known, and the one walker that replaces them: in GitHub's JSON, the snapshot and any text.

``People`` is the set of originals met so far in a recording: accounts by GitHub user id (with every
login seen for each), names and e-mail addresses. It grows as data arrives (a reviewer may first
appear in the 40th pull request) and is kept outside the cache (``home``) so that a refresh, a
resumed fetch and ``ghseed verify`` know everyone the recording ever met.

``Pseudonymizer`` walks JSON values and texts. Structured places get the pure rules of ``rules``
whatever the table holds: an account object (login, id, node id, avatar, profile fields), a git
identity (``name`` and ``email``), the snapshot's ``author_name``/``author_email``. Texts (bodies,
titles, commit messages, patches, URLs, headers) get, in order: ``Name <e-mail>`` lines (sign-offs,
co-authors, a signed commit's header), every e-mail address, the multi-word names known, then every
word that is a known login (``@mentions`` included: the ``@`` stays). A one-word name is replaced
where names are held and in those lines, not wherever the word occurs in prose, where it is usually a
plain word (``root``, ``Alex``). Values of GitHub's enumerations (``state``, ``type``, ...) and hashes
are never touched, nor the repository's owner and name, nor the words of GitHub's URLs.

The same walker, given a ``report`` function instead of keys, replaces nothing and reports each
original it would have replaced: that is ``ghseed verify``'s check, so the writer and the checker
cannot disagree about what an original is.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from pytest_ghseed.pseudonyms.rules import (
    AVATAR,
    AVATAR_URL,
    BOT_SUFFIX,
    EMAIL,
    LOGIN_WORD,
    RESERVED_WORDS,
    TRAILER,
    Keys,
    is_kept_email,
    is_pseudo_id,
    is_pseudo_login,
    is_pseudo_name,
)

#: Values of these keys are GitHub's enumerations, hashes and ids: never people, never changed (a person
#: whose login is ``open`` must not turn every ``"state": "open"`` into a pseudonym).
ENUM_KEYS = frozenset(
    {
        "active_lock_reason",
        "author_association",
        "color",
        "commit_id",
        "conclusion",
        "etag",
        "event",
        "head_sha",
        "merge_commit_sha",
        "mergeable_state",
        "node_id",
        "original_commit_id",
        "reason",
        "sha",
        "side",
        "start_side",
        "state",
        "status",
        "subject_type",
        "type",
        "user_view_type",
        "visibility",
    }
)
#: Whole values left alone: ETags (opaque hashes), the snapshot's fetch parameters (enumerations, dates).
KEPT_SUBTREES = frozenset({"etags", "params"})
#: A name field and the e-mail field beside it that makes it a person's (a git identity, the snapshot).
NAME_FIELDS = {"name": "email", "author_name": "author_email", "committer_name": "committer_email"}
EMAIL_FIELDS = frozenset({"email", "author_email", "committer_email"})
_SPECIAL_FIELDS = frozenset({*NAME_FIELDS, *EMAIL_FIELDS, "signature"})
#: Profile fields of a full user object: a person's own words, dropped (null) rather than pseudonymized.
PROFILE_FIELDS = frozenset({"bio", "blog", "company", "location", "twitter_username"})
_WORD = re.compile(r"\w+")
#: The ASCII words of a lowercased text, as cut for the quick look (a login's hyphens kept).
_TOKEN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
#: Texts up to this length are remembered once worked out (URLs, names, titles), this many at most.
_SHORT_TEXT = 512
_TEXTS_KEPT = 100_000

Report = Callable[[str, str], None]


@dataclass
class Account:
    """One GitHub account met in the data: its user id, every login seen for it, and whether it is a bot."""

    user_id: int
    bot: bool
    logins: set[str] = field(default_factory=set)


class People:
    """The originals met in one recording. ``version`` grows with every original that texts may hold."""

    def __init__(self) -> None:
        self.accounts: dict[int, Account] = {}
        self.names: dict[str, str] = {}  # casefolded -> as first met
        self.emails: dict[str, str] = {}
        #: A login word (lowercased) -> (account id, whether the word carries ``[bot]``).
        self.words: dict[str, tuple[int, bool]] = {}
        #: First word of a multi-word name (lowercased) -> the names lowercased, longest first.
        self.first_words: dict[str, list[str]] = {}
        #: The ASCII words a text must contain for a known login or name to be in it: a quick look first.
        self.tokens: set[str] = set()
        #: Whether a known name has no ASCII word (every text is then searched for names).
        self.odd_names = False
        self.version = 0
        #: Every file of the recording was checked (swept) for the originals met up to this version.
        self.swept = 0
        #: (version, lowercased text) of every original a text may hold, in the order they were met.
        self._needles: list[tuple[int, str]] = []
        #: Entries met since the last ``take_new`` (to persist before anything that uses them is written).
        self._new: list[dict[str, Any]] = []

    def __len__(self) -> int:
        return len(self.accounts) + len(self.names) + len(self.emails)

    def _needle(self, text: str) -> None:
        self.version += 1
        self._needles.append((self.version, text.lower()))

    def add_account(self, user_id: int, login: str, *, bot: bool) -> None:
        account = self.accounts.get(user_id)
        if account is None:
            account = self.accounts[user_id] = Account(user_id, bot)
            self._needle(f"/u/{user_id}")
        if login in account.logins:
            return
        account.logins.add(login)
        self._new.append({"account": user_id, "login": login, "bot": bot})
        forms = [(login, login.lower().endswith(BOT_SUFFIX))]
        if forms[0][1]:
            forms.append((login[: -len(BOT_SUFFIX)], False))
        self.tokens.update(_TOKEN.findall(login.lower()))
        for word, suffix in forms:
            key = word.lower()
            if key and key not in RESERVED_WORDS and self.words.get(key) != (user_id, suffix):
                self.words[key] = (user_id, suffix)
                self._needle(word)

    def add_name(self, name: str) -> None:
        text = name.strip()
        key = text.casefold()
        if not text or key in self.names or is_pseudo_name(text) or is_pseudo_login(text):
            return
        self.names[key] = text
        self._new.append({"name": text})
        words = text.split()
        if len(words) > 1:
            lowered = text.lower()
            first = _WORD.match(lowered)
            if first is None:
                return  # a name that starts with no letter is not searched for in texts
            candidates = self.first_words.setdefault(first.group(), [])
            candidates.append(lowered)
            candidates.sort(key=len, reverse=True)
            ascii_words = _TOKEN.findall(lowered)
            self.tokens.update(ascii_words[:1])
            self.odd_names = self.odd_names or not ascii_words
            self._needle(text)

    def add_email(self, email: str) -> None:
        key = email.casefold()
        if key in self.emails or is_kept_email(email):
            return
        self.emails[key] = email
        self._new.append({"email": email})

    def take_new(self) -> list[dict[str, Any]]:
        """The entries met since the last call (each once)."""
        new, self._new = self._new, []
        return new

    def needles_since(self, version: int) -> list[str]:
        """Lowercased originals met after ``version``: what a text written at that version may still hold."""
        return [text for met, text in self._needles if met > version]

    def add_entry(self, entry: dict[str, Any]) -> bool:
        """Take one persisted entry back (``home`` reads them); False when it is not one."""
        if isinstance(entry.get("account"), int) and isinstance(entry.get("login"), str):
            self.add_account(entry["account"], entry["login"], bot=bool(entry.get("bot")))
        elif isinstance(entry.get("name"), str):
            self.add_name(entry["name"])
        elif isinstance(entry.get("email"), str):
            self.add_email(entry["email"])
        elif type(entry.get("swept")) is int:
            self.swept = entry["swept"]
        else:
            return False
        return True

    def entries(self) -> Iterator[dict[str, Any]]:
        """Every original, as ``add_entry`` takes them back."""
        for account in self.accounts.values():
            for login in sorted(account.logins):
                yield {"account": account.user_id, "login": login, "bot": account.bot}
        yield from ({"name": name} for name in self.names.values())
        yield from ({"email": email} for email in self.emails.values())


class Pseudonymizer:
    """Learn the people of JSON values and texts, and replace them (with ``keys``) or report them."""

    def __init__(
        self, people: People, repository: str, keys: Keys | None = None, report: Report | None = None
    ) -> None:
        if keys is None and report is None:
            msg = "a Pseudonymizer replaces (keys) or reports (report)"
            raise ValueError(msg)
        self.people = people
        self.keys = keys
        self._report = report
        owner, _, name = repository.partition("/")
        #: The repository's owner and name are kept, even when the owner is a person's account: they are
        #: the repository's name, in every URL.
        self.owner = owner.casefold()
        self._protected = frozenset({owner.lower(), name.lower()})
        # Texts repeat (every account object carries its ten URLs): each is worked out once per version
        # of ``people`` (a new person may change it).
        self._texts: dict[str, str] = {}
        self._texts_version = -1

    # -- learning ---------------------------------------------------------------------------------

    def learn(self, value: Any) -> None:
        """Add every person of ``value`` (JSON, a snapshot's dict form, or text) to ``people``."""
        kind = type(value)
        if kind is dict:
            self._learn_object(value)
        elif kind is list:
            for item in value:
                if type(item) in (dict, list, str):
                    self.learn(item)
        elif kind is str and "<" in value and "@" in value:
            for match in TRAILER.finditer(value):
                if not is_kept_email(match["email"]):
                    self.people.add_email(match["email"])
                    self.people.add_name(match["name"])

    def _learn_object(self, value: dict[str, Any]) -> None:
        if self.is_person(value):
            login, user_id = value["login"], value["id"]
            if not is_pseudo_id(user_id):
                self.people.add_account(user_id, login, bot=_is_bot(value))
            if isinstance(value.get("name"), str):
                self.people.add_name(value["name"])
        for name_key, email_key in NAME_FIELDS.items():
            if email_key not in value:
                continue
            name, email = value.get(name_key), value[email_key]
            if isinstance(email, str) and is_kept_email(email):
                continue
            if isinstance(email, str):
                self.people.add_email(email)
            if isinstance(name, str):
                self.people.add_name(name)
        for key, item in value.items():
            kind = type(item)
            if ((kind is dict or kind is list) and key not in KEPT_SUBTREES) or (
                kind is str and "<" in item and "@" in item
            ):
                self.learn(item)

    def is_person(self, value: dict[str, Any]) -> bool:
        """Whether a JSON object is a person's account (a user or a bot, not an organisation, not the owner)."""
        login, user_id = value.get("login"), value.get("id")
        return (
            isinstance(login, str)
            and type(user_id) is int
            and value.get("type", "User") not in ("Organization", "Enterprise")
            and login.casefold() != self.owner
        )

    # -- replacing (or reporting) -------------------------------------------------------------------

    def pseudonymize(self, value: Any) -> Any:
        """``value`` with its people replaced, after learning them from it (so a body's own people count)."""
        self.learn(value)
        return self.value(value)

    def value(self, value: Any, key: str | None = None) -> Any:
        """``value`` (JSON) with the people ``people`` knows, and every e-mail and account, replaced."""
        kind = type(value)
        if kind is str:
            return value if key in ENUM_KEYS else self.text(value)
        if kind is list:
            return [self.value(item, key) for item in value]
        if kind is not dict:
            return value
        if self.is_person(value):
            return self._account(value)
        out: dict[str, Any] = {}
        for name, item in value.items():
            kind = type(item)
            if kind is str:
                if name in ENUM_KEYS:
                    out[name] = item
                elif name in _SPECIAL_FIELDS:
                    out[name] = self._special(value, name, item)
                else:
                    out[name] = self.text(item)
            elif (kind is dict or kind is list) and name not in KEPT_SUBTREES:
                out[name] = self.value(item, name)
            else:
                out[name] = item
        return out

    def _special(self, parent: dict[str, Any], name: str, item: str) -> Any:
        """A name, an e-mail or a signature field."""
        if name in NAME_FIELDS and NAME_FIELDS[name] in parent:
            email = parent[NAME_FIELDS[name]]
            # GitHub's own identity (``GitHub <noreply@github.com>``, web merges) is no person.
            return item if isinstance(email, str) and is_kept_email(email) else self.name(item)
        if name in EMAIL_FIELDS:
            return self.email(item)
        if name == "signature" and "verified" in parent:
            # A commit signature: its public key names its owner, and cannot be pseudonymized.
            return None if self._swap("a commit signature", item[:24] + "...", None) is None else item
        return self.text(item)

    def _account(self, value: dict[str, Any]) -> dict[str, Any]:
        login, user_id = value["login"], value["id"]
        if is_pseudo_id(user_id):
            if not is_pseudo_login(login):
                self._swap("a login", login, None)
            return {
                name: item if name in ("login", "id") else self.value(item, name)
                for name, item in value.items()
            }
        keys = self.keys
        if self._swap("an account", f"{login} (id {user_id})", None) is not None or keys is None:
            return value
        bot = _is_bot(value)
        pseudo_id = keys.user_id(user_id)
        out: dict[str, Any] = {}
        for name, item in value.items():
            if name == "login":
                out[name] = keys.login(user_id, bot=bot, suffix=login.lower().endswith(BOT_SUFFIX))
            elif name == "id":
                out[name] = pseudo_id
            elif name == "node_id" and isinstance(item, str):
                from pytest_ghseed.graphql.mapping import node_id

                out[name] = node_id("Bot" if bot else "User", pseudo_id)
            elif name == "avatar_url" and isinstance(item, str) and "/u/" in item:
                out[name] = AVATAR_URL.format(pseudo_id)
            elif name == "gravatar_id":
                out[name] = "" if item else item
            elif name in PROFILE_FIELDS:
                out[name] = None
            elif name == "name" and isinstance(item, str):
                out[name] = self.name(item)
            elif name == "email" and isinstance(item, str):
                out[name] = self.email(item)
            else:
                out[name] = self.value(item, name)
        return out

    def _swap(self, kind: str, original: str, derive: Callable[[Keys], str] | None) -> str | None:
        """Report an original (checking: the original is returned), or derive its pseudonym (replacing).

        ``derive`` None: the caller replaces it itself (None is returned when replacing).
        """
        if self._report is not None or self.keys is None:
            if self._report is not None:
                self._report(kind, original)
            return original
        return None if derive is None else derive(self.keys)

    def name(self, name: str) -> str:
        text = name.strip()
        if not text or is_pseudo_name(text) or is_pseudo_login(text):
            return name
        return self._swap("a name", text, lambda keys: keys.name(text)) or name

    def email(self, email: str) -> str:
        if is_kept_email(email):
            return email
        return self._swap("an e-mail address", email, lambda keys: keys.email(email)) or email

    def text(self, text: str) -> str:
        """``text`` with sign-off lines, e-mails, known names, known logins and known avatars replaced."""
        if self._texts_version != self.people.version:
            self._texts.clear()
            self._texts_version = self.people.version
        done = self._texts.get(text)
        if done is None:
            if len(self._texts) > _TEXTS_KEPT:
                self._texts.clear()
            done = self._text(text)
            if len(text) <= _SHORT_TEXT:
                self._texts[text] = done
        return done

    def _text(self, text: str) -> str:
        if "@" in text:
            if "<" in text:
                text = TRAILER.sub(self._trailer, text)
            text = EMAIL.sub(lambda match: self.email(match.group()), text)
        # A quick look first (its words, intersected with the known ones): most texts hold nobody known.
        people = self.people
        if people.tokens and (people.odd_names or not people.tokens.isdisjoint(_TOKEN.findall(text.lower()))):
            if people.first_words:
                text = self._phrases(text)
            if people.words:
                text = LOGIN_WORD.sub(self._word, text)
        if "/u/" in text:
            text = AVATAR.sub(self._avatar, text)
        return text

    def _trailer(self, match: re.Match[str]) -> str:
        email = match["email"]
        if is_kept_email(email):
            return match.group()
        return f"{match['lead']}{self.name(match['name'])}{match['gap']}<{self.email(email)}>"

    def _phrases(self, text: str) -> str:
        pieces: list[str] = []
        position = 0
        for word in _WORD.finditer(text):
            start = word.start()
            if start < position:
                continue
            for lowered in self.people.first_words.get(word.group().lower(), ()):
                end = start + len(lowered)
                if text[start:end].lower() == lowered and not _word_char(text, end):
                    pieces += [text[position:start], self.name(text[start:end])]
                    position = end
                    break
        if not pieces:
            return text
        pieces.append(text[position:])
        return "".join(pieces)

    def _word(self, match: re.Match[str]) -> str:
        word = match.group()
        key = word.lower()
        found = self.people.words.get(key)
        if found is None or key in self._protected:
            return word
        user_id, suffix = found
        bot = self.people.accounts[user_id].bot
        return self._swap("a login", word, lambda keys: keys.login(user_id, bot=bot, suffix=suffix)) or word

    def _avatar(self, match: re.Match[str]) -> str:
        user_id = int(match.group(2))
        if user_id not in self.people.accounts:
            return match.group()
        pseudonym = self._swap("an avatar", match.group(), lambda keys: str(keys.user_id(user_id)))
        return match.group() if pseudonym == match.group() else match.group(1) + str(pseudonym)


def _is_bot(value: dict[str, Any]) -> bool:
    return value.get("type") == "Bot" or str(value.get("login", "")).lower().endswith(BOT_SUFFIX)


def _word_char(text: str, index: int) -> bool:
    return index < len(text) and (text[index].isalnum() or text[index] == "_")
