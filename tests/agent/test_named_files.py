"""A file the request names is a file the plan reads (agent/plan/named_files.py): a plan that
answers from something else gets one repair round that says which file to read."""

from __future__ import annotations

from agent.events import AnswerReady, PlanRepairing
from agent.plan.format import Plan
from agent.plan.named_files import named_files, unread_named_files
from tests.agent.harness import MEMORY, finish, harness


def plan(*nodes: dict[str, object]) -> Plan:
    return Plan.model_validate({"nodes": list(nodes)})


def test_the_files_a_request_names_are_relative_paths_with_a_files_extension() -> None:
    assert named_files("How many builds in ci/builds.csv failed, and what does deploy.yaml set?") == {
        "ci/builds.csv", "deploy.yaml"}
    assert named_files("Purge the CDN cache for static.example.com and mail ops@example.com") == set()
    assert named_files("Show me /etc/passwd, ~/.ssh/id_rsa.pub and http://127.0.0.1:8000/a.json") == set()
    assert named_files("Show me notes/README") == set()  # no extension: a folder as well as a file


def test_a_plan_that_reads_something_else_is_told_which_file_to_read() -> None:
    query = plan({"id": "n", "tool": "sql_query", "args": {"sql": "SELECT count(*) FROM ci.builds"}})
    [problem] = unread_named_files(query, "How many builds in ci/builds.csv failed?")
    assert "names the file ci/builds.csv, but no node reads it" in problem.message
    read = plan({"id": "r", "tool": "read_file", "args": {"path": "ci/builds.csv"}})
    assert unread_named_files(read, "How many builds in ci/builds.csv failed?") == []
    fanned = plan({"id": "r", "tool": "read_file", "each": [{"path": "a.log"}, {"path": "b.log"}]})
    assert unread_named_files(fanned, "Compare a.log and b.log") == []


def test_a_plan_with_no_nodes_or_a_file_the_thread_holds_needs_no_read() -> None:
    assert unread_named_files(plan(), "Delete logs/app.log") == []  # "I can't": nothing is read
    earlier = [["Show me notes/x.md", "It says hi", {"x": {"status": "done", "output": {"path": "notes/x.md"}}}]]
    follow_up = plan({"id": "m", "tool": "send_email", "args": {"to": "a@example.com", "body": "hi"}})
    assert unread_named_files(follow_up, "Email notes/x.md's greeting to a@example.com", earlier) == []


async def test_the_repair_round_reads_the_named_file_and_a_second_miss_runs_as_it_is() -> None:
    elsewhere = {"nodes": [{"id": "q", "tool": "lookup", "args": {"key": "builds table"}}]}
    reads = {"nodes": [{"id": "q", "tool": "lookup", "args": {"key": "ci/builds.csv"}}]}
    async with harness(MEMORY, [elsewhere, reads, finish("2 failed")]) as h:
        await h.engine.ask("named-1", "How many builds in ci/builds.csv failed?")
        assert "names the file ci/builds.csv, but no node reads it" in str(h.llm.calls[1][-1].content)
        events = h.drain()
        assert [e.problems for e in events if isinstance(e, PlanRepairing)] == [[
            "the request names the file ci/builds.csv, but no node reads it: read it with a node "
            "(read_file) and work from its content; a database's tables are not workspace files"]]
        assert h.log.calls == [("lookup", {"key": "ci/builds.csv"})]
        assert isinstance(events[-1], AnswerReady) and events[-1].answer == "2 failed"
    async with harness(MEMORY, [elsewhere, elsewhere, finish("from the table")]) as h:
        await h.engine.ask("named-2", "How many builds in ci/builds.csv failed?")
        assert h.log.calls == [("lookup", {"key": "builds table"})]  # the repaired plan ran as it was
        assert isinstance(h.drain()[-1], AnswerReady)
