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

import inspect
import json
import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from sandbox import table_rows
from sandbox.table_rows import column_types, number
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


def find_table(inputs: dict[str, Any]) -> Table | None:
    """The table the inputs hold, when they hold exactly one (a CSV or JSON file read, a logfmt
    log, a list of objects another step returned); None otherwise."""
    found: list[Table] = []
    for key, value in inputs.items():
        for read, held, suffix in _candidates(f"inputs[{key!r}]", value):
            table = rows_of(held, suffix)
            if table is not None:
                found.append(Table(read, suffix, *table))
                break
    return found[0] if len(found) == 1 else None


def _candidates(read: str, value: Any) -> list[tuple[str, Any, str]]:
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
    types = column_types(table.columns, table.rows)
    lines = [f"Table `data`: {len(table.rows)} rows, columns:"]
    for column in table.columns:
        written = list(dict.fromkeys(str(r[column]) for r in table.rows if r.get(column) not in (None, "")))
        if types[column] == "TEXT":
            more = ", …" if len(written) > _SHOWN_VALUES else ""
            shown = ", ".join(repr(_cut(v)) for v in written[:_SHOWN_VALUES])
            lines.append(f"- {column} (text): {shown}{more}")
        else:
            lines.append(f"- {column} {_number_column(table, column, written)}")
    lines.append("First rows, as the query sees them:")
    lines += [json.dumps({c: (number(v) if types[c] != "TEXT" and v not in (None, "") else v)
                          for c, v in row.items()}, ensure_ascii=False, default=str)
              for row in table.rows[:_SHOWN_ROWS]]
    return "\n".join(lines)


def _number_column(table: Table, column: str, written: list[str]) -> str:
    """``(number): 312, 14, … (written '312s': the unit is gone)``; a JSON boolean's 1 and 0."""
    if all(isinstance(r.get(column), bool) for r in table.rows if r.get(column) is not None):
        return "(boolean: 1 is true, 0 is false)"
    shown = ", ".join(str(number(v)) for v in written[:_SHOWN_NUMBERS])
    more = ", …" if len(written) > _SHOWN_NUMBERS else ""
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


def unused_values(table: Table, request: str, sql: str) -> list[tuple[str, str]]:
    """The values of the table's text columns the request names (as whole words, in any case)
    that the query never mentions, each with its column: the payments team's total asked for,
    ``SELECT SUM(cost_usd) FROM data`` written. Values shorter than three characters, and words
    of a path (``finance/costs.csv``), are not looked for."""
    types = column_types(table.columns, table.rows)
    asked, written = request.lower(), sql.lower()
    found: dict[str, str] = {}
    for column in (c for c in table.columns if types[c] == "TEXT"):
        for value in {str(r[column]).strip() for r in table.rows if r.get(column) not in (None, "")}:
            text = value.lower()
            if (len(text) >= 3 and text not in found and text not in written
                    and re.search(rf"(?<![\w/-]){re.escape(text)}(?![\w-]|[/.]\w)", asked)):
                found[text] = column
    return [(value, column) for value, column in found.items()]


_COLUMN = r"""(?<![\w.])("[^"]+"|`[^`]+`|[A-Za-z_]\w*)"""
_COMPARED = re.compile(_COLUMN + r"""\s*(?:==?|!=|<>)\s*'((?:[^']|'')*)'""")
_IN_LIST = re.compile(_COLUMN + r"""\s+(?:NOT\s+)?IN\s*\(((?:\s*'(?:[^']|'')*'\s*,?)+)\)""", re.IGNORECASE)
_LITERAL = re.compile(r"'((?:[^']|'')*)'")


def compared_texts(table: Table, sql: str) -> list[tuple[str, str]]:
    """Each text column the query compares with a text (``=``, ``!=``, ``IN (…)``; not
    ``LIKE``, not another column), with that text."""
    types = column_types(table.columns, table.rows)
    listed = [(name, text) for name, values in _IN_LIST.findall(sql) for text in _LITERAL.findall(values)]
    pairs = [*_COMPARED.findall(sql), *listed]
    return [(name.strip('"`'), literal.replace("''", "'")) for name, literal in pairs
            if types.get(name.strip('"`')) == "TEXT"]


def absent_values(table: Table, sql: str) -> list[tuple[str, str, list[str]]]:
    """The texts the query compares a text column with (``service = 'finance/costs.csv'``)
    that no row of that column holds, each with the column and the values it does hold."""
    found = []
    for column, text in compared_texts(table, sql):
        values = list(dict.fromkeys(str(r[column]) for r in table.rows if r.get(column) not in (None, "")))
        if text not in values:
            found.append((column, text, values))
    return found


def unasked_values(table: Table, asked: str, sql: str) -> list[tuple[str, str]]:
    """The values (that rows hold) the query compares with and ``asked`` (the request, the one
    before it, the step's goal) never names: ``AND service = 'search' AND date IN (…)`` added
    to the sev1 pages' average, copied from the rows the model was shown."""
    named = asked.lower()
    held = {column: {str(r[column]) for r in table.rows} for column in table.columns}
    return list(dict.fromkeys((column, text) for column, text in compared_texts(table, sql)
                              if text in held.get(column, set()) and text.lower() not in named))


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


def grouped(sql: str) -> str | None:
    """``sql`` with the ``GROUP BY`` it left out, when it orders by an aggregate and has none
    (``SELECT team FROM data ORDER BY SUM(cost_usd) DESC LIMIT 1``, which SQLite refuses as a
    misuse of an aggregate): grouped by the plain columns it selects. None when it has a GROUP
    BY, no aggregate in its ORDER BY, or selects no plain column."""
    found = _ORDERED.match(sql)
    if found is None or re.search(r"(?i)\bgroup\s+by\b", sql) or not _AGGREGATE.search(found["order"]):
        return None
    bare = [m.group(1) for item in _top_level_items(found["columns"]) if (m := _BARE.match(item))]
    if not bare:
        return None
    where = found["rest"].rstrip()
    return f"SELECT {found['columns']} FROM data{where} GROUP BY {', '.join(bare)} {found['order']}"


def _top_level_items(columns: str) -> list[str]:
    """The items of a select list, split at the commas outside parentheses."""
    items, depth, start = [], 0, 0
    for i, ch in enumerate(columns):
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            items.append(columns[start:i])
            start = i + 1
    return [*items, columns[start:]]


def query_code(table: Table, sql: str) -> str:
    """The package code that reads the table from ``inputs`` and runs ``sql`` over it, the
    helpers of :mod:`sandbox.table_rows` carried along."""
    helpers = inspect.getsource(table_rows).replace("from __future__ import annotations\n", "")
    return (f"{helpers}\n\n# the query dagbot had the model write for this step\n"
            f"SQL = {sql!r}\n"
            f"columns, rows = table_rows({table.read}, {table.suffix!r})\n"
            "result = query_rows(columns, rows, SQL)\n")
