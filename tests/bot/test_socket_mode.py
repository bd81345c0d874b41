"""Scenario: the same app over Socket Mode — no public URL, envelopes over a WebSocket."""

from __future__ import annotations

import asyncio

from bot.app import BotDeps, SlackAccess, build_bot
from bot.server import serve_socket_mode
from infra.emulators.scripted_chat import ScriptedChatModel
from infra.settings import Settings
from tests.bot.chat import ALICE, MEMORY, OPS, Chat, Thread, bot_config, bot_services, finish
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_driver import SlackDriver
from tests.fakes.tools import ToolLog

PLAN = {"nodes": [{"id": "deploy", "tool": "deploy", "args": {"target": "prod"}},
                  {"id": "a", "tool": "lookup", "args": {"key": "a"}}]}


async def test_socket_mode_runs_a_request_and_takes_a_click(slack: FakeSlack) -> None:
    log = ToolLog()
    llm = ScriptedChatModel(replies=[PLAN, finish("deployed over a socket")])
    config = bot_config(slack, signing_secret="")
    access = SlackAccess(config)
    async with bot_services(Settings(DATABASE_URL=MEMORY), llm, log, context=access.engine_context) \
            as (services, store):
        deps = BotDeps(engine=services.engine, events=services.events, approvals=services.store, store=store,
                       access=access)
        bot = build_bot(config, deps)
        stop = asyncio.Event()
        serving = asyncio.create_task(serve_socket_mode(bot, slack.app_token, stop=stop))
        driver = SlackDriver(slack, "http://unused.invalid", "socket-mode-needs-no-secret")
        try:
            # alice's /agent arrives over the socket and is acknowledged there
            ack = await slack.over_socket("slash_commands", driver.slash_fields(ALICE, OPS, "deploy prod"))
            assert ack["envelope_id"]
            root = await slack.wait_for(lambda: next((m for m in slack.messages if m.is_from_bot), None))
            thread = Thread(Chat(slack, driver), OPS, root.ts)
            approval = await thread.approval_for("deploy")

            # her click comes over the socket too
            click = driver.block_action(ALICE, approval, approval.button("Approve"))
            await slack.over_socket("interactive", click)
            assert "deployed over a socket" in (await thread.answer()).content
            assert log.count("deploy") == 1
        finally:
            stop.set()
            await serving
            await driver.close()
