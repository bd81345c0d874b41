"""Each crontab line a read result holds, with its schedule in words, for the joiner
(agent/model/cron_schedules.py)."""

from __future__ import annotations

from typing import Any

import pytest

from agent.answer.grounded import false_statements
from agent.model.cron_schedules import cron_schedules_section, schedule
from agent.model.prompting import joiner_messages

CRONTAB = """\
# m    h    dom  mon  dow   command
MAILTO=ops-cron@example.com
*/15   *    *    *    *     /opt/scripts/sync-dns.sh >/dev/null 2>&1
0      2    *    *    0     /opt/scripts/pg-backup.sh --full
30     2    *    *    1-5   /opt/scripts/pg-backup.sh --incremental
0      */6  *    *    *     /opt/scripts/rotate-tokens.sh
@daily /opt/scripts/prune.sh
"""
PLAN = {"nodes": [{"id": "cron", "tool": "read_file", "args": {"path": "ops/crontab"}}]}


def read(content: str, path: str = "ops/crontab") -> dict[str, dict[str, Any]]:
    return {"cron": {"status": "done", "output": {"path": path, "content": content}}}


@pytest.mark.parametrize(("when", "expected"), [
    ("*/15 * * * *", ("every 15 minutes", 96)),
    ("0 2 * * 0", ("at 02:00, only on Sunday", 1)),
    ("30 2 * * 1-5", ("at 02:30, Monday through Friday", 1)),
    ("0 */6 * * *", ("every 6 hours", 4)),
    ("45 3 1 * *", ("at 03:45, on day 1 of the month", 1)),
    ("@hourly", ("every hour", 24)),
    ("1 2 3 4 5 6", None), ("foo bar baz qux quux", None), ("61 * * * *", None),
])
def test_a_cron_expression_in_words_and_its_runs_on_a_day_it_runs(when: str, expected: Any) -> None:
    assert schedule(when) == expected


def test_the_section_lists_each_line_of_a_read_crontab_with_its_schedule() -> None:
    """console full-backup-time: ``0 2 * * 0`` was read as "at 02:00 AM every day"; sync-dns-runs:
    ``*/15`` cannot be counted by the model."""
    section = cron_schedules_section(PLAN, read(CRONTAB))
    assert section.startswith("## Crontab schedules\n")
    assert "- `*/15 * * * * /opt/scripts/sync-dns.sh >/dev/null 2>&1` (ops/crontab): every 15 minutes; " \
           "96 runs on each day it runs" in section
    assert "- `0 2 * * 0 /opt/scripts/pg-backup.sh --full` (ops/crontab): at 02:00, only on Sunday; 1 run on " \
           "each day it runs" in section
    assert "@daily /opt/scripts/prune.sh` (ops/crontab): at 00:00" in section
    assert "MAILTO" not in section
    # a file of other lines, a few of which look like one; a read that failed: nothing
    prose = "1 2 3 4 5 boxes were counted\nthe rest of the notes\nand more of them\n"
    assert cron_schedules_section(PLAN, read(prose, "notes.txt")) == ""
    assert cron_schedules_section(PLAN, {"cron": {"status": "failed", "error": "no such file"}}) == ""


def test_the_joiner_is_shown_the_schedules_and_an_answer_that_states_them_holds_to_the_results() -> None:
    results = read(CRONTAB)
    state: Any = {"request": "How many times a day does sync-dns.sh run, per ops/crontab?", "plan": PLAN,
                  "results": results, "history": []}
    prompt = str(joiner_messages(state, replans_left=0)[-1].content)
    assert "every 15 minutes; 96 runs on each day it runs" in prompt
    answer = "sync-dns.sh runs every 15 minutes, so 96 times a day."
    assert [s.kind for s in false_statements(answer, results, known=[state["request"]])] == ["value"]
    assert false_statements(answer, results, known=[state["request"], cron_schedules_section(PLAN, results)]) == []


def test_a_searchs_lines_of_a_file_named_as_a_crontab_are_shown_too() -> None:
    """console sync-dns-runs: the plan searched ops/crontab for sync-dns.sh instead of reading it."""
    found = {"matches": [{"path": "ops/crontab", "line_number": 3, "text": "*/15 * * * * /opt/scripts/sync-dns.sh"},
                         {"path": "notes/todo.txt", "line_number": 1, "text": "0 2 * * 0 something"}],
             "truncated": False, "files_searched": 2}
    section = cron_schedules_section({"nodes": []}, {"search": {"status": "done", "output": found}})
    assert "`*/15 * * * * /opt/scripts/sync-dns.sh` (ops/crontab): every 15 minutes; 96 runs" in section
    assert "something" not in section
