"""dagbot's core: plans, the tool registry, the LangGraph engine and run events.

This package talks to the outside world only through the small interfaces in
:mod:`agent.ports.stores`; it imports nothing of Slack, Docker or the database.
"""
