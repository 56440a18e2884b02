"""Fetching from GitHub: the only package that imports PyGithub.

- ``client``: PyGithub's Requester per thread and token, under our retry policy;
- ``tokens``: the TokenPool (quota per account, parking, pausing);
- ``ratelimit``: the pure policy deciding wait / retry / fatal from an answer;
- ``checkpoint``: resumable progress with an append-only data log;
- ``fetcher``: the two-phase crawl and ``fetch_pulls``, which wires the parts together.
"""
