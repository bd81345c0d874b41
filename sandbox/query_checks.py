"""What is certainly wrong with a query the model wrote for a request, over the table it is
for (sandbox/table_query.py), told to the model once before the query runs; and the one slip
mended in place (an aggregate ordered by with no GROUP BY).

Each check answers to a query the 1.5B model wrote on bench.quality's data set: the payments
team's total without its filter (:func:`unused_values`), the file's path compared with a
column (:func:`absent_values`), the sev1 pages' average narrowed to values copied from the rows
it was shown (:func:`unasked_values`), "how many pages did each service get" kept to one row
(:func:`needless_limit`), a share per host for "which hosts are over 80% full"
(:func:`conditions_per_row`), a count for "which certificates…" (:func:`names_nothing`), the
tickets' team for "which tickets…" (:func:`shared_names`), and
``SELECT team FROM data ORDER BY SUM(cost_usd)`` (:func:`grouped`); and a column or table the
table does not have (:func:`uncompiled`), found by SQLite itself, as the query would fail (fresh
follow-up-owner's ``SELECT owner`` ran, failed, and was written again four times).
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import re
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

from agent.plan.uncomputed import COMPUTING_GOAL
from agent.ports.sandbox import PackageJob
from agent.tools.effects import asked_effects
from sandbox.existence_questions import row_naming_columns
from sandbox.flag_columns import asked_truth, flag_polarity, yes_no
from sandbox.per_groups import per_group_fault, ungrouped_per
from sandbox.table_query import Table
from sandbox.table_rows import SELECT_LIST, column_number, select_items
from sandbox.time_columns import asked_time_columns


def asked_of(job: PackageJob) -> str:
    """What the step is asked, in the person's words: the request, the one it follows and the
    step's goal, less the words dagbot's computing goal opens with ("Compute from the inputs…":
    its "compute" named the value ``service = 'compute'`` the query added unasked, broad
    october-spend)."""
    return " ".join((job.request, job.follows, job.goal.replace(COMPUTING_GOAL, "")))


_MADE_FROM = r"(?:e?s|ments?|(?<=e)d)?"
"""What a word may add to a value it names: a plural, a noun (``replacements``), a past (``replaced``)."""


def unused_values(table: Table, request: str, sql: str) -> list[tuple[str, str]]:
    """The values of the table's text columns the request names (as whole words, in any case, a
    plural too: "admins" names ``admin``) that the query never mentions, each with its column:
    the payments team's total asked for, ``SELECT SUM(cost_usd) FROM data`` written. A word made
    from a value names it too ("replacements" and "replaced" name ``replace``: "Which resources
    will terraform/plan.txt destroy? Count the replacements too." was queried for
    ``action = 'destroy'`` alone, monday destroyed-resources). Values
    shorter than three characters, and words of a path (``finance/costs.csv``), are not looked for,
    nor a column's when the text names every value it has (which of them: all)."""
    types = table.types
    asked, written = request.lower(), sql.lower()
    found: dict[str, str] = {}
    for column in (c for c in table.columns if types[c] == "TEXT"):
        values = {str(r[column]).strip() for r in table.rows if r.get(column) not in (None, "")}
        named = {value.lower() for value in values
                 if re.search(rf"(?<![\w/-]){re.escape(value.lower())}{_MADE_FROM}(?![\w-]|[/.]\w)", asked)}
        if len(values) > 1 and len(named) == len(values):
            continue  # every value named (a follow-up to the file shown whole): naming all filters none
        for text in named:
            if len(text) >= 3 and text not in found and text not in written:
                found[text] = column
    return [(value, column) for value, column in found.items()]


_PHRASE_WORD = re.compile(r"[a-z][a-z'-]*")
_FILLER = frozenset(re.findall(r"\S+", """
a an the and or of in on at to for from by with into onto over under that which who
while during after before about since until
whom whose what when where why how is are was were be been has have had do does did it its this these those
each every all any some no not than then there their them they his her our your my me we you i as if so
write wrote list show tell give send mail email file files say says said"""))


def unused_phrases(table: Table, request: str, sql: str) -> list[tuple[str, str, int]]:
    """Two words the request says together that the text of some rows of a column holds, and not
    every row's, which the query never uses, each with its column and how many rows hold them:
    "Write each upstream address that timed out in logs/nginx-error.log" was queried for every
    upstream of the log, counted (monday timeouts-to-file), where ``message`` holds "timed out"
    in three of its thirteen rows. Words of a path, an address or a URL the request names are no
    phrase; nor two words one of which is a filler ("the queue", "each of")."""
    asked = _TARGET.sub(" ", request.lower())
    words = _PHRASE_WORD.findall(asked)
    written = sql.lower()
    found: dict[str, tuple[str, int]] = {}
    texts = [c for c in table.columns if table.types.get(c) == "TEXT"]
    for first, second in itertools.pairwise(words):
        if first in _FILLER or second in _FILLER or len(first + second) < 6:
            continue
        phrase = f"{first} {second}"
        if phrase in written or phrase in found or not re.search(rf"\b{re.escape(phrase)}\b", asked):
            continue
        pattern = re.compile(rf"(?<![\w-]){re.escape(phrase)}(?![\w-])")
        for column in texts:
            holding = sum(bool(pattern.search(str(row.get(column) or "").lower())) for row in table.rows)
            if 0 < holding < len(table.rows):
                found[phrase] = (column, holding)
                break
    return [(phrase, column, holding) for phrase, (column, holding) in found.items()]


def unused_columns(table: Table, request: str, sql: str) -> list[str]:
    """The number columns the request names by their own name (a whole word, in any case) that
    the query never uses, when it uses another number column: "what percentage of the requests
    were errors?" over columns ``requests`` and ``errors`` was written as the share of rows with
    ``errors > 0`` (100%), ``requests`` left out. A column named as the thing counted ("how many
    requests…" where ``COUNT(*)`` counts rows) is named too, so only number columns count, and
    only beside another one the query does use; a yes/no column (JSON's true and false) counts
    alone: "the users … without MFA" over a column ``mfa`` was written with no condition on it, and
    "the biggest unpaid invoice" over ``paid`` (morning follow-up-biggest-unpaid)."""
    types, asked, written = table.types, request.lower(), sql.lower()
    numbers = [c for c in table.columns if types[c] in ("INTEGER", "REAL") and len(c) >= 3]
    used = [c for c in numbers if re.search(rf"\b{re.escape(c.lower())}\b", written)]
    flags = {c for c in numbers if yes_no(table, c)}
    return [c for c in numbers if c not in used and (used or c in flags or _totalled(c, asked))
            and any(re.search(rf"(?<![\w/.-]){'(?:un-?)?' if c in flags else ''}{re.escape(name)}s?(?![\w-])",
                              asked) for name in _names(c))]


def _totalled(column: str, asked: str) -> bool:
    """Whether the request asks for a share or total of ``column`` itself ("what percentage of all
    vCPUs … sit in ams?": nightly ams-vcpu-share, written as the share of rows in ams), or for a
    value going by it ("going by the weights…, what share of be_web's requests does web-3
    get?" was written as web-3's share of the rows, 12.5%, not of the weights, 20%: weekend
    web-3-share; "the top hosts by cpu", "based on the sizes")."""
    return any(re.search(rf"\b(?:percent(?:age)?|share|proportion|fraction|total|sum)\s+of\s+(?:all\s+)?"
                         rf"(?:the\s+)?(?:[\w-]+\s+)?{re.escape(name)}s?(?![\w-])", asked)
               or re.search(rf"\b(?:by|based\s+on|according\s+to|weighted\s+by|in\s+proportion\s+to)\s+"
                            rf"(?:the\s+|their\s+|its\s+|each\s+\w+'s\s+)?{re.escape(name)}s?(?![\w-])",
                            asked)
               for name in _names(column))


def _names(column: str) -> set[str]:
    """What a request calls a column: its name, and for a row's field beside a list's rows its
    field's own (``deployment_replicas``: "replicas", console cpu-total summed the containers'
    CPU "across every replica" without them), each with or without a plural's s."""
    names = {column.lower()}
    rest = column.lower().partition("_")[2]
    if len(rest) >= 4:
        names.add(rest)
    return {name[:-1] if name.endswith("s") and len(name) > 3 else name for name in names}


def without_whole_lists(table: Table, sql: str) -> str | None:
    """``sql`` without each ``column IN (…)`` or ``NOT IN (…)`` that lists every value the
    column holds (always true, or never), or None when it has none. Told to leave out a list
    of queues the request never named (copied from the rows shown), the rewrite of "break down
    the queue depth by consumer" negated it, ``queue NOT IN`` every queue, and found no row
    (unseen depth-by-consumer); such a condition filters nothing the request asked about."""
    changed = sql
    for match in _IN_LIST.finditer(sql):
        column = match.group(1).strip('"`')
        held = {str(r[column]) for r in table.rows if r.get(column) not in (None, "")}
        listed = {text.replace("''", "'") for text in _LITERAL.findall(match.group(2))}
        if column in table.columns and held and held <= listed:
            changed = _without_condition(changed, match.group(0))
    return changed if changed != sql else None


_STATED_TEXT = re.compile(r"(?is)^\s*'(?:[^']|'')*'\s+(?:as\s+)?[\"`]?\w+[\"`]?\s*$")
"""A select item that is a text the query writes itself (``'api' AS image_tag``)."""


def without_stated_texts(sql: str) -> str | None:
    """``sql`` without the items of its select list that are texts it writes itself, as long as
    another item stays: "what image tag does the api run in helm/values-prod.yaml, and which
    host reads partition 0 of orders.v2 in kafka/consumer-lag.txt?" was queried over the
    consumer-group output as ``SELECT 'api' AS image_tag, host …``, a value no row holds that
    the answer then states as the tag (tuesday api-tag-and-orders-host). None when it has none."""
    found = SELECT_LIST.match(sql)
    if found is None:
        return None
    items = select_items(found["columns"])
    kept = [item for item in items if not _STATED_TEXT.match(item)]
    if len(kept) == len(items) or not kept:
        return None
    return sql[:found.start("columns")] + ",".join(kept).strip() + sql[found.end("columns"):]


def without_copied_row(table: Table, asked: str, sql: str, shown: int = 3) -> str | None:
    """``sql`` without its conditions on values ``asked`` never names (``=``, ``LIKE``), when one
    of the first ``shown`` rows (the rows the model was shown) holds them all, and there are two
    or more, or that row also holds a value the query compares with that ``asked`` names: a row
    copied into the query, ``WHERE queue =
    'orders' AND consumer = 'order-svc'`` for "break down the queue depth by consumer", written
    again when told (unseen depth-by-consumer); ``job = 'pg-users' AND ts LIKE '2026-11-21%'``
    for "all the pg-users backups" (nightly mail-users-total), the job named, the day copied
    from its row. None when there is no such row."""
    unasked = unasked_values(table, asked, sql)
    likes = unasked_likes(table, asked, sql)
    said = [(c, t) for c, t in compared_texts(table, sql) if (c, t) not in unasked and re.search(
        rf"""(?<![\w.])[\"`]?{re.escape(c)}[\"`]?\s*==?\s*'{re.escape(t.replace("'", "''"))}'""", sql)]

    def copied(row: dict[str, Any]) -> bool:
        """The row holds every unasked value, and there are two, or it holds a named one too."""
        return (all(str(row.get(column)) == text for column, text in unasked)
                and all(like_pattern(pattern).fullmatch(str(row.get(column))) for column, pattern in likes)
                and (len(unasked) + len(likes) >= 2 or any(str(row.get(c)) == t for c, t in said)))

    if not unasked + likes or not any(copied(row) for row in table.rows[:shown]):
        return None
    without = _without_comparisons(sql, unasked, "=") or sql
    return _without_comparisons(without, likes, "LIKE") or without


def unasked_likes(table: Table, asked: str, sql: str) -> list[tuple[str, str]]:
    """The ``column LIKE '…'`` conditions of ``sql`` whose pattern some row's value matches and
    whose text ``asked`` never says: ``ts LIKE '2026-11-21%'`` beside ``job = 'pg-orders'``, the
    first row shown, for "write each failed run (job and date)" (nightly failures-to-file)."""
    named = asked.lower()
    found = []
    for name, pattern in _LIKE.findall(sql):
        column, text = name.strip('"`'), pattern.replace("''", "'")
        words = [part for part in re.split(r"[%_]+", text.lower()) if part.strip()]
        if column in table.columns and words and not all(_said(word, named) for word in words) \
                and any(like_pattern(text).fullmatch(str(r.get(column))) for r in table.rows):
            found.append((column, text))
    return list(dict.fromkeys(found))


def like_pattern(pattern: str) -> re.Pattern[str]:
    """SQLite's ``LIKE`` pattern as a regular expression (``%``: any run, ``_``: one character;
    case-blind, as SQLite's is for ASCII)."""
    return re.compile("".join(".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in pattern),
                      re.IGNORECASE | re.DOTALL)


_TARGET = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+|https?://\S+|(?:[\w-]+/)+[\w.-]+\.[a-z]{1,5}")
"""What a request names as where a change goes: an address, a URL, a workspace path."""


def without_targets(table: Table, request: str, sql: str) -> str | None:
    """``sql`` without its conditions comparing a column with where the request's change goes
    (an address, a URL, a path it names) that no row holds: "Email the owners of the open action
    items … to team@example.com" was queried ``WHERE email = 'team@example.com' AND open = 1``,
    four times, told no row holds it (aimed mail-open-owners). None when it has none."""
    pairs = [(column, text) for column, text, _ in absent_values(table, sql)
             if _TARGET.fullmatch(text) and text.lower() in request.lower()]
    changed = _without_comparisons(sql, pairs, "==?") if pairs else None
    liked = _matched_targets(table, request, changed or sql)
    return _without_comparisons(changed or sql, liked, "LIKE") or changed


_EQUAL_OR_LIKE = re.compile(r"""(?<![\w.])["`]?(\w+)["`]?\s*(?:==?|LIKE)\s*'((?:[^']|'')*)'""", re.I)
_IN_ONE = re.compile(r"""(?<![\w.])["`]?(\w+)["`]?\s+IN\s*\(\s*'((?:[^']|'')*)'\s*\)""", re.I)


def without_file_named(table: Table, sql: str) -> str | None:
    """``sql`` without its conditions on a column the table lacks whose value the read file's own
    name holds: "how many pages did each service get in oncall/pages-2026-11.csv?" was queried
    ``WHERE month = '2026-11'`` three times, told there is no ``month`` (monday
    pages-per-service): the file is that month's already. None when it has none."""
    source = table.source.lower()
    if not source:
        return None
    columns = {c.lower() for c in table.columns}
    columns |= {c.lower() for nested, _ in table.nested.values() for c in nested}
    changed = sql
    for pattern in (_EQUAL_OR_LIKE, _IN_ONE):
        for match in pattern.finditer(sql):
            column, value = match.group(1), match.group(2).replace("''", "'").strip("%")
            if column.lower() not in columns and len(value) >= 2 and value.lower() in source:
                changed = _without_condition(changed, match.group(0))
    return changed if changed != sql else None


def _matched_targets(table: Table, request: str, sql: str) -> list[tuple[str, str]]:
    """The ``column LIKE '…'`` conditions of ``sql`` whose pattern is a target the request names
    (its own file's path, an address) that no row of the column holds: broad mail-owners wrote
    ``text LIKE 'notes/oncall-review-2026-11-24.md'``, the notes' own path, twice."""
    found = []
    for name, pattern in _LIKE.findall(sql):
        column, core = name.strip('"`'), pattern.replace("''", "'").strip("%")
        if column in table.columns and _TARGET.fullmatch(core) and core.lower() in request.lower() \
                and not any(core.lower() in str(row.get(column) or "").lower() for row in table.rows):
            found.append((column, pattern.replace("''", "'")))
    return found


def without_negated(sql: str, told: Sequence[tuple[str, str]]) -> str | None:
    """``sql`` without its conditions that negate a value it was told to leave out (``told``:
    each column and value, :func:`unasked_values` of the query before): told to leave out
    ``queue = 'orders'``, the rewrite wrote ``queue != 'orders'`` (unseen depth-by-consumer).
    None when it has none."""
    return _without_comparisons(sql, told, "!=|<>")


def swapped_values(table: Table, asked: str, before: str, sql: str) -> str | None:
    """``sql`` with each condition ``column = 'new'`` that took the place of the query before
    it's ``column = 'old'``, where the request names both values and the rewrite no longer uses
    the old one, written ``column IN ('old', 'new')``: told that "Count the replacements too."
    names ``replace``, the rewrite of ``WHERE action = 'destroy'`` was ``WHERE action =
    'replace'`` (monday destroyed-resources). None when it swapped none so."""
    named = dict(unused_values(table, asked, sql))  # (value → column: what the rewrite leaves out)
    every = dict(unused_values(table, asked, ""))  # (every value the request names)
    changed = sql
    for match in _SIMPLE_CONDITION.finditer(before):
        column, operator, old = match.group(1).strip('"`'), match.group(2), match.group(3)
        if operator != "=" or named.get(_text_of(old)) != column:
            continue
        for new in _SIMPLE_CONDITION.finditer(sql):
            if new.group(1).strip('"`') == column and new.group(2) == "=" and new.group(3) != old \
                    and every.get(_text_of(new.group(3))) == column:
                changed = changed.replace(new.group(0), f"{new.group(1)} IN ({old}, {new.group(3)})", 1)
    return changed if changed != sql else None


def _text_of(literal: str) -> str:
    """A condition's compared value as text, in lower case ("" for a number)."""
    return literal[1:-1].replace("''", "'").lower() if literal.startswith("'") else ""


def _without_comparisons(sql: str, pairs: Sequence[tuple[str, str]], operators: str) -> str | None:
    """``sql`` without each condition comparing a column of ``pairs`` with its text by one of
    ``operators`` (a regex alternation); None when it has none."""
    changed = sql
    for column, text in pairs:
        quoted = re.escape(text.replace("'", "''"))
        compared = rf"""(?<![\w.])[\"`]?{re.escape(column)}[\"`]?\s*(?:{operators})\s*'{quoted}'"""
        for match in re.finditer(compared, sql, re.IGNORECASE):
            changed = _without_condition(changed, match.group(0))
    return changed if changed != sql else None


def told_values_added(table: Table, asked: str, sql: str, told: Sequence[str]) -> str | None:
    """``sql`` with a condition on each value the request names that a fault told the query
    never used (:func:`unused_values`) and the rewrite still leaves out, where the rewrite does
    not use that value's column at all (no condition on it, no group by it), added with AND; None
    when there is none. Such a query is certainly wrong (:func:`query_faults`); written again so,
    it used to run as written. Told that the request names ``orders.v2`` (a value of topic), the
    rewrite of "which host is reading partition 0 of orders.v2" wrote ``WHERE partition = 0``, and
    the first group's reader was the answer (tuesday api-tag-and-orders-host)."""
    said = " ".join(told)
    found = WHERE_CLAUSE.search(sql)
    written = sql.lower()
    added = []
    for text, column in unused_values(table, asked, sql):
        named = re.escape(column.lower())
        constrained = re.search(rf'(?<![\w"`]){named}(?![\w"`])|"{named}"', written)  # (grouped by it, say)
        if f"{text!r} (a value of {column})" in said and not constrained:
            name = _quoted(column) if _is_keyword(column) else _sql_name(column)
            added.append(f"{name} = '{_value_of(table, column, text)}'")
    if not added:
        return None
    condition = " AND ".join(added)
    if found is not None:
        head, rest = sql[:found.end("clause")].rstrip(), sql[found.end("clause"):].lstrip()
        return f"{head} AND {condition} {rest}".rstrip()
    end = _CLAUSE_END.search(sql)
    at = end.start() if end is not None else len(sql)
    return f"{sql[:at].rstrip()} WHERE {condition} {sql[at:].lstrip()}".rstrip()


def _quoted(column: str) -> str:
    return '"{}"'.format(column.replace('"', '""'))


def _value_of(table: Table, column: str, text: str) -> str:
    """The value of ``column`` that ``text`` names (in any case), as the table writes it, quoted
    for SQL."""
    for row in table.rows:
        value = str(row.get(column) or "").strip()
        if value.lower() == text.lower():
            return value.replace("'", "''")
    return text.replace("'", "''")


def _without_condition(sql: str, condition: str) -> str:
    """``sql`` with ``condition`` taken out of its WHERE clause (with its AND, or the WHERE it
    stands alone in); as it was where it stands otherwise (in an OR)."""
    text = rf"(?:\(\s*{re.escape(condition)}\s*\)|{re.escape(condition)})"  # (in brackets of its own too)
    for pattern in (rf"\s+AND\s+{text}", rf"(?<=WHERE\s){text}\s+AND\s+", rf"\s*\bWHERE\s+{text}"):
        changed, count = re.subn(pattern, "", sql, count=1, flags=re.IGNORECASE)
        if count:
            return changed
    return sql


_CLAUSE_ENDS = r"\bGROUP\s+BY\b|\bORDER\s+BY\b|\bHAVING\b|\bLIMIT\b|;|$"
WHERE_CLAUSE = re.compile(rf"(?is)\bWHERE\b(?P<clause>.*?)(?={_CLAUSE_ENDS})")
_CLAUSE_END = re.compile(rf"(?is){_CLAUSE_ENDS}")
_CASE_CONDITION = re.compile(r"(?is)\bCASE\s+WHEN\b(?P<clause>.*?)\bTHEN\b")


def kept_conditions(table: Table, before: str, sql: str, told: Sequence[str]) -> str | None:
    """``sql`` with the conditions of the query ``before`` it that the rewrite dropped without
    being told to (their column is nowhere in the rewrite, and no fault told about ``before``
    names it), each added with AND; None when it dropped none. Told to filter on the admins, the
    rewrite of "which of them have MFA off?" kept ``role = 'admin'`` and dropped ``mfa = 0``, and
    the next, told about ``mfa``, dropped the admins (fresh follow-up-admins). A count's
    ``CASE WHEN`` condition is such a condition too, where the query is no share (nothing divided):
    ``SUM(CASE WHEN conclusion = 'failure' THEN 1 ELSE 0 END)``, told to filter on e2e-nightly,
    was rewritten ``SUM(CASE WHEN name = 'e2e-nightly' THEN 1 ELSE 0 END)``, every such run
    counted (monday follow-up-mail-julia)."""
    found = WHERE_CLAUSE.search(before)
    clauses = [found["clause"]] if found is not None else []
    if "/" not in before:
        clauses += [case["clause"] for case in _CASE_CONDITION.finditer(before)]
    said = " ".join(told)
    dropped = []
    for match in (m for clause in clauses for m in _SIMPLE_CONDITION.finditer(clause)):
        column = match.group(1).strip('"`')
        if column not in table.columns or column in said:
            continue
        if not re.search(rf"(?<![\w.])[\"`]?{re.escape(column)}(?![\w])", sql):
            dropped.append(match.group(0))
    if not dropped:
        return None
    added = " AND ".join(dropped)
    if (where := WHERE_CLAUSE.search(sql)) is not None:
        clause = where["clause"].strip()
        return f"{sql[:where.start()]}WHERE ({clause}) AND {added} {sql[where.end():].lstrip()}".rstrip()
    end = _CLAUSE_END.search(sql)
    at = end.start() if end is not None else len(sql)
    return f"{sql[:at].rstrip()} WHERE {added} {sql[at:].lstrip()}".rstrip()


def used_numbers(table: Table, sql: str) -> list[str]:
    """The number columns ``sql`` uses."""
    written = sql.lower()
    return [c for c in table.columns if table.types[c] in ("INTEGER", "REAL")
            and re.search(rf"\b{re.escape(c.lower())}\b", written)]


_COLUMN = r"""(?<![\w.])("[^"]+"|`[^`]+`|[A-Za-z_]\w*)"""
_COMPARED = re.compile(_COLUMN + r"""\s*(?:==?|!=|<>)\s*'((?:[^']|'')*)'""")
_SIMPLE_CONDITION = re.compile(
    _COLUMN + r"""\s*(=|!=|<>|>=|<=|>|<)\s*('(?:[^']|'')*'|-?\d+(?:\.\d+)?|true|false)""", re.IGNORECASE)
_IN_LIST = re.compile(_COLUMN + r"""\s+(?:NOT\s+)?IN\s*\(((?:\s*'(?:[^']|'')*'\s*,?)+)\)""", re.IGNORECASE)
_LITERAL = re.compile(r"'((?:[^']|'')*)'")
_LIKE = re.compile(_COLUMN + r"""\s+LIKE\s+'((?:[^']|'')*)'""", re.IGNORECASE)


def like_conditions(sql: str) -> list[tuple[str, str, str]]:
    """Each ``column LIKE 'pattern'`` of ``sql``: the condition as written, its column (unquoted)
    and its pattern (``''`` read as ``'``); not ``NOT LIKE``."""
    return [(m.group(0), m.group(1).strip('"`'), m.group(2).replace("''", "'")) for m in _LIKE.finditer(sql)
            if not re.search(r"\bNOT\s*$", sql[:m.start()], re.IGNORECASE)]


def compared_texts(table: Table, sql: str) -> list[tuple[str, str]]:
    """Each text column the query compares with a text (``=``, ``!=``, ``IN (…)``; not
    ``LIKE``, not another column), with that text."""
    types = table.types
    listed = [(name, text) for name, values in _IN_LIST.findall(sql) for text in _LITERAL.findall(values)]
    pairs = [*_COMPARED.findall(sql), *listed]
    return [(name.strip('"`'), literal.replace("''", "'")) for name, literal in pairs
            if types.get(name.strip('"`')) == "TEXT"]


def unmatched_likes(table: Table, sql: str) -> list[tuple[str, str, list[str]]]:
    """The ``column LIKE 'pattern'`` conditions of ``sql`` that no row's value of that column
    matches, each with the values it does hold: ``started LIKE '2026-11-29%'`` over a backup
    report whose ``started`` holds times of day (``01:00:03``), from the report's own file name
    (monday backup-total-and-largest matched no row, twice)."""
    found = []
    for _, column, pattern in like_conditions(sql):
        if column not in table.columns:
            continue
        values = _held_values(table, column)
        if values and not any(like_pattern(pattern).fullmatch(value) for value in values):
            found.append((column, pattern, values))
    return found


def _held_values(table: Table, column: str) -> list[str]:
    """The values ``column`` holds, each once, as text, in the rows' order (none left out)."""
    return list(dict.fromkeys(str(r[column]) for r in table.rows if r.get(column) not in (None, "")))


def _listed(values: list[str], most: int = 8) -> str:
    """``values`` quoted for the model, the first ``most`` of them."""
    return ", ".join(repr(v) for v in values[:most]) + (", …" if len(values) > most else "")


def absent_values(table: Table, sql: str) -> list[tuple[str, str, list[str]]]:
    """The texts the query compares a text column with (``service = 'finance/costs.csv'``)
    that no row of that column holds, each with the column and the values it does hold."""
    found = []
    for column, text in compared_texts(table, sql):
        values = _held_values(table, column)
        if text not in values:
            found.append((column, text, values))
    return found


_STATUS_WORDS = (
    frozenset({"ok", "success", "successful", "successfully", "succeeded", "passed", "completed"}),
    frozenset({"failed", "fail", "failure", "failures", "failing", "error", "errors", "errored"}),
)
"""Words for one outcome: a request's "successful snapshots" names ``result = 'ok'`` (aimed
snapshot-total: told the request named no 'ok', the rewrite summed the failed one too)."""


def _said(text: str, named: str) -> bool:
    """Whether ``named`` (lower case) says ``text``, itself or, for an outcome, in its words."""
    word = text.lower()
    if word in named or _said_in_number(word, named):
        return True
    if _IDENTIFIER.fullmatch(text):  # (node_load15: "the 15-minute load average" says it)
        parts = {p for p in re.split(r"[_.:]|(?<=[a-z])(?=\d)|(?<=[a-z])(?=[A-Z])", text) if p}
        return any(re.search(rf"\b{re.escape(p.lower())}", named) for p in parts
                   if (len(p) >= 4 and p.lower() not in _GENERIC_PARTS) or p.isdigit())
    same = next((words for words in _STATUS_WORDS if word in words), frozenset())
    return any(re.search(rf"\b{other}\b", named) for other in same)


def _said_in_number(word: str, named: str) -> bool:
    """Whether ``named`` says the words of ``word`` (both lower case) in the singular or the
    plural: "an open action item" names the section ``Action items``."""
    words = re.findall(r"[^\W_]+", word)
    if not words or len(words) > 6 or not any(len(w) > 2 for w in words):
        return False
    stems = [re.escape(w[:-1] if len(w) > 3 and w.endswith("s") else w) + "(?:e?s)?" for w in words]
    return re.search(r"\b" + r"\W+".join(stems) + r"\b", named) is not None


_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[_:][A-Za-z0-9]+)+")
"""A value that is a name in code, a metric's or a setting's (``node_load15``), which a request
says in its own words ("the 15-minute load average"): one of its parts said is it said."""
_GENERIC_PARTS = frozenset({"node", "bytes", "total", "count", "seconds", "info", "value", "stat", "stats"})


def unasked_values(table: Table, asked: str, sql: str) -> list[tuple[str, str]]:
    """The values (that rows hold) the query compares with and ``asked`` (the request, the one
    before it, the step's goal) never names: ``AND service = 'search' AND date IN (…)`` added
    to the sev1 pages' average, copied from the rows the model was shown."""
    named = asked.lower()
    held = {column: {str(r[column]) for r in table.rows} for column in table.columns}
    return list(dict.fromkeys((column, text) for column, text in compared_texts(table, sql)
                              if text in held.get(column, set()) and not _said(text, named)))


_ONE_OF_MANY = re.compile(
    r"\b(?:most|least|fewest|highest|lowest|largest|smallest|biggest|longest|shortest|slowest|fastest|"
    r"top|bottom|best|worst|first|last|latest|earliest|oldest|newest|max(?:imum)?|min(?:imum)?|peak|one)\b"
    r"|\w+est\b", re.IGNORECASE)
_LIMIT_ONE = re.compile(r"\blimit\s+1\b", re.IGNORECASE)


def needless_limit(request: str, sql: str) -> bool:
    """Whether the query keeps one row (``LIMIT 1``) where the request asks for no single one
    (no "most", "highest", "longest", …): "how many pages did each service get" was written
    ``… GROUP BY service ORDER BY n DESC LIMIT 1``."""
    return bool(_LIMIT_ONE.search(sql)) and not _ONE_OF_MANY.search(request)


_AGGREGATE = re.compile(r"\b(?:sum|count|avg|min|max|total|group_concat)\s*\(", re.IGNORECASE)
_ORDERED = re.compile(
    r"(?is)^\s*select\s+(?P<columns>.+?)\s+from\s+data\b(?P<rest>.*?)(?P<order>\border\s+by\b.*)$")
_BARE = re.compile(r'^\s*("[^"]+"|[A-Za-z_]\w*)(?:\s+(?:as\s+)?("[^"]+"|[A-Za-z_]\w*))?\s*$', re.IGNORECASE)


_EQUALS = re.compile(_COLUMN + r"""\s*==?\s*'((?:[^']|'')*)'""")
_SELECT_REST = re.compile(r"(?is)^\s*select\s+(?:distinct\s+)?(?P<columns>.+?)\s+from\s+data\b(?P<rest>.*)$")


def selects_its_conditions(sql: str) -> list[tuple[str, str]]:
    """The columns a query selects that are all set by its WHERE to one text each, with those
    texts: ``SELECT name FROM data WHERE name = 'Primary'`` returns "Primary", what it was
    given (tuning primary-oncall, over ``- Primary: maria (checkout, payments)``, answered "The
    primary on call this week is Primary."). Empty when it selects anything else."""
    found = _SELECT_REST.match(sql)
    where = WHERE_CLAUSE.search(found["rest"]) if found else None
    if found is None or where is None:
        return []
    fixed = {name.strip('"`').lower(): literal for name, literal in _EQUALS.findall(where["clause"])}
    items = select_items(found["columns"])
    bare = [m.group(1).strip('"`') for item in items if (m := _BARE.match(item))]
    if not bare or len(bare) != len(items) or not all(column.lower() in fixed for column in bare):
        return []
    return [(column, fixed[column.lower()].replace("''", "'")) for column in bare]


def grouped(sql: str) -> str | None:
    """``sql`` with the ``GROUP BY`` it left out, when it orders by an aggregate and has none
    (``SELECT team FROM data ORDER BY SUM(cost_usd) DESC LIMIT 1``, which SQLite refuses as a
    misuse of an aggregate): grouped by the plain columns it selects. None when it has a GROUP
    BY, no aggregate in its ORDER BY, or selects no plain column."""
    found = _ORDERED.match(sql)
    if found is None or re.search(r"(?i)\bgroup\s+by\b", sql) or not _AGGREGATE.search(found["order"]):
        return None
    bare = [m.group(1) for item in select_items(found["columns"]) if (m := _BARE.match(item))]
    if not bare:
        return None
    where = found["rest"].rstrip()
    return f"SELECT {found['columns']} FROM data{where} GROUP BY {', '.join(bare)} {found['order']}"


_WHOLE_TABLE_AGGREGATE = re.compile(r"\b(?:sum|count|avg|total|group_concat)\s*\(", re.IGNORECASE)


def beside_a_total(table: Table, sql: str) -> list[str]:
    """The table's columns a query selects bare beside a SUM, COUNT or AVG with no GROUP BY: the
    aggregate makes one row of the whole table, and a bare column beside it is some row's
    ("the hostname with the least free disk" queried as ``SELECT SUM(free_disk_gb) AS total,
    hostname … ORDER BY free_disk_gb LIMIT 1`` named web-1, not web-2; aimed memory-and-mail-host).
    MIN and MAX are not such: SQLite takes a bare column from the row of the least or most."""
    found = _SELECT_REST.match(sql)
    if found is None or re.search(r"(?i)\bgroup\s+by\b", found["rest"]):
        return []
    items = select_items(found["columns"])
    if not any(_WHOLE_TABLE_AGGREGATE.search(item) for item in items):
        return []
    columns = {c.lower(): c for c in table.columns}
    bare = [m.group(1).strip('"') for item in items if (m := _BARE.match(item))]
    return [columns[name.lower()] for name in bare if name.lower() in columns]


def without_totals_beside(table: Table, sql: str) -> str | None:
    """``sql`` without its whole-table SUM, COUNT or AVG when it picks a row by a column
    (``ORDER BY free_disk_gb ASC LIMIT 1``) and selects a column bare beside them
    (:func:`beside_a_total`): the order and the limit say a row is asked for, and the total makes
    one row of the whole table, so the row picked is any row (aimed memory-and-mail-host, told
    so and written the same twice). None when it is no such query."""
    found = _SELECT_REST.match(sql)
    if found is None or not beside_a_total(table, sql):
        return None
    order = re.search(r"(?is)\border\s+by\s+(?P<by>.+?)\s+(?:asc\s+|desc\s+)?limit\s+\d+\s*$", found["rest"])
    if order is None or _AGGREGATE.search(order["by"]):
        return None
    kept = [item.strip() for item in select_items(found["columns"])
            if not _WHOLE_TABLE_AGGREGATE.search(item)]
    return f"SELECT {', '.join(kept)} FROM data{found['rest']}"


SHARE_OF = re.compile(
    r"""(?is)\bSUM\s*\(\s*CASE\s+WHEN\s+(?P<condition>.+?)\s+THEN\s+(?P<amount>"[^"]+"|`[^`]+`|[A-Za-z_]\w*|1)"""
    r"""\s+ELSE\s+0(?:\.0+)?\s+END\s*\)\s*(?P<over>/\s*(?:CAST\s*\(\s*)?COUNT\s*\(\s*\*\s*\))""")
"""A share written as a sum of the rows where a condition holds over the count of rows."""


_COMPARED_FRACTION = r"""(?P<column>"?\b{column}\b"?)\s*(?P<op>[<>]=?|=)\s*(?P<value>0?\.\d+)\b"""


def percents_as_written(table: Table, request: str, sql: str) -> str | None:
    """``sql`` with a column of percents (written ``62%``: the query sees 62) compared with the
    fraction of a percentage the request names (``use_percent > 0.8`` for "more than 80% full",
    console mounts-over-80: every mount kept) compared with the percentage itself; None when it
    compares none so."""
    table = queried_table(table, sql)
    named = {float(m.group(1)) for m in re.finditer(r"(\d+(?:\.\d+)?)\s*(?:%|percent\b)", request, re.I)}
    if not named:
        return None
    changed = sql
    for column in table.columns:
        written = [str(r.get(column)) for r in table.rows if r.get(column) not in (None, "")]
        if not written or not all(v.strip().endswith("%") for v in written):
            continue

        def as_percent(found: re.Match[str]) -> str:
            percent = round(float(found["value"]) * 100, 6)
            if percent not in named:
                return found.group(0)
            return f"{found['column']} {found['op']} {percent:g}"

        changed = re.sub(_COMPARED_FRACTION.format(column=re.escape(column)), as_percent, changed, flags=re.I)
    return changed if changed != sql else None


_NO_SELECT_WORDS = frozenset({
    "for", "key", "index", "table", "view", "transaction", "set", "into", "create", "drop", "delete",
    "insert",
    "update", "references", "primary", "unique", "check", "default", "trigger", "column"})
"""SQL's words that no SELECT is written with: a bare one is a column of that name (an alert
rule's ``for``), as long as the table has one."""


def quoted_keywords(table: Table, sql: str) -> str | None:
    """``sql`` with each column named by a word of :data:`_NO_SELECT_WORDS` quoted where it is
    written bare (``ORDER BY for``, a syntax error: console fastest-alert wrote it four times);
    None when it writes none so. Text in quotes is left as it is."""
    words = {c.lower() for c in queried_table(table, sql).columns} & _NO_SELECT_WORDS
    if not words:
        return None
    bare = re.compile(r'(?<![\w".`])(' + "|".join(sorted(words)) + r')(?![\w"`])', re.IGNORECASE)
    mended = _outside_texts(sql, bare, lambda m: f'"{m.group(1)}"')
    return mended if mended != sql else None


def _outside_texts(sql: str, pattern: re.Pattern[str], replace: Callable[[re.Match[str]], str]) -> str:
    """``sql`` with ``pattern`` replaced outside its quoted texts (which are left as they are)."""
    parts = re.split(r"('(?:[^']|'')*')", sql)  # (odd parts are string literals)
    return "".join(part if i % 2 else pattern.sub(replace, part) for i, part in enumerate(parts))


_CLAUSE_WORDS = {"group": r"\s+by\b", "order": r"\s+by\b", "limit": r"\s+(?:\d|\?|:)"}
"""SQL's words that a SELECT writes only as its clauses (``GROUP BY``, ``ORDER BY``, ``LIMIT 5``),
and what follows each there."""


def quoted_clause_words(table: Table, sql: str) -> str | None:
    """``sql`` with each column named by a word of :data:`_CLAUSE_WORDS` quoted where it is
    written bare and not as its clause (``WHERE group = 'billing-ledger'``, a syntax error:
    ``kafka-consumer-groups`` output has a ``GROUP`` column; tuesday ledger-total-lag), when the
    query does not compile as written and does so quoted; None otherwise. Text in quotes is left
    as it is."""
    words = {c.lower() for c in queried_table(table, sql).columns} & set(_CLAUSE_WORDS)
    if not words or uncompiled(table, sql) is None:
        return None
    bare = re.compile("|".join(rf'(?<![\w".`])({word})(?![\w"`])(?!{_CLAUSE_WORDS[word]})'
                               for word in sorted(words)), re.IGNORECASE)
    mended = _outside_texts(sql, bare, lambda m: f'"{m.group(0)}"')
    return mended if mended != sql and uncompiled(table, mended) is None else None


_ALIAS = re.compile(r'(?i)\bAS\s+([A-Za-z_]\w*)\b(?!\s*\()')


@functools.lru_cache(maxsize=256)
def _is_keyword(word: str) -> bool:
    """Is ``word`` one of SQLite's words, that cannot name a column bare (``when``, ``order``)?"""
    with contextlib.closing(sqlite3.connect(":memory:")) as database:
        try:
            database.execute(f"SELECT 1 AS {word}")
        except sqlite3.Error:
            return True
    return False


def quoted_aliases(sql: str) -> str | None:
    """``sql`` with each name it gives a column (``AS when``) that is one of SQLite's words
    quoted (``AS "when"``): "who kicked it off, and when?" was written ``SELECT actor_login AS
    who_kicked_it_off, run_started_at AS when FROM data …``, a syntax error the model, told so,
    wrote three times (monday follow-up-deploy-failer). None when it gives none so. Text in
    quotes is left as it is."""
    mended = _outside_texts(sql, _ALIAS,
                            lambda m: f'AS "{m.group(1)}"' if _is_keyword(m.group(1)) else m.group(0))
    return mended if mended != sql else None


def in_nested_table(table: Table, sql: str) -> str | None:
    """``sql`` reading the table a row's list holds instead of ``data``, when it fails over
    ``data`` and compiles over exactly one of those (the model wrote ``FROM data`` with the
    containers' columns); None otherwise."""
    if not table.nested or not re.search(r'(?i)\bfrom\s+"?data\b"?', sql) or uncompiled(table, sql) is None:
        return None
    fits = [changed for name in table.nested
            if uncompiled(table, changed := re.sub(r'(?i)\bfrom\s+"?data\b"?', f"FROM {name}", sql)) is None]
    return fits[0] if len(fits) == 1 else None


def mended_share(sql: str) -> str | None:
    """``sql`` with a share's two slips mended in place, None when it has neither: the sum of an
    amount where a condition holds divided by the count of rows (``SUM(CASE WHEN service =
    'storage' THEN cost_usd ELSE 0 END) / COUNT(*)``, "64425%" of the spend, broad
    storage-share) divides by the amount's sum instead; and the condition the share counts,
    written in the WHERE clause too (every row kept then holds it: a share of 100), is left out
    there."""
    found = SHARE_OF.search(sql)
    if found is None:
        return None
    changed = sql
    amount = found["amount"]
    if amount != "1":
        over = re.sub(r"(?i)COUNT\s*\(\s*\*\s*\)", f"SUM({amount})", found["over"], count=1)
        changed = changed[:found.start("over")] + over + changed[found.end("over"):]
    condition = found["condition"].strip()
    if _SIMPLE_CONDITION.fullmatch(condition) and (where := WHERE_CLAUSE.search(changed)) is not None \
            and re.search(re.escape(condition), where["clause"], re.IGNORECASE):
        changed = _without_condition(changed, condition)
    return changed if changed != sql else None


_GROUPED_BY_ONE = re.compile(
    r"""\bGROUP\s+BY\s+("[^"]+"|`[^`]+`|[A-Za-z_]\w*)\s*(?:$|\)|HAVING\b|ORDER\b|LIMIT\b)""", re.IGNORECASE)
"""A GROUP BY of one column (what follows it ends the clause)."""
_CONDITION_COUNTED = re.compile(r"\b(?:SUM|AVG|COUNT)\s*\(\s*CASE\b", re.IGNORECASE)


def conditions_per_row(table: Table, sql: str) -> str | None:
    """The column the query groups by when every row has a value of its own, and the query
    counts a condition in each group (``SUM(CASE WHEN … THEN 1 ELSE 0 END)``): over groups of one
    row such a share is 0 or 100, and what was meant is the rows where the condition holds
    ("which hosts are more than 80% full": a share per host written). None otherwise."""
    grouped_by = _GROUPED_BY_ONE.search(sql)
    if grouped_by is None or not _CONDITION_COUNTED.search(sql):
        return None
    column = grouped_by.group(1).strip('"`')
    values = [str(row.get(column)) for row in table.rows]
    return column if column in table.columns and len(values) > 1 and len(set(values)) == len(values) else None


def shares_for_which(request: str, sql: str) -> str | None:
    """The column the query groups by, when the request asks which ones with nothing to compute
    and the query counts a condition in every group and keeps them all (no WHERE, HAVING or
    LIMIT): fresh full-nodes, "which nodes reported disk usage over 90%?", was written as a share
    of ``disk > 90`` per node, every node listed (0 for three of them). None otherwise."""
    grouped_by = _GROUPED_BY_ONE.search(sql)
    if grouped_by is None or not _CONDITION_COUNTED.search(sql) or not _WHICH.search(request):
        return None
    if _COMPUTED_WORDS.search(request) or _HOW_MANY.search(request) or _FILTERED.search(sql):
        return None
    return grouped_by.group(1).strip('"`')


_FILTERED = re.compile(r"\b(?:WHERE|HAVING|LIMIT)\b", re.IGNORECASE)
_WHICH = re.compile(r"\b(?:which|who)\b", re.IGNORECASE)
_HOW_MANY = re.compile(r"\b(?:how\s+(?:many|much)|count|number\s+of)\b", re.IGNORECASE)
_SELECTED = SELECT_LIST
_SENTENCE_END = re.compile(r"(?<=[?.!])\s+(?=[A-Z])")
_COMPUTED_WORDS = re.compile(r"\b(?:total|sum|average|mean|share|percent|percentage|rate|most|least|"
                             r"highest|lowest|longest|shortest|largest|smallest|together|combined|"
                             r"add(?:s|ed)?\b[^.?!\n]{0,40}?\bup)\b", re.IGNORECASE)


_PASSED_ON = frozenset({"write", "send", "post"})
"""Effects that pass on what was found (:mod:`agent.tools.effects`)."""


def asked_columns(table: Table, request: str) -> list[str]:
    """The columns the request asks for the value of, by name: "that queue's depth", "the depth
    of the emails queue"."""
    asked = request.lower()
    return [column for column in table.columns if len(column) > 2 and re.search(
        rf"'s\s+{re.escape(column.lower())}\b|(?<![\w/.-]){re.escape(column.lower())}\s+of\b", asked)]


def unselected_columns(table: Table, request: str, sql: str) -> list[str]:
    """The columns :func:`asked_columns` finds that the query never uses: "put that queue's
    depth in reports/depth.txt" was queried ``SELECT queue FROM data WHERE queue = 'emails'``
    (unseen follow-up-queue-depth); and the time column a request asking when asks for
    (:mod:`sandbox.time_columns`)."""
    written = sql.lower()
    asked = dict.fromkeys([*asked_columns(table, request), *asked_time_columns(table, request)])
    return [column for column in asked
            if not re.search(rf"(?<![\w.])[\"`]?{re.escape(column.lower())}(?![\w])", written)]


_ONLY_COUNTED = re.compile(r"(?is)^\s*select\s+count\s*\(\s*\*\s*\)(?:\s+as\s+\w+)?\s+from\b"
                           r"(?!.*\bgroup\s+by\b)")
_COUNTED_WORDS = re.compile(r"\b(?:how\s+many|count|counts|counted|number\s+of|total|tally|occurrences?|any"
                            r"|(?:is|are|was|were)\s+there)\b|\bhow\s+(?:often|frequently)\b", re.IGNORECASE)


_REPEATS_ASKED = re.compile(r"\brepeat(?:s|ed|ing)?\b|\boccurrences?\b|\(x\s?n\)|\bhow\s+many\s+times\b",
                            re.IGNORECASE)
_COUNT_OF_ROWS = re.compile(r"(?i)\bcount\s*\(\s*\*\s*\)")


def rows_counted_not_repeats(table: Table, request: str, sql: str) -> bool:
    """Whether the query counts rows (``COUNT(*)``) where each row says how many times it was
    seen (a number column ``count``: kubectl's ``(x12 over 50m)``) and the request counts the
    repeats ("Counting the (xN) repeats, how many Warning events of each reason…": monday
    warnings-per-reason was answered with one per row)."""
    return (table.types.get("count") == "INTEGER" and _REPEATS_ASKED.search(request) is not None
            and _COUNT_OF_ROWS.search(sql) is not None and not re.search(r"(?i)\bsum\s*\(\s*count\s*\)", sql))


_TOTAL_ASKED = re.compile(r"\b(?:altogether|all\s+together|in\s+total|combined|in\s+all|total|how\s+much)\b",
                          re.IGNORECASE)
_EXTREME_ASKED = re.compile(r"\b(?:biggest|largest|smallest|highest|lowest|longest|shortest|slowest|fastest|"
                            r"most|least|fewest|top|max(?:imum)?|min(?:imum)?)\b", re.IGNORECASE)
_CLAUSE_BREAK = re.compile(r",\s*(?:and\s+)?|\band\s+(?=which|what|who|how)\b|[?;]\s*", re.IGNORECASE)


def top_group_as_total(request: str, sql: str) -> bool:
    """Whether the request asks, in clauses of their own, for a total over every row and for the
    biggest (or smallest) one, and the query sums per group and keeps one group (``SUM(size) …
    GROUP BY job ORDER BY total DESC LIMIT 1``): its sum is that group's alone, not the total
    (monday backup-total-and-largest answered 48.6 GB, pg-orders' own, for "how much did the
    backups write altogether, and which job was the biggest?"). Not one clause that asks for
    the group with the biggest total ("which service spent the most in total?")."""
    parts = [part for part in _CLAUSE_BREAK.split(request) if part and part.strip()]
    totals = any(_TOTAL_ASKED.search(part) and not _EXTREME_ASKED.search(part) for part in parts)
    extremes = any(_EXTREME_ASKED.search(part) and not _TOTAL_ASKED.search(part) for part in parts)
    return (totals and extremes and re.search(r"(?i)\bsum\s*\(", sql) is not None
            and re.search(r"(?i)\bgroup\s+by\b", sql) is not None and _LIMIT_ONE.search(sql) is not None
            and not re.search(r"(?i)\(\s*select\b", sql))


def counted_unasked(request: str, sql: str) -> bool:
    """Whether the query selects only ``COUNT(*)`` where the request asks for no count ("What's
    db-01's 15-minute load average in metrics/db-01.prom?" was written ``SELECT COUNT(*) AS total
    FROM data WHERE metric = 'node_load15'``, and answered 1: evening load15)."""
    return bool(request) and _ONLY_COUNTED.match(sql) is not None and not _COUNTED_WORDS.search(request)


_SPAN_ASKED = re.compile(
    r"(?i)\bhow\s+many\s+(?P<unit>days|hours|weeks|minutes)\s+(?:(?:are|were|is|was)\s+(?:there|it)\s+|"
    r"(?:pass|passed|lie|lay)\s+)?(?:from|between|until|till|since|before|after)\b")
_DATE = re.compile(r"\b\d{4}-\d\d-\d\d\b")


def _dated_columns(table: Table) -> list[str]:
    """The table's columns that hold a date (``2026-12-04``) in some row."""
    return [c for c in table.columns if any(_DATE.match(str(row.get(c) or "")) for row in table.rows)]


def counted_span(table: Table, request: str, sql: str) -> str | None:
    """What to compute where the request asks how much time lies between two dates and the query
    only counts rows: "How many days are there from the retro in retros/2026-11-27-checkout-retro.md
    to the latest due date of its open action items?" was written ``SELECT COUNT(*) …`` and
    answered 5 (monday days-to-last-due). None where it asks no such span or the query does more
    than count."""
    asked = _SPAN_ASKED.search(request)
    if asked is None or _ONLY_COUNTED.match(sql) is None:
        return None
    dated = _dated_columns(table)
    given = _DATE.findall(request)
    days = (f"julianday({f'MAX({dated[0]})' if dated else '<later date>'}) - "
            f"julianday({repr(given[0]) if given else '<earlier date>'})")
    unit = asked["unit"].lower()
    scale = {"hours": " * 24", "minutes": " * 1440", "weeks": " / 7"}.get(unit, "")
    held = f" (the table's dates: {', '.join(dated)})" if dated else ""
    return (f"The request asks how many {unit} lie between two dates, and the query counts rows: compute "
            f"the span from the dates{held}, as ({days}){scale}, with the request's own conditions.")


_LATEST = re.compile(r"(?i)\b(?:latest|last|newest|furthest|final)\b")
_EARLIEST = re.compile(r"(?i)\b(?:earliest|first|oldest|soonest|next)\b")


def span_counted_as_rows(table: Table, request: str, sql: str) -> str | None:
    """``sql`` computing the days :func:`counted_span` asks for where the query counts rows
    and the plain reading is certain: one date the request names, one column of dates, and the
    latest or the earliest of them asked for (``SELECT CAST(ROUND(julianday(MAX(due)) -
    julianday('2026-11-27')) AS INTEGER) AS days FROM data WHERE …``, the query's own
    conditions kept). Told how, the model wrote the count again (monday days-to-last-due). None
    otherwise."""
    asked, counted = _SPAN_ASKED.search(request), _ONLY_COUNTED.match(sql)
    if asked is None or asked["unit"].lower() != "days" or counted is None:
        return None
    dated = _dated_columns(table)
    given = set(_DATE.findall(request))
    latest, earliest = bool(_LATEST.search(request)), bool(_EARLIEST.search(request))
    if len(dated) != 1 or len(given) != 1 or latest == earliest:
        return None
    (column,), (day,) = dated, given
    span = f"CAST(ROUND(julianday({'MAX' if latest else 'MIN'}({column})) - julianday('{day}')) AS INTEGER)"
    return f"SELECT {span} AS days FROM{sql[counted.end():]}"


def names_nothing(table: Table, request: str, sql: str) -> bool:
    """Whether the request asks which rows (or who), or for a column's values by its plural with
    nothing to compute ("write the domains of the certificates that …"), or to write or send what
    it finds with nothing to compute ("write the users … without MFA to reports/no-mfa.txt": the
    rows themselves), and the query selects no column of the table, only what it computes:
    "which certificates do not renew automatically?" was written ``SELECT COUNT(*) AS n FROM data
    WHERE …``, a number where names were asked for."""
    found = _SELECTED.match(sql)
    uncomputed = not _COMPUTED_WORDS.search(request)
    plural = any(re.search(rf"(?<![\w/.-]){re.escape(column)}s(?![\w-]|[/.]\w)", request, re.IGNORECASE)
                 for column in table.columns if len(column) > 2) and uncomputed
    passed_on = bool(asked_effects(request) & _PASSED_ON) and uncomputed
    # (a sentence of its own that asks which, with no count in it, asks names whatever the others
    # say: "Which resources will terraform/plan.txt destroy? Count the replacements too.", monday
    # destroyed-resources, was queried for a count of each action)
    which_alone = any(_WHICH.search(sentence) and not _HOW_MANY.search(sentence)
                      for sentence in _SENTENCE_END.split(request)) and len(_SENTENCE_END.split(request)) > 1
    if found is None or not (_WHICH.search(request) or plural or passed_on) \
            or (_HOW_MANY.search(request) and not which_alone) \
            or asked_columns(table, request):  # ("put that queue's depth…" asks for a value)
        return False
    items = select_items(found["columns"])
    if any(item.strip() == "*" for item in items):  # (every column: the names among them)
        return False
    named = [m.group(1).strip('"') for item in items if (m := _BARE.match(item))]
    return (not any(name in table.columns for name in named)
            and not any(re.search(r"(?i)\bgroup_concat\s*\(", item) for item in items))


_EXTREME = re.compile(r"(?i)^\s*select\s+(?P<fn>max|min)\s*\(\s*(?P<column>[\"`]?\w+[\"`]?)\s*\)")
"""A query that selects only a column's maximum or minimum (``SELECT MAX(duration) FROM data``)."""
_WHICH_NOUN = re.compile(r"\bwhich\s+([\w-]+(?:'s)?(?:\s+[\w-]+)?)", re.IGNORECASE)
"""The two words after "which": its noun, or a value and its noun ("which P1 tickets")."""
_NOT_A_NOUN = frozenset({"is", "are", "was", "were", "has", "have", "had", "do", "does", "did", "of", "one",
                         "ones", "can", "will", "would", "should", "could", "way", "means"})


def shared_names(table: Table, request: str, sql: str) -> tuple[list[str], list[str]] | None:
    """For "which tickets…" (the rows, named by no column), a query that selects only columns
    several rows share (``SELECT team``: identity is on three tickets) where the table has text
    columns whose every value is its row's own (``key``): the selected columns, and those that
    name each row. None when the request names a column after "which" ("which team…", "which
    job…": that column is what it asks for), points back ("which of them"), or the query
    computes, groups, or selects a column naming each row."""
    asked = _WHICH_NOUN.search(request)
    found = _SELECTED.match(sql)
    if asked is None or found is None or re.search(r"(?i)\bgroup\s+by\b", sql):
        return None
    words = [w.removesuffix("'s") for w in asked.group(1).lower().split()]
    columns = {c.lower() for c in table.columns}
    if words[0] in _NOT_A_NOUN or any(w in columns or w.rstrip("s") in columns
                                      or (w.endswith("es") and w[:-2] in columns) for w in words):
        return None
    items = select_items(found["columns"])
    bare = [m.group(1).strip('"') for item in items if (m := _BARE.match(item))]
    if not bare or len(bare) != len(items) or not all(name in table.columns for name in bare):
        return None

    naming = row_naming_columns(table)
    if not naming or any(name in naming for name in bare):
        return None
    return bare, naming


def with_row_names(table: Table, request: str, sql: str) -> str | None:
    """``sql`` selecting, beside the columns several rows share, the first column that names
    each row (:func:`shared_names`): "which backup in backups/nightly.log ran the longest?"
    written ``SELECT job FROM data ORDER BY duration DESC LIMIT 1`` selects ``job, ts`` (the run,
    not only its job). Mended in place: told to, the model rewrote the query as a ``GROUP BY``
    that dropped its right ``ORDER BY`` (nightly longest-run). None when nothing is shared."""
    shared = shared_names(table, request, sql)
    found = _SELECTED.match(sql)
    if shared is None or found is None:
        return None
    return f"{sql[:found.end('columns')]}, {_sql_name(shared[1][0])}{sql[found.end('columns'):]}"


def _sql_name(column: str) -> str:
    """``column`` as a query writes it: bare, or quoted where it is no plain word."""
    return column if re.fullmatch(r"[A-Za-z_]\w*", column) else _quoted(column)


_MOST = re.compile(r"\b(?:most|highest|largest|biggest|longest|slowest|greatest|heaviest|top|max(?:imum)?)\b",
                   re.IGNORECASE)
_LEAST = re.compile(r"\b(?:least|fewest|lowest|smallest|shortest|fastest|min(?:imum)?|bottom)\b",
                    re.IGNORECASE)
_ONE_ASKED = re.compile(r"\b(?:which|what)\s+(?P<noun>[a-z][\w-]*)\b|\bwho\b", re.IGNORECASE)


def one_group(request: str, sql: str) -> str | None:
    """``sql`` keeping only the group asked for, where the request asks which one thing has
    the most or the least ("which job took the longest?") and the query lists every group with
    one aggregate (``SELECT job, MAX(duration) FROM data GROUP BY job``: the answer then picked
    the wrong row of three, nightly follow-up-longest-size): ordered by that aggregate, the
    most first or the least, and one row kept (``ORDER BY 2 DESC LIMIT 1``). None when the
    request asks for several ("which jobs…"), names no most or least, or the query orders,
    limits, or has no single aggregate beside plain columns."""
    most, least = _MOST.search(request), _LEAST.search(request)
    asked = _ONE_ASKED.search(request)
    found = _SELECTED.match(sql)
    if found is None or asked is None or bool(most) == bool(least) \
            or not re.search(r"(?i)\bgroup\s+by\b", sql) or re.search(r"(?i)\b(?:order\s+by|limit)\b", sql):
        return None
    noun = (asked["noun"] or "").lower()
    if (noun.endswith("s") and not noun.endswith("ss")) or noun in {"are", "were"} \
            or re.search(r"(?i)\b(?:top|bottom)\s+\d", request):  # ("which jobs…", "the top 3": several)
        return None
    items = select_items(found["columns"])
    totals = [i for i, item in enumerate(items, 1) if _AGGREGATE.search(item)]
    if len(totals) != 1 or len(items) < 2:
        return None
    return f"{sql.rstrip().rstrip(';')} ORDER BY {totals[0]} {'DESC' if most else 'ASC'} LIMIT 1"


_ONE_POINTED = re.compile(
    r"\b(?:that|this)\s+(?!(?:one|the|a|an|is|was|it|we|i|you)\b)[a-z][\w-]*(?<!s)\b(?!')|\b(?:it|its)\b",
    re.IGNORECASE)
"""A follow-up pointing back at one thing: "how big was that backup?", "when did it run?"."""
_ANSWER_BEFORE = re.compile(r"\(its answer: (?P<answer>.*)\)\s*$", re.DOTALL)
_ANSWERED_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?![\w.]*\d)")


def one_row_named_before(table: Table, job: PackageJob, sql: str) -> str | None:
    """``sql`` narrowed to the one row the answer before named, where a follow-up points back at
    one thing ("how big was that backup?" after "minio-assets took the longest, 7082 s"), its
    query keeps several rows by the values it names (``WHERE job = 'minio-assets'``: three runs,
    whose sizes it summed; nightly follow-up-longest-size) and a number of that answer is the
    value of exactly one of them in a number column (``duration = 7082``): that condition added.
    None when it is no follow-up, points back at several ("those"), keeps one row already, or no
    number of the answer tells one row apart."""
    answered = _ANSWER_BEFORE.search(job.follows or "")
    where = WHERE_CLAUSE.search(sql)
    if answered is None or where is None or not _ONE_POINTED.search(job.request) \
            or re.search(r"(?i)\b(?:those|these|them|they|their|each|every|all)\b", job.request) \
            or re.search(r"(?i)\b(?:or|not|like|in|between)\b|[<>]", where["clause"]):
        return None
    conditions = compared_texts(table, where["clause"])
    if not conditions:
        return None
    kept = [row for row in table.rows if all(str(row.get(column)) == text for column, text in conditions)]
    if len(kept) < 2:
        return None
    numbers = {float(n) for n in _ANSWERED_NUMBER.findall(answered["answer"])}
    for column in table.columns:
        if table.types.get(column) == "TEXT" or re.search(rf"(?i)\b{re.escape(column)}\s*=", where["clause"]):
            continue
        unit = table.units.get(column, "")
        values = [column_number(row.get(column), unit) for row in kept]
        hits = [v for v in values if v is not None and float(v) in numbers]
        if len(hits) == 1 and values.count(hits[0]) == 1:
            value = int(hits[0]) if float(hits[0]).is_integer() else hits[0]
            clause = where["clause"].strip()
            return f"{sql[:where.start()]}WHERE {clause} AND {_sql_name(column)} = {value} " \
                   f"{sql[where.end():].lstrip()}".rstrip()
    return None


_PICKED = re.compile(r"(?i)\b(?:order\s+by|limit|max|min|group\s+by|count)\b")
_SEVERAL = re.compile(r"(?i)\b(?:each|every|per|all|those|these|them|they|list)\b|\b(?:top|bottom)\s+\d")


def unpicked_extreme(request: str, sql: str) -> str | None:
    """The superlative (its word) a request asks for that the query never picks: "which backup
    ran the longest?" queried ``SELECT ts FROM data`` (every row's, the first of them answered;
    nightly longest-run) or ``SELECT SUM(size) FROM data WHERE …``: no ``ORDER BY``, ``LIMIT``,
    ``MAX``, ``MIN``, ``GROUP BY`` or count. None when the request names no most or least, both,
    or several things ("each", "the top 3")."""
    most, least = _MOST.search(request), _LEAST.search(request)
    if bool(most) == bool(least) or _SEVERAL.search(request) or _PICKED.search(sql):
        return None
    found = most or least
    return found[0].lower() if found else None


_STATUS_CLASS = re.compile(r"\b([1-5])xx\b", re.IGNORECASE)


def status_classes(request: str, sql: str) -> list[str]:
    """The status classes the request names (``5xx``) that the query takes as one status
    (``status = 500``, ``status = 502``) and never as a range: "how many 5xx responses?" was
    counted as the 500s alone, leaving out the 502s and 503s (and as the 502s alone: wide 5xx)."""
    found = []
    for digit in dict.fromkeys(_STATUS_CLASS.findall(request)):
        ranged = re.search(rf"(?i)(?:>=?\s*{digit}\d\d|between\s+{digit}\d\d|like\s+'{digit}%'|"
                           rf"/\s*100\s*=\s*{digit}\b|substr|{digit}xx)", sql)
        if re.search(rf"=\s*'?{digit}\d\d\b", sql) and not ranged:
            found.append(f"{digit}xx")
    return found


_POINTS_BACK = re.compile(
    r"\b(?:of (?:them|those|these)|those|these|they|them|their|it|its)\b|\bthat\s+(?:one\b|\w+'s\b)"
    r"|\b(?:did|does|do|is|was|were|are|put|write|send|e?mail|save|store|of|for|in|to|from|with)\s+that\s+\w",
    re.IGNORECASE)
"""Words by which a follow-up means what the request before it, or its answer, named ("which of
them…", "put that queue's depth in…", "how long did that run take?", "how big was it?": aimed
follow-up-longest-snapshot summed every snapshot's size for the longest one's)."""


def uncompiled(table: Table, sql: str) -> str | None:
    """SQLite's own error for ``sql`` over an empty table of ``table``'s columns (no such column,
    no such table, a syntax error), from compiling it, not running it; None when it compiles."""
    db = sqlite3.connect(":memory:")
    try:
        for name, columns in {"data": table.columns, **{n: c for n, (c, _) in table.nested.items()}}.items():
            names = ", ".join('"{}"'.format(c.replace('"', '""')) for c in columns)
            db.execute(f'CREATE TABLE "{name}" ({names})')
        db.execute("EXPLAIN " + sql.strip().rstrip(";"))
    except sqlite3.Error as exc:
        return str(exc)
    finally:
        db.close()
    return None


_FROM = re.compile(r'(?i)\bfrom\s+"?(\w+)')


def queried_table(table: Table, sql: str) -> Table:
    """The table ``sql`` reads first: ``data``, or one its rows hold (a deployment's
    ``containers``), whose columns and rows the checks below then judge it by."""
    found = _FROM.search(sql)
    if found is None or found.group(1) not in table.nested:
        return table
    columns, rows = table.nested[found.group(1)]
    return Table(table.read, table.suffix, columns, rows, source=table.source, others=table.others)


def query_faults(table: Table, job: PackageJob, sql: str) -> list[str]:
    """What is certainly wrong with a query for the request: SQLite's error for it, a value it
    names left out, one row kept where it asks for every group."""
    if (error := uncompiled(table, grouped(sql) or sql)) is not None:  # (grouped after the checks)
        counted = re.match(r"no such column: ([\w.]+)", error)
        count = (f" (if each row is one of the {counted.group(1)} to count, COUNT(*) counts them)"
                 if counted else "")
        tables = "".join(f"; the table {n}'s: {', '.join(c)}" for n, (c, _) in table.nested.items())
        one = "The one table is data, and its" if not tables else "The tables are data and its lists; data's"
        return [f"The query fails: {error}. {one} columns are {', '.join(table.columns)}{tables}: "
                f"use only those{count}."]
    table = queried_table(table, sql)
    faults = []
    # (a follow-up that points back, "which of them…", means the values the request before it named)
    points_back = bool(job.follows) and bool(_POINTS_BACK.search(job.request))
    named_by = f"{job.request} {job.follows}" if points_back else job.request
    if unused := unused_values(table, named_by, sql):
        named = ", ".join(f"{value!r} (a value of {column})" for value, column in unused)
        faults.append(f"The request names {named}, which the query never uses: filter on it with WHERE "
                      "if the request asks about it.")
    for phrase, column, holding in unused_phrases(table, job.request, sql):
        faults.append(f"The request says {phrase!r}, which {column} holds in {holding} of the "
                      f"{len(table.rows)} rows, and the query never uses it: keep those rows with "
                      f"WHERE {column} LIKE '%{phrase}%' if the request asks about them.")
    for column in unused_columns(table, job.request, sql):
        if yes_no(table, column):
            wanted = asked_truth(column, job.request)
            keep = (f"WHERE {column} = 1 (true) or {column} = 0 (false)" if wanted is None
                    else f"WHERE {column} = {int(wanted)} (the rows where it is {str(wanted).lower()})")
            faults.append(f"The request names {column}, which the query never uses: keep the rows it asks "
                          f"about with {keep}.")
            continue
        others = [c for c in used_numbers(table, sql) if c != column]
        example = (f"100.0 * SUM({others[0]}) / SUM({column})" if others
                   else f"100.0 * SUM(CASE WHEN <condition> THEN {column} ELSE 0 END) / SUM({column})"
                   if re.search(r"(?i)\bcase\s+when\b", sql) else f"SUM(…) / SUM({column})")
        faults.append(f"The request names the column {column}, which the query never uses: compute with it "
                      f"(a percentage of one column's total in another's is {example}, not a count of rows).")
    for column, wanted in flag_polarity(table, job.request, sql):
        value, other = (1, 0) if wanted else (0, 1)
        faults.append(f"The request asks for the rows where {column} is {str(wanted).lower()}, and the query "
                      f"keeps those where it is {str(not wanted).lower()}: WHERE {column} = {value}, not "
                      f"{column} = {other}.")
    if rows_counted_not_repeats(table, job.request, sql):
        faults.append("Each row says in count how many times it was seen: COUNT(*) counts the rows, once "
                      "each; SUM(count) counts the repeats the request asks for.")
    if counted_unasked(job.request, sql) and not names_nothing(table, job.request, sql):  # (told below)
        numbers = [c for c in table.columns if table.types.get(c) in ("INTEGER", "REAL")]
        faults.append("The request asks for no count, and the query selects only COUNT(*): select the value "
                      "it asks for" + (f" (a number column: {', '.join(numbers)})" if numbers else "") + ".")
    if (span := counted_span(table, job.request, sql)) is not None:
        faults.append(span)
    for named in status_classes(job.request, sql):
        low = int(named[0]) * 100
        faults.append(f"{named} is every status from {low} to {low + 99}, not one of them alone: "
                      f"WHERE <status column> BETWEEN {low} AND {low + 99}.")
    for column, text, values in absent_values(table, sql):
        faults.append(f"No row has {column} = {text!r} ({column} holds {_listed(values)}): compare with a "
                      "value the table lists, or leave the condition out if the request names none.")
    for column, pattern, values in unmatched_likes(table, sql):
        faults.append(f"No row has {column} LIKE {pattern!r} ({column} holds {_listed(values)}): leave the "
                      "condition out unless the request asks for values like those.")
    asked = asked_of(job)
    if unasked := [*(f"{column} = {text!r}" for column, text in unasked_values(table, asked, sql)),
                   *(f"{column} LIKE {text!r}" for column, text in unasked_likes(table, asked, sql))]:
        listed = ", ".join(unasked)
        faults.append(f"The request names none of {listed}: leave those conditions out of the query (do not "
                      "negate them), unless the request means them in other words.")
    if (single := conditions_per_row(table, sql)) is not None:
        faults.append(f"Each {single} is on a row of its own, so a share or count per {single} is only 0 or "
                      f"100: to find the {single} values where the condition holds, keep their rows with "
                      f"WHERE <condition> (SELECT {single} FROM data WHERE …), with no GROUP BY.")
    if (grouped_by := shares_for_which(job.request, sql)) is not None:
        faults.append(f"The request asks which {grouped_by} values, and the query lists every {grouped_by} "
                      "with a share or count of the condition: keep only the rows where it holds, "
                      f"SELECT DISTINCT {grouped_by} FROM data WHERE <condition>, with no GROUP BY.")
    if bare := beside_a_total(table, sql):
        named = ", ".join(bare)
        faults.append(f"The query totals the whole table with no GROUP BY, so {named} beside the total is "
                      "any row's, not the one asked for: for the row with the most or least of a column, "
                      f"SELECT {bare[0]} FROM data ORDER BY <column> LIMIT 1 (no SUM); for a total per "
                      f"{bare[0]}, GROUP BY {bare[0]}.")
    unselected = unselected_columns(table, job.request, sql)
    for column in unselected:
        faults.append(f"The request asks for {column}, which the query never uses: select it "
                      f"(SELECT {column} FROM data WHERE …).")
    if names_nothing(table, job.request, sql):
        if extreme := _EXTREME.search(sql):
            column, most = extreme["column"], extreme["fn"].lower() == "max"
            faults.append(f"The request asks which one: select the column that names it beside {column}, "
                          f"from the row with the {'most' if most else 'least'} (SELECT <name column>, "
                          f"{column} FROM data ORDER BY {column} {'DESC' if most else 'ASC'} LIMIT 1), "
                          f"not only the {extreme['fn'].upper()}.")
        else:
            faults.append("The request asks which ones: select the column that names them "
                          "(SELECT <name column> FROM data WHERE …), not only a count or a total.")
    if (shared := shared_names(table, job.request, sql)) is not None:
        selected, naming = shared
        faults.append(f"The request asks which rows, and {', '.join(selected)} is shared by several rows "
                      f"(it does not tell them apart): select what names each row, {' or '.join(naming)} "
                      f"(SELECT {naming[0]} FROM data WHERE …).")
    # (a value only the answer before named is what a follow-up asks back, unless it asks another
    # column: "mail that service's name" selects the service that answer named; data
    # follow-up-busiest, told to select another column, mailed the checkout pages' dates)
    if given := [(column, text) for column, text in selects_its_conditions(sql)
                 if unselected or text.lower() in job.request.lower()]:
        named = ", ".join(f"{column} = {text!r}" for column, text in given)
        others = [c for c in table.columns if c.lower() not in {column.lower() for column, _ in given}]
        faults.append(f"The query selects only what its WHERE sets ({named}): it returns what it was given. "
                      f"Select the column that holds what the request asks for ({', '.join(others)}).")
    if top_group_as_total(job.request, sql):
        faults.append("The request asks for a total over every row and, apart, for the biggest or smallest "
                      "one: with GROUP BY … LIMIT 1 the SUM is that one group's alone. Select both: SELECT "
                      "(SELECT SUM(<column>) FROM data) AS total, <name column> FROM data ORDER BY <column> "
                      "DESC LIMIT 1.")
    if (superlative := unpicked_extreme(job.request, sql)) is not None:
        highest = not _LEAST.search(job.request)
        faults.append(f"The request asks for the {superlative} one, and the query keeps every row it matches:"
                      f" keep only the row with the {'most' if highest else 'least'} of the column it means "
                      f"(SELECT … FROM data ORDER BY <that column> {'DESC' if highest else 'ASC'} LIMIT 1).")
    if (per := ungrouped_per(table, job.request, sql)) is not None:
        faults.append(per_group_fault(table, per))
    if needless_limit(asked, sql):  # (a follow-up's "write its name" leans on "the highest lag")
        faults.append("The request asks for no single most or least: keep every row or group (no LIMIT 1).")
    return faults
