"""Scenario: an edit refused for a secret argument whose validator quotes what it refused.
The modal, the private message, the approval message, the audit trail and the log never show
the typed secret; the other arguments' problems say which argument and what is expected."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from langchain_core.tools import StructuredTool
from pydantic import BaseModel, Field, field_validator

from agent.execution.approval_edits import argument_problems
from agent.tools.registry import Risk, ToolRegistry
from bot.views import wording as say
from bot.views.edit_view import EditTarget, field_errors
from tests.bot.chat import ALICE, MEMORY, chat_with, finish, running_bot
from tests.fakes.slack_api import FakeSlack

TYPED = "hunter2-TYPED-SECRET"
REFUSED = "token: was refused by the tool's own check (its words are not shown: the value is secret)"


class RotateArgs(BaseModel):
    service: str
    token: str = Field(json_schema_extra={"writeOnly": True})
    hours: int = Field(default=24, ge=1, le=72)

    @field_validator("token")
    @classmethod
    def looks_like_a_token(cls, value: str) -> str:
        if not value.startswith("tok-"):
            raise ValueError(f"{value!r} is not a token: tokens start with tok-")  # (it quotes it)
        return value


def rotate_tool(calls: list[dict[str, Any]]) -> StructuredTool:
    async def rotate(service: str, token: str, hours: int = 24) -> str:
        calls.append({"service": service, "token": token, "hours": hours})
        return "rotated"

    return StructuredTool.from_function(coroutine=rotate, name="rotate", description="Rotate a token.",
                                        args_schema=RotateArgs)


ROTATE = {"nodes": [{"id": "rotate", "tool": "rotate", "args": {"service": "web", "token": "tok-OLD"}}]}


async def test_a_refused_secret_is_quoted_nowhere(slack: FakeSlack,
                                                  capsys: pytest.CaptureFixture[str],
                                                  caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    calls: list[dict[str, Any]] = []
    async with running_bot(slack, MEMORY, [ROTATE, finish("rotated")]) as app, \
            chat_with(slack, app) as chat:
        app.services.registry.add(rotate_tool(calls), Risk.RED)
        alice = chat.person(ALICE)
        thread = await alice.runs("rotate the web token")
        approval = await thread.approval_for("rotate")
        view = await alice.opens_edit(approval)

        refused = await alice.submits_edit(view, {"token": TYPED, "hours": "100"})
        assert refused.json() == {"response_action": "errors", "errors": {
            "arg:token": REFUSED, "arg:hours": "hours: Input should be less than or equal to 72"}}

        saved = await alice.submits_edit(view, {"token": "tok-NEW", "hours": "48"})
        assert saved.text in ("", "null")
        await slack.wait_for(lambda: "Edited by <@U0ALICE>" in approval.content, what="the edit shown")
        await alice.approves(approval)
        await thread.answer()
        assert calls == [{"service": "web", "token": "tok-NEW", "hours": 48}]

        trail = json.dumps([entry.detail for entry in await app.services.store.audit_entries()])
        logged = capsys.readouterr()
        logs = logged.out + logged.err + caplog.text
        assert "approval edited" in logs  # (the log is there to look in)
        everything_shown = [refused.text, trail, *slack.told(ALICE), *approval.versions,
                            json.dumps(slack.views), logs]
        assert not [text for text in everything_shown if TYPED in str(text)]


def test_told_privately_the_problems_name_their_argument_without_the_secret() -> None:
    """When Slack has had its answer already, the problems are told in a private message."""
    tools = ToolRegistry()
    tools.add(rotate_tool([]), Risk.RED)
    target = EditTarget(tools.get("rotate").json_schema(), tools.secret_args("rotate"))

    shown = field_errors(argument_problems(tools, "rotate", {"service": "web", "token": TYPED, "hours": 0}),
                         target)
    told = say.edit_not_saved(list(shown.values()))

    assert f"• {REFUSED}" in told and "• hours: Input should be greater than or equal to 1" in told
    assert TYPED not in told
