"""GitHub's GraphQL API as the crawl speaks it: pure modules, no I/O, no third-party import.

- ``mapping``: how GraphQL names what REST names otherwise (both directions);
- ``queries``: the documents a crawl sends, built from page sizes and what each PR needs;
- ``convert``: answers to the same models as REST, and a PR's assembly from its pages.

Neutral ground: ``fetch/`` (which sends the documents) and ``cache/`` (which rebuilds snapshots from
recorded answers) both use them, and neither imports the other.
"""
