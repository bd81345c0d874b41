"""A call its tool would refuse, to a target nobody named, is a problem of the draft
(agent/plan/refused_calls.py): the HTTP tools' plan check against the allow and deny lists."""

from __future__ import annotations

import re
from pathlib import Path

from langchain_core.tools import StructuredTool

from agent.events import AnswerReady, PlanRepairing, RunEvent
from agent.plan.format import Plan
from agent.plan.named_files import unread_file_names
from agent.plan.refused_calls import reads_of_the_named_file, refused_calls, without_refused_reads
from agent.tools.builtin import BuiltinToolConfig, register_builtin_tools
from agent.tools.files import FileToolConfig
from agent.tools.http import refused_address
from agent.tools.http_policy import HttpToolConfig
from agent.tools.registry import ArgumentRefusal, Risk, ToolRegistry
from infra.emulators.scripted_chat import ScriptedChatModel
from tests.agent.harness import asked_once, finish

LOCAL_ONLY = HttpToolConfig(allow_hosts=("127.0.0.1",), deny_hosts=("*.corp.internal",))


def http_registry(config: HttpToolConfig = LOCAL_ONLY) -> ToolRegistry:
    registry = ToolRegistry()
    register_builtin_tools(registry, BuiltinToolConfig(http=config))
    return registry


def plan(*nodes: dict[str, object]) -> Plan:
    return Plan.model_validate({"nodes": list(nodes)})


def test_the_http_check_names_the_host_its_lists_refuse() -> None:
    check = refused_address(LOCAL_ONLY)
    refusal = check({"url": "https://api.example.com/v1/workers"})
    assert refusal == ArgumentRefusal("api.example.com", "https://api.example.com/v1/workers: refused: host "
                                      "'api.example.com' is not on dagbot's HTTP allow list (127.0.0.1)")
    assert check({"url": "http://127.0.0.1:8000/status"}) is None
    assert check({"url": "https://${svc.host}/status"}) is None  # known when it runs: checked then
    assert check({"url": "not a url"}) is None  # (the call says what is wrong with it when it runs)
    anywhere = refused_address(HttpToolConfig(deny_hosts=("*.corp.internal",)))
    assert anywhere({"url": "https://status.example.org/"}) is None
    denied = anywhere({"url": "https://db.corp.internal/"})
    assert denied is not None and "deny list" in denied.why
    metadata = anywhere({"url": "http://metadata.google.internal/computeMetadata/v1/"})
    assert metadata is not None and "cloud metadata endpoint" in metadata.why


def test_a_call_to_a_host_nobody_named_is_a_problem_in_a_node_a_fan_out_or_a_package() -> None:
    registry = http_registry()
    asked = "Are the workers healthy?"
    copied = plan({"id": "w", "tool": "http_get", "args": {"url": "https://api.example.com/v1/workers"}})
    [problem] = refused_calls(copied, asked, registry)
    assert problem.node == "w" and problem.field == "args"
    assert problem.message.startswith("http_get would be refused when it ran: https://api.example.com/v1/workers:")
    assert problem.message.endswith("Nobody named api.example.com: use only what the request, the thread or "
                                    "a result names")
    fanned = plan({"id": "f", "tool": "http_get", "each": [{"url": "http://127.0.0.1:9/a"},
                                                           {"url": "https://ops.example.com/b"}]})
    assert [p.node for p in refused_calls(fanned, asked, registry)] == ["f"]
    package = plan({"id": "p", "package": {"goal": "g", "code": (
        "page = tools.http_get(url='https://ops.example.com/queue')\nresult = page['status']")}})
    [in_code] = refused_calls(package, asked, registry)
    assert in_code.field == "package.code" and "ops.example.com" in in_code.message
    local = plan({"id": "l", "tool": "http_get", "args": {"url": "http://127.0.0.1:8000/workers"}})
    assert refused_calls(local, asked, registry) == []


def test_a_host_the_request_or_the_thread_names_is_left_to_its_call() -> None:
    registry = http_registry()
    asked = "Fetch https://example.org/ and summarise it"
    fetch = plan({"id": "f", "tool": "http_get", "args": {"url": "https://example.org/"}})
    assert refused_calls(fetch, asked, registry) == []  # refused when it runs, in the answer's words
    earlier = [["Check EXAMPLE.org", "refused", {}]]
    assert refused_calls(fetch, "and again?", registry, earlier) == []
    assert refused_calls(fetch, "and again?", registry) != []


def test_a_step_s_name_in_an_earlier_plan_is_no_name_anybody_gave() -> None:
    """monday follow-up-deploy-failer: "who kicked it off, and when?" queried ``FROM deploy_status``,
    the id of the earlier run's query, and the check let it pass as a name the thread held."""
    registry = ToolRegistry()

    async def query(sql: str) -> str:
        return sql

    def tables(args: dict[str, object]) -> ArgumentRefusal | None:
        named = re.findall(r"\bfrom\s+(\w+)", str(args.get("sql")), re.I)
        unknown = [name for name in named if name != "deploys"]
        return ArgumentRefusal(unknown[0], f"no table '{unknown[0]}'") if unknown else None

    registry.add(StructuredTool.from_function(coroutine=query, name="sql_query", description="SQL"),
                 Risk.GREEN, plan_check=tables)
    follow_up = plan({"id": "who", "tool": "sql_query", "args": {"sql": "SELECT actor FROM deploy_status"}})
    earlier = [{"request": "did a deploy-prod run fail?", "plan": {"nodes": [
        {"id": "deploy_status", "tool": "sql_query", "args": {"sql": "SELECT status FROM deploys"}}],
        "answer": "It did: ${deploy_status.status}"}}]
    assert [p.node for p in refused_calls(follow_up, "who kicked it off?", registry, earlier)] == ["who"]
    said = [{"request": "what is in deploy_status?", "answer": "no such table"}]
    assert refused_calls(follow_up, "who kicked it off?", registry, said) == []  # a person named it
    # a word that is a folder or the name of a file the request names is that file's, no table's
    # (monday backup-total-and-largest: "last night's backups … backups/report-2026-11-29.txt")
    backups = plan({"id": "size", "tool": "sql_query", "args": {"sql": "SELECT SUM(size) FROM backups"}})
    asked = "How much did last night's backups write? backups/report-2026-11-29.txt"
    assert [p.node for p in refused_calls(backups, asked, registry)] == ["size"]
    assert refused_calls(backups, "How much did the rows of the backups table take?", registry) == []


async def ask(replies: list[object], thread: str) -> tuple[ScriptedChatModel, list[RunEvent]]:
    llm = ScriptedChatModel(replies=replies)
    return llm, await asked_once(llm, http_registry(), thread, "Are the workers healthy?")


async def test_the_repair_round_is_told_and_a_second_miss_runs_and_is_refused_as_before() -> None:
    copied = {"nodes": [{"id": "w", "tool": "http_get", "args": {"url": "https://api.example.com/workers"}}]}
    llm, events = await ask([copied, {"nodes": []}, finish("I can't reach the workers' status")], "refused-1")
    assert "Nobody named api.example.com" in str(llm.calls[1][-1].content)
    [repairing] = [e for e in events if isinstance(e, PlanRepairing)]
    assert "not on dagbot's HTTP allow list (127.0.0.1)" in repairing.problems[0]

    llm, events = await ask([copied, copied, finish("The status page refused the call")], "refused-2")
    joined = str(llm.calls[-1][-1].content)
    assert "not on dagbot's HTTP allow list" in joined  # the call ran, and its refusal is a result
    assert isinstance(events[-1], AnswerReady)


async def test_a_refused_call_in_a_draft_with_other_faults_is_told_with_them() -> None:
    """data follow-up-team-share: the draft's queries named a table the database lacks beside a
    package with undefined names; told only of the names, the repair kept the queries."""
    broken = {"nodes": [{"id": "w", "tool": "http_get", "args": {"url": "https://api.example.com/workers"}},
                        {"id": "share", "depends_on": ["w"], "package": {"goal": "g", "code": "result = total / 2"}}]}
    llm, events = await ask([broken, {"nodes": []}, finish("I can't reach the workers' status")], "refused-3")
    [repairing] = [e for e in events if isinstance(e, PlanRepairing)]
    assert any("uses 'total', which it never defines" in p for p in repairing.problems)
    assert any("http_get would be refused when it ran" in p for p in repairing.problems)
    assert "Nobody named api.example.com" in str(llm.calls[1][-1].content)


def test_a_refused_read_written_again_is_left_out_when_other_steps_remain() -> None:
    """unseen follow-up-lock-timeout: told its query named no table of the database, the repair
    wrote it again; the search beside it held the answer, the query would only fail."""
    registry = http_registry()
    asked = "Are the workers healthy?"
    local = {"id": "local", "tool": "http_get", "args": {"url": "http://127.0.0.1:8000/workers"}}
    remote = {"id": "remote", "tool": "http_get", "args": {"url": "https://api.example.com/v1/workers"}}
    both = plan(local, remote)
    refused = refused_calls(both, asked, registry)
    kept = without_refused_reads(both, refused, registry)
    assert kept is not None and [n.id for n in kept.nodes] == ["local"]
    alone = plan(remote)  # nothing would be left: it runs, and its refusal is the answer's to tell
    assert without_refused_reads(alone, refused_calls(alone, asked, registry), registry) is None
    needed = plan(local, remote, {"id": "p", "package": {"goal": "g", "code": "result = inputs['remote']"},
                                  "depends_on": ["remote"]})
    assert without_refused_reads(needed, refused_calls(needed, asked, registry), registry) is None
    # a read that only waits for the refused one (aimed health-and-db-ram) waits no more
    waiting = plan(remote, {**local, "depends_on": ["remote"]})
    kept = without_refused_reads(waiting, refused_calls(waiting, asked, registry), registry)
    assert kept is not None and [(n.id, n.depends_on) for n in kept.nodes] == [("local", [])]
    taking = plan(remote, {**local, "args": {"url": "http://127.0.0.1:8000/${remote}"}, "depends_on": ["remote"]})
    assert without_refused_reads(taking, refused_calls(taking, asked, registry), registry) is None
    # an answer sentence that takes from it goes with it (evening load15)
    told = Plan.model_validate({"nodes": [local, remote], "answer": "Local: ${local}; remote: ${remote}."})
    kept = without_refused_reads(told, refused_calls(told, asked, registry), registry)
    assert kept is not None and [n.id for n in kept.nodes] == ["local"] and kept.answer is None
    untold = Plan.model_validate({"nodes": [local, remote], "answer": "Local: ${local}."})
    kept = without_refused_reads(untold, refused_calls(untold, asked, registry), registry)
    assert kept is not None and kept.answer == "Local: ${local}."


def test_a_refused_read_standing_in_for_the_named_file_nothing_reads_reads_that_file(tmp_path: Path) -> None:
    """broad rejected-escalated: "… the escalated tickets in data/tickets.json …" fetched
    https://ops.example.com/tickets.json, a host nobody named, twice; every step after it was
    skipped. The read keeps its id, so what takes from it is wired as before."""
    registry = ToolRegistry()
    register_builtin_tools(registry, BuiltinToolConfig(http=LOCAL_ONLY, files=FileToolConfig(workspace=tmp_path)))
    asked = "Write the keys of the escalated tickets in data/tickets.json to reports/escalated.txt"
    remote = {"id": "tickets", "tool": "http_get", "args": {"url": "https://ops.example.com/tickets.json"}}
    keys = {"id": "keys", "package": {"goal": "g", "code": "result = inputs['tickets']"}, "depends_on": ["tickets"]}
    fetched = plan(remote, keys)
    refused = refused_calls(fetched, asked, registry)
    read = reads_of_the_named_file(fetched, refused, unread_file_names(fetched, asked, registry), registry)
    assert read is not None and [(n.id, n.tool, n.args) for n in read.nodes] == [
        ("tickets", "read_file", {"path": "data/tickets.json"}), ("keys", None, {})]
    # the file is read already, or two are unread, or two reads refused: which stands for which is not plain
    for other, request in ((plan(remote, {"id": "t", "tool": "read_file", "args": {"path": "data/tickets.json"}}),
                            asked),
                           (fetched, asked + " and data/users.json"),
                           (plan(remote, {**remote, "id": "more", "args": {"url": "https://x.example.com/a.json"}}),
                            asked)):
        problems = refused_calls(other, request, registry)
        assert problems
        assert reads_of_the_named_file(other, problems, unread_file_names(other, request, registry),
                                       registry) is None


async def test_the_run_reads_the_named_file_when_the_repair_wrote_the_refused_read_again(tmp_path: Path) -> None:
    registry = ToolRegistry()
    register_builtin_tools(registry, BuiltinToolConfig(http=LOCAL_ONLY, files=FileToolConfig(workspace=tmp_path)))
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "tickets.json").write_text('{"tickets": [{"key": "SUP-12", "escalated": true}]}')
    fetched = {"nodes": [{"id": "tickets", "tool": "http_get", "args": {"url": "https://ops.example.com/tickets.json"}}]}
    llm = ScriptedChatModel(replies=[fetched, fetched, finish("SUP-12 was escalated.")])
    events = await asked_once(llm, registry, "refused-4", "Which tickets in data/tickets.json were escalated?")
    assert "Nobody named ops.example.com" in str(llm.calls[1][-1].content)  # told once
    assert "SUP-12" in str(llm.calls[2][-1].content)  # then the file was read, and the joiner saw it
    assert isinstance(events[-1], AnswerReady) and events[-1].answer == "SUP-12 was escalated."
