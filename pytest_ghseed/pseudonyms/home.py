"""Where the salt and the list of originals live: ``.ghseed/`` beside the cache dir, never inside it.

The cache dir is what a team commits; the salt must never be committed (with it, anyone can hash a
login they know and find its pseudonym), and the list of originals is the very data pseudonymization
removes. So both live in ``<parent of the cache dir>/.ghseed/``:

- ``.gitignore`` holding ``*``: git ignores the whole folder, whatever the project's own ``.gitignore``
  says and without editing it (``git add -A`` cannot pick it up by accident);
- ``salt``: 32 random bytes (hex), created on the first pseudonymized fetch, mode 0600;
- ``pseudonyms/<cache dir name>/<project>.jsonl``: every original met, with its pseudonym (so a person
  can look up who ``user-3f9a...`` is), appended durably before any file that relies on it is written.

Beside the cache dir rather than in the user's home: the salt belongs to the project (two projects do
not share pseudonyms), and the same cache dir finds the same salt from pytest and from ``ghseed``. A team
whose members all record shares the salt through its secret store: ``GHSEED_PSEUDONYM_SALT`` (at least
32 characters) takes the place of the file. A folder or file that another user could write or read is
refused (a shared ``/tmp``): a salt someone else chose or read protects nothing.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import stat
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pytest_ghseed._files import append_durably, fsync_dir
from pytest_ghseed.errors import PseudonymError
from pytest_ghseed.pseudonyms.people import People
from pytest_ghseed.pseudonyms.rules import Keys

FOLDER = ".ghseed"
SALT_ENV = "GHSEED_PSEUDONYM_SALT"
_SALT_FILE = "salt"
_SALT_HEX = 64
_MIN_ENV_SALT = 32
_IGNORE_ALL = (
    "# pytest-ghseed: the salt of pseudonyms and the originals they replace. Never commit this.\n*\n"
)


class PseudonymHome:
    """The ``.ghseed/`` folder that belongs to one cache dir."""

    def __init__(self, cache_dir: Path, environ: Mapping[str, str] | None = None) -> None:
        self.cache_dir = Path(cache_dir).absolute()
        self.path = self.cache_dir.parent / FOLDER
        self._environ = os.environ if environ is None else environ

    @property
    def salt_path(self) -> Path:
        return self.path / _SALT_FILE

    def mapping_path(self, folder: str) -> Path:
        """The list of originals of one project folder of this cache dir."""
        return self.path / "pseudonyms" / (self.cache_dir.name or "root") / f"{folder}.jsonl"

    def describe_salt(self) -> str:
        """Where the salt comes from, for messages."""
        return f"${SALT_ENV}" if self._environ.get(SALT_ENV) else str(self.salt_path)

    # -- the salt ---------------------------------------------------------------------------------

    def keys(self, *, create: bool) -> Keys | None:
        """The keys of this home's salt; a new salt when there is none and ``create``; None otherwise."""
        from_env = self._environ.get(SALT_ENV, "").strip()
        if from_env:
            if len(from_env) < _MIN_ENV_SALT:
                msg = (
                    f"{SALT_ENV} holds {len(from_env)} characters; a salt needs at least {_MIN_ENV_SALT} "
                    "(make one with: python -c 'import secrets; print(secrets.token_hex(32))')"
                )
                raise PseudonymError(msg)
            return Keys(from_env.encode("utf-8"))
        path = self.salt_path
        if path.exists() or path.is_symlink():
            return Keys(self._read_salt(path))
        if not create:
            return None
        self._prepare()
        value = secrets.token_hex(_SALT_HEX // 2)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return Keys(self._read_salt(path))  # made meanwhile by another process
        except OSError as exc:
            raise _cannot(path, "create", exc) from None
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(value + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        fsync_dir(self.path)
        return Keys(value.encode("ascii"))

    def _read_salt(self, path: Path) -> bytes:
        _check_private(path, is_folder=False)
        try:
            text = path.read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise _cannot(path, "read", exc) from None
        if len(text) != _SALT_HEX or any(c not in "0123456789abcdef" for c in text):
            msg = (
                f"{path} is not a pytest-ghseed salt (expected {_SALT_HEX} hex digits, found {len(text)} "
                "characters); restore it from where it was copied, or move it away to start a new salt "
                "(pseudonyms then change: record again with --record-mode all)"
            )
            raise PseudonymError(msg)
        return text.encode("ascii")

    def _prepare(self) -> None:
        """Create the folder (owner only) with a ``.gitignore`` that ignores all of it."""
        try:
            self.path.mkdir(mode=0o700, exist_ok=True)
        except OSError as exc:
            raise _cannot(self.path, "create", exc) from None
        _check_private(self.path, is_folder=True)
        ignore = self.path / ".gitignore"
        if not ignore.exists():
            with contextlib.suppress(OSError):
                ignore.write_text(_IGNORE_ALL, encoding="utf-8")

    # -- the originals ----------------------------------------------------------------------------

    def read_people(self, folder: str) -> People | None:
        """The originals recorded for a project folder; None when this machine has none.

        A last line cut short (a crash while appending) is ignored; any other bad line is an error,
        since an original lost here could stay unreplaced in a later text.
        """
        path = self.mapping_path(folder)
        if not path.exists():
            return None
        _check_private(path, is_folder=False)
        try:
            lines = path.read_bytes().split(b"\n")
        except OSError as exc:
            raise _cannot(path, "read", exc) from None
        people = People()
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
                ok = isinstance(entry, dict) and people.add_entry(entry)
            except (ValueError, RecursionError):
                ok = False
            if not ok and number < len(lines):
                msg = (
                    f"{path} line {number} is not a pytest-ghseed pseudonym entry; it lists the people this "
                    "recording replaced and was edited or damaged. Restore it, or record afresh: "
                    "`ghseed clear PROJECT --yes`, then fetch with --pseudonymize"
                )
                raise PseudonymError(msg)
        people.take_new()  # what was read is on disk already
        return people

    def append(self, folder: str, entries: Iterable[dict[str, Any]], keys: Keys) -> None:
        """Append new originals, each with its pseudonym, durably (fsync) before they are relied on."""
        lines = [json.dumps(_with_pseudonym(entry, keys), ensure_ascii=False) for entry in entries]
        if not lines:
            return
        path = self.mapping_path(folder)
        self._prepare()
        try:
            for level in (path.parent.parent, path.parent):
                level.mkdir(mode=0o700, exist_ok=True)
            if not path.exists():
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
            append_durably(path, ("\n".join(lines) + "\n").encode("utf-8"))
        except OSError as exc:
            raise _cannot(path, "write", exc) from None


def _with_pseudonym(entry: dict[str, Any], keys: Keys) -> dict[str, Any]:
    """An entry as written: a person's with its pseudonym, for a person who looks one up."""
    if "account" in entry:
        bot = bool(entry.get("bot"))
        pseudonym = keys.login(
            int(entry["account"]), bot=bot, suffix=str(entry["login"]).lower().endswith("[bot]")
        )
    elif "name" in entry:
        pseudonym = keys.name(str(entry["name"]))
    elif "email" in entry:
        pseudonym = keys.email(str(entry["email"]))
    else:
        return entry
    return {**entry, "pseudonym": pseudonym}


def _check_private(path: Path, *, is_folder: bool) -> None:
    """Refuse a salt (or list of originals) that is a link, or that other users may change or read."""
    try:
        info = path.lstat()
    except OSError as exc:
        raise _cannot(path, "read", exc) from None
    kind_ok = stat.S_ISDIR(info.st_mode) if is_folder else stat.S_ISREG(info.st_mode)
    if not kind_ok:
        what = "a folder" if is_folder else "a regular file"
        msg = f"{path} is not {what} (a link?); pytest-ghseed keeps the pseudonym salt there: remove it"
        raise PseudonymError(msg)
    getuid = getattr(os, "getuid", None)
    if getuid is not None and info.st_uid != getuid():
        msg = f"{path} belongs to another user; a salt someone else controls protects nothing. Remove it"
        raise PseudonymError(msg)
    # The folder must not be writable by others (they could swap the salt); the files not even readable.
    if getuid is not None and info.st_mode & (0o022 if is_folder else 0o077):
        mode = "700" if is_folder else "600"
        msg = (
            f"{path} is open to other users (mode {stat.S_IMODE(info.st_mode):o}); the pseudonym salt must stay "
            f"private: chmod {mode} {path}"
        )
        raise PseudonymError(msg)


def _cannot(path: Path, action: str, exc: OSError | UnicodeDecodeError) -> PseudonymError:
    why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return PseudonymError(f"cannot {action} {path} ({why}); check the folder's permissions")
