"""Slack I/O for dagbot: the Bolt app, listeners, Block Kit rendering, progress and approvals.

Depends on :mod:`agent` only. ``infra`` makes the bot's :class:`bot.app.SlackAccess` (the access
policy the engine is built with), builds the engine's services with it, then a
:class:`bot.app.SlackBot` on them, and serves it (``dagbot serve``, HTTP or Socket Mode).

In rooms, lowest first (each imports only the rooms below it): ``ground`` (Slack's Web API:
posting, Block Kit, mrkdwn, features, threads, action ids), ``access`` (the policy and who may
do what), ``views`` (pure rendering), ``outbound`` (run events out to Slack: status, plan and
answer streams, approval messages, App Home) and ``inbound`` (requests in: listeners, intake,
commands, clicks). Directly in bot/: the ports ``infra`` implements (:mod:`bot.store`,
:mod:`bot.ops`), the configuration it hands down (:mod:`bot.config`) and the wiring
(:mod:`bot.app`, :mod:`bot.server`).
"""
