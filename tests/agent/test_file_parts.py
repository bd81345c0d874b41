"""A request in parts, each naming a file of its own, is answered part by part, each part from
its own file's read alone (agent/answer/file_parts.py): monday rollback-time-and-catalog-size
took the catalog's size from the retro (``1Gi``, a memory limit) for the events file's ``5``."""

from __future__ import annotations

from pydantic import SecretStr

from agent.answer.file_parts import file_parts
from agent.events import AnswerDelta, AnswerReady
from infra.emulators.scripted_chat import ScriptedChatModel
from infra.openai_client import ChatOpenAIWithRole
from tests.agent.harness import MEMORY, asked_once, services_on
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.tools import files_registry

RETRO = "# Checkout retro\n- 18:21 Lev rolled checkout back to v41\n- raise checkout's memory limit to 1Gi\n"
EVENTS = ("2m   Normal   SuccessfulRescale   horizontalpodautoscaler/catalog   New size: 5; reason: cpu above "
          "target\n9m   Warning  FailedScheduling   pod/search-2   0/6 nodes are available\n")
FILES = {"retros/checkout.md": RETRO, "k8s/events.txt": EVENTS}
ASK = ("At what time did Lev roll checkout back, per retros/checkout.md, and what size did the catalog "
       "autoscaler go to according to k8s/events.txt?")
PLAN = {"nodes": [{"id": "retro", "read_file": {"path": "retros/checkout.md"}},
                  {"id": "events", "read_file": {"path": "k8s/events.txt"}}]}


def results(*paths: str) -> dict[str, dict[str, object]]:
    return {f"r{i}": {"status": "done", "output": {"path": path, "content": FILES.get(path, "")}}
            for i, path in enumerate(paths)}


def reads(*paths: str) -> dict[str, object]:
    return {"nodes": [{"id": f"r{i}", "tool": "read_file", "args": {"path": path}} for i, path in enumerate(paths)]}


def test_a_request_is_split_where_each_new_question_begins_each_naming_one_file_it_read() -> None:
    parts = file_parts(ASK, reads("retros/checkout.md", "k8s/events.txt"), results("retros/checkout.md",
                                                                                   "k8s/events.txt"))
    assert [(p.question, p.node_id) for p in parts] == [
        ("At what time did Lev roll checkout back, per retros/checkout.md?", "r0"),
        ("what size did the catalog autoscaler go to according to k8s/events.txt?", "r1")]
    two = "What is in a.csv? Which rows of b.json are late; and who owns c.md?"
    assert [p.path for p in file_parts(two, reads("a.csv", "b.json", "c.md"), results("a.csv", "b.json", "c.md"))] \
        == ["a.csv", "b.json", "c.md"]


def test_no_parts_unless_each_question_names_one_file_of_its_own_that_a_read_returned() -> None:
    both = ("retros/checkout.md", "k8s/events.txt")
    for request in ("Sum the sizes in retros/checkout.md and k8s/events.txt",  # one question, two files
                    "When did Lev roll back, and what size did the catalog go to in k8s/events.txt?",  # no file
                    "When did Lev roll back in k8s/events.txt, and what size did it go to in k8s/events.txt?",
                    # a later question that points back to an earlier one is not whole alone
                    "When did Lev roll back in retros/checkout.md, and what did its size go to in k8s/events.txt?"):
        assert file_parts(request, reads(*both), results(*both)) == [], request
    # a file no read returned (a search, a failed read) holds no part's answer
    assert file_parts(ASK, reads("retros/checkout.md"), results("retros/checkout.md")) == []
    failed = {"r0": {"status": "done", "output": {"path": "retros/checkout.md", "content": RETRO}},
              "r1": {"status": "failed", "error": "there is no file 'k8s/events.txt'"}}
    assert file_parts(ASK, reads(*both), failed) == []


async def test_each_part_is_answered_from_its_own_files_read_alone_and_streamed_as_one_answer() -> None:
    llm = ScriptedChatModel(replies=[PLAN, "Lev rolled checkout back at 18:21.", "The catalog went to 5."])
    events = await asked_once(llm, files_registry(FILES), "parts", ASK)
    assert [e.answer for e in events if isinstance(e, AnswerReady)] == [
        "Lev rolled checkout back at 18:21.\n\nThe catalog went to 5."]
    first, second = (str(call[-1].content) for call in llm.calls[1:])
    assert "Lev rolled checkout back to v41" in first and "New size" not in first
    assert "New size: 5" in second and "Lev rolled" not in second and "1Gi" not in second
    assert first.endswith("## Request\nAt what time did Lev roll checkout back, per retros/checkout.md?")
    assert second.endswith("## Request\nwhat size did the catalog autoscaler go to according to k8s/events.txt?")
    assert llm.offered[1:] == [[], []]  # every file was read: no replan is offered


async def test_the_parts_stream_as_one_growing_answer() -> None:
    """Over HTTP, through the real client: the second part's deltas come after the first part."""
    first, second = "Lev rolled checkout back at 18:21.", "The catalog went to 5."
    with FakeOpenAI([PLAN, first, second], piece=7) as fake:
        llm = ChatOpenAIWithRole(model="fake", base_url=fake.url, api_key=SecretStr("unused"), max_retries=0)
        async with services_on(MEMORY, llm, files_registry(FILES)) as services:
            events = services.events.open()
            await services.engine.ask("streamed", ASK)
            seen = []
            while not events.empty():
                seen.append(events.get_nowait())
    deltas = [e.text for e in seen if isinstance(e, AnswerDelta)]
    whole = f"{first}\n\n{second}"
    assert [e.answer for e in seen if isinstance(e, AnswerReady)] == [whole]
    assert len(deltas) > 4 and all(whole.startswith(text) for text in deltas) and deltas[-1] == whole
    assert [len(t) for t in deltas] == sorted({len(t) for t in deltas})  # each one grew
    assert any(text.startswith(first) and text != first for text in deltas)


async def test_a_part_with_no_answer_leaves_the_whole_request_to_the_joiner() -> None:
    llm = ScriptedChatModel(replies=[PLAN, "Lev rolled checkout back at 18:21.", "",
                                     "At 18:21; the catalog went to 5."])
    events = await asked_once(llm, files_registry(FILES), "whole", ASK)
    assert [e.answer for e in events if isinstance(e, AnswerReady)] == ["At 18:21; the catalog went to 5."]
    whole = str(llm.calls[-1][-1].content)
    assert "Lev rolled checkout back to v41" in whole and "New size: 5" in whole and whole.endswith(ASK)
