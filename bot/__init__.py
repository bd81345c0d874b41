"""Slack I/O for dagbot: the Bolt app, listeners, Block Kit rendering, progress and approvals.

Depends on :mod:`agent` only. ``infra`` builds a :class:`bot.app.SlackBot` from the
engine's services and serves it (``dagbot serve``, HTTP or Socket Mode).
"""
