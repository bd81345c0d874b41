"""The schedule of each line of a read crontab, in words, for the joiner.

A crontab's five fields are a notation a small model reads wrongly: asked "when does the full pg
backup run, per ops/crontab?", the 1.5B model read ``0 2 * * 0`` as "at 02:00 AM every day", and
it cannot count that ``*/15 * * * *`` runs 96 times a day. What a line means is certain, so dagbot
works it out (cron-descriptor's words, croniter's runs in one day) and shows the joiner each
crontab line a read result holds with its schedule beside it (:func:`cron_schedules_section`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any

from cron_descriptor import ExpressionDescriptor, Options
from croniter import croniter

from agent.model.named_rows import Results, reads

_ENTRY = re.compile(r"^\s*(?P<when>@(?:yearly|annually|monthly|weekly|daily|midnight|hourly)\b|"
                    r"(?:[\d*/,A-Za-z-]+\s+){4}[\d*/,A-Za-z-]+)\s+(?P<command>\S.*)$")
_SETTING = re.compile(r"^\s*[A-Za-z_][A-Za-z0-9_]*\s*=")
"""A crontab's variable (``MAILTO=ops@example.com``)."""
_NICKNAMES = {"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
              "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *"}
_MOST_LINES = 40
_SINCE = datetime(2026, 1, 1)  # (any fixed day: the count is of one day the line runs on)


def cron_schedules_section(plan: Mapping[str, Any], results: Results) -> str:
    """The joiner prompt's section of the crontab lines the plan's reads hold, each with its
    schedule in words and its runs on a day it runs; "" when they hold none."""
    lines = [f"- `{' '.join(when.split())} {command}` ({path}): {words}; {runs} run{'' if runs == 1 else 's'}"
             " on each day it runs" for path, when, command, words, runs in _schedules(plan, results)]
    if not lines:
        return ""
    return ("## Crontab schedules\nEach crontab line the results hold, and when it runs, worked out by "
            "dagbot (say these, not your own reading of the five fields):\n" + "\n".join(lines[:_MOST_LINES]))


def _schedules(plan: Mapping[str, Any], results: Results) -> Iterator[tuple[str, str, str, str, int]]:
    for path, text in _found_lines(results):  # (a search's lines of a file named as a crontab)
        if (m := _ENTRY.match(text)) and (described := schedule(m["when"])) is not None:
            yield path, m["when"], m["command"].strip(), *described
    for path, content in reads(plan, results):
        lines = [line for line in content.splitlines()
                 if line.strip() and not line.lstrip().startswith("#") and not _SETTING.match(line)]
        entries = [(m["when"], m["command"].strip()) for line in lines if (m := _ENTRY.match(line))]
        if 2 * len(entries) < len(lines):
            continue  # (a file of other lines, a few of which look like one: no crontab)
        for when, command in entries:
            described = schedule(when)
            if described is not None:
                yield path, when, command, *described


def _found_lines(results: Results) -> Iterator[tuple[str, str]]:
    """The lines a search found in files whose name says they are crontabs (``ops/crontab``,
    ``cron.d/backup``)."""
    for result in results.values():
        output = result.get("output") if result.get("status") == "done" else None
        matches = output.get("matches") if isinstance(output, Mapping) else None
        for match in matches if isinstance(matches, list) else []:
            if isinstance(match, Mapping) and isinstance(match.get("text"), str) \
                    and "cron" in str(match.get("path") or "").lower():
                yield str(match["path"]), match["text"]


def schedule(when: str) -> tuple[str, int] | None:
    """A cron expression's schedule in words and how many times it runs on a day it runs;
    None for what is no cron expression."""
    expression = _NICKNAMES.get(when, when)
    if not croniter.is_valid(expression) or len(expression.split()) != 5:
        return None
    options = Options()
    options.use_24hour_time_format = True
    try:
        words = ExpressionDescriptor(expression, options).get_description()
        first = croniter(expression, _SINCE).get_next(datetime)
    except Exception:  # (a field either library reads otherwise: no schedule shown)
        return None
    day = first.replace(hour=0, minute=0)
    runs = croniter(expression, day - timedelta(minutes=1))
    count = 0
    while runs.get_next(datetime) < day + timedelta(days=1):
        count += 1
    return words[:1].lower() + words[1:], count
