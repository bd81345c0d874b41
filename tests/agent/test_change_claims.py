"""A change that ran and changed no row is said so (agent/answer/change_claims.py)."""

from __future__ import annotations

import asyncio
from typing import Any

from langchain_core.tools import StructuredTool
from pydantic import BaseModel

from agent.answer.change_claims import with_no_rows_note
from agent.events import AnswerReady, AwaitingApproval, RunEvent
from agent.tools.registry import Risk, ToolRegistry
from infra.emulators.scripted_chat import ScriptedChatModel
from tests.agent.harness import MEMORY, finish, services_on

UPDATE = {"id": "update", "tool": "deploy", "args": {"target": "UPDATE deploys SET status = 'ok' WHERE 1 = 0"}}


def test_a_change_that_changed_no_row_is_noted_unless_the_answer_says_so() -> None:
    """tuning record-deploy: an ``UPDATE`` of rows that did not exist, answered "update: sql_execute done"."""
    plan = {"nodes": [UPDATE]}
    none = {"update": {"status": "done", "output": {"rowcount": 0}}}
    assert with_no_rows_note("update: sql_execute done", plan, none, ["deploy"]) == (
        "update: sql_execute done\n\n_`update` ran and changed no row: its statement matched none._")
    assert with_no_rows_note("The update matched no rows.", plan, none, ["deploy"]) == "The update matched no rows."
    one = {"update": {"status": "done", "output": {"rowcount": 1}}}
    assert with_no_rows_note("Recorded.", plan, one, ["deploy"]) == "Recorded."
    assert with_no_rows_note("Recorded.", plan, none, []) == "Recorded."  # a read's rows are no change
    created = {"nodes": [{"id": "update", "tool": "deploy", "args": {"target": "CREATE TABLE t (a int)"}}]}
    assert with_no_rows_note("Created.", created, none, ["deploy"]) == "Created."  # DDL's rowcount says nothing
    assert with_no_rows_note("0 records updated.", plan, none, ["deploy"]) == "0 records updated."
    failed = {"update": {"status": "failed", "error": "no such table"}}
    assert with_no_rows_note("It failed.", plan, failed, ["deploy"]) == "It failed."


class StatementArgs(BaseModel):
    sql: str


async def test_the_posted_answer_says_the_change_changed_no_row() -> None:
    async def sql_execute(sql: str) -> dict[str, Any]:
        return {"rowcount": 0}
    tools = ToolRegistry()
    tools.add(StructuredTool.from_function(coroutine=sql_execute, name="sql_execute", description="Run SQL.",
                                           args_schema=StatementArgs), Risk.RED)
    ask = "Run UPDATE deploys SET status = 'ok' WHERE version = '1.8.1'"
    plan = {"nodes": [{"id": "update", "tool": "sql_execute",
                       "args": {"sql": "UPDATE deploys SET status = 'ok' WHERE version = '1.8.1'"}}]}
    llm = ScriptedChatModel(replies=[plan, finish("update: sql_execute done")])
    async with services_on(MEMORY, llm, tools) as services:
        events = services.events.open()
        await services.engine.submit("rows-1", ask, requested_by="U1")
        asked = await asyncio.wait_for(_next(events, AwaitingApproval), 30)
        await services.engine.decide(asked.approval_id, approved=True, by="U1")
        answered = await asyncio.wait_for(_next(events, AnswerReady), 30)
    assert answered.answer == ("update: sql_execute done\n\n_`update` ran and changed no row: its statement "
                               "matched none._")


async def _next(events: asyncio.Queue[RunEvent], kind: type[Any]) -> Any:
    while True:
        if isinstance(event := await events.get(), kind):
            return event
