"""A read of a path nobody named that found no file is looked for before the answer
(agent/engine/guessed_reads.py): the joiner plans again, told the path was a guess."""

from __future__ import annotations

from typing import Any

from langchain_core.tools import StructuredTool

from agent.engine.guessed_reads import guessed_reads, missing_named, missing_reply, search_example
from agent.errors import ToolError
from agent.events import AnswerReady, Replanning, RunEvent
from agent.tools.registry import Risk, ToolRegistry
from infra.emulators.scripted_chat import ScriptedChatModel
from tests.agent.harness import asked_once, finish
from tests.fakes.tools import ToolLog, simulated_registry

TOOLS = ("read_file", "search_files")
FIND = "Somewhere in the workspace a config sets statement_timeout_ms. Find it and tell me the value."
NO_FILE = "there is no file 'config.yaml' in the workspace; did you mean 'config/app.toml'?"


def guessed(path: str = "config.yaml", error: str = NO_FILE) -> tuple[dict[str, Any], dict[str, Any]]:
    plan = {"nodes": [{"id": "config", "tool": "read_file", "args": {"path": path}}]}
    return plan, {"config": {"status": "failed", "error": error}}


def test_a_read_of_a_path_nobody_named_that_found_no_file_is_looked_for() -> None:
    plan, results = guessed()
    told = guessed_reads(FIND, plan, results, tools=TOOLS)
    assert told is not None and "'config.yaml'" in told and "did you mean 'config/app.toml'" in told
    assert "search_files" in told


def test_a_listing_of_a_guessed_folder_that_matched_no_file_is_looked_for() -> None:
    """monday find-sessions-type: "Somewhere in the workspace a change moves the sessions cache to
    another node type" was planned as ``list_files`` of ``sessions/cache/*``; the answer made up a
    file and two types."""
    ask = ("Somewhere in the workspace a change moves the sessions cache to another node type. Which file "
           "has that change, and what are the old and the new type?")
    plan = {"nodes": [{"id": "sessions", "tool": "list_files", "args": {"pattern": "sessions/cache/*"}}]}
    nothing = {"sessions": {"status": "done", "output": {"files": [], "truncated": False}}}
    told = guessed_reads(ask, plan, nothing, tools=(*TOOLS, "list_files"))
    assert told is not None and "'sessions/cache/*' (no file matches it)" in told and "search_files" in told
    # a listing that found files, or one of the pattern the request gives, is no guess that missed
    found = {"sessions": {"status": "done", "output": {"files": ["sessions/cache/a.yaml"], "truncated": False}}}
    assert guessed_reads(ask, plan, found, tools=(*TOOLS, "list_files")) is None
    assert guessed_reads("which files match sessions/cache/* ?", plan, nothing, tools=(*TOOLS, "list_files")) \
        is None
    everything = {"nodes": [{"id": "sessions", "tool": "list_files", "args": {"pattern": "**/*.yaml"}}]}
    assert guessed_reads(ask, everything, nothing, tools=(*TOOLS, "list_files")) is None  # (no folder guessed)


def test_a_read_of_a_path_nobody_named_where_the_request_asks_which_file_is_looked_for() -> None:
    """tuesday find-worker-group-lag: "One of the workspace files says which Kafka consumer group
    the worker deployment reads with. Find it…" was planned as a read of ``inventory/buckets.json``
    (there, and no answer), and answered with its buckets."""
    ask = ("One of the workspace files says which Kafka consumer group the worker deployment reads with. "
           "Find it, and tell me which file it was and how much lag that group has in total.")
    plan, _ = guessed("inventory/buckets.json")
    read = {"config": {"status": "done", "output": {"path": "inventory/buckets.json", "content": "{}"}}}
    told = guessed_reads(ask, plan, read, tools=TOOLS)
    assert told is not None and "'inventory/buckets.json', a path nobody named" in told and "say 'kafka'" in told
    assert '{"id": "find", "search_files": {"query": "kafka"}}' in told
    # a request that does not ask which file, or a path the thread named, is read as asked
    assert guessed_reads("How much lag does the worker's consumer group have?", plan, read, tools=TOOLS) is None
    assert guessed_reads(ask, plan, read, earlier=["see inventory/buckets.json"], tools=TOOLS) is None
    # the file read says what the search would look for: it may be the one
    said = {"config": {"status": "done", "output": {"path": "inventory/buckets.json", "content": "group: Kafka-1"}}}
    assert guessed_reads(ask, plan, said, tools=TOOLS) is None


def test_a_guess_beside_a_search_that_found_a_few_files_is_told_to_read_those() -> None:
    plan, results = guessed()
    plan["nodes"].append({"id": "find", "tool": "search_files", "args": {"query": "mail"}})
    found = {"matches": [{"path": "mail/main.cf", "line_number": 7, "text": "mailbox_size_limit = 0"}]}
    results["find"] = {"status": "done", "output": found}
    told = guessed_reads(FIND, plan, results, tools=TOOLS)
    assert told is not None and "'config.yaml'" in told
    assert '{"id": "main", "read_file": {"path": "mail/main.cf"}}' in told
    # more files than a request could mean: told to search, as before
    found["matches"] += [{"path": f"notes/{n}.md", "line_number": 1, "text": "mail"} for n in range(3)]
    told = guessed_reads(FIND, plan, results, tools=TOOLS)
    assert told is not None and "mail/main.cf" not in told and "search_files" in told


def test_a_guess_beside_a_read_that_found_something_is_left_to_the_answer() -> None:
    """tuning follow-up-read: beside releases.json's GET, a guessed changes.json sent the run to
    search for "changed", and the answer was the turn before's."""
    plan, results = guessed()
    plan["nodes"].append({"id": "releases", "tool": "http_get", "args": {"url": "http://127.0.0.1/releases.json"}})
    results["releases"] = {"status": "done", "output": {"status": 200, "json": [{"version": "2.4.0"}]}}
    assert guessed_reads(FIND, plan, results, tools=TOOLS) is None
    results["releases"] = {"status": "failed", "error": "refused"}
    assert guessed_reads(FIND, plan, results, tools=TOOLS) is not None
    # a listing beside the guess found where files are, not what they hold
    plan["nodes"][-1] = {"id": "releases", "tool": "list_files", "args": {"pattern": "**/*"}}
    results["releases"] = {"status": "done", "output": {"files": [{"path": "config/app.toml"}]}}
    assert guessed_reads(FIND, plan, results, tools=TOOLS) is not None


def test_a_missing_file_someone_named_or_another_failure_is_the_answer() -> None:
    plan, results = guessed()
    assert guessed_reads("What does config.yaml set the timeout to?", plan, results, tools=TOOLS) is None
    assert guessed_reads("Read notes/a.md and find the timeout", plan, results, tools=TOOLS) is None  # a file named
    earlier = [{"request": "is there a config.yaml?", "answer": "No.", "results": {}}]
    assert guessed_reads(FIND, plan, results, earlier, tools=TOOLS) is None  # the thread named it
    assert guessed_reads(FIND, *guessed(error="'config.yaml' is a binary file (12 bytes)"), tools=TOOLS) is None
    holds = {"path": "config.yaml", "content": "statement_timeout_ms = 30s"}  # (the guess that was right)
    assert guessed_reads(FIND, plan, {"config": {"status": "done", "output": holds}}, tools=TOOLS) is None
    assert guessed_reads(FIND, plan, results, tools=("read_file",)) is None  # nothing to search with


async def test_the_joiner_searches_before_answering_from_a_guess_that_missed() -> None:
    log = ToolLog()
    guess = {"nodes": [{"id": "config", "tool": "read_file", "args": {"path": "config.yaml"}}]}
    search = {"nodes": [{"id": "found", "tool": "search_files", "args": {"query": "statement_timeout_ms"}}]}
    llm = ScriptedChatModel(replies=[guess, search, finish("config/app.toml sets it to 15000.")])
    events: list[RunEvent] = await asked_once(llm, searching_registry(log), "guess-1", FIND)
    [replanned] = [e.feedback for e in events if isinstance(e, Replanning)]
    assert "'config.yaml'" in replanned and "search_files" in str(llm.calls[1][-1].content)
    assert log.calls == [("read_file", {"path": "config.yaml"}),
                         ("search_files", {"query": "statement_timeout_ms", "pattern": "**/*"})]
    assert isinstance(events[-1], AnswerReady) and events[-1].answer == "config/app.toml sets it to 15000."


def test_what_the_request_names_and_a_step_found_missing_is_the_answer() -> None:
    """tuesday missing-dag-runs-table: the query of the table the request names failed, the
    joiner's model planned again, read a file nobody named, searched, and said no row failed."""
    ask = "In the SQL database, how many rows of the dag_runs table have state 'failed'?"
    no_table = ("the database has no table 'dag_runs' (its tables: deploys); a workspace file is read "
                "with read_file, and a value the thread holds is written as it is")
    failed = {"q": {"status": "failed", "error": no_table}, "count": {"status": "skipped"}}
    assert missing_named(ask, failed) == ["dag_runs"]
    assert missing_reply(failed) == "The database has no table 'dag_runs' (its tables: deploys)."
    _, missing = guessed()
    assert missing_named("what does config.yaml say?", missing) == ["config.yaml"]
    assert missing_reply(missing) == "T" + NO_FILE[1:]  # (its "did you mean" kept)
    assert missing_named(FIND, missing) == []  # a guess nobody named: looked for (above)
    assert missing_named(ask, {**failed, "other": {"status": "failed", "error": "timed out"}}) == []
    assert missing_named(ask, {"q": {"status": "done", "output": {"rows": []}}}) == []


async def test_a_missing_table_the_request_names_is_answered_with_no_replan() -> None:
    log = ToolLog()
    registry = searching_registry(log)

    async def sql_query(sql: str) -> dict[str, Any]:
        log.calls.append(("sql_query", {"sql": sql}))
        raise ToolError("no such table: dag_runs")

    registry.add(StructuredTool.from_function(coroutine=sql_query, description="sql"), Risk.GREEN)
    query = {"nodes": [{"id": "q", "tool": "sql_query", "args": {"sql": "SELECT COUNT(*) FROM dag_runs"}}]}
    llm = ScriptedChatModel(replies=[query])  # (no reply for a joiner: dagbot answers)
    events = await asked_once(llm, registry, "missing-1", "how many rows does the dag_runs table have?")
    assert not [e for e in events if isinstance(e, Replanning)]
    assert log.calls == [("sql_query", {"sql": "SELECT COUNT(*) FROM dag_runs"})]
    assert isinstance(events[-1], AnswerReady) and events[-1].answer.startswith("No such table: dag_runs")


def searching_registry(log: ToolLog) -> ToolRegistry:
    async def search_files(query: str, pattern: str = "**/*") -> dict[str, Any]:
        log.calls.append(("search_files", {"query": query, "pattern": pattern}))
        return {"matches": [{"path": "config/app.toml", "line_number": 9, "text": "statement_timeout_ms = 15000"}],
                "truncated": False}

    async def read_file(path: str) -> dict[str, str]:
        log.calls.append(("read_file", {"path": path}))
        raise ToolError(f"there is no file '{path}' in the workspace; did you mean 'config/app.toml'?")

    registry = simulated_registry(log)
    for tool in (search_files, read_file):
        registry.add(StructuredTool.from_function(coroutine=tool, description=tool.__name__), Risk.GREEN)
    return registry


def test_the_search_to_copy_is_for_the_requests_own_word_in_lower_case() -> None:
    """morning find-cache-ttl: told "(pattern '**/*')", the model searched for ``**/*`` as text."""
    assert search_example("How long do we cache search results? It's set in one of the configs in the "
                          "workspace; tell me which file and the value.") == \
        '{"id": "find", "search_files": {"query": "cache"}}'
    assert search_example("Somewhere in the workspace a config sets Statement_Timeout_MS. Find it.") == \
        '{"id": "find", "search_files": {"query": "statement_timeout_ms"}}'
    assert search_example("Which port does the v2 API listen on?") == '{"id": "find", "search_files": {"query": "v2"}}'
    assert search_example("Check how long we keep backups") == '{"id": "find", "search_files": {"query": "backups"}}'
    assert search_example("List the cron jobs") == '{"id": "find", "search_files": {"query": "cron"}}'
