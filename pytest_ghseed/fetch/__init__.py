"""Fetching from GitHub: the only package that imports PyGithub.

- ``client``: PyGithub's Requester per thread and token, under our retry policy;
- ``tokens``: the TokenPool (quota per account, parking, pausing);
- ``ratelimit``: the pure policy deciding wait / retry / fatal from an answer;
- ``fetcher``: the two-phase REST crawl; ``graphql_fetcher`` the GraphQL one;
- ``choose``: ``fetch_with``, the one entry point, which picks the API and wires the parts together.

The crawl's checkpoint (``pytest_ghseed.checkpoint``) sits outside this package: the cache's
read-only views show its progress without importing PyGithub.
"""
