"""How GitHub's GraphQL API names what its REST API names otherwise: one home for both directions.

The emulator reads REST JSON and answers GraphQL with these; the GraphQL crawl reads the answers and
builds the same models as REST with their inverses. Imports nothing (the plugin may load it cheaply).
"""

from __future__ import annotations

import base64
import re

#: REST logins of GitHub Apps end with this; GraphQL's ``Bot.login`` does not (``dependabot``).
BOT_SUFFIX = "[bot]"

#: REST file ``status`` -> GraphQL ``PatchStatus``. REST's rare ``unchanged`` has no GraphQL
#: counterpart (GraphQL answers MODIFIED), so it does not survive a round trip.
PATCH_STATUS = {
    "added": "ADDED",
    "removed": "DELETED",
    "modified": "MODIFIED",
    "renamed": "RENAMED",
    "copied": "COPIED",
    "changed": "CHANGED",
}
#: GraphQL ``PatchStatus`` -> REST file ``status``.
REST_FILE_STATUS = {graphql: rest for rest, graphql in PATCH_STATUS.items()}

#: REST ``mergeable`` (true / false / null while GitHub computes it) -> GraphQL ``MergeableState``.
MERGEABLE_STATE = {True: "MERGEABLE", False: "CONFLICTING", None: "UNKNOWN"}

# GitHub's no-reply addresses: "<account id>+<login>@users.noreply.github.com".
_NOREPLY = re.compile(r"^(?P<id>\d+)\+(?P<login>[^@]+)@users\.noreply\.github\.com$")


def graphql_login(login: str, kind: str) -> str:
    """The GraphQL login of a REST account of type ``kind`` (a Bot's loses its ``[bot]``)."""
    return login.removesuffix(BOT_SUFFIX) if kind == "Bot" else login


def rest_login(login: str, typename: str) -> str:
    """The REST login of a GraphQL actor of type ``typename`` (a Bot's gains ``[bot]``)."""
    if typename == "Bot" and not login.endswith(BOT_SUFFIX):
        return login + BOT_SUFFIX
    return login


def pull_state(rest_state: str, merged: bool) -> str:
    """GraphQL ``PullRequestState`` (OPEN, CLOSED, MERGED) of a REST pull request."""
    if rest_state == "open":
        return "OPEN"
    return "MERGED" if merged else "CLOSED"


def rest_pull_state(graphql_state: str) -> str:
    """REST ``state`` (open, closed) of a GraphQL ``PullRequestState``."""
    return "open" if graphql_state == "OPEN" else "closed"


def bot_login_from_email(email: str | None) -> str | None:
    """The ``[bot]`` login named by a GitHub no-reply address, or None.

    REST links a commit to the account whose no-reply address it carries, Apps included
    (``49699333+dependabot[bot]@users.noreply.github.com`` -> ``dependabot[bot]``). GraphQL's
    ``GitActor.user`` is typed ``User`` and so is null for an App: this recovers the same link.
    Only ``[bot]`` logins are recovered; for people GraphQL's ``user`` is the answer.
    """
    match = _NOREPLY.match(email or "")
    if match is None or not match["login"].endswith(BOT_SUFFIX):
        return None
    return match["login"]


def node_id(kind: str, number: int) -> str:
    """GitHub's legacy global node id of a ``kind`` (``User``, ``PullRequest``, ...) by database id:
    base64 of ``0<len>:<Type><id>``, what REST answers carry as ``node_id``."""
    text = f"0{len(kind)}:{kind}{number}"
    return base64.b64encode(text.encode()).decode()
