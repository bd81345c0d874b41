"""An answer to "which file…?" names the one file the run found it in (agent/answer/found_in.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agent.answer.found_in import asks_which_file, found_files, with_file_told
from agent.tools.builtin import BuiltinToolConfig, register_builtin_tools
from agent.tools.files import FileToolConfig
from agent.tools.registry import ToolRegistry
from infra.emulators.scripted_chat import ScriptedChatModel
from tests.agent.harness import MEMORY, services_on

ASK = ("How long do we cache search results? It's set in one of the configs in the workspace; tell me "
       "which file and the value.")
SEARCH = {"id": "find", "tool": "search_files", "args": {"query": "cache"}}
READ = {"id": "env", "tool": "read_file", "args": {"path": "config/product-search.env"}}


def searched(*paths: str) -> dict[str, Any]:
    return {"status": "done", "output": {"matches": [{"path": p, "line_number": 3, "text": "CACHE_TTL=300"}
                                                     for p in paths], "truncated": False}}


@pytest.mark.parametrize(("request_text", "asks"), [
    (ASK, True),
    ("Where is statement_timeout_ms set, and to what?", True),
    ("In which file is the retry limit configured?", True),
    ("What config file sets the pool size?", True),
    ("Which file has the most lines?", False),   # a file is the answer, not where a value is
    ("What is the cache TTL in config/app.toml?", False),
    ("Where did the deploy fail?", False),
])
def test_which_requests_ask_which_file(request_text: str, asks: bool) -> None:
    assert asks_which_file(request_text) is asks


def test_the_one_file_found_is_named_when_the_answer_does_not() -> None:
    plan = {"nodes": [SEARCH]}
    results = {"find": searched("config/product-search.env", "config/product-search.env")}
    assert with_file_told("Search results are cached for 300 seconds.", ASK, plan, results) == (
        "Search results are cached for 300 seconds.\n\nFound in `config/product-search.env`.")
    # named already, by its path or its name
    for told in ("It is 300 s, in config/product-search.env.", "product-search.env sets 300 seconds."):
        assert with_file_told(told, ASK, plan, results) == told
    # a question that does not ask which file
    assert with_file_told("300 seconds.", "How long do we cache search results?", plan, results) == "300 seconds."


def test_no_file_is_named_when_the_run_found_several_or_none() -> None:
    plan = {"nodes": [SEARCH]}
    several = {"find": searched("config/a.env", "config/b.env")}
    assert with_file_told("300 seconds.", ASK, plan, several) == "300 seconds."
    assert with_file_told("300 seconds.", ASK, plan, {"find": {"status": "failed", "error": "x"}}) == "300 seconds."
    assert with_file_told("300 seconds.", ASK, plan, {"find": searched()}) == "300 seconds."


def test_a_read_found_file_counts_unless_the_request_names_it() -> None:
    plan = {"nodes": [SEARCH, READ]}
    results = {"find": searched("config/product-search.env"),
               "env": {"status": "done", "output": {"path": "config/product-search.env", "content": "…"}}}
    assert found_files(plan, results, ASK) == ["config/product-search.env"]
    named = "Which file sets the TTL, config/product-search.env or config/app.toml?"
    assert found_files({"nodes": [READ]}, {"env": results["env"]}, named) == []


async def test_the_posted_answer_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "product-search.env").write_text("SEARCH_CACHE_TTL_SECONDS=300\n")
    (tmp_path / "config" / "app.toml").write_text("[server]\nport = 8443\n")
    tools = ToolRegistry()
    register_builtin_tools(tools, BuiltinToolConfig(files=FileToolConfig(workspace=tmp_path)))
    llm = ScriptedChatModel(replies=[{"nodes": [{"id": "find", "search_files": {"query": "cache"}}]},
                                     "They are cached for 300 seconds."])
    async with services_on(MEMORY, llm, tools) as services:
        await services.engine.ask("t1", ASK)
        state = await services.engine.state("t1")
    assert state["history"][-1]["answer"] == ("They are cached for 300 seconds.\n\n"
                                              "Found in `config/product-search.env`.")
