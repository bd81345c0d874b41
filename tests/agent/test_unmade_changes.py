"""A change the request commands, to a target it names, is made by a step or planned again
(agent/plan/unmade_changes.py): unseen mail-processed computed the total and sent nothing, unseen
follow-up-queue-depth lost its write_file in a repair."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.tools import StructuredTool
from pydantic import BaseModel

from agent.answer.change_claims import ASK_AGAIN_NOTE, NO_CHANGE_NOTE
from agent.answer.vetting import CHANGED, marked_changes, unclaimed
from agent.events import AnswerReady, AwaitingApproval, Replanning, RunEvent, Waiting
from agent.plan.uncomputed import COMPUTING_GOAL
from agent.plan.unmade_changes import unmade_changes, unmade_feedback, unmade_problems
from agent.tools.effects import commanded_effects
from agent.tools.registry import Risk, ToolRegistry
from infra.emulators.scripted_chat import ScriptedChatModel
from tests.agent.harness import MEMORY, asked_once, finish, services_on
from tests.agent.test_uncomputed import COMPUTED_ID
from tests.fakes.packages import ScriptedPackages
from tests.fakes.tools import ToolLog

MAIL_TOTAL = "Email the total of the processed column in ops/queues.csv to data@example.com"


class ReadArgs(BaseModel):
    path: str


class WriteArgs(BaseModel):
    path: str
    content: str


class PostArgs(BaseModel):
    url: str
    body: str


class MailArgs(BaseModel):
    to: str
    body: str


def registry(log: ToolLog | None = None, content: str = "queue,processed\norders,8400\nemails,15200\n"
             ) -> ToolRegistry:
    calls = log.calls if log is not None else []

    async def read_file(path: str) -> dict[str, Any]:
        calls.append(("read_file", {"path": path}))
        return {"path": path, "content": content}

    async def write_file(path: str, content: str) -> dict[str, Any]:
        calls.append(("write_file", {"path": path, "content": content}))
        return {"path": path, "bytes_written": len(content)}

    async def post(url: str, body: str) -> dict[str, Any]:
        calls.append(("http_post", {"url": url, "body": body}))
        return {"status": 200}

    async def send_email(to: str, body: str) -> dict[str, Any]:
        calls.append(("send_email", {"to": to, "body": body}))
        return {"sent_to": [to]}

    tools = ToolRegistry()
    tools.add(StructuredTool.from_function(coroutine=read_file, name="read_file", description="Read a file.",
                                           args_schema=ReadArgs), Risk.GREEN, returns=frozenset({"path", "content"}))
    tools.add(StructuredTool.from_function(coroutine=write_file, name="write_file", description="Write a file.",
                                           args_schema=WriteArgs), Risk.RED, effects={"write"})
    tools.add(StructuredTool.from_function(coroutine=post, name="http_post", description="POST to a URL.",
                                           args_schema=PostArgs), Risk.RED, effects={"post", "send"})
    tools.add(StructuredTool.from_function(coroutine=send_email, name="send_email", description="Send mail.",
                                           args_schema=MailArgs), Risk.RED, effects={"send"})
    return tools


READ = {"id": "queues", "tool": "read_file", "args": {"path": "ops/queues.csv"}}


@pytest.mark.parametrize(("request_text", "effects"), [
    (MAIL_TOTAL, {"send"}),
    ("Put that queue's depth in reports/depth.txt", {"write"}),
    ("Count the failed lines in logs/s.log and save the count in reports/n.txt", {"write"}),
    ("Could you write the names to reports/x.txt?", {"write"}),
    ("Read notes/i.md, then email the owners to oncall@example.com", {"send"}),
    ("Which files did we write yesterday?", set()),   # a verb met in passing
    ("How many mails were sent to ops@example.com?", set()),
    ("Write 'send it' to notes.txt", {"write"}),       # quoted: what to write
])
def test_a_command_is_a_verb_that_opens_the_request_or_a_clause(request_text: str, effects: set[str]) -> None:
    assert commanded_effects(request_text) == effects


def test_a_commanded_change_to_a_named_target_that_no_step_makes_is_unmade() -> None:
    tools = registry()
    # the tool that only sends first (told "http_post or send_email", a replan posted the mail)
    assert unmade_changes({"nodes": [READ]}, MAIL_TOTAL, tools) == {"send": ["send_email", "http_post"]}
    # a stand-in does not make it: writing to the address is no mail
    stand_in = {"id": "send", "tool": "write_file", "args": {"path": "data@example.com", "content": "x"}}
    assert unmade_changes({"nodes": [READ, stand_in]}, MAIL_TOTAL, tools) == {"send": ["send_email", "http_post"]}
    mail = {"id": "mail", "tool": "send_email", "args": {"to": "data@example.com", "body": "x"}}
    assert unmade_changes({"nodes": [READ, mail]}, MAIL_TOTAL, tools) == {}
    # no target named (where would it go?) or no tool that makes it
    assert unmade_changes({"nodes": [READ]}, "Save the total somewhere", tools) == {}
    assert unmade_changes({"nodes": [READ]}, "Delete reports/old.txt", tools) == {}
    assert unmade_changes({"nodes": []}, "Delete reports/old.txt", tools) == {}
    # an answer of no step sends nothing either (fresh follow-up-slowest)
    assert unmade_changes({"nodes": [], "answer": "It is `search`."}, MAIL_TOTAL, tools) == {
        "send": ["send_email", "http_post"]}
    [problem] = unmade_problems({"nodes": [READ]}, MAIL_TOTAL, tools)
    assert problem.message == ("the request asks to send mail (send_email does it), and no step of the plan "
                               "does: add a send_email node for it")


def test_a_plan_that_ran_without_it_is_planned_again_unless_a_tool_failed() -> None:
    tools = registry()
    done = {"queues": {"status": "done", "output": {"content": "…"}}}
    feedback = unmade_feedback({"nodes": [READ]}, done, MAIL_TOTAL, tools)
    assert feedback is not None and feedback.startswith("the request asks to send mail (send_email does it)")
    failed = {"queues": {"status": "failed", "error": "not found: ops/queues.csv"}}
    assert unmade_feedback({"nodes": [READ]}, failed, MAIL_TOTAL, tools) is None  # nothing to send
    package = {"id": "total", "package": {"goal": "sum", "code": "result = 1"}, "depends_on": ["queues"]}
    crashed = {**done, "total": {"status": "failed", "error": "SyntaxError"}}
    assert unmade_feedback({"nodes": [READ, package]}, crashed, MAIL_TOTAL, tools) is not None
    # a plan of no step stands after its repair round was told: nothing ran to plan again from
    assert unmade_feedback({"nodes": [], "answer": "It is 23600."}, {}, MAIL_TOTAL, tools) is None


def test_the_values_dagbot_computed_for_the_request_come_as_the_change_node_to_copy() -> None:
    """broad mail-owners: the owners were computed, and the replan mailed "Please review the
    action items in the attached file"."""
    tools = registry()
    computing = {"id": "computed", "package": {"goal": f"{COMPUTING_GOAL} {MAIL_TOTAL}", "code": ""},
                 "depends_on": ["queues"]}
    done = {"queues": {"status": "done", "output": {"content": "…"}},
            "computed": {"status": "done", "output": 23600}}
    feedback = unmade_feedback({"nodes": [READ, computing]}, done, MAIL_TOTAL, tools)
    assert feedback is not None and feedback.endswith(
        'plan it as it is, {"id": "send", "send_email": {"to": "data@example.com", "body": "23600"}}')
    listed = {**done, "computed": {"status": "done", "output": ["Luis Ortega", "Mei Lin"]}}
    assert '"body": "Luis Ortega\\nMei Lin"' in str(unmade_feedback({"nodes": [READ, computing]}, listed,
                                                                      MAIL_TOTAL, tools))
    # the planner's own package, or two addresses named: no node is written for the model
    own = {**computing, "package": {"goal": "sum", "code": "result = 1"}}
    assert "plan it as it is" not in str(unmade_feedback({"nodes": [READ, own]}, done, MAIL_TOTAL, tools))
    two = MAIL_TOTAL + " and ops@example.com"
    assert "plan it as it is" not in str(unmade_feedback({"nodes": [READ, computing]}, done, two, tools))


async def test_a_draft_answering_a_commanded_mail_from_the_thread_is_told_to_send_it() -> None:
    """fresh follow-up-slowest: "Email that service's name to sre@example.com" was answered with
    the name and no step; the repair round is told, and the mail it plans waits for approval."""
    log = ToolLog()
    answered = {"nodes": [], "answer": "The service is `search`."}
    mail = {"nodes": [{"id": "mail", "tool": "send_email", "args": {"to": "data@example.com", "body": "23600"}}]}
    llm = ScriptedChatModel(replies=[answered, mail])
    events: list[RunEvent] = await asked_once(llm, registry(log), "unmade-2", MAIL_TOTAL)
    assert "add a send_email node for it" in str(llm.calls[1][-1].content)
    assert [e.tool for e in events if isinstance(e, AwaitingApproval)] == ["send_email"]
    # nothing sent; the file the request names is read beside it (the repaired plan did not)
    assert isinstance(events[-1], Waiting) and [name for name, _ in log.calls] == ["read_file"]


async def test_the_draft_is_told_and_a_plan_that_ran_without_the_mail_plans_it_before_answering() -> None:
    log = ToolLog()
    read_only = {"nodes": [READ]}
    mail = {"nodes": [{"id": "mail", "tool": "send_email",
                       "args": {"to": "data@example.com", "body": "23600 processed"}}]}
    llm = ScriptedChatModel(replies=[read_only, read_only, mail])
    events: list[RunEvent] = await asked_once(llm, registry(log), "unmade-1", MAIL_TOTAL)
    # the draft's repair round was told; the same draft again ran, and the joiner planned the mail
    assert "add a send_email node for it" in str(llm.calls[1][-1].content)
    [replanned] = [e for e in events if isinstance(e, Replanning)]
    assert replanned.feedback.startswith("the request asks to send mail (send_email does it), and no step")
    assert log.calls == [("read_file", {"path": "ops/queues.csv"})]  # the mail waits for its approval
    assert isinstance(events[-1], Waiting) and len(llm.calls) == 3


async def test_the_values_are_computed_before_the_unmade_change_is_planned_with_them() -> None:
    """monday mail-high-ack: the mail was planned again before anything computed the mean, and the
    replan referred to a field a search's result has not; computed first, the replan is told
    the mail's node with the value."""
    log = ToolLog()
    mail = {"nodes": [{"id": "send", "tool": "send_email", "args": {"to": "data@example.com", "body": "23600"}}]}
    llm = ScriptedChatModel(replies=[{"nodes": [READ]}, {"nodes": [READ]}, mail])
    packages = ScriptedPackages(outputs={COMPUTED_ID: lambda inputs: 23600})
    async with services_on(MEMORY, llm, registry(log), packages=packages) as services:
        events = services.events.open()
        await services.engine.ask("unmade-computed", MAIL_TOTAL)
        seen = [events.get_nowait() for _ in range(events.qsize())]
    assert [job.inputs.keys() for job in packages.jobs] == [{"queues"}]  # computed once, from the read
    [replanned] = [e for e in seen if isinstance(e, Replanning)]
    assert replanned.feedback.endswith(
        'plan it as it is, {"id": "send", "send_email": {"to": "data@example.com", "body": "23600"}}')
    labels = [type(e).__name__ for e in seen]
    assert labels.index("PlanReady") < labels.index("Replanning")
    assert [e.tool for e in seen if isinstance(e, AwaitingApproval)] == ["send_email"]


async def test_a_replans_answer_claiming_a_change_no_plan_made_is_replaced_by_the_facts() -> None:
    """unseen mail-processed: after two plans that sent nothing, "… and it has been sent" stood
    (with a note below it); the request commands the mail, so dagbot's own reply replaces it."""
    claim = "The total has been sent to data@example.com."
    llm = ScriptedChatModel(replies=[{"nodes": [READ]}, {"nodes": [READ]}, {"nodes": [READ]}, {"nodes": [READ]},
                                     finish(claim)])
    events = await asked_once(llm, registry(), "unmade-2", MAIL_TOTAL)
    assert [type(e) for e in events if isinstance(e, Replanning)] == [Replanning]
    answer = events[-1]
    assert isinstance(answer, AnswerReady)
    assert claim not in answer.answer and "no step of this request made one" in answer.answer
    assert answer.answer.endswith(f"Nothing was changed.\n\n{ASK_AGAIN_NOTE}")


def test_a_change_an_earlier_plan_made_is_marked_and_the_claim_stands() -> None:
    sent = {"id": "mail", "tool": "send_email", "args": {"to": "data@example.com", "body": "x"}}
    ran = {"queues": {"status": "done", "output": {}}, "mail": {"status": "done", "output": {"sent_to": ["x"]}}}
    marked = marked_changes({"nodes": [READ, sent]}, ran, ["send_email"])
    assert marked["mail"][CHANGED] is True and CHANGED not in marked["queues"]
    state: dict[str, Any] = {"plan": {"nodes": [READ]}, "results": {"queues": ran["queues"]},
                             "earlier_results": [marked]}
    assert unclaimed("Sent it to data@example.com.", state, ["send_email"]) == "Sent it to data@example.com."  # type: ignore[arg-type]
    state["earlier_results"] = [marked_changes({"nodes": [READ]}, {"queues": ran["queues"]}, ["send_email"])]
    assert unclaimed("Sent it.", state, ["send_email"]).endswith(NO_CHANGE_NOTE)  # type: ignore[arg-type]


def test_a_change_asked_for_that_no_step_was_to_make_is_said_not_made_under_a_silent_answer() -> None:
    """weekend follow-up-mail-assignee: the mail, to an address nobody named, was left out, and
    the answer gave api-3's address as if that were all that was asked."""
    state: dict[str, Any] = {"plan": {"nodes": [READ]}, "results": {"queues": {"status": "done", "output": {}}},
                             "request": "email them api-3's address from edge/haproxy.cfg"}
    answer = "The address of api-3 is 10.0.3.23:9000."
    assert unclaimed(answer, state, ["send_email"], {"send"}) == f"{answer}\n\n{NO_CHANGE_NOTE}"  # type: ignore[arg-type]
    assert unclaimed(answer, state, ["write_file"], {"write"}) == answer  # (no tool here sends)  # type: ignore[arg-type]
    # an answer that says so itself, or a question that commands nothing: as it is
    said = "I could not send it: nobody named their address."
    assert unclaimed(said, state, ["send_email"], {"send"}) == said  # type: ignore[arg-type]
    state["request"] = "what is api-3's address in edge/haproxy.cfg?"
    assert unclaimed(answer, state, ["send_email"], {"send"}) == answer  # type: ignore[arg-type]
    # a mail step that was planned (rejected, failed, waiting) is told by its own status instead
    state.update(request="email them api-3's address", plan={"nodes": [READ, {"id": "m", "tool": "send_email"}]})
    assert unclaimed(answer, state, ["send_email"], {"send"}) == answer  # type: ignore[arg-type]


async def test_a_mail_to_them_is_a_change_asked_for_and_goes_to_whom_the_answer_before_named() -> None:
    """weekend follow-up-mail-assignee: after "Maja Lindgren", "email them api-3's address" was
    planned as a read alone and nothing was sent. "Them" names her address in the results before,
    so the draft is told to send it, and the mail its repair wrote to api-3@example.net goes to her."""
    log = ToolLog()
    incidents = '[{"number": 4812, "status": "triggered", "assignee": {"name": "Maja Lindgren", ' \
                '"email": "maja.lindgren@example.net"}}, {"number": 4807, "status": "resolved", ' \
                '"assignee": {"name": "Ren Takahashi", "email": "ren.takahashi@example.net"}}]'
    read = {"nodes": [{"id": "incidents", "tool": "read_file", "args": {"path": "oncall/incidents.json"}}]}
    read_cfg = {"nodes": [{"id": "cfg", "tool": "read_file", "args": {"path": "edge/haproxy.cfg"}}]}
    astray = {"nodes": [{"id": "mail", "tool": "send_email", "args": {"to": "api-3@example.net",
                                                                      "body": "api-3 is at 10.0.3.23"}}]}
    llm = ScriptedChatModel(replies=[read, finish("The triggered incident 4812 is assigned to Maja Lindgren."),
                                     read_cfg, astray])
    async with services_on(MEMORY, llm, registry(log, incidents)) as services:
        events = services.events.open()
        await services.engine.ask("them-1", "Who is assigned to the incident in oncall/incidents.json that is "
                                            "still triggered?")
        await services.engine.ask("them-1", "email them api-3's address from edge/haproxy.cfg")
        seen: list[RunEvent] = []
        while not events.empty():
            seen.append(events.get_nowait())
    assert "add a send_email node for it" in str(llm.calls[3][-1].content)
    [asked] = [e for e in seen if isinstance(e, AwaitingApproval)]
    assert asked.args["to"] == "maja.lindgren@example.net"
    assert [name for name, _ in log.calls] == ["read_file", "read_file"]  # nothing sent before the approval


class SqlArgs(BaseModel):
    sql: str


def recording_registry() -> ToolRegistry:
    async def sql_execute(sql: str) -> dict[str, Any]:
        return {"rowcount": 0}

    tools = registry()
    tools.add(StructuredTool.from_function(coroutine=sql_execute, name="sql_execute", description="Run SQL.",
                                           args_schema=SqlArgs), Risk.RED, effects={"record"})
    return tools


RECORD = "Record in the deploys table that search 1.8.1 was deployed on 2026-11-23 with status ok"
QUERY = {"id": "search", "tool": "read_file", "args": {"path": "x"}}


def test_a_record_in_a_table_the_request_names_that_no_step_makes_is_unmade() -> None:
    """tuning record-deploy: the repaired plan left the stand-in write out and only queried."""
    tools = recording_registry()
    assert unmade_changes({"nodes": [QUERY]}, RECORD, tools) == {"record": ["sql_execute"]}
    insert = {"id": "add", "tool": "sql_execute", "args": {"sql": "INSERT INTO deploys VALUES (1)"}}
    assert unmade_changes({"nodes": [QUERY, insert]}, RECORD, tools) == {}
    # no table named: "record" is no change of rows here ("record the count in reports/n.txt")
    assert "record" not in unmade_changes({"nodes": [QUERY]}, "Record the count in reports/n.txt", tools)


def test_an_update_that_changed_no_row_for_a_record_is_planned_again_as_an_insert() -> None:
    """tuning record-deploy: the replan ran an UPDATE of the rows of 1.8.1 on that day; there were
    none, so nothing was recorded, and the answer said the update was done."""
    tools = recording_registry()
    update = {"id": "update", "tool": "sql_execute",
              "args": {"sql": "UPDATE deploys SET status = 'ok' WHERE version = '1.8.1'"}}
    plan = {"nodes": [QUERY, update]}
    ran = {"search": {"status": "done", "output": {"rows": []}}, "update": {"status": "done", "output": {"rowcount": 0}}}
    feedback = unmade_feedback(plan, ran, RECORD, tools)
    assert feedback is not None and "`update` changed no row" in feedback and "INSERT" in feedback
    changed = {**ran, "update": {"status": "done", "output": {"rowcount": 1}}}
    assert unmade_feedback(plan, changed, RECORD, tools) is None  # it changed a row: recorded
    insert = {**update, "args": {"sql": "INSERT INTO deploys VALUES ('search', '1.8.1')"}}
    assert unmade_feedback({"nodes": [QUERY, insert]}, ran, RECORD, tools) is None  # (no UPDATE)
    # not asked to record: an update that matched nothing is the answer's to tell
    assert unmade_feedback(plan, ran, "Set search 1.8.1's status to ok in the deploys table", tools) is None
