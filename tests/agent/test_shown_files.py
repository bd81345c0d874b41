""""Show me x.csv": the answer is the file as a step read it, with no model call
(agent/answer/shown_files.py)."""

from __future__ import annotations

from agent.answer.shown_files import shown_file
from agent.events import AnswerReady
from infra.emulators.scripted_chat import ScriptedChatModel
from tests.agent.harness import asked_once
from tests.agent.test_named_files import reading_registry
from tests.fakes.tools import ToolLog

READ = {"nodes": [{"id": "vendors", "read_file": {"path": "data/vendors.csv"}}]}


async def test_a_request_to_see_a_file_is_answered_with_the_file_and_no_model_call() -> None:
    """wide follow-up-priciest: the joiner answered "The file … has been read successfully"."""
    llm = ScriptedChatModel(replies=[READ])  # (a joiner's call would find no reply left)
    events = await asked_once(llm, reading_registry(ToolLog()), "show", "Show me data/vendors.csv")
    [answer] = [e.answer for e in events if isinstance(e, AnswerReady)]
    assert answer == "`data/vendors.csv`:\n```\nbuild,result\nb-1,failed\nb-2,failed\n```"
    assert len(llm.calls) == 1


def test_only_a_request_to_see_one_file_that_a_step_read_whole_is_answered_so() -> None:
    results = {"vendors": {"status": "done", "output": {"path": "data/vendors.csv", "content": "a,b\n1,2\n"}}}
    plan = {"nodes": [{"id": "vendors", "tool": "read_file", "args": {"path": "data/vendors.csv"}}]}
    assert shown_file("print the contents of data/vendors.csv, please", plan, results) == \
        "`data/vendors.csv`:\n```\na,b\n1,2\n```"
    assert shown_file("Show me data/vendors.csv and who owns PagerPal", plan, results) is None
    assert shown_file("Which vendor in data/vendors.csv costs most?", plan, results) is None
    assert shown_file("Show me notes/x.md", plan, results) is None  # another file was read
    failed = {"vendors": {"status": "failed", "error": "no such file"}}
    assert shown_file("Show me data/vendors.csv", plan, failed) is None
    cut = {"vendors": {"status": "done", "output": {"path": "data/vendors.csv", "content": "a,b\n",
                                                     "truncated": True, "size": 90_000}}}
    assert shown_file("Show me data/vendors.csv", plan, cut) == \
        "`data/vendors.csv`:\n```\na,b\n```\n(the first 4 bytes of 90,000)"
    fenced = {"vendors": {"status": "done", "output": {"path": "data/vendors.csv", "content": "```x```"}}}
    assert shown_file("cat data/vendors.csv", plan, fenced) == "`data/vendors.csv`:\n````\n```x```\n````"
