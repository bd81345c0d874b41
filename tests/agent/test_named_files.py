"""A file the request names is a file the plan reads (agent.plan.named_files.py): a plan that
answers from something else gets one repair round that says which file to read."""

from __future__ import annotations

from langchain_core.tools import StructuredTool

from agent.answer.facts import INTRO as FACTS_INTRO
from agent.errors import ToolError
from agent.events import AnswerReady, PlanRepairing, Replanning, RunEvent
from agent.plan.format import Plan
from agent.plan.named_files import named_files, unread_in_draft, unread_named_files
from agent.tools.registry import Risk, ToolRegistry
from infra.emulators.scripted_chat import ScriptedChatModel
from tests.agent.harness import asked_once, finish
from tests.fakes.tools import ToolLog, simulated_registry


def reading_registry(log: ToolLog) -> ToolRegistry:
    """The simulated tools and a ``read_file`` (only where a tool reads files is a read asked for)."""
    async def read_file(path: str) -> dict[str, str]:
        log.calls.append(("read_file", {"path": path}))
        return {"path": path, "content": "build,result\nb-1,failed\nb-2,failed\n"}

    registry = simulated_registry(log)
    registry.add(StructuredTool.from_function(coroutine=read_file, name="read_file", description="Read a file."),
                 Risk.GREEN)
    return registry


def plan(*nodes: dict[str, object]) -> Plan:
    return Plan.model_validate({"nodes": list(nodes)})


def test_the_files_a_request_names_are_relative_paths_with_a_files_extension() -> None:
    assert named_files("How many builds in ci/builds.csv failed, and what does deploy.yaml set?") == {
        "ci/builds.csv", "deploy.yaml"}
    assert named_files("Purge the CDN cache for static.example.com and mail ops@example.com") == set()
    assert named_files("Show me /etc/passwd, ~/.ssh/id_rsa.pub and http://127.0.0.1:8000/a.json") == set()
    assert named_files("Show me notes/README") == set()  # no extension: a folder as well as a file
    # a file in a folder, whatever its extension; a version or an address is none
    assert named_files("How much RAM (metrics/db-01.prom), and the relay in mail/main.cf?") == {
        "metrics/db-01.prom", "mail/main.cf"}
    assert named_files("see python3/3.11 and 10.0.0.0/24") == set()


def test_a_plan_that_reads_something_else_is_told_which_file_to_read() -> None:
    registry = reading_registry(ToolLog())
    asked = "How many builds in ci/builds.csv failed?"
    query = plan({"id": "n", "tool": "lookup", "args": {"key": "SELECT count(*) FROM ci.builds"}})
    [problem] = unread_named_files(query, asked, registry)
    assert "names the file ci/builds.csv, but no node reads it" in problem.message
    read = plan({"id": "r", "tool": "read_file", "args": {"path": "ci/builds.csv"}})
    assert unread_named_files(read, asked, registry) == []
    fanned = plan({"id": "r", "tool": "read_file", "each": [{"path": "a.log"}, {"path": "b.log"}]})
    assert unread_named_files(fanned, "Compare a.log and b.log", registry) == []
    assert unread_named_files(query, asked, simulated_registry(ToolLog())) == []  # no tool reads files
    copied = plan({"id": "c", "tool": "send", "args": {"to": "a@example.com", "body": "${notes/x.md}"}})
    assert unread_named_files(copied, "Send notes/x.md to a@example.com", registry) != []  # not a read


def test_a_plan_with_no_nodes_or_a_file_the_thread_holds_needs_no_read() -> None:
    registry = reading_registry(ToolLog())
    assert unread_named_files(plan(), "Delete logs/app.log", registry) == []  # "I can't": nothing is read
    earlier = [["Show me notes/x.md", "It says hi", {"x": {"status": "done", "output": {"path": "notes/x.md"}}}]]
    follow_up = plan({"id": "m", "tool": "send", "args": {"to": "a@example.com", "body": "hi"}})
    asked = "Send notes/x.md's greeting to a@example.com"
    assert unread_named_files(follow_up, asked, registry, earlier) == []
    assert unread_named_files(follow_up, asked, registry) != []


async def ask(replies: list[object], thread: str) -> tuple[ToolLog, ScriptedChatModel, list[RunEvent]]:
    log = ToolLog()
    llm = ScriptedChatModel(replies=replies)
    seen = await asked_once(llm, reading_registry(log), thread, "How many builds in ci/builds.csv failed?")
    return log, llm, seen


async def test_the_repair_round_reads_the_named_file_and_a_second_miss_runs_with_the_read_added() -> None:
    elsewhere = {"nodes": [{"id": "q", "tool": "lookup", "args": {"key": "builds table"}}]}
    reads = {"nodes": [{"id": "q", "tool": "read_file", "args": {"path": "ci/builds.csv"}}]}
    log, llm, events = await ask([elsewhere, reads, finish("2 failed")], "named-1")
    assert "names the file ci/builds.csv, but no node reads it" in str(llm.calls[1][-1].content)
    assert [e.problems for e in events if isinstance(e, PlanRepairing)] == [[
        "the request names the file ci/builds.csv, but no node reads it: add the node {\"id\": \"builds\", "
        '\"read_file\": {\"path\": \"ci/builds.csv\"}} and compute from inputs[\'builds\'][\'content\'] in a '
        "package; a database's tables are not workspace files"]]
    assert log.calls == [("read_file", {"path": "ci/builds.csv"})]  # (no shapes read: DAGBOT_FILE_SHAPES is off)
    assert isinstance(events[-1], AnswerReady) and events[-1].answer == "2 failed"

    log, llm, events = await ask([elsewhere, elsewhere, finish("from the table")], "named-2")
    # the repaired plan ran as it was, and the file the request points at was read beside it
    assert sorted(log.calls) == [("lookup", {"key": "builds table"}), ("read_file", {"path": "ci/builds.csv"})]
    assert "b-2,failed" in str(llm.calls[-1])  # the joiner has what it holds
    assert isinstance(events[-1], AnswerReady) and events[-1].answer == "from the table"


async def test_a_second_miss_whose_package_reads_the_file_through_its_tools_gets_no_read_added() -> None:
    """The playground's package example reads logs/app.log with ``tools.read_file`` in its code:
    a read added beside it made dagbot compute the request again, and fail at it."""
    code = "result = len(tools.read_file(path='ci/builds.csv')['content'].splitlines())"
    counted = {"nodes": [{"id": "count", "package": {"goal": "count the builds", "code": code}}]}
    log, _, events = await ask([counted, counted, finish("3 builds")], "named-3")
    assert ("read_file", {"path": "ci/builds.csv"}) not in log.calls
    assert isinstance(events[-1], AnswerReady)


def test_a_file_inside_an_address_is_not_read_and_a_file_written_to_is_not_one_to_read() -> None:
    registry = reading_registry(ToolLog())
    asked = "Write the stalled consumers in queue/consumers.json to reports/stalled.txt"
    fetched = plan({"id": "q", "tool": "lookup", "args": {"key": "https://ops.example.com/queue/consumers.json"}})
    [problem] = unread_named_files(fetched, asked, registry)  # reports/stalled.txt is where it goes
    assert "names the file queue/consumers.json, but no node reads it" in problem.message
    status = plan({"id": "s", "tool": "lookup", "args": {"key": "http://127.0.0.1:8000/status.json"}})
    assert unread_named_files(status, "Is the shop up?", registry) == []  # addresses are the allow list's
    [according] = unread_named_files(status, "Who owns the migration, according to notes/handover.md?", registry)
    assert "names the file notes/handover.md" in according.message  # a source, not a destination


def test_a_file_only_searched_is_not_read_and_the_repair_round_is_told_so() -> None:
    """tuning primary-oncall: "who is on call? See notes/oncall.md" searched the file for
    "oncall", found nothing there, and answered that the file does not say."""
    registry = reading_registry(ToolLog())
    searched = plan({"id": "s", "tool": "search_files", "args": {"query": "oncall", "pattern": "notes/oncall.md"}})
    [problem] = unread_named_files(searched, "Who is the primary on call? See notes/oncall.md.", registry)
    assert problem.message == (
        'the request names the file notes/oncall.md, but the plan only searches it (search_files returns only '
        'the lines that match, and the answer needs the file): add the node {"id": "oncall", "read_file": '
        '{"path": "notes/oncall.md"}}')
    both = plan({"id": "s", "tool": "search_files", "args": {"query": "oncall", "pattern": "notes/oncall.md"}},
                {"id": "r", "tool": "read_file", "args": {"path": "notes/oncall.md"}})
    assert unread_named_files(both, "Who is the primary on call? See notes/oncall.md.", registry) == []
    # a search of a file for what the request asks of its lines is still no read of the file
    [lines] = unread_named_files(plan({"id": "s", "tool": "search_files", "each": [
        {"query": "ERROR", "pattern": "logs/app.log"}]}), "Show the ERROR lines of logs/app.log", registry)
    assert "only searches it" in lines.message


def test_a_listing_of_a_file_is_no_read_of_it() -> None:
    """monday follow-up-deploy-failer: "did a deploy-prod run fail in ci/workflow-runs.json?" was a
    ``list_files`` of that path: it says the file is there, not what it holds."""
    registry = reading_registry(ToolLog())
    asked = "did a deploy-prod run fail in ci/workflow-runs.json?"
    listed = plan({"id": "runs", "tool": "list_files", "args": {"pattern": "ci/workflow-runs.json"}})
    [problem] = unread_named_files(listed, asked, registry)
    assert "names the file ci/workflow-runs.json, but no node reads it" in problem.message
    both = plan({"id": "runs", "tool": "list_files", "args": {"pattern": "ci/workflow-runs.json"}},
                {"id": "read", "tool": "read_file", "args": {"path": "ci/workflow-runs.json"}})
    assert unread_named_files(both, asked, registry) == []
    [drafted] = unread_in_draft({"nodes": [{"id": "runs", "list_files": {"pattern": "ci/workflow-runs.json"}}]},
                                asked, registry)
    assert "names the file ci/workflow-runs.json, but no node reads it" in drafted.message


def test_a_search_for_a_files_path_and_a_packages_code_naming_it_read_no_file() -> None:
    """console backlog-and-concurrency: a search for the text ``monitoring/alert-rules.yml`` and a
    package reading ``inputs['deploy/systemd/ledger-worker.service']`` stood for the reads of both
    files, and the run found nothing in either."""
    registry = reading_registry(ToolLog())
    ask = "What does monitoring/alert-rules.yml alert on, and what does deploy/worker.service run?"
    for_path = plan({"id": "s", "tool": "search_files", "args": {"query": "monitoring/alert-rules.yml"}})
    assert [p.message.split(",")[0] for p in unread_named_files(for_path, ask, registry)] == [
        "the request names the file deploy/worker.service", "the request names the file monitoring/alert-rules.yml"]
    draft = {"nodes": [{"id": "s", "search_files": {"query": "monitoring/alert-rules.yml"}},
                       {"id": "w", "package": {"goal": "count", "code": "inputs['deploy/worker.service']"}}]}
    assert len(unread_in_draft(draft, ask, registry)) == 2
    assert named_files("Restart nginx.service, and read deploy/worker.service") == {"deploy/worker.service"}


def test_a_file_known_by_a_name_with_no_extension_in_a_folder_is_named() -> None:
    """console sync-dns-runs: "how many times a day does sync-dns.sh get run by ops/crontab?"
    searched the crontab and read the script, and the crontab was never read."""
    asked = "How often does sync-dns.sh get run by ops/crontab? And what's in config/hosts, deploy/Dockerfile?"
    assert named_files(asked) == {"sync-dns.sh", "ops/crontab", "config/hosts", "deploy/Dockerfile"}
    assert named_files("edit crontab and/or read/write the TCP/IP hosts") == set()


async def test_a_draft_refused_for_another_fault_is_told_the_file_to_read_in_the_same_round() -> None:
    """dev-missing-copy: "${notes.postmortem}" for notes/postmortem.md; told only that no node is
    called 'notes', the repair round wrote the same draft again."""
    path_as_reference = {"nodes": [{"id": "n", "tool": "lookup", "args": {"key": "${ci.builds}"}}]}
    reads = {"nodes": [{"id": "builds", "tool": "read_file", "args": {"path": "ci/builds.csv"}}]}
    log, _, events = await ask([path_as_reference, reads, finish("2 failed")], "named-3")
    [problems] = [e.problems for e in events if isinstance(e, PlanRepairing)]
    assert any("unknown node 'ci'" in p for p in problems), problems  # its own fault, first
    assert problems[-1].startswith("the request names the file ci/builds.csv, but no node reads it: add the node")
    assert log.calls == [("read_file", {"path": "ci/builds.csv"})]  # the plan's read
    assert isinstance(events[-1], AnswerReady) and events[-1].answer == "2 failed"
    # a draft that reads it under any node is told nothing more
    reads_but_broken = {"nodes": [{"id": "builds", "tool": "read_file", "args": {"path": "ci/builds.csv"}},
                                  {"id": "n", "tool": "lookup", "args": {"key": "${nowhere}"}}]}
    _, _, events = await ask([reads_but_broken, reads, finish("2 failed")], "named-4")
    [problems] = [e.problems for e in events if isinstance(e, PlanRepairing)]
    assert not any("names the file" in p for p in problems)


def test_a_draft_that_only_searches_the_named_file_is_told_to_read_it() -> None:
    """wide mail-follow-up-owners: a draft with another fault, whose only node on the postmortem
    searched it, was taken as reading it, and the repair round was never told."""
    registry = reading_registry(ToolLog())
    asked = "Email the owners of the follow-ups in notes/pm.md to sre@example.com"
    draft = {"nodes": [{"id": "owners", "search_files": {"query": "owners", "pattern": "notes/pm.md"}},
                       {"id": "mail", "tool": "send", "args": {"to": "sre@example.com", "body": "${owners.text}"}}]}
    [problem] = unread_in_draft(draft, asked, registry)
    assert problem.message.startswith("the request names the file notes/pm.md, but the plan only searches it")
    read = {"nodes": [{"id": "pm", "read_file": {"path": "notes/pm.md"}}, *draft["nodes"]]}
    assert unread_in_draft(read, asked, registry) == []


def missing_file_registry(log: ToolLog) -> ToolRegistry:
    """The simulated tools and a ``read_file`` that finds no file, as the workspace says it."""
    async def read_file(path: str) -> dict[str, str]:
        log.calls.append(("read_file", {"path": path}))
        raise ToolError(f"there is no file '{path}' in the workspace; list_files shows what exists")

    registry = simulated_registry(log)
    registry.add(StructuredTool.from_function(coroutine=read_file, name="read_file", description="Read a file."),
                 Risk.GREEN)
    return registry


async def test_an_answer_naming_a_file_its_read_found_missing_as_if_there_gives_dagbots_own_reply() -> None:
    """morning find-cache-ttl: the read of config.yaml found no such file, and the answer said
    the cache "is set in the 'config.yaml' file, and it is set to 8 seconds"."""
    reads = {"nodes": [{"id": "config", "tool": "read_file", "args": {"path": "config.yaml"}}]}
    made_up = "The search cache is set in the 'config.yaml' file, and it is set to 8 seconds."
    llm = ScriptedChatModel(replies=[reads, finish(made_up)])
    events = await asked_once(llm, missing_file_registry(ToolLog()), "missing-1", "How long do we cache search results?")
    assert isinstance(events[-1], AnswerReady)
    answer = events[-1].answer
    assert answer.startswith(FACTS_INTRO[:-1]) and "8 seconds" not in answer
    assert "it names config.yaml as if it were there, and there is no such file" in answer
    assert "there is no file 'config.yaml' in the workspace" in answer  # what the read said
    # where a tool searches the files, the joiner plans again to find the file that holds it
    registry = missing_file_registry(ToolLog())

    async def search_files(query: str) -> dict[str, object]:
        return {"matches": [{"path": "config/product-search.env", "line_number": 3,
                             "text": "SEARCH_CACHE_TTL_SECONDS=300"}] if query == "cache" else []}

    registry.add(StructuredTool.from_function(coroutine=search_files, name="search_files", description="Search."),
                 Risk.GREEN)
    example = '{"id": "find", "search_files": {"query": "cache"}}'
    globbed = {"nodes": [{"id": "find", "tool": "search_files", "args": {"query": "**/*"}}]}
    search = {"nodes": [{"id": "find", "tool": "search_files", "args": {"query": "cache"}}]}
    found = "It is 300 seconds: SEARCH_CACHE_TTL_SECONDS in config/product-search.env."
    llm = ScriptedChatModel(replies=[reads, globbed, finish(made_up), search, finish(found)])
    events = await asked_once(llm, registry, "missing-3", "How long do we cache search results?")
    guessed, named = [e.feedback for e in events if isinstance(e, Replanning)]
    assert guessed.startswith("No file is at the path the plan guessed: 'config.yaml'") and example in guessed
    assert named.startswith("The answer was not sent: it names config.yaml as if it were there")
    assert f"a search for one word of the request, {example}, and read the file it finds" in named
    assert isinstance(events[-1], AnswerReady) and events[-1].answer == found
    # said to be missing: the answer stands
    told = "There is no config.yaml in the workspace, so I could not find the cache setting."
    llm = ScriptedChatModel(replies=[reads, finish(told)])
    events = await asked_once(llm, missing_file_registry(ToolLog()), "missing-2", "How long do we cache search results?")
    assert isinstance(events[-1], AnswerReady) and events[-1].answer == told


async def test_an_answer_telling_what_the_model_would_do_next_gives_the_results_instead() -> None:
    """morning channel-and-invoice: "… I need to search the `alerting/routes.yaml` file … and then
    look for the invoice number …" was posted as the answer."""
    reads = {"nodes": [{"id": "builds", "tool": "read_file", "args": {"path": "ci/builds.csv"}}]}
    told = "To find how many builds failed, I need to read ci/builds.csv and then count the failed rows."
    llm = ScriptedChatModel(replies=[reads, finish(told)])
    events = await asked_once(llm, reading_registry(ToolLog()), "narrated-1", "How many builds in ci/builds.csv failed?")
    assert isinstance(events[-1], AnswerReady)
    assert events[-1].answer.startswith(FACTS_INTRO[:-1]) and "b-2,failed" in events[-1].answer
