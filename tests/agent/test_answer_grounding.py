"""An answer holds to the results (issue 43): a misstated status, quoted content no step read,
or a value no result holds is found before the answer is final; dagbot's own reply then says
what ran, from the results, never raw JSON and never a step that did not run."""

from __future__ import annotations

import pytest

from agent.answer.facts import facts_reply
from agent.answer.grounded import bare_files, false_statements

TOOLS = {"read_file", "list_files", "write_file", "send_email"}
FAILED_PACKAGE = {"admins": {"status": "failed", "error": "SyntaxError: invalid syntax (line 2)"}}
READ = {"orders": {"status": "done", "output": {"path": "orders.csv", "content": "id,amount\n1,1200\n2,350.5\n"}}}


def kinds(answer: str, results: dict, **kw: object) -> list[str]:
    return [s.kind for s in false_statements(answer, results, tools=TOOLS, **kw)]  # type: ignore[arg-type]


def test_a_failed_step_reported_as_done_is_found() -> None:
    answer = '- admins: done → {"path": "admins.txt", "content": "alice, bob"}'
    found = false_statements(answer, FAILED_PACKAGE, tools=TOOLS)
    assert [s.kind for s in found] == ["status", "content"]
    assert found[0].why == "it says done for `admins`, whose result is failed"


def test_a_tool_named_as_a_step_that_never_ran_is_found() -> None:
    missing = {"config": {"status": "failed", "error": "not found: config.toml"}}
    answer = '- read_file: done → {"path": "config.toml", "content": "config content here"}'
    found = false_statements(answer, missing, tools=TOOLS)
    assert [s.kind for s in found] == ["status", "content"]
    assert "a step that never ran" in found[0].why and "config content here" in found[1].why


def test_a_line_in_the_shape_of_a_result_line_for_a_step_that_does_not_exist_is_found() -> None:
    assert kinds("- summary: done → 3 lines", READ) == ["status"]
    assert kinds("Status: done. The file has 3 lines.", READ) == []  # a word, not a step
    # the step's name said twice, as its tool's might be (unseen mail-follow-up-owners)
    assert kinds("- admins: admins done → see the file", FAILED_PACKAGE) == ["status"]
    assert kinds("- admins: not done yet", FAILED_PACKAGE) == []


def test_a_step_of_a_plan_a_replan_replaced_keeps_its_status() -> None:
    earlier = {"orders (plan 1)": READ["orders"], "admins": FAILED_PACKAGE["admins"]}
    assert kinds("- orders: done\n- admins: failed", earlier) == []
    assert kinds("- orders: failed", earlier) == ["status"]


def test_statuses_as_they_are_and_quoted_content_a_step_read_pass() -> None:
    answer = ('- orders: done\n- admins: failed (a syntax error)\n'
              'orders.csv starts with "content": "id,amount\\n1,1200"')
    assert kinds(answer, {**READ, **FAILED_PACKAGE}) == []


MISSING = {"config": {"status": "failed", "error": "there is no file 'config.yaml' in the workspace; "
                                                 "list_files shows what exists"},
           "find (plan 2)": {"status": "done", "output": {"matches": [], "files_searched": 8}}}


@pytest.mark.parametrize(("answer", "false"), [
    # the file that was not there, named as where the value is (morning find-cache-ttl)
    ("The search cache is set in the 'config.yaml' file, and it is set to 8 seconds.", True),
    ("- config.yaml: cache_ttl is set", True),
    # said to be missing, in the sentence that names it
    ("There is no config.yaml in the workspace, and no file mentions the cache.", False),
    ("I couldn't read config.yaml. Nothing else mentions a cache.", False),
    ("config.yaml was not found; the cache setting is nowhere in the files searched.", False),
    ("There is no config.yaml in the workspace.", False),
    ("I didn't find config.yaml.", False),
    ("config.yaml does not exist. You could create config.yaml with a cache_ttl line.", False),
    ("```\ncat config.yaml\n```\nThe file is not there.", False),  # code shown, not stated
    ("The setting is in config.yaml.bak, which I did not read.", False),  # another file
])
def test_a_file_a_read_found_missing_named_as_if_it_were_there_is_found(answer: str, false: bool) -> None:
    found = false_statements(answer, MISSING, tools=TOOLS)
    assert [s.kind for s in found] == (["file"] if false else [])
    if false:
        assert found[0].why == ("it names config.yaml as if it were there, and there is no such file "
                                "(its read found none)")


def test_a_missing_file_another_step_found_or_the_request_named_is_not_a_false_statement() -> None:
    listed = {**MISSING, "files": {"status": "done", "output": {"files": [{"path": "config.yaml", "size": 9}]}}}
    assert kinds("The cache is set in config.yaml.", listed) == []
    # a name the request gives may be a table's, its rows queried from the database after all
    assert kinds("The cache is set in config.yaml.", MISSING, known=["what does config.yaml set?"]) == []
    assert kinds("The cache is set in config.yaml.", MISSING, known=["how long do we cache?"]) == ["file"]


@pytest.mark.parametrize(("answer", "invented"), [
    ("The total is 1,550.50.", False),          # 1200 + 350.5, computed by a package below
    ("The total is 1550.5.", False),
    ("Order 1 is 1200 and order 2 is 350.5.", False),
    ("The total is 1,650.", True),               # from nowhere
    ("Order 2 is 77.4% of the total.", True),
    ("There are 3 lines.", False),               # one digit: not checked
    ("The file has 12 lines.", True),
    ("Requested in 'orders for 2026-11-25': 1200.", False),  # dates are not values
])
def test_values_come_from_results_the_request_or_the_thread(answer: str, invented: bool) -> None:
    results = {**READ, "total": {"status": "done", "output": 1550.5}}
    assert (kinds(answer, results, known=["orders for 2026-11-25"]) == ["value"]) is invented


def test_a_value_rounded_from_a_result_or_a_percentage_of_one_passes() -> None:
    results = {"p99": {"status": "done", "output": {"p99_ms": 323.6666, "share": 0.375}}}
    assert kinds("The p99 is 323.67 ms, 37.5% of requests.", results) == []
    assert kinds("The p99 is 324 ms.", results) == []
    assert kinds("The p99 is 330 ms.", results) == ["value"]


def test_code_in_a_fenced_block_is_an_example_not_a_value() -> None:
    assert kinds("Use this:\n```python\ntotal = 12 * 40\n```\nThe total is 1550.5.",
                 {"total": {"status": "done", "output": 1550.5}}) == []
    assert kinds("```\nx = 1\n```\nThe total is 1650.", {"total": {"status": "done", "output": 1550.5}}) == ["value"]


def test_counts_of_what_a_result_lists_pass() -> None:
    results = {"hits": {"status": "done", "output": {"matches": [{"line": i} for i in range(14)]}}}
    assert kinds("14 lines match.", results) == []
    assert kinds("15 lines match.", results) == ["value"]


def test_dagbots_own_reply_says_what_ran_without_json_or_steps_that_did_not_run() -> None:
    plan = {"nodes": [
        {"id": "orders", "tool": "read_file", "args": {"path": "orders.csv"}},
        {"id": "admins", "package": {"goal": "list the admins", "code": "…"}},
        {"id": "mail", "tool": "send_email", "args": {"to": "ops@example.com"}},
        {"id": "stats", "tool": "list_files", "args": {}}]}
    results = {**READ, **FAILED_PACKAGE, "mail": {"status": "rejected", "error": "rejected by U1"},
               "stats": {"status": "done", "output": {"files": ["a.csv", "b.csv"], "count": 2}}}
    reply = facts_reply(plan, results, {"send_email"}, why="it says done for `admins`, whose result is failed")
    assert "as the model's answer it says done for `admins`, whose result is failed:" in reply
    assert "• `orders` (read_file orders.csv): done\n```\nid,amount\n1,1200\n2,350.5\n```" in reply
    assert "• `admins` (package: list the admins): failed (SyntaxError: invalid syntax (line 2))" in reply
    assert "• `mail` (send_email ops@example.com): did not run: not approved (rejected by U1)" in reply
    assert "• `stats` (list_files): done — count: 2; files: 2 item(s): a.csv, b.csv" in reply
    assert reply.endswith("Nothing was changed.")
    assert "{" not in reply and "→" not in reply


def test_dagbots_own_reply_names_the_file_a_reference_found_not_the_reference() -> None:
    """wide find-wal: "(read_file ${note_search.matches[0].path})" showed a template to a person."""
    plan = {"nodes": [{"id": "found", "tool": "search_files", "args": {"query": "WAL"}},
                      {"id": "note", "tool": "read_file", "args": {"path": "${found.matches[0].path}"}},
                      {"id": "other", "tool": "read_file", "args": {"path": "${found.matches[1].path}"}}]}
    results = {"found": {"status": "done", "output": {"matches": [{"path": "notes/pm.md"}]}},
               "note": {"status": "done", "output": {"path": "notes/pm.md", "content": "Commander: Daniela\n"}},
               "other": {"status": "failed", "error": "no match 1"}}
    reply = facts_reply(plan, results, set())
    assert "• `note` (read_file notes/pm.md): done — Commander: Daniela" in reply
    assert "• `other` (read_file): failed (no match 1)" in reply
    assert "${" not in reply


def test_dagbots_own_reply_cuts_a_long_goal_between_words() -> None:
    """aimed missing-then-mail: "…Read notes/standup-20 …" was a number 20 no result holds."""
    goal = "Compute from the inputs every value this request asks for: Read notes/standup-2026-11-19.md"
    plan = {"nodes": [{"id": "computed", "package": {"goal": goal, "code": ""}}]}
    results = {"computed": {"status": "skipped", "error": "'standup' was failed"}}
    reply = facts_reply(plan, results, set())
    assert "(package: Compute from the inputs every value this request asks for: Read …)" in reply
    assert kinds(reply, results) == []


def test_dagbots_own_reply_shows_a_manifest_read_beside_the_data_a_package_computed_from() -> None:
    """aimed memory-and-mail-host: "`api_memory` (read_file deploy/api.yaml): done, read by
    `computed`" hid the 3Gi the request asked for; the package's query was the inventory's."""
    plan = {"nodes": [{"id": "manifest", "tool": "read_file", "args": {"path": "deploy/api.yaml"}},
                      {"id": "servers", "tool": "read_file", "args": {"path": "inventory/servers.json"}},
                      {"id": "least", "depends_on": ["manifest", "servers"], "package": {"goal": "g", "code": ""}}]}
    results = {"manifest": {"status": "done", "output": {"path": "deploy/api.yaml", "content": "memory: 3Gi\n"}},
               "servers": {"status": "done", "output": {"path": "inventory/servers.json", "content": "[]"}},
               "least": {"status": "done", "output": "web-2"}}
    reply = facts_reply(plan, results, set())
    assert "• `manifest` (read_file deploy/api.yaml): done — memory: 3Gi" in reply
    assert "• `servers` (read_file inventory/servers.json): done, read by `least`" in reply


def test_dagbots_own_reply_names_the_changes_made() -> None:
    plan = {"nodes": [{"id": "save", "tool": "write_file", "args": {"path": "out.txt", "content": "x"}}]}
    reply = facts_reply(plan, {"save": {"status": "done", "output": {"path": "out.txt", "bytes_written": 1}}},
                        {"write_file"})
    assert reply.endswith("Changed: `save`.")


def test_an_amount_of_money_is_checked_whole() -> None:
    summed = {"total": {"status": "done", "output": {"columns": ["total"], "rows": [[60425.0]], "truncated": False}}}
    assert kinds("The total is $60,425.00.", summed) == []  # a currency sign and cents: the same value
    assert kinds("The total is $61,425.00.", summed) == ["value"]  # checked whole, not from the comma on
    assert kinds("The total is 60,425 (425 of it in November).", summed) == ["value"]


def test_dagbots_own_reply_shows_a_querys_rows_as_values_not_lists() -> None:
    plan = {"nodes": [{"id": "by_region", "tool": "query_file", "args": {"path": "data/orders.csv", "sql": "…"}}]}
    rows = [["east", 160.5], ["west", 80], ["north", 9.5], ["south", 1], ["mid", 2], ["far", 3]]
    out = {"path": "data/orders.csv", "columns": ["region", "total"], "rows": rows, "truncated": True}
    reply = facts_reply(plan, {"by_region": {"status": "done", "output": out}}, set())
    assert "• `by_region` (query_file data/orders.csv): done — region: east; total: 160.5 | region: west" in reply
    assert "(and 1 more) (more matched than were returned)" in reply and "far" not in reply
    assert "[" not in reply  # never a list as JSON
    empty = {"path": "d.csv", "columns": ["n"], "rows": [], "truncated": False}
    assert "done — no rows" in facts_reply(plan, {"by_region": {"status": "done", "output": empty}}, set())


def test_dagbots_own_reply_names_a_read_a_finished_package_computed_from_and_shows_its_value() -> None:
    """data-manual-certs: the three certificates asked for were buried under the JSON of all six."""
    plan = {"nodes": [{"id": "certs", "tool": "read_file", "args": {"path": "tls/certs.json"}},
                      {"id": "manual", "package": {"goal": "no auto-renew", "code": ""}, "depends_on": ["certs"]},
                      {"id": "notes", "tool": "read_file", "args": {"path": "notes.md"}}]}
    results = {"certs": {"status": "done", "output": {"path": "tls/certs.json", "content": '{"all": "six"}'}},
               "manual": {"status": "done", "output": ["shop.example.com", "vpn.example.com"]},
               "notes": {"status": "done", "output": {"path": "notes.md", "content": "# kept"}}}
    reply = facts_reply(plan, results, red_tools=())
    assert "• `certs` (read_file tls/certs.json): done, read by `manual`" in reply and "six" not in reply
    assert "shop.example.com" in reply and "# kept" in reply  # a read nothing went on from: its text
    failed = {**results, "manual": {"status": "failed", "error": "SyntaxError"}}
    assert "six" in facts_reply(plan, failed, red_tools=())  # the package failed: the read is what there is
    for nothing in (None, [], ""):  # fresh rollout: a package that found nothing hid the file holding 25
        found_nothing = {**results, "manual": {"status": "done", "output": nothing}}
        assert "six" in facts_reply(plan, found_nothing, red_tools=()), nothing


def test_the_mantissa_of_a_number_in_scientific_notation_is_no_value_it_holds() -> None:
    """evening pgdata-free: "2.68435456 GiB" free, read off ``2.68435456e+11`` bytes (250 GiB)."""
    metrics = {"db": {"status": "done", "output": {"path": "metrics/db-01.prom",
                                                   "content": "avail_bytes 2.68435456e+11\nnode_load15 2.51\n"}}}
    assert kinds("The free space is 2.68435456 GiB.", metrics) == ["value"]
    assert kinds("Free: 268435456000 bytes, or 2.68435456e+11; the load is 2.51.", metrics) == []
    assert kinds("Free: 3.5e+11 bytes.", metrics) == ["value"]


def test_a_single_digit_with_a_size_or_a_times_unit_is_a_value_stated() -> None:
    """weekend ram-and-timeout: "RAM: 8 GiB" for ``MemTotal: 8148324 kB`` (7.77 GiB), the joiner's
    model converting in its head; one digit alone ("3 lines", "1 of 2 steps") stays unchecked."""
    meminfo = {"m": {"status": "done", "output": {"path": "lb/meminfo.txt",
                                                  "content": "MemTotal:  8148324 kB\nSwapTotal: 2097148 kB\n"}}}
    assert kinds("- **RAM**: 8 GiB", meminfo) == ["value"]
    assert kinds("It took 7 s, then 4 minutes.", meminfo) == ["value", "value"]
    assert kinds("There are 3 lines; 1 of 2 steps ran.", meminfo) == []
    assert kinds("RAM: 8148324 kB.", meminfo) == []
    assert kinds("It ran 2 hours.", {"r": {"status": "done", "output": {"hours": 2}}}) == []


def test_a_name_written_as_code_that_no_result_holds_is_found() -> None:
    """monday find-sessions-type: "the new type is `another_node_type`", from a search whose
    matches held no type at all."""
    results = {"find": {"status": "done", "output": {"matches": [
        {"path": "terraform/plan.txt", "text": '~ node_type = "cache.t4g.small" -> "cache.r7g.large"'}]}}}
    request = "Which file moves the sessions cache to another node type?"
    invented = false_statements("It is `terraform/plan.txt`; the new type is `another_node_type`.", results,
                                tools=TOOLS, known=[request])
    assert [(s.kind, s.why) for s in invented] == [
        ("value", "it names `another_node_type`, which no result, the request or the thread holds")]
    # a name a result holds (in any case), a key, a node's id, a tool's name, the request's words
    held = ("`terraform/plan.txt` changes `node_type` from `Cache.T4g.Small` to `cache.r7g.large` "
            "(`find`, `read_file`; `sessions`).")
    assert kinds(held, results, known=[request]) == []
    # numbers, times and literals are the values' own check; a phrase in backticks is prose
    assert kinds("`18:21`, `none`, `true` and `the new type`", results, known=[request]) == []
    # code in a fenced block is an example the model writes
    assert kinds("```\nprint(`made_up_name`)\n```", results, known=[request]) == []


def test_files_named_bare_are_found_for_the_bench_and_left_to_the_answer() -> None:
    """monday find-sessions-type, once more: "file: sessions_cache.txt, old type: old_type", after
    a search that matched nothing: the bench counts the file (:func:`bare_files`); the answer
    check leaves it, as the playground demo's list of example requests names files no step read."""
    assert bare_files("file: sessions_cache.txt, old type: old_type; see `x.md` and terraform/plan.txt") == [
        "sessions_cache.txt", "terraform/plan.txt"]
    # prose, an address, a web path, a version, an abbreviation, code: no file named bare
    prose = ("Mail kenji_tanaka@example.com, see https://example.com/run_book.md; v1.2 e.g. works.\n"
             "```\ncat notes.md\n```")
    assert bare_files(prose) == []
    results = {"find": {"status": "done", "output": {"matches": []}}}
    assert kinds("Try asking about logs/app.log or orders.csv.", results, known=["What can you do?"]) == []


def test_a_settings_name_in_capitals_is_advice_not_a_value() -> None:
    """The playground's demo model: "set `OPENAI_API_KEY`, or `OPENAI_BASE_URL`", after a step ran."""
    results = {"files": {"status": "done", "output": {"files": []}}}
    assert kinds("Set `OPENAI_API_KEY` or `OPENAI_BASE_URL`; `make model` assembles one.", results) == []
    assert kinds("The key is `openai_api_key`.", results) == ["value"]
