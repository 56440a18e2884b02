"""The words synthetic text is made of (titles, commit messages, comments).

One list for both producers of made-up pull requests, the emulator's synthetic projects and the plain
factories, so that the two read alike; a module of its own because neither should import the other
(the factories would pull in the emulator, the emulator factory-boy).
"""

from __future__ import annotations

WORDS = (
    "fix",
    "add",
    "support",
    "refactor",
    "cache",
    "pagination",
    "tokens",
    "retry",
    "docs",
    "typing",
    "parser",
    "cli",
    "errors",
    "tests",
    "speed",
    "config",
)
