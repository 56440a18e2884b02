"""Pull requests put together again from recorded GraphQL answers: for a rebuild, and for serving them.

A GraphQL crawl records one cassette per query (``graphql-000001``, in the order the answers came).
Their aliases say what they answer (``graphql.queries``: ``p42`` is PR 42's first page,
``o3_42_files_f100_0`` a page of its files), so the answers are put together as the crawl did,
without its documents: a first page starts a PR (again, if a resumed or refreshed crawl fetched it
anew), each overflow page continues it, and the last *complete* assembly of each PR is its data.
Failed answers (a timeout, a spent budget) carry no data and change nothing. A PR's files come from
its own cassette (REST's ``/files``, with patches) when its first page asked none of GraphQL.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_ghseed.cache.cassettes import load_interactions
from pytest_ghseed.cache.rebuild import MALFORMED, malformed_body, recorded_lists
from pytest_ghseed.cache.store import ProjectStore
from pytest_ghseed.defaults import COMMITS_CAP, LIST_CAPS
from pytest_ghseed.errors import CorruptFile
from pytest_ghseed.graphql.convert import PullAssembly, pull_request_from_graphql
from pytest_ghseed.graphql.queries import LEAVES, Overflow
from pytest_ghseed.models import FileChange, PullRequest
from pytest_ghseed.traffic import read_json


@dataclass(frozen=True)
class RecordedPull:
    """One PR as its GraphQL answers recorded it: the assembled node, and REST's files when it has them."""

    node: dict[str, Any]
    rest_files: list[dict[str, Any]] | None

    def model(self) -> PullRequest:
        """The ``PullRequest`` the crawl built from the same answers."""
        files = (
            [FileChange.from_github(item) for item in self.rest_files]
            if self.rest_files is not None
            else None
        )
        return pull_request_from_graphql(self.node, commits_cap=COMMITS_CAP, files=files)


def _whole(node: Mapping[str, Any]) -> PullAssembly:
    return PullAssembly(node, leaves=[name for name in LEAVES if name in node], caps=LIST_CAPS)


def recorded_pulls(store: ProjectStore, numbers: Collection[int]) -> dict[int, RecordedPull]:
    """The recorded GraphQL data of the PRs ``numbers`` (those whose answers are whole)."""
    assembler = _Assembler(set(numbers))
    if not assembler.wanted:
        return {}
    for path in store.layout.graphql_cassettes():
        try:
            for repository in _repositories(path):
                assembler.take(repository)
        except MALFORMED as exc:
            why = f"a recorded GraphQL answer is malformed ({exc.__class__.__name__}: {exc})"
            raise CorruptFile(path, why) from None
    found: dict[int, RecordedPull] = {}
    for number, node in assembler.complete.items():
        rest_files: list[dict[str, Any]] | None = None
        if "files" not in node:
            # Files through REST (with patches): the PR's own cassette, unless it changed none.
            cassette = store.layout.pr_cassette(number)
            try:
                rest_files = recorded_lists(cassette)[1]["files"] if node.get("changedFiles") else []
            except MALFORMED as exc:
                raise malformed_body(cassette, exc) from None
        found[number] = RecordedPull(node, rest_files)
    return found


class _Assembler:
    """The PRs being put together from the answers, in recorded order, and the last whole one of each."""

    def __init__(self, wanted: set[int]) -> None:
        self.wanted = wanted
        self.started: dict[int, PullAssembly] = {}
        self.complete: dict[int, dict[str, Any]] = {}

    def take(self, repository: Mapping[str, Any]) -> None:
        """One answer's pages; a PR whose assembly becomes whole is kept (a later whole one replaces it)."""
        touched: list[int] = []
        for alias, value in repository.items():
            if not isinstance(value, Mapping):
                continue  # a scalar field of the repository, or a PR GitHub could not resolve
            if alias.startswith("p") and alias[1:].isdigit():
                if int(alias[1:]) in self.wanted:
                    self.started[int(alias[1:])] = _whole(value)
                    touched.append(int(alias[1:]))
                continue
            item = Overflow.from_alias(alias)
            if item is not None and item.number in self.started:
                self.started[item.number].add(item, value)
                touched.append(item.number)
        for number in touched:
            assembly = self.started.get(number)
            if assembly is not None and assembly.complete:
                self.complete[number] = assembly.node()
                del self.started[number]


def _repositories(path: Path) -> Iterator[Mapping[str, Any]]:
    """The ``repository`` object of every recorded GraphQL answer with data, in recorded order."""
    for interaction in load_interactions(path):
        if interaction.method != "POST" or interaction.status != 200:
            continue
        body = read_json(interaction.body)
        data = body.get("data") if isinstance(body, dict) else None
        repository = data.get("repository") if isinstance(data, dict) else None
        if isinstance(repository, Mapping):
            yield repository
