"""The HTTP API (issue 9): agents, supervisors and administrators work through it.

Served by the engine process (:mod:`dialer.app` builds :class:`~dialer.api.server.ApiServer`)
because agent actions act on live runner state: each agent endpoint is a thin call on the
running campaign's :class:`~dialer.campaign.desk.AgentDesk`; data comes from the store, whose
validation is the one the CLI uses. ``docs/api.md`` lists the endpoints and the error ids.
"""
