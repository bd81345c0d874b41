"""A plain "I can't" (issue 43): a red node whose tool does none of what the request asks for
is a plan problem, not an approval; where no tool does it, dagbot says so and asks nobody."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.tools import StructuredTool
from pydantic import BaseModel

from agent.engine.engine import Submission
from agent.engine.refusals import only_for_the_impossible
from agent.errors import PlanProblem
from agent.events import AnswerReady, AwaitingApproval, PlanRepairing, RunFailed
from agent.plan.asked_changes import (
    cannot_do_reply,
    changes_in_a_question,
    done_by_no_tool,
    reads_of,
    unasked_changes,
    unwarranted_refusal,
)
from agent.plan.format import Plan, PlanNode
from agent.tools.effects import asked_effects
from agent.tools.registry import Risk, ToolRegistry
from tests.agent.harness import MEMORY, Harness, harness
from tests.bot.chat import finish


class Args(BaseModel):
    path: str = ""
    content: str = ""
    to: str = ""
    url: str = ""


def tool(name: str) -> StructuredTool:
    async def run(**kwargs: Any) -> dict[str, Any]:
        return {"ok": True, **kwargs}
    return StructuredTool.from_function(coroutine=run, name=name, description=f"The {name}.", args_schema=Args)


def registry() -> ToolRegistry:
    tools = ToolRegistry()
    tools.add(tool("read_file"), Risk.GREEN)
    tools.add(tool("write_file"), Risk.RED, effects={"write"})
    tools.add(tool("send_email"), Risk.RED, effects={"send"})
    tools.add(tool("http_post"), Risk.RED, effects={"post", "send"})
    tools.add(tool("legacy"), Risk.RED)  # declares nothing: never judged
    return tools


@pytest.mark.parametrize(("request_text", "effects"), [
    ("Delete logs/app.log", {"delete"}),
    ("Delete the failed rows from the orders table", {"delete rows"}),  # a database's, not a file's
    ("Restart the checkout service", {"restart"}),
    ("Roll back billing to 2.3.9", {"deploy"}),
    ("Cancel build b-509", {"stop"}),
    ("Upgrade the web tier to 4.1", {"deploy"}),
    ("Write 'delete me' to notes.txt", {"write"}),   # quoted text is what to write
    ("Email ops the error count and save it to errors.txt", {"send", "write"}),
    ("How many ERROR lines are in logs/app.log?", set()),
    ("Drain node-3 so its pods move elsewhere", {"drain", "move"}),
    ("Revoke the partner sandbox's API keys", {"access"}),
    ("Disable the SSO account of gmoreau", {"access"}),
    ("Flush the Redis cache on cache-1", {"delete"}),
    ("Stop the nightly export", {"stop"}),
    ("Roll edge-gateway back to 5.3.2", {"deploy"}),  # the object between a verb's two words
    ("Rolled back billing to 2.3.9 yet?", {"deploy"}),
    ("Shut the old queue down", {"stop"}),
    ("Roll the log over and tell me when it is back", set()),  # too far apart: no verb of change
    ("Renew the api.example.com certificate", {"access"}),
    ("Close ticket SUP-15 and silence its alert", {"tickets"}),
    ("Which tickets were assigned to Noor?", set()),  # what was done: a fact of the data
    # a table's name, and what was done, are no verbs (broad record-thumbnailer)
    ("Add a row to the deploys table: thumbnailer 2.8.4, deployed on 2026-11-26, status ok", {"record"}),
    ("Record in the deploys table that search 1.8.1 was deployed on 2026-11-23", {"record"}),
    ("How many pods were restarted today?", set()),
    ("Restart job sync-users", {"restart"}),
    ("Re-run the failed minio-assets backup right now", {"restart"}),  # nightly rerun-backup
    ("Kick off the export job again", {"restart"}),
    ("Which backups had to be retried?", set()),  # what was done
    ("Delete the log", {"delete"}),
    # the first half of a noun is no verb, nor is a host's name a database (evening flush-queue)
    ("flush the postfix mail queue on db-01", {"delete"}),
    ("What is the deploy history of checkout, and the restart policy?", set()),
    ("mail the report to ops@example.com", {"send"}),
    ("restart server web-1", {"restart"}),  # no determiner: the command it says
    ("Stop service checkout and email ops@example.com", {"stop", "send"}),
    ("delete the rows on db-01", {"delete rows"}),
])
def test_the_effects_a_request_asks_for_are_read_from_its_verbs(request_text: str, effects: set[str]) -> None:
    assert asked_effects(request_text) == effects


def test_a_red_node_doing_none_of_what_is_asked_is_a_problem() -> None:
    plan = Plan(nodes=[PlanNode(id="clear", tool="write_file", args={"path": "logs/app.log", "content": ""}),
                       PlanNode(id="old", tool="legacy", args={})])
    [problem] = unasked_changes(plan, registry(), "Delete logs/app.log")
    assert problem.node == "clear" and "'write_file' does not do what the request asks (delete)" in problem.message
    assert unasked_changes(plan, registry(), "Clear logs/app.log") == []  # clearing is writing
    assert unasked_changes(plan, registry(), "Tidy up the logs") == []    # no verb of change: the plan's call


def test_what_no_tool_does_gets_a_plain_reply_naming_what_can_be_done() -> None:
    assert done_by_no_tool("Restart the checkout service and email ops", registry()) == {"restart"}
    reply = cannot_do_reply(frozenset({"restart"}), registry())
    assert reply.startswith("I can't do that: none of my tools can start, restart or re-run services and jobs.")
    assert "`write_file`" in reply and "each after an approval" in reply


async def ended(h: Harness) -> tuple[str, list[str]]:
    await h.engine.idle()
    events = h.drain()
    answer = next(e.answer for e in events if isinstance(e, AnswerReady))
    return answer, [type(e).__name__ for e in events]


def with_only_file_tools(h: Harness) -> None:
    """The harness's red tools replaced by the file tools alone."""
    for name in h.services.registry.names(Risk.RED):
        h.services.registry.remove(name)
    with_file_tools(h)


def with_file_tools(h: Harness) -> None:
    h.services.registry.add(tool("write_file"), Risk.RED, effects={"write"})
    h.services.registry.add(tool("http_post"), Risk.RED, effects={"post", "send"})


async def test_delete_approximated_by_an_empty_write_is_answered_i_cant_and_asks_nobody() -> None:
    empty_write = {"nodes": [{"id": "delete", "tool": "write_file",
                              "args": {"path": "logs/app.log", "content": ""}}]}
    async with harness(MEMORY, [empty_write]) as h:
        with_file_tools(h)
        assert await h.engine.submit("t1", "Delete logs/app.log") is Submission.STARTED
        answer, kinds = await ended(h)
    assert answer.startswith("I can't do that: none of my tools can delete.")
    assert AwaitingApproval.__name__ not in kinds and PlanRepairing.__name__ not in kinds
    assert len(h.llm.calls) == 1  # no repair round and no joiner: the reply is dagbot's


async def test_a_restart_posted_to_a_host_after_a_read_is_i_cant_too() -> None:
    plan = {"nodes": [{"id": "status", "tool": "lookup", "args": {"key": "checkout"}},
                      {"id": "restart", "tool": "http_post", "args": {"url": "http://ops.internal/restart"}}]}
    async with harness(MEMORY, [plan]) as h:
        with_file_tools(h)
        assert await h.engine.submit("t1", "Restart the checkout service") is Submission.STARTED
        answer, kinds = await ended(h)
    assert answer.startswith("I can't do that: none of my tools can start, restart or re-run services and jobs.")
    assert AwaitingApproval.__name__ not in kinds


async def test_the_wrong_red_tool_for_what_a_tool_does_goes_to_the_repair_round() -> None:
    posted = {"nodes": [{"id": "note", "tool": "http_post", "args": {"url": "http://x.example/", "content": "hi"}}]}
    written = {"nodes": [{"id": "note", "tool": "write_file", "args": {"path": "note.txt", "content": "hi"}}]}
    async with harness(MEMORY, [posted, written, finish("Wrote note.txt.")]) as h:
        with_file_tools(h)
        assert await h.engine.submit("t1", "Write 'hi' to note.txt") is Submission.STARTED
        await h.next_event(AwaitingApproval, node_id="note")
        kinds = [type(e).__name__ for e in h.drain()]
    assert PlanRepairing.__name__ in kinds


class WriteArgs(BaseModel):
    path: str
    content: str


def strict_write() -> StructuredTool:
    """A write_file whose content is required, as the built-in one's is."""
    async def write(path: str, content: str) -> dict[str, Any]:
        return {"path": path}
    return StructuredTool.from_function(coroutine=write, name="write_file", description="Write a file.",
                                        args_schema=WriteArgs)


async def test_a_stand_in_whose_arguments_do_not_fit_is_still_i_cant_not_the_plans_faults() -> None:
    strict = strict_write()
    no_content = {"nodes": [{"id": "delete", "write_file": {"path": "logs/app.log"}}]}  # as the 1.5B model drafted it
    async with harness(MEMORY, [no_content]) as h:
        tools = h.services.registry
        for name in tools.names(Risk.RED):  # every red tool declares what it does: it is certain
            tools.remove(name)
        tools.add(strict, Risk.RED, effects={"write"})
        assert await h.engine.submit("t1", "Delete logs/app.log") is Submission.STARTED
        answer, kinds = await ended(h)
    assert answer.startswith("I can't do that: none of my tools can delete.")
    assert PlanRepairing.__name__ not in kinds and AwaitingApproval.__name__ not in kinds
    assert len(h.llm.calls) == 1
    with_sql = ToolRegistry()  # a database tool deletes rows, not files
    with_sql.add(strict, Risk.RED, effects={"write"})
    with_sql.add(tool("sql_execute"), Risk.RED, effects={"record", "delete rows", "write"})
    fault = [PlanProblem("delete", "args", "content: Field required")]
    assert str(only_for_the_impossible(no_content, fault, "Delete logs/app.log", with_sql)).startswith(
        "I can't do that")
    reads = {"nodes": [{"id": "tag", "package": {"goal": "tag", "code": "result = inputs['x']"}}]}
    # a question whose verb reads as a change, and a draft with no red node: repaired, never "I can't"
    assert only_for_the_impossible(reads, fault, "Which image does billing.yaml deploy?", with_sql) is None
    legacy = ToolRegistry()
    legacy.add(strict, Risk.RED, effects={"write"})
    legacy.add(tool("legacy"), Risk.RED)  # declares nothing: it might delete, so nothing is certain
    assert only_for_the_impossible(no_content, [PlanProblem("delete", "args", "content: Field required")],
                                   "Delete logs/app.log", legacy) is None


async def test_faulty_arguments_of_a_change_that_is_asked_for_still_go_to_the_repair_round() -> None:
    strict = strict_write()
    no_content = {"nodes": [{"id": "note", "write_file": {"path": "note.txt"}}]}
    written = {"nodes": [{"id": "note", "write_file": {"path": "note.txt", "content": "hi"}}]}
    async with harness(MEMORY, [no_content, written]) as h:
        h.services.registry.add(strict, Risk.RED, effects={"write"})
        assert await h.engine.submit("t1", "Write 'hi' to note.txt") is Submission.STARTED
        await h.next_event(AwaitingApproval, node_id="note")
        kinds = [type(e).__name__ for e in h.drain()]
    assert PlanRepairing.__name__ in kinds


class SqlArgs(BaseModel):
    sql: str


async def sql(sql: str) -> dict[str, Any]:
    return {"rowcount": 1}


async def test_a_draft_gone_wrong_for_a_restart_no_tool_does_is_i_cant_too() -> None:
    # as the 1.5B model drafted "Restart the checkout service": an SQL write standing in, and a
    # package reading what it never had
    self_read = {"nodes": [{"id": "restart", "sql_execute": {"sql": "UPDATE deploys SET status = 'ok'"}},
                           {"id": "status", "package": {"goal": "check the service",
                                                        "code": "result = inputs['status']['rows']"}}]}
    async with harness(MEMORY, [self_read]) as h:
        tools = h.services.registry
        for name in tools.names(Risk.RED):
            tools.remove(name)
        tools.add(StructuredTool.from_function(coroutine=sql, name="sql_execute", description="Run SQL.",
                                               args_schema=SqlArgs), Risk.RED, effects={"record", "delete rows", "write"})
        assert await h.engine.submit("t1", "Restart the checkout service") is Submission.STARTED
        answer, kinds = await ended(h)
    assert answer.startswith("I can't do that: none of my tools can start, restart or re-run services and jobs.")
    assert "`sql_execute`" in answer and PlanRepairing.__name__ not in kinds


async def test_a_plan_that_stays_invalid_for_what_no_tool_does_is_i_cant_not_its_faults() -> None:
    """bench.quality restart-service: the 1.5B model's draft repeated itself, and so did its
    repair; the reply was "I could not make a plan" for a request no plan could do."""
    broken = '{"nodes": [{"id": "restart", "package": {"goal": "restart'  # cut off: not JSON
    async with harness(MEMORY, [broken, broken, broken, broken]) as h:
        tools = h.services.registry
        for name in tools.names(Risk.RED):  # every red tool declares what it does: it is certain
            tools.remove(name)
        with_file_tools(h)
        assert await h.engine.submit("t1", "Restart the checkout service") is Submission.STARTED
        answer, kinds = await ended(h)
        assert await h.engine.submit("t2", "Restart the service that deploy.yaml names") is Submission.STARTED
        await h.engine.idle()
        failed = [e for e in h.drain() if isinstance(e, RunFailed)]
    assert answer.startswith("I can't do that: none of my tools can start, restart or re-run services and jobs.")
    assert PlanRepairing.__name__ in kinds and len(h.llm.calls) == 4  # each was repaired once
    # a request that names a file may be one to read it ("what does deploy.yaml restart?"): its faults
    [failure] = failed
    assert "I could not make a valid plan" in failure.error


@pytest.mark.parametrize("request_text", ["Please purge the CDN cache for static.example.com",
                                          "Forget and prune the CDN cache for static.example.com"])
async def test_a_command_no_tool_carries_out_planned_as_reads_is_i_cant_before_anything_runs(
        request_text: str) -> None:
    """dev-purge-cdn: "Purge the CDN cache for static.example.com" was planned as a GET of the host,
    and the answer was the GET's refusal; a read cannot purge. A verb of its own before "and" and
    the command counts too (evening prune-snapshots: "Forget and prune the restic snapshots…")."""
    fetched = {"nodes": [{"id": "cdn", "tool": "lookup", "args": {"key": "static.example.com"}}]}
    async with harness(MEMORY, [fetched]) as h:
        with_only_file_tools(h)
        assert await h.engine.submit("t1", request_text) is Submission.STARTED
        answer, _ = await ended(h)
    assert answer.startswith("I can't do that: none of my tools can delete.")
    assert "`write_file`" in answer and len(h.llm.calls) == 1  # no joiner: dagbot's own reply
    assert h.log.count("lookup") == 0  # nothing ran


@pytest.mark.parametrize(("request_text", "reply"), [
    ("Delete logs/app.log", "I can't do that: none of my tools can delete."),
    ("Please move the file notes.md to old/notes.md", "I can't do that: none of my tools can move or rename files."),
])
async def test_a_command_on_a_file_it_names_planned_as_reads_is_i_cant(request_text: str, reply: str) -> None:
    """tuning delete-log: "Delete logs/app.log" was planned as a read of the file and an
    ``http_get`` of a made-up delete address; the file the command acts on is no file to read."""
    fetched = {"nodes": [{"id": "app", "tool": "read_file", "args": {"path": "logs/app.log"}},
                         {"id": "delete", "tool": "lookup", "args": {"key": "http://localhost:8080/delete_log"}}]}
    async with harness(MEMORY, [fetched]) as h:
        with_only_file_tools(h)
        h.services.registry.add(tool("read_file"), Risk.GREEN)
        assert await h.engine.submit("t1", request_text) is Submission.STARTED
        answer, _ = await ended(h)
    assert answer.startswith(reply) and h.log.count("lookup") == 0 and len(h.llm.calls) == 1


@pytest.mark.parametrize(("request_text", "reply"), [
    ("Drain node-3 so its pods move elsewhere", "I can't do that: none of my tools can drain or cordon nodes"),
    ("Revoke the partner sandbox's API keys",
     "I can't do that: none of my tools can change accounts, keys, certificates or access."),
    ("Renew the api.example.com certificate",
     "I can't do that: none of my tools can change accounts, keys, certificates or access."),
    ("Acknowledge INC-4411", "I can't do that: none of my tools can close, assign or acknowledge tickets"),
    # "store" a noun here, no change asked (nightly prune-backups)
    ("Prune the pg-users backups older than 2026-11-22 from the backup store",
     "I can't do that: none of my tools can delete."),
    ("Re-run the failed minio-assets backup right now",
     "I can't do that: none of my tools can start, restart or re-run services and jobs."),
    # a command of two words (tuesday trigger-clickstream-run: planned as a query of a table nobody named)
    ("kick off a fresh clickstream_hourly run in Airflow right now",
     "I can't do that: none of my tools can start, restart or re-run services and jobs."),
])
async def test_an_ops_command_no_tool_carries_out_planned_as_reads_is_i_cant(request_text: str, reply: str) -> None:
    """fresh drain-node: "Drain node-3" was planned as GETs of a host named nowhere, refused
    twice, run, and answered with the refusals: no word of what was asked."""
    fetched = {"nodes": [{"id": "drain", "tool": "lookup", "args": {"key": "https://api.example.com/node-3/pods"}}]}
    async with harness(MEMORY, [fetched]) as h:
        with_only_file_tools(h)
        assert await h.engine.submit("t1", request_text) is Submission.STARTED
        answer, _ = await ended(h)
    assert answer.startswith(reply) and h.log.count("lookup") == 0


@pytest.mark.parametrize("request_text", [
    "Which image does billing.yaml deploy?",           # a question, not a command
    "Check static.example.com, then purge its cache",  # the command comes later: its plan decides
    "Restarts of billing in logs/k8s.log today",       # not the bare verb: a noun
    "Remove the duplicates from the names in data/users.csv and list them",  # a file to read
    "Remove the duplicates in data/users.csv",         # the file holds what to remove: its plan decides
    "Purge static.example.com now?",                   # a question
])
async def test_reads_for_a_request_that_does_not_open_with_that_command_run(request_text: str) -> None:
    fetched = {"nodes": [{"id": "cdn", "tool": "lookup", "args": {"key": "static.example.com"}}]}
    async with harness(MEMORY, [fetched, finish("Here is what I found.")]) as h:
        with_only_file_tools(h)
        assert await h.engine.submit("t1", request_text) is Submission.STARTED
        answer, _ = await ended(h)
    assert answer == "Here is what I found." and h.log.count("lookup") == 1


def test_an_i_cant_to_a_question_the_threads_files_answer_is_a_plan_problem() -> None:
    """console follow-up-restarts-node: "Which node is it on?" after the pod with the most
    restarts was found in ops/pods-wide.txt was planned as no node and "I can't do that: none of
    my tools can tell you which node is on"."""
    refusal = Plan(nodes=[], answer="I can't do that: none of my tools can tell you which node is on.")
    [problem] = unwarranted_refusal(refusal, "Which node is it on?", registry(), ["ops/pods-wide.txt"])
    assert problem.field == "answer" and '{"id": "pods_wide", "read_file": {"path": "ops/pods-wide.txt"}}' \
        in problem.message
    assert unwarranted_refusal(refusal, "Restart it on node-b", registry(), ["ops/pods-wide.txt"]) == []  # a change
    assert unwarranted_refusal(refusal, "Which node is it on?", registry(), []) == []  # nothing to read
    # a request to see a file it names, not a question (console show-docker)
    docker = Plan(nodes=[], answer="I can't do that: none of my tools can list Docker processes.")
    assert unwarranted_refusal(docker, "Show me the containers in ops/docker-ps.txt", registry(),
                               ["ops/docker-ps.txt"])
    assert unwarranted_refusal(docker, "And the containers", registry(), ["ops/docker-ps.txt"], named_here=False) \
        == []  # the file the request before named, and no question
    answered = Plan(nodes=[], answer="It is on node-a.")
    assert unwarranted_refusal(answered, "Which node is it on?", registry(), ["ops/pods-wide.txt"]) == []
    reads = Plan(nodes=[PlanNode(id="pods", tool="read_file", args={"path": "ops/pods-wide.txt"})],
                 answer="I can't tell.")
    assert unwarranted_refusal(reads, "Which node is it on?", registry(), ["ops/pods-wide.txt"]) == []


async def test_the_repair_round_reads_the_file_a_refused_question_names() -> None:
    refusal = {"nodes": [], "answer": "I can't do that: none of my tools can read pods."}
    read = {"nodes": [{"id": "pods", "tool": "read_file", "args": {"path": "ops/pods.txt"}}]}
    async with harness(MEMORY, [refusal, read, finish("api-2 runs on node-b.")]) as h:
        h.services.registry.add(tool("read_file"), Risk.GREEN)
        assert await h.engine.submit("t2", "Which node is api-2 on, in ops/pods.txt?") is Submission.STARTED
        ready = await h.next_event(AnswerReady)
        kinds = [type(e).__name__ for e in h.drain()]
    assert ready.answer == "api-2 runs on node-b."
    assert PlanRepairing.__name__ in kinds


async def test_an_i_cant_the_repair_round_kept_becomes_the_reads_of_the_files_named() -> None:
    """console show-docker: told, the repair round said "I can't" again."""
    refusal = {"nodes": [], "answer": "I can't do that: none of my tools execute docker_ps."}
    async with harness(MEMORY, [refusal, refusal, finish("Four containers run: edge-proxy, ledger, …")]) as h:
        h.services.registry.add(tool("read_file"), Risk.GREEN)
        assert await h.engine.submit("t3", "Show me the containers in ops/docker-ps.txt") is Submission.STARTED
        ready = await h.next_event(AnswerReady)
    assert ready.answer == "Four containers run: edge-proxy, ledger, …"
    assert reads_of(["ops/a.txt", "logs/a.txt"]) == [
        PlanNode(id="a", tool="read_file", args={"path": "ops/a.txt"}),
        PlanNode(id="a_2", tool="read_file", args={"path": "logs/a.txt"})]


@pytest.mark.parametrize(("request_text", "left_out"), [
    ("Which certificates in pki/certificates.json expire before 2027-01-01?", True),
    ("Who is on call? Page them.", False),                        # a command besides the question
    ("Can you write the expiring ones to reports/x.md?", False),  # a change asked for
    ("List the certificates that expire before 2027-01-01", False),  # no question: its plan decides
])
def test_a_change_planned_for_a_question_that_asks_for_none(request_text: str, left_out: bool) -> None:
    """morning follow-up-mail-cert-owners: the question was planned with a ``write_file`` of the
    certificates to a report nobody named, and its approver was asked for it."""
    plan = Plan(nodes=[PlanNode(id="certs", tool="read_file", args={"path": "pki/certificates.json"}),
                       PlanNode(id="write", tool="write_file", args={"path": "reports/expiring.md", "content": "x"})])
    problems = changes_in_a_question(plan, registry(), request_text)
    assert [p.node for p in problems] == (["write"] if left_out else [])


async def test_a_question_runs_without_the_change_its_plan_added() -> None:
    planned = {"nodes": [{"id": "certs", "tool": "lookup", "args": {"key": "certs"}},
                         {"id": "write", "tool": "write_file", "args": {"path": "reports/expiring.md",
                                                                        "content": "${certs}"}}]}
    async with harness(MEMORY, [planned, finish("Two expire.")]) as h:
        with_file_tools(h)
        assert await h.engine.submit("t1", "Which certificates expire before 2027-01-01?") is Submission.STARTED
        answer, kinds = await ended(h)
    assert answer == "Two expire." and "AwaitingApproval" not in kinds and h.log.count("lookup") == 1
