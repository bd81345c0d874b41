"""Scenario: the app process dies while an approval waits; a new process takes the click."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from infra.storage.db import create_engine
from infra.storage.engine_store import SqlStore
from tests.bot.chat import ALICE, SIGNING_SECRET, Chat, chat_with, finish, running_bot
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_driver import SlackDriver

ROOT = Path(__file__).resolve().parents[2]
PLAN = {"thought": "deploy needs approval", "nodes": [
    {"id": "deploy", "tool": "deploy", "args": {"target": "prod"}, "why": "ship it"},
    {"id": "a", "tool": "lookup", "args": {"key": "a"}},
    {"id": "b", "tool": "lookup", "args": {"key": "${a}"}},
]}


@asynccontextmanager
async def app_in_another_process(slack: FakeSlack, database_url: str) -> AsyncIterator[str]:
    config = {"database_url": database_url, "api_url": slack.base_url, "token": slack.token,
              "replies": [PLAN]}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.worker", "tests.bot.app_process", json.dumps(config), cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert process.stdout is not None
    try:
        output = []
        while True:
            line = (await asyncio.wait_for(process.stdout.readline(), 60)).decode()
            output.append(line)
            if not line:
                raise AssertionError("the app process exited:\n" + "".join(output))
            if line.startswith("DAGBOT_APP_URL="):
                break
        yield line.split("=", 1)[1].strip()
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGKILL)
        await process.wait()


async def wait_until_parked(database_url: str) -> None:
    """The run has gone quiet: only the approval is left and no runner holds the thread."""
    engine = create_engine(database_url)
    try:
        store = SqlStore(engine)
        for _ in range(300):
            if not await store.held_threads() and await store.pending():
                return
            await asyncio.sleep(0.05)
        raise AssertionError("the run never parked")
    finally:
        await engine.dispose()


async def test_a_new_process_takes_the_click_and_finishes(slack: FakeSlack, database_url: str) -> None:
    # the old process: alice asks, the bot shows the approval, the green branch finishes
    async with app_in_another_process(slack, database_url) as old_url:
        driver = SlackDriver(slack, old_url, SIGNING_SECRET)
        alice = Chat(slack, driver).person(ALICE)
        thread = await alice.runs("deploy prod and look up a")
        approval = await thread.approval_for("deploy")
        status = await thread.status_showing(":white_check_mark: `b`", "*Waiting for approval*")
        await wait_until_parked(database_url)
        await driver.close()
    # ...and the old process is gone (SIGKILL): nothing of it survives but the database

    async with running_bot(slack, database_url, [finish("deployed after a restart")],
                           holder="new-process") as app, chat_with(slack, app) as chat:
        alice = chat.person(ALICE)
        await alice.approves(approval)

        answer = await thread.answer()
        assert "deployed after a restart" in answer.content
        assert app.log.count("deploy") == 1 and app.log.count("lookup") == 0  # green work was not redone
        await slack.wait_for(lambda: "Approved by <@U0ALICE>" in approval.content, what="approval updated")
        await thread.status_showing(":white_check_mark: *Done*", ":white_check_mark: `deploy`",
                                    ":white_check_mark: `b`")
        assert thread.status_messages() == [status]  # the old status message, edited by the new process
