"""A package over one table computed by one SQL query the model writes, not by Python it writes.

On data it had not been tuned on (bench.quality ``--set data``), the 1.5B model's package code
summed every row where the request named one team's ("the payments team": the goal it wrote
said only "sum the cost_usd column"), averaged all pages where it asked for the sev1 ones,
counted a ``pages`` column the CSV does not have, and wrote a group-by that does not parse,
three times. The same model writes ``SELECT SUM(cost_usd) FROM data WHERE team = 'payments'``
well. So when a package's inputs hold exactly one table (:mod:`sandbox.table_rows`), its first
attempts run a query instead of the planner's code: the model is shown the table's columns (with
their types and values) and the request the step is part of, and answers with one SELECT over
``data``; dagbot compiles it into the package's code (the table's reading, the query, the result
shaped for an answer), which runs in the sandbox like any package. A query that fails, or finds
nothing, is written once more, told why; then the planner's code has its turn, healed by
reflexion as before.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from agent.plan.uncomputed import asked_values
from agent.ports.sandbox import PackageJob
from agent.tools.files import DELIMITERS, delimiter_of
from sandbox import table_rows
from sandbox.named_values import named_value_rule
from sandbox.request_parts import part_about
from sandbox.table_rows import column_number, column_types, column_units, nested_tables, number
from sandbox.table_rows import table_rows as rows_of

NAME = "table-query"
"""How the attempts whose code is a compiled query are recorded (``mended_by``)."""
_SQL_FENCE = re.compile(r"```[ \t]*(?:sql|sqlite)?[^\n]*\n(.*?)```", re.DOTALL | re.IGNORECASE)
_SHOWN_VALUES = 8
_SHOWN_ROWS = 3
_SHOWN_NUMBERS = 4
_TEXT_KEYS = ("content", "text")


@dataclass(frozen=True)
class Table:
    """The one table a package's inputs hold."""

    read: str
    """The Python expression that reads its value from ``inputs`` (``inputs['costs']['content']``)."""
    suffix: str
    columns: list[str]
    rows: list[dict[str, Any]]
    source: str = ""
    """The path (or URL) of the read that holds it ("" for another step's list)."""
    others: tuple[str, ...] = ()
    """The paths (or URLs) of the inputs' other reads, which are no table (a YAML manifest beside
    a JSON inventory): the request's values from those are not this table's to compute."""
    nested: dict[str, tuple[list[str], list[dict[str, Any]]]] = field(default_factory=dict)
    """The tables its rows hold in lists of objects (:func:`sandbox.table_rows.nested_tables`)."""
    delimiter: str | None = None
    """What a CSV's fields are split by, when not its suffix's (``;``: :func:`delimiter_of`)."""
    types: dict[str, str] = field(init=False)
    """Each column's SQLite type (:func:`sandbox.table_rows.column_types`), read once."""
    units: dict[str, str] = field(init=False)
    """The unit each number column written in several is converted to
    (:func:`sandbox.table_rows.column_units`)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "types", column_types(self.columns, self.rows))
        object.__setattr__(self, "units", column_units(self.columns, self.rows))


def find_table(inputs: dict[str, Any]) -> Table | None:
    """The table the inputs hold, when they hold exactly one (a CSV or JSON file read, a logfmt
    log, a list of objects another step returned; a file two steps read is one); None otherwise."""
    found: list[Table] = []
    untabled: list[str] = []
    for key, value in inputs.items():
        for read, held, suffix in _candidates(f"inputs[{key!r}]", value):
            delimiter = _delimiter(held, suffix)
            table = rows_of(held, suffix, delimiter)
            if table is not None:
                again = any(t.source and t.source == _source(value) and t.rows == table[1] for t in found)
                if not again:  # (the same file read twice, by two steps, is one table: aimed day-and-acme)
                    found.append(Table(read, suffix, *table, source=_source(value),
                                       nested=nested_tables(held, suffix), delimiter=delimiter))
                break
        else:
            if _source(value):
                untabled.append(_source(value))
    if len(found) != 1:
        return None
    others = tuple(dict.fromkeys(o for o in untabled if o != found[0].source))
    return dataclasses.replace(found[0], others=others) if others else found[0]


def _delimiter(held: Any, suffix: str) -> str | None:
    """A CSV's delimiter, when it is not its suffix's (None: the suffix's, or no CSV)."""
    if suffix not in DELIMITERS or not isinstance(held, str):
        return None
    found = delimiter_of(held, suffix)
    return None if found == DELIMITERS[suffix] else found


def _source(value: Any) -> str:
    """The path or URL of a read's result (of the one read of a fan-out); "" for anything else."""
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if not _a_read(value):
        return ""
    return str(value.get("path") or value.get("url"))


def _a_read(item: Any) -> bool:
    """A read's result (read_file's ``path`` and ``content``, http_get's ``url`` and ``text``)."""
    return isinstance(item, dict) and any(isinstance(item.get(k), str) for k in _TEXT_KEYS) and (
        isinstance(item.get("path"), str) or isinstance(item.get("url"), str))


def _candidates(read: str, value: Any) -> list[tuple[str, Any, str]]:
    if isinstance(value, list) and value and all(_a_read(item) for item in value):
        # reads fanned out (``"each": [{"path": …}]``): one is that read's table, several are no one table
        return _candidates(f"{read}[0]", value[0]) if len(value) == 1 else []
    if isinstance(value, list):
        return [(read, value, "")]
    if not isinstance(value, dict):
        return []
    suffix = PurePosixPath(str(value.get("path") or "")).suffix.lower()
    out = [(f"{read}[{k!r}]", value[k], suffix) for k in _TEXT_KEYS if isinstance(value.get(k), str)]
    if isinstance(value.get("json"), (list, dict)):
        out.append((f"json.dumps({read}['json'])", json.dumps(value["json"]), ""))
    return out


def describe(table: Table) -> str:
    """The table as the model is shown it: each column, its type and some of its values (a
    number column's as the query sees them: ``312`` where the data says ``312s``), and the
    first rows, as the query sees them."""
    lines = [f"Table `data`: {len(table.rows)} rows, columns:", *_columns(table)]
    lines.append("First rows, as the query sees them:")
    lines += [json.dumps({c: (column_number(v, table.units.get(c, "")) if table.types[c] != "TEXT"
                              and v not in (None, "") else v)
                          for c, v in row.items()}, ensure_ascii=False, default=str)
              for row in table.rows[:_SHOWN_ROWS]]
    for name, (columns, rows) in table.nested.items():
        inner = Table(table.read, table.suffix, columns, rows)
        parent = [c for c in columns if c.split("_", 1)[-1] in table.columns and c not in table.columns][:3]
        lines.append(f"Table `{name}`: {len(rows)} rows, one for each item of the `{name}` list a row of "
                     f"`data` holds, that row's fields beside ({', '.join(parent)}…); columns:")
        lines += _columns(inner)
    return "\n".join(lines)


_KEYWORDS = frozenset({
    "for", "order", "group", "select", "from", "where", "table", "index", "limit", "default", "check",
    "values", "case", "when", "end", "to", "in", "is", "as", "by", "on", "all", "and", "or", "not", "null",
    "primary", "references", "unique", "desc", "asc", "between", "like", "exists", "join", "union",
    "transaction", "view", "into", "set", "update", "delete", "insert", "drop", "create", "having",
    "offset", "key"})
"""SQL's words a column may be named (an alert rule's ``for``): shown quoted, as a query must write them."""


def _columns(table: Table) -> list[str]:
    """A line for each column: its name, its type and some of its values."""
    types = table.types
    lines = []
    for shown, column in ((f'"{c}"' if c.lower() in _KEYWORDS else c, c) for c in table.columns):
        written = list(dict.fromkeys(str(r[column]) for r in table.rows if r.get(column) not in (None, "")))
        if not written:
            lines.append(f"- {shown} (empty)")
        elif types[column] == "TEXT":
            more = ", …" if len(written) > _SHOWN_VALUES else ""
            values = ", ".join(repr(_cut(v)) for v in written[:_SHOWN_VALUES])
            lines.append(f"- {shown} (text): {values}{more}")
        else:
            lines.append(f"- {shown} {_number_column(table, column, written)}")
    return lines


def _number_column(table: Table, column: str, written: list[str]) -> str:
    """``(number): 312, 14, … (written '312s': the unit is gone)``; a JSON boolean's 1 and 0."""
    if all(isinstance(r.get(column), bool) for r in table.rows if r.get(column) is not None):
        return "(boolean: 1 is true, 0 is false)"
    unit = table.units.get(column, "")
    shown = ", ".join(f"{column_number(v, unit):.4g}" if unit else str(number(v))
                      for v in written[:_SHOWN_NUMBERS])
    more = ", …" if len(written) > _SHOWN_NUMBERS else ""
    if unit:
        others = [v for v in written if not re.fullmatch(rf"\s*-?[\d,.]+\s*{re.escape(unit)}\s*", v)][:2]
        written_as = ", ".join(map(repr, others))
        return f"(number, in {unit}): {shown}{more} (written {written_as}…: converted to {unit})"
    units = "" if re.fullmatch(r"-?[\d.]+", written[0]) else f" (written {written[0]!r}: the unit is gone)"
    return f"(number): {shown}{more}{units}"


def _cut(value: str, limit: int = 40) -> str:
    return value if len(value) <= limit else value[:limit] + "…"


def extract_sql(reply: str) -> str | None:
    """The one SELECT a reply holds (in a fenced block or bare); None when there is none."""
    blocks = _SQL_FENCE.findall(reply)
    text = (blocks[0] if blocks else reply).strip().rstrip(";").strip()
    if not re.match(r"(?is)(select|with)\b", text) or ";" in text:
        return None
    return text


_HELPERS = inspect.getsource(table_rows).replace("from __future__ import annotations\n", "")
"""The source of :mod:`sandbox.table_rows`, read once at import: read at each query, it failed
("OSError: could not get source code") once the file had gone from the disk under a running
process, as a deploy may leave it."""


def query_code(table: Table, sql: str, final: bool = False) -> str:
    """The package code that reads the table from ``inputs`` and runs ``sql`` over it, the
    helpers of :mod:`sandbox.table_rows` carried along; ``final`` (no package goes on from its
    value): each number of a column written with a unit carries it."""
    return (f"{_HELPERS}\n\n# the query dagbot had the model write for this step\n"
            f"SQL = {sql!r}\n"
            f"columns, rows = table_rows({table.read}, {table.suffix!r}"
            f"{f', {table.delimiter!r}' if table.delimiter else ''})\n"
            f"result = query_rows(columns, rows, SQL, nested_tables({table.read}, {table.suffix!r})"
            f"{', with_units=True' if final else ''})\n")


def query_task(job: PackageJob, table: Table | None = None) -> str:
    """What the query is for: the request and the step's goal (the goal may have lost a filter,
    "sum the cost_usd column" for the payments team's total: :func:`sandbox.query_checks.unused_values`
    finds that; the request may be a follow-up whose value the goal names, "email that
    service's name"); the goal alone when there is no request. When the step also reads files
    that are no table, only the table's part is the query's: "how much memory may
    deploy/api.yaml use, and email the hostname with the least free disk in
    inventory/servers.json" was queried as ``SUM(ram_gb) AS total, hostname`` over the
    inventory, and the answer gave the memory as 16 (aimed memory-and-mail-host). When each of
    the request's questions names its own file, the query is shown only its file's
    (:mod:`sandbox.request_parts`)."""
    if not job.request:
        return f"The step's goal: {job.goal}"
    follows = f" (a follow-up to: {job.follows})" if job.follows else ""
    if table is not None and (part := part_about(job.request, table.source, table.others)):
        # (the request's other questions are on the other files: shown them, the query answered them too)
        return (f"The step's goal: {job.goal.replace(job.request, part)}\nThe request it answers: "
                f"{part}{follows}\nCompute the value the request needs from this table "
                f"({table.source}).")
    task = (f"The step's goal: {job.goal}\nThe request it answers: {job.request}{follows}\n"
            "Compute the value the request needs from this table.")
    if table is not None and table.others and table.source:
        task += (f"\nThe table holds {table.source} alone. What the request asks of "
                 f"{', '.join(table.others)} is answered from that read, not here: compute only what it "
                 f"asks of {table.source}.")
    return task


SHARE_RULE = "- A share or a percentage: 100.0 * SUM(CASE WHEN <condition> THEN 1 ELSE 0 END) / COUNT(*).\n"


def share_rule(job: PackageJob, table: Table | None = None) -> str:
    """The query prompt's rule for a share, only where the request or the goal asks for one:
    shown to every query, it was copied where none was asked ("And how much of that is the
    search team's?" queried ``SUM(CASE WHEN team = 'search' THEN cost_usd ELSE 0 END) /
    COUNT(*) AS share``; data follow-up-team-share), and answers stated "a share of 7600%".
    Over a table of named values (:mod:`sandbox.named_values`), its rules instead: a share there
    is one value over another, not a share of rows."""
    share = "share" in asked_values(f"{job.request or ''} {job.goal}")
    if table is not None and (named := named_value_rule(table, share)):
        return named
    return SHARE_RULE if share else ""


TWO_VALUES_RULE = ("- Two values asked at once, each with its own condition: one column each, "
                   "SUM(CASE WHEN <its condition> THEN <column> ELSE 0 END) AS <name>, "
                   "not one WHERE for both.\n")
_TWO_ASKS = re.compile(r"\bhow (?:much|many)\b.+?(?:,|\band)\s+how (?:much|many)\b",
                       re.IGNORECASE | re.DOTALL)
"""Two quantities asked: "which service is degraded, and who owns the open incident?" asks two
names, and shown the rule, the query counted both (tuning status-and-incidents)."""


def two_values_rule(job: PackageJob, table: Table | None = None) -> str:
    """The query prompt's rule for two values with conditions of their own, only where the
    request asks two quantities ("how much was invoiced on 2026-11-05, and how much did Acme pay
    in November?": a query with one WHERE for both gives neither; aimed day-and-acme), of the
    table's own file when each question names its file (:mod:`sandbox.request_parts`)."""
    asked = job.request or ""
    if table is not None and (part := part_about(asked, table.source, table.others)):
        asked = part
    return TWO_VALUES_RULE if _TWO_ASKS.search(asked) else ""
