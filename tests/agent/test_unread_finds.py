"""A file a search found, for a request that asks to read it, is read before the answer
(agent/engine/unread_finds.py): the joiner plans again, told which read_file node to add."""

from __future__ import annotations

from typing import Any

from langchain_core.tools import StructuredTool

from agent.engine.unread_finds import unread_finds, unread_for_values
from agent.events import AnswerReady, Replanning, RunEvent
from agent.tools.registry import Risk, ToolRegistry
from infra.emulators.scripted_chat import ScriptedChatModel
from tests.agent.harness import asked_once, finish
from tests.fakes.tools import ToolLog, simulated_registry

RUNBOOK = "runbooks/checkout.md"
TOOLS = ("read_file", "search_files")
FIND_RUNBOOK = "Read the runbook in the runbooks folder and tell me its first step."


def searched(*paths: str, node_id: str = "s") -> tuple[dict[str, Any], dict[str, Any]]:
    """A plan of one search and its result: a match in each of ``paths``."""
    plan = {"nodes": [{"id": node_id, "tool": "search_files", "args": {"query": "runbook"}}]}
    matches = [{"path": p, "line_number": 1, "text": "# Checkout runbook"} for p in paths]
    return plan, {node_id: {"status": "done", "output": {"matches": matches, "truncated": False}}}


def test_a_request_to_read_what_a_search_found_gets_the_read_to_plan() -> None:
    plan, results = searched(RUNBOOK)
    assert unread_finds(FIND_RUNBOOK, plan, results, tools=TOOLS) == (
        "The search found runbooks/checkout.md, but a search returns only the lines that match, and the "
        'request asks to read the file: plan the node {"id": "checkout", "read_file": {"path": '
        '"runbooks/checkout.md"}} and answer from its content.')
    two, found = searched("a/x.md", "b/x.md")
    assert '{"id": "x", "read_file"' in str(unread_finds("Read the runbook", two, found, tools=TOOLS))
    assert '{"id": "x_2", "read_file"' in str(unread_finds("Read the runbook", two, found, tools=TOOLS))


def test_a_request_to_find_a_file_and_tell_something_of_it_gets_the_read_to_plan() -> None:
    """broad find-etcd-note: a search for "etcd" found one line of the review; who chaired it was
    in no matching line."""
    plan, results = searched("notes/review.md")
    for asked in ("Find the note that mentions etcd and tell me who chaired that meeting.",
                  "Locate the runbook about failover, then say what its first step is",
                  "Find the config file with the cache settings: which port does it use?"):
        assert '{"id": "review", "read_file": {"path": "notes/review.md"}}' in str(
            unread_finds(asked, plan, results, tools=TOOLS)), asked
    for asked in ("Find the notes that mention etcd",  # the files found are the answer
                  "Find the lines about etcd and tell me when they were written"):  # lines, not a file
        assert unread_finds(asked, plan, results, tools=TOOLS) is None, asked


def test_no_read_is_asked_where_the_request_or_the_search_says_otherwise() -> None:
    plan, results = searched(RUNBOOK)
    asked = "Which files mention escalations?"  # a search is the answer: nothing asks to read
    assert unread_finds(asked, plan, results, tools=TOOLS) is None
    assert unread_finds("Show me the ERROR lines in the logs folder", plan, results, tools=TOOLS) is None
    assert unread_finds("Which incidents are open?", plan, results, tools=TOOLS) is None
    assert unread_finds(FIND_RUNBOOK, plan, results, tools=("search_files",)) is None  # no tool reads
    many, found = searched("a.md", "b.md", "c.md")
    assert unread_finds(FIND_RUNBOOK, many, found, tools=TOOLS) is None  # which one is not said
    nothing, _ = searched()
    assert unread_finds(FIND_RUNBOOK, nothing, {"s": {"status": "done", "output": {"matches": []}}},
                        tools=TOOLS) is None
    failed = {"s": {"status": "failed", "error": "no such folder"}}
    assert unread_finds(FIND_RUNBOOK, plan, failed, tools=TOOLS) is None


def test_a_file_already_read_in_the_request_or_the_thread_is_not_read_again() -> None:
    plan, results = searched(RUNBOOK)
    read = {"status": "done", "output": {"path": RUNBOOK, "content": "1. Check the status page"}}
    assert unread_finds(FIND_RUNBOOK, plan, {**results, "r (plan 1)": read}, tools=TOOLS) is None
    earlier = [{"request": "Show me the runbook", "answer": "…",
                "results": {"r": {"status": "done", "preview": f'{{"path": "{RUNBOOK}", "content": "1. …"}}'}}}]
    assert unread_finds(FIND_RUNBOOK, plan, results, earlier, tools=TOOLS) is None
    # a preview (a long search result, shown cut) still names the files it found
    previewed = {"s": {"status": "done", "preview": f'{{"matches": [{{"path": "{RUNBOOK}", "line_number": 1'}}
    assert RUNBOOK in str(unread_finds(FIND_RUNBOOK, plan, previewed, tools=TOOLS))


def finding_registry(log: ToolLog) -> ToolRegistry:
    async def search_files(query: str, pattern: str = "**/*") -> dict[str, Any]:
        log.calls.append(("search_files", {"query": query, "pattern": pattern}))
        return {"matches": [{"path": RUNBOOK, "line_number": 1, "text": "# Checkout runbook"}], "truncated": False}

    async def read_file(path: str) -> dict[str, str]:
        log.calls.append(("read_file", {"path": path}))
        return {"path": path, "content": "# Checkout runbook\n1. Check the status page\n"}

    registry = simulated_registry(log)
    for tool in (search_files, read_file):
        registry.add(StructuredTool.from_function(coroutine=tool, description=tool.__name__), Risk.GREEN)
    return registry


async def test_the_joiner_plans_the_read_before_answering_from_a_search() -> None:
    log = ToolLog()
    search = {"nodes": [{"id": "runbook", "tool": "search_files", "args": {"query": "runbook"}}]}
    read = {"nodes": [{"id": "checkout", "tool": "read_file", "args": {"path": RUNBOOK}}]}
    llm = ScriptedChatModel(replies=[search, read, finish("First, check the status page.")])
    events: list[RunEvent] = await asked_once(llm, finding_registry(log), "finds-1", FIND_RUNBOOK)
    assert [e.feedback for e in events if isinstance(e, Replanning)] == [unread_finds(
        FIND_RUNBOOK, search, {"runbook": {"status": "done", "output": {"matches": [{"path": RUNBOOK}]}}},
        tools=TOOLS)]
    assert "plan the node" in str(llm.calls[1][-1].content)  # the planner was told what to add
    assert log.calls == [("search_files", {"query": "runbook", "pattern": "**/*"}),
                         ("read_file", {"path": RUNBOOK})]
    assert isinstance(events[-1], AnswerReady) and events[-1].answer == "First, check the status page."
    assert len(llm.calls) == 3  # the joiner answered once, after the read


async def test_an_answer_stating_what_no_result_holds_after_a_search_gets_the_found_file_read() -> None:
    """monday find-sessions-type: no "read" in the request; the search's matched lines held no
    type, and the answer named one (`another_node_type`). The found file is read, and the
    answer is written from its content."""
    log = ToolLog()
    asked = "Which step comes first in the checkout runbook?"
    search = {"nodes": [{"id": "runbook", "tool": "search_files", "args": {"query": "runbook"}}]}
    read = {"nodes": [{"id": "checkout", "tool": "read_file", "args": {"path": RUNBOOK}}]}
    llm = ScriptedChatModel(replies=[search, finish("The first step is `restart_pods`."), read,
                                     finish("First, check the status page.")])
    events: list[RunEvent] = await asked_once(llm, finding_registry(log), "finds-2", asked)
    told = [e.feedback for e in events if isinstance(e, Replanning)]
    assert len(told) == 1 and told[0].startswith("The answer was not sent: it names `restart_pods`")
    assert 'plan the node {"id": "checkout", "read_file": {"path": "runbooks/checkout.md"}}' in told[0]
    assert log.calls == [("search_files", {"query": "runbook", "pattern": "**/*"}),
                         ("read_file", {"path": RUNBOOK})]
    assert isinstance(events[-1], AnswerReady) and events[-1].answer == "First, check the status page."
    # with nothing a search found left unread, the name is no value to read for
    plan, results = searched(RUNBOOK)
    assert unread_for_values("it names `x`", plan, results, tools=TOOLS) is not None
    assert unread_for_values("it names `x`", plan, results, tools=("search_files",)) is None
    assert unread_for_values("it names `x`", {"nodes": []}, {}, tools=TOOLS) is None


async def test_a_joiner_that_pasted_a_searchs_matches_twice_gets_the_found_file_read() -> None:
    """monday find-sessions-type: the joiner pasted the search's matched lines, twice; computed
    from those lines, the values were not there. The file they are in is read instead."""
    log = ToolLog()
    asked = "Which step comes first in the checkout runbook?"
    search = {"nodes": [{"id": "runbook", "tool": "search_files", "args": {"query": "runbook"}}]}
    read = {"nodes": [{"id": "checkout", "tool": "read_file", "args": {"path": RUNBOOK}}]}
    pasted = ('- runbook: done → {"matches": [{"path": "runbooks/checkout.md", "line_number": 1, '
              '"text": "# Checkout runbook"}], "truncated": false}')
    llm = ScriptedChatModel(replies=[search, pasted, pasted, read, finish("First, check the status page.")])
    events: list[RunEvent] = await asked_once(llm, finding_registry(log), "finds-3", asked)
    told = [e.feedback for e in events if isinstance(e, Replanning)]
    assert len(told) == 1 and 'plan the node {"id": "checkout", "read_file"' in told[0]
    assert log.calls[-1] == ("read_file", {"path": RUNBOOK})
    assert isinstance(events[-1], AnswerReady) and events[-1].answer == "First, check the status page."
