"""GitHub's GraphQL API (``POST /graphql``, ``/api/graphql``) for the emulator, from the same data as REST.

:mod:`subset` names what is served; :mod:`extract` cuts GitHub's published schema down to it
(``github.graphql``); :mod:`schema` loads it and binds the resolvers of :mod:`objects`;
:mod:`paging` pages connections as GitHub does; :mod:`cost` prices a query by GitHub's rules;
:mod:`execute` runs one; :mod:`endpoint` is the HTTP side. graphql-core is imported on the first
GraphQL request only, never when the emulator is imported.
"""
