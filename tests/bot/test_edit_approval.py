"""Scenarios: Edit before approving. The approved arguments are what runs; bad edits and edits
by people who may not decide change nothing."""

from __future__ import annotations

import json
from typing import Any

from langchain_core.tools import StructuredTool
from pydantic import BaseModel

from agent.tools.registry import Risk
from tests.bot.chat import ALICE, BOB, CAROL, MALLORY, MEMORY, chat_with, finish, running_bot, settle
from tests.fakes.slack_api import FakeSlack

SCALE = {"thought": "more capacity", "nodes": [
    {"id": "scale", "tool": "scale", "args": {"service": "web", "replicas": 4, "token": "tok-123"},
     "why": "traffic is up"}]}
DEPLOY = {"thought": "ship", "nodes": [{"id": "deploy", "tool": "deploy", "args": {"target": "prod"}}]}


def field(view: dict[str, Any], name: str) -> dict[str, Any]:
    return next(b for b in view["blocks"] if b.get("block_id") == f"arg:{name}")


async def test_an_edited_approval_runs_the_edited_arguments(slack: FakeSlack) -> None:
    async with running_bot(slack, MEMORY, [SCALE, finish("scaled")], approvers={"scale": [BOB]}) as app, \
            chat_with(slack, app) as chat:
        alice, bob = chat.person(ALICE), chat.person(BOB)
        thread = await alice.runs("scale web up")
        approval = await thread.approval_for("scale")
        assert [b["text"]["text"] for b in approval.buttons()] == [
            "Approve", "Approve for this thread", "Reject", "Edit"]

        # bob opens Edit: a field per argument, from the tool's schema; the secret one is empty
        view = await bob.opens_edit(approval)
        assert field(view, "service")["element"]["initial_value"] == "web"
        assert field(view, "replicas")["element"]["initial_value"] == "4"
        assert field(view, "replicas")["hint"]["text"] == "How many replicas, 1 to 20."
        assert "initial_value" not in field(view, "token")["element"]
        assert "tok-123" not in json.dumps(view)

        # he saves 6 replicas: the modal closes, the message shows his values and the original ones
        saved = await bob.submits_edit(view, {"replicas": "6"})
        assert saved.text in ("", "null")
        await slack.wait_for(lambda: "Edited by <@U0BOB>" in approval.content, what="the edit shown")
        edited, original = approval.content.split("original arguments")
        assert '"replicas": 6' in edited and '"replicas": 4' in original
        assert "tok-123" not in approval.content and "•••• (secret)" in approval.content

        # he approves: the tool runs once, with his edit (and the secret token, kept as it was)
        await bob.approves(approval)
        await thread.answer()
        assert app.log.args_of("scale") == [{"service": "web", "replicas": 6, "token": "tok-123"}]
        await slack.wait_for(lambda: "Approved by <@U0BOB>" in approval.content, what="approved")
        assert "Edited by <@U0BOB>" in approval.content and approval.buttons() == []

        # the audit trail has the edit (original and edited values), the decision and the red call
        trail = await app.services.store.audit_entries()
        assert [e.kind.value for e in trail] == ["request", "plan", "approval_requested", "edit", "decision",
                                                "red_start", "red_outcome"]
        edit = trail[3]
        assert edit.actor == BOB
        assert edit.detail["original"] == {"service": "web", "replicas": 4, "token": "•••• (secret)"}
        assert edit.detail["edited"] == {"service": "web", "replicas": 6, "token": "•••• (secret)"}
        assert trail[4].detail["edited_by"] == BOB and trail[5].detail["args"]["replicas"] == 6
        assert "tok-123" not in json.dumps([e.detail for e in trail])


async def test_the_answer_is_written_from_the_call_that_ran_not_the_one_planned(slack: FakeSlack) -> None:
    """The plan's own answer ("… as planned") was written for its arguments: after an edit it
    would tell of a call that never ran. The joiner writes the answer instead, told what the
    edited call ran with (its secret masked)."""
    planned = {**SCALE, "answer": "Scaled ${scale.scaled} up as planned."}
    async with running_bot(slack, MEMORY, [planned, finish("Scaled web to 6 replicas.")]) as app, \
            chat_with(slack, app) as chat:
        alice = chat.person(ALICE)
        thread = await alice.runs("scale web up")
        approval = await thread.approval_for("scale")
        await alice.submits_edit(await alice.opens_edit(approval), {"replicas": "6"})
        await slack.wait_for(lambda: "Edited by" in approval.content, what="the edit shown")
        await alice.approves(approval)
        answer = await thread.answer()
        assert "Scaled web to 6 replicas." in answer.content and "as planned" not in answer.content
        joiner_prompt = app.llm.calls[-1][-1].text
        changes = joiner_prompt.split("## Changes made\n")[1].split("\n## ")[0].strip()
        assert changes == ('- scale: scale done — not as planned: it ran as scale({"service": "web", "replicas": 6, '
                           f'"token": "•••• (secret)"}}), edited by {ALICE}')


async def test_an_edit_that_breaks_the_schema_is_refused_beside_its_field(slack: FakeSlack) -> None:
    async with running_bot(slack, MEMORY, [SCALE, finish("scaled")]) as app, chat_with(slack, app) as chat:
        alice = chat.person(ALICE)
        thread = await alice.runs("scale web up")
        approval = await thread.approval_for("scale")
        view = await alice.opens_edit(approval)

        not_json = await alice.submits_edit(view, {"replicas": "many"})
        assert not_json.json() == {"response_action": "errors", "errors": {
            "arg:replicas": "This is not valid JSON (Expecting value). Text needs \"quotes\"."}}
        too_many = await alice.submits_edit(view, {"replicas": "50", "service": "web", "token": ""})
        assert too_many.json() == {"response_action": "errors", "errors": {
            "arg:replicas": "replicas: Input should be less than or equal to 20"}}

        # nothing changed: the message, the stored approval, the trail
        stored = await app.services.store.get(approval.button("Approve")["value"])
        assert stored is not None and stored.edits == 0 and stored.edited_args is None
        assert len(approval.versions) == 1
        assert "edit" not in [e.kind.value for e in await app.services.store.audit_entries()]

        await alice.approves(approval)
        await thread.answer()
        assert app.log.args_of("scale") == [{"service": "web", "replicas": 4, "token": "tok-123"}]


async def test_someone_who_may_not_approve_may_not_edit(slack: FakeSlack) -> None:
    async with running_bot(slack, MEMORY, [DEPLOY, finish("deployed")], approvers={"deploy": [BOB]}) as app, \
            chat_with(slack, app) as chat:
        alice, bob, mallory = chat.person(ALICE), chat.person(BOB), chat.person(MALLORY)
        thread = await alice.runs("deploy prod")
        approval = await thread.approval_for("deploy")

        # mallory (and alice, who asked) click Edit: told who may decide, no modal opens
        await mallory.clicks("Edit", approval)
        await mallory.is_told("only <@U0BOB> may decide")
        await alice.clicks("Edit", approval)
        await alice.is_told("only <@U0BOB> may decide")
        await app.bot.tasks.idle()
        assert slack.views == []

        # mallory submits a copy of bob's modal herself: refused, nothing changes
        view = await bob.opens_edit(approval)
        await mallory.submits_edit(view, {"target": "mallory-box"})
        await slack.wait_for(lambda: sum("only <@U0BOB> may decide" in t for t in slack.told(MALLORY)) == 2,
                             what="the second refusal")
        stored = await app.services.store.get(approval.button("Approve")["value"])
        assert stored is not None and stored.edited_args is None and len(approval.versions) == 1

        await bob.approves(approval)
        await thread.answer()
        assert app.log.args_of("deploy") == [{"target": "prod", "note": ""}]


async def test_an_approve_click_on_arguments_edited_since_decides_nothing(slack: FakeSlack) -> None:
    async with running_bot(slack, MEMORY, [DEPLOY, finish("deployed")],
                           approvers={"deploy": [BOB, CAROL]}) as app, chat_with(slack, app) as chat:
        alice, bob, carol = chat.person(ALICE), chat.person(BOB), chat.person(CAROL)
        thread = await alice.runs("deploy prod")
        approval = await thread.approval_for("deploy")
        shown_to_bob = dict(approval.button("Approve"))  # bob's client still shows the first version

        await carol.submits_edit(await carol.opens_edit(approval), {"target": "staging"})
        await slack.wait_for(lambda: "Edited by <@U0CAROL>" in approval.content, what="carol's edit")

        # bob clicks Approve on what he saw (prod): nothing is decided, he is told why
        await chat.driver.send_payload(chat.driver.block_action(BOB, approval, shown_to_bob))
        await bob.is_told("Someone edited these arguments after you opened them")
        await settle(app)
        assert app.log.count("deploy") == 0
        stored = await app.services.store.get(approval.button("Approve")["value"])
        assert stored is not None and stored.is_pending

        # a second edit from a modal opened before the first one is refused the same way
        await bob.submits_edit(carol_view := await carol.opens_edit(approval), {"target": "qa"})
        await carol.submits_edit(carol_view, {"target": "dev"})
        await carol.is_told("Someone edited these arguments after you opened them")

        # approving what the message now shows runs it, once
        await bob.approves(approval)
        await thread.answer()
        assert app.log.args_of("deploy") == [{"target": "qa", "note": ""}]


class PostArgs(BaseModel):
    url: str
    payload: Any = None  # (like http_post's json: any JSON)


POST = {"nodes": [{"id": "post", "tool": "post", "args": {"url": "https://x.example/", "payload": {"n": 1}}}]}


async def test_nan_is_refused_beside_its_field(slack: FakeSlack, database_url: str) -> None:
    async with running_bot(slack, database_url, [POST, finish("posted")]) as app, chat_with(slack, app) as chat:
        async def post(url: str, payload: Any = None) -> str:
            app.log.calls.append(("post", {"url": url, "payload": payload}))
            return "ok"
        app.services.registry.add(StructuredTool.from_function(
            coroutine=post, name="post", description="POST JSON.", args_schema=PostArgs), Risk.RED)
        alice = chat.person(ALICE)
        thread = await alice.runs("post it")
        approval = await thread.approval_for("post")
        view = await alice.opens_edit(approval)

        # Python reads NaN as JSON, PostgreSQL's json type does not: it is refused in the modal
        refused = await alice.submits_edit(view, {"payload": '{"n": NaN}'})
        assert refused.json() == {"response_action": "errors", "errors": {
            "arg:payload": 'This is not valid JSON (NaN is not a JSON number). Text needs "quotes".'}}
        stored = await app.services.store.get(approval.button("Approve")["value"])
        assert stored is not None and stored.edits == 0 and len(approval.versions) == 1

        saved = await alice.submits_edit(view, {"payload": '{"n": 2.5}'})
        assert saved.text in ("", "null")
        await slack.wait_for(lambda: "Edited by <@U0ALICE>" in approval.content, what="the edit shown")
        await alice.approves(approval)
        await thread.answer()
        assert app.log.args_of("post") == [{"url": "https://x.example/", "payload": {"n": 2.5}}]


async def test_a_click_that_fails_unexpectedly_is_told_privately(slack: FakeSlack) -> None:
    async with running_bot(slack, MEMORY, [SCALE, finish("scaled")]) as app, chat_with(slack, app) as chat:
        alice = chat.person(ALICE)
        thread = await alice.runs("scale web up")
        approval = await thread.approval_for("scale")
        store = app.services.store
        decide, edit = store.decide, store.edit

        async def broken(*args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("the database refused it")

        # the store fails under an edit, an approval and a rejection: each time alice is told
        store.edit = broken  # type: ignore[method-assign]
        view = await alice.opens_edit(approval)
        closed = await alice.submits_edit(view, {"replicas": "6"})
        assert closed.text in ("", "null")
        await alice.is_told("Something went wrong on my side")
        store.decide = broken  # type: ignore[method-assign]
        await alice.approves(approval)
        await slack.wait_for(lambda: len(slack.told(ALICE)) == 2, what="alice told again")
        await alice.rejects(approval, "no")
        await slack.wait_for(lambda: len(slack.told(ALICE)) == 3, what="alice told a third time")
        assert all("Something went wrong on my side" in text for text in slack.told(ALICE))

        # once the store works again, the approval is still there to decide
        store.decide, store.edit = decide, edit  # type: ignore[method-assign]
        await alice.approves(approval)
        await thread.answer()
        assert app.log.args_of("scale") == [{"service": "web", "replicas": 4, "token": "tok-123"}]
