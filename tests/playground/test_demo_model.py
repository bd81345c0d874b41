"""The demo model reads the prompts a real model reads: its recorded plans pass the real
validation, its answers come from the results in the joiner prompt, and it repairs only the
example package."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import HumanMessage, SystemMessage
from markdown_it import MarkdownIt

from agent.engine.graph import REPLAN, Replan
from agent.model.llm import call_structured, call_text, stream_structured, stream_text
from agent.model.prompting import describe_tools, joiner_messages
from agent.model.tool_schemas import as_tool
from agent.plan.format import Plan
from agent.plan.validation import validate_plan
from infra.playground.demo.answers import parse_results, write_answer
from infra.playground.demo.examples import EXAMPLES, by_key, match_example
from infra.playground.demo.model import DemoChatModel
from infra.playground.incidents import connect_tracker
from infra.settings import Settings
from infra.tools.mcp.servers import open_mcp_servers
from infra.tools.toolbox import build_registry

SITE = "http://127.0.0.1:9"


def registry(tmp_path: Path):  # type: ignore[no-untyped-def]
    settings = Settings(DAGBOT_WORKSPACE=tmp_path, SMTP_HOST="127.0.0.1", DAGBOT_HTTP_ALLOW_HOSTS="127.0.0.1")
    return build_registry(settings)


def planner_prompt(request: str, history: str = "") -> list[HumanMessage]:
    text = (f"## This thread so far\n{history}\n\n" if history else "") + f"## Request\n{request}"
    return [HumanMessage(text)]


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.key)
async def test_every_recorded_plan_passes_validation(example, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    history = "### Earlier run 1\nRequest: status?\nAnswer: All good.\nResults:\n- a: done → 1"
    tools = registry(tmp_path)
    async with contextlib.AsyncExitStack() as stack:
        if example.mcp_tools:  # the playground's incident tracker, as the playground connects it
            settings = connect_tracker(Settings(DAGBOT_PLAYGROUND_DIR=tmp_path / "pg"))
            await stack.enter_async_context(open_mcp_servers(settings.mcp_config, tools))
        prompt = [SystemMessage(describe_tools(tools)),
                  *planner_prompt(f"<@U0DAGBOT> {example.request}", history)]
        reply = await call_structured(DemoChatModel(site=SITE, delay_seconds=0), prompt, Plan, "plan")
        plan = validate_plan(reply.data, tools)
    assert plan.nodes and reply.tokens > 0
    assert SITE in str(reply.data) or "http_get" not in str(reply.data)


async def test_without_the_tracker_its_examples_plan_nothing_and_say_why(tmp_path: Path) -> None:
    model = DemoChatModel(site=SITE, delay_seconds=0)
    prompt = [SystemMessage(describe_tools(registry(tmp_path))), *planner_prompt(by_key("tracker").request)]
    reply = await call_structured(model, prompt, Plan, "plan")
    assert reply.data == {"thought": "This deployment has no tracker__list_incidents.", "nodes": []}
    state: Any = {"request": by_key("tracker").request, "plan": {"nodes": []}, "results": {}}
    answer = await call_text(model, joiner_messages(state, 0), [])
    assert "no `tracker__list_incidents`" in answer.text and "DAGBOT_MCP_CONFIG" in answer.text


async def test_the_follow_up_mails_the_newest_earlier_answer(tmp_path: Path) -> None:
    history = ("### Earlier run 1\nRequest: a\nAnswer: old answer\nResults:\n- a: done → 1\n\n"
               "### Earlier run 2\nRequest: b\nAnswer: **new** answer with ${ref}\nResults:\n- b: done → 2")
    reply = await call_structured(DemoChatModel(site=SITE, delay_seconds=0),
                                  planner_prompt(by_key("followup").request, history), Plan, "plan")
    [mail] = validate_plan(reply.data, registry(tmp_path)).nodes
    assert mail.args["body"] == "**new** answer with $ {ref}"  # never read as a reference


async def test_without_an_earlier_answer_the_follow_up_plans_nothing() -> None:
    reply = await call_structured(DemoChatModel(site=SITE, delay_seconds=0),
                                  planner_prompt(by_key("followup").request), Plan, "plan")
    assert reply.data["nodes"] == []


async def test_other_requests_get_an_empty_plan_and_a_polite_answer() -> None:
    model = DemoChatModel(site=SITE, delay_seconds=0)
    reply = await call_structured(model, planner_prompt("restart the payments service"), Plan, "plan")
    assert reply.data["nodes"] == []
    assert match_example("restart the payments service") is None
    state: Any = {"request": "restart it", "plan": {"nodes": []}, "results": {}}
    for replans_left, tools in ((2, [as_tool(Replan, REPLAN)]), (0, [])):  # with and without `replan`
        answer = await call_text(model, joiner_messages(state, replans_left), tools)
        assert answer.tool_calls == [] and answer.tokens > 0
        assert "OPENAI_API_KEY" in answer.text and all(e.request in answer.text for e in EXAMPLES if not e.alert)


async def test_the_joiner_answer_streams_a_word_at_a_time_and_the_plan_comes_whole() -> None:
    model = DemoChatModel(site=SITE, delay_seconds=0, piece_seconds=0)
    state: Any = {"request": "restart it", "plan": {"nodes": []}, "results": {}}
    whole = await call_text(model, joiner_messages(state, 2), [as_tool(Replan, REPLAN)])
    seen: list[str] = []

    async def on_text(text: str) -> None:
        seen.append(text)

    streamed = await stream_text(model, joiner_messages(state, 2), [as_tool(Replan, REPLAN)], on_text)
    assert streamed.text == whole.text and streamed.tool_calls == [] and streamed.tokens == whole.tokens
    words = whole.text.split()
    assert len(seen) == len(words) and seen[-1] == whole.text  # growing a word at a time
    assert [len(text.split()) for text in seen] == list(range(1, len(words) + 1))

    arguments: list[str] = []

    async def on_arguments(text: str) -> None:
        arguments.append(text)

    plan = await stream_structured(model, planner_prompt(by_key("parallel").request), Plan, "plan",
                                   on_arguments)
    assert len(plan.data["nodes"]) == 3 and arguments == []  # whole: no node starts before the plan is in


def test_answers_report_what_the_results_say_even_when_clipped() -> None:
    results = parse_results(
        '- status: done → {"url": "x", "json": {"services": [{"name": "api", "status": "ok"}, '
        '{"name": "checkout", "status": "degraded", "note": "slow"}, {"name": "sea …\n'
        '- incidents: failed — HTTP 503\n'
        '- oncall: rejected — rejected by U0BOB: not now')
    answer = write_answer(by_key("parallel"), results)
    assert "- api: ok" in answer and "- checkout: **degraded** (slow)" in answer
    assert "`incidents` failed: HTTP 503" in answer
    # a rejection is not repeated: dagbot adds a line for each step nobody approved, with the reason
    assert "oncall" not in answer and "not now" not in answer


def blocks_of(markdown: str) -> list[tuple[str, str]]:
    """The answer's top-level blocks as (kind, text): a list's text is its items, one per line."""
    tokens = MarkdownIt("commonmark").parse(markdown)
    blocks: list[tuple[str, str]] = []
    for token in tokens:
        if token.type == "bullet_list_open" and token.level == 0:
            blocks.append(("list", ""))
        elif token.type == "inline" and token.level == 1:
            blocks.append(("paragraph", token.content))
        elif token.type == "inline" and blocks and blocks[-1][0] == "list" and token.level == 3:
            blocks[-1] = ("list", f"{blocks[-1][1]}\n{token.content}".lstrip("\n"))
    return blocks


def test_an_answer_keeps_its_sections_apart_from_the_lists_above_them() -> None:
    results = parse_results(
        '- status: done → {"json": {"services": [{"name": "api", "status": "ok"}, '
        '{"name": "search", "status": "ok"}]}}\n'
        '- incidents: done → {"json": {"incidents": [{"id": "INC-1", "title": "slow", '
        '"severity": "sev2", "owner": "ana"}]}}\n'
        '- oncall: done → - Primary: ana\\n- Secondary: bo\n'
        '- extra: failed — HTTP 503')
    blocks = blocks_of(write_answer(by_key("parallel"), results))
    assert [kind for kind, _ in blocks] == ["paragraph", "list", "paragraph", "paragraph", "paragraph", "list"]
    assert blocks[1] == ("list", "api: ok\nsearch: ok")
    assert blocks[2][1].startswith("**Open incidents**: INC-1 slow (sev2, owner ana)")
    assert blocks[3][1].startswith("**On call**: ana (primary), bo (secondary)")
    assert blocks[5] == ("list", "`extra` failed: HTTP 503")


async def test_reflexion_gets_the_recorded_fix_only_for_the_example_package() -> None:
    model = DemoChatModel(site=SITE, delay_seconds=0)
    goal = by_key("package").plan["nodes"][0]["package"]["goal"]
    fixed = await model.ainvoke([HumanMessage(f"Goal of the package:\n{goal}\n\nIt failed with: ValueError")])
    assert "if len(parts) < 4" in str(fixed.content) and "```python" in str(fixed.content)
    other = await model.ainvoke([HumanMessage("Goal of the package:\nsomething else")])
    assert "```" not in str(other.content)


async def test_an_edited_call_is_answered_as_it_ran() -> None:
    """The joiner prompt says a call ran as an approver edited it; the demo's answer tells that,
    not what the plan meant to do."""
    model = DemoChatModel(site=SITE, delay_seconds=0)
    plan = by_key("reject").plan_for(SITE)
    state: Any = {"request": by_key("reject").request, "plan": plan, "results": {
        "logs": {"status": "done", "output": {"files": [{"path": "logs/app.log", "size": 2048}]}},
        "clear": {"status": "done", "output": {"path": "logs/app.log", "bytes_written": 8, "appended": False}}}}
    edited = {"clear": 'write_file({"path": "logs/app.log", "content": "rotated\\n", "append": false}), '
                       "edited by U0BOB"}
    answer = (await call_text(model, joiner_messages(state, 0, red_tools={"write_file"}, edited=edited), [])).text
    assert "Replaced the content of `logs/app.log`" in answer and "<@U0BOB>" in answer
    assert "(8 bytes): it was **not** cleared." in answer and "Cleared" not in answer
    plain = (await call_text(model, joiner_messages(state, 0, red_tools={"write_file"}), [])).text
    assert plain.startswith("Cleared `logs/app.log` (it was 2048 bytes).")
