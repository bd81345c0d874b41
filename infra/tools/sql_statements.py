"""What ``sql_query`` refuses before a statement runs: one that plainly writes (by its first
keyword), a SQLite PRAGMA that is not on the read allow-list or sets a value, and a PostgreSQL
function that acts on the server or reads its files.

These checks only give an early, clearer message: sql_query is read-only because the database
enforces it (see :mod:`infra.tools.sql_tools`), not because of how the statement looks. The
exception is SQLite's PRAGMAs, which are not transactional and which ``query_only`` does not
stop: sql_query runs only PRAGMAs that read (an allow-list, no ``= value`` and no ``(value)`` on
those that would take one as a setting, also after EXPLAIN, which applies some PRAGMAs while it
prepares them).
"""

from __future__ import annotations

import re
from collections.abc import Collection

from agent.errors import FileWhereTableGoes, ToolError

_READ_KEYWORDS = frozenset({"select", "with", "values", "explain", "show", "table", "pragma"})
_WRITE_REFUSED = ("sql_query only reads data; '{}' statements must go through sql_execute, which "
                  "asks for approval")
_LEADING_NOISE = re.compile(r"^(?:\s+|--[^\n]*\n?|/\*.*?\*/|\()*", re.DOTALL)
_EXPLAIN_WORDS = ("explain", "query", "plan")
_PRAGMA = re.compile(
    r"pragma\s+(?:\w+\s*\.\s*)?(?P<name>\w+)\s*(?:(?P<set>=.*)|\(\s*(?P<arg>[^()=;]*?)\s*\))?"
    r"\s*;?\s*",
    re.IGNORECASE | re.DOTALL,
)
_PRAGMAS_ON = frozenset({
    "table_info", "table_xinfo", "table_list", "index_list", "index_info", "index_xinfo",
    "foreign_key_list", "foreign_key_check", "integrity_check", "quick_check",
})
"""SQLite PRAGMAs sql_query runs with an argument: the table or index they describe."""
_PRAGMAS_READ = frozenset({
    "database_list", "collation_list", "function_list", "module_list", "pragma_list",
    "compile_options", "user_version", "schema_version", "application_id", "data_version",
    "encoding", "page_count", "page_size", "freelist_count", "foreign_keys", "journal_mode",
}) | _PRAGMAS_ON
"""SQLite PRAGMAs sql_query runs without an argument: each only reads a value."""
_POSTGRES_ACTIONS = re.compile(
    r"\b(pg_(?:terminate|cancel)_backend|pg_reload_conf|pg_rotate_logfile|pg_promote|"
    r"pg_switch_wal|pg_create_restore_point|pg_(?:create|drop)_\w*replication_slot|"
    r"pg_(?:wal_replay|backup)_\w+|pg_notify|pg_log_backend_memory_contexts|"
    r"pg_read_(?:binary_)?file|pg_ls_\w+|pg_stat_(?:file|reset\w*)|lo_\w+|dblink\w*|"
    r"pg_import_system_collations|pg_file_\w+)\b",
    re.IGNORECASE,
)
"""PostgreSQL functions a read-only transaction still lets run, though they act on the server
(end sessions, reload its configuration, send notifications) or read its files: sql_query
refuses to call them; sql_execute, which asks for approval, may."""


_STRING = re.compile(r"'(?:[^']|'')*'")
_DATA_FILES = frozenset({"csv", "tsv", "json", "jsonl", "ndjson", "yaml", "yml", "toml", "txt", "md",
                         "parquet"})
"""Extensions that make a dotted name a file's (``audit.log``, ``app.env`` may be schema.table)."""
_TABLE = re.compile(r"\b(?:from|join|into|update|table)\s+[`\"\[]?([\w.~/-]+)", re.IGNORECASE)


def file_as_table(sql: str) -> FileWhereTableGoes | None:
    """Why ``sql`` is refused for naming a workspace file where a table goes (the file's path
    with it), or None.

    "How many builds in ci/builds.csv failed?" was planned as ``SELECT count(*) FROM
    ci/builds.csv`` (and, as a follow-up, ``FROM ci/builds``): no database has such a table,
    and the statement failed only when it ran. A name with a path's slash, or ending in a data
    file's extension (csv, json, yaml…: not ``log`` or ``env``, which a schema may be called), is
    refused when the plan is checked, with what reads a file instead; comments and quoted
    values are not read."""
    for match in _TABLE.finditer(_COMMENT.sub(" ", _STRING.sub("''", sql))):
        name = match.group(1)
        if "/" in name or name.rpartition(".")[2].lower() in _DATA_FILES:
            return FileWhereTableGoes(
                f"'{name}' is a workspace file's path, not a table of the database: read the file "
                "with read_file and compute from its content in a package (the database's tables "
                "are named in this tool's description)", name)
    return None


_NAMED = re.compile(r"(\b\w+\s+)?\b(from|join|into|update)\s+(?:(?:lateral|only)\s+)?"
                    r"((?:[`\"\[]?[\w$]+[`\"\]]?\.)*[`\"\[]?[\w$]+[`\"\]]?)(\()?", re.IGNORECASE)
_NOT_A_TABLE_BEFORE = frozenset({"do", "distinct", "key", "for", "share"})
"""``ON CONFLICT … DO UPDATE SET``, ``IS DISTINCT FROM b``, ``FOR KEY UPDATE``: no table follows."""
_CTE = re.compile(r"(?:\bwith\s+(?:recursive\s+)?|,\s*)([\w$]+)\s*(?:\([^()]*\)\s*)?as\s*\(", re.IGNORECASE)
_COMMENT = re.compile(r"--[^\n]*|/\*.*?\*/", re.DOTALL)
_SYSTEM = ("sqlite_", "pg_", "information_schema")
SYSTEM_TABLES = {"sqlite": ("sqlite_",), "postgresql": ("pg_", "information_schema"),
                 "mysql": ("information_schema", "mysql", "performance_schema", "sys"),
                 "mariadb": ("information_schema", "mysql", "performance_schema", "sys")}
"""Each dialect's own catalogues: ``pg_stat_activity`` is PostgreSQL's, and no table of SQLite's
(evening deadlocks-per-table queried it of SQLite, and the query only failed when it ran)."""


def unknown_tables(sql: str, tables: Collection[str], system: tuple[str, ...] = _SYSTEM) -> list[str]:
    """The tables ``sql`` reads or writes (after FROM, JOIN, INTO, UPDATE) that are not among
    ``tables`` (compared without case or schema), its own WITH names, the system catalogues
    (``system``: the names they start with, the database's own) and table functions
    (``json_each(…)``) aside; none for a statement that creates a table."""
    text = _COMMENT.sub(" ", _STRING.sub("''", sql))
    if re.match(r"\s*create\b", text, re.IGNORECASE):
        return []
    own = {name.lower() for name in _CTE.findall(text)}
    known = {table.lower() for table in tables}
    unknown = []
    for match in _NAMED.finditer(text):
        before, keyword, name, call = match.groups()
        if (call and keyword.lower() in ("from", "join")) or _in_call(text, match.start(2)) \
                or (before or "").strip().lower() in _NOT_A_TABLE_BEFORE \
                or name.lower() in ("lateral", "only"):
            continue  # a table function; EXTRACT(YEAR FROM deployed_on), TRIM(… FROM name)
        parts = [part.strip('`"[]') for part in name.split(".")]
        if parts[0].lower().startswith(system) or parts[-1].lower().startswith(system):
            continue
        if parts[-1].lower() not in known | own and name not in unknown:
            unknown.append(".".join(parts))
    return unknown


def _in_call(text: str, at: int) -> bool:
    """Whether position ``at`` of ``text`` is inside a function's parentheses, not a subquery's."""
    opened: list[int] = []
    for index, char in enumerate(text[:at]):
        if char == "(":
            opened.append(index)
        elif char == ")" and opened:
            opened.pop()
    return bool(opened) and not re.match(r"\s*(?:select|with)\b", text[opened[-1] + 1:], re.IGNORECASE)


def write_refusal(sql: str) -> str | None:
    """Why sql_query refuses ``sql`` by its first keyword (not one that reads), or None."""
    first = _first_keyword(sql)
    if first not in _READ_KEYWORDS:
        return _WRITE_REFUSED.format(first.upper() or sql[:20])
    return None


def check_query(sql: str, dialect: str) -> None:
    """Refuse what sql_query must not run on ``dialect``, before it runs."""
    if (refusal := write_refusal(sql)) is not None:
        raise ToolError(refusal)
    if dialect == "sqlite":
        check_sqlite_pragma(sql)
    elif (action := _POSTGRES_ACTIONS.search(sql)) is not None:
        raise ToolError(
            f"sql_query only reads data; {action.group(1).lower()}() acts on the server or "
            "reads its files, so it must go through sql_execute, which asks for approval")


def _first_keyword(sql: str) -> str:
    rest = _LEADING_NOISE.sub("", sql, count=1)
    match = re.match(r"[A-Za-z]+", rest)
    return match.group(0).lower() if match else ""


def check_sqlite_pragma(sql: str) -> None:
    """Refuse a PRAGMA (also after EXPLAIN) that is not on the read allow-list or sets a value."""
    rest = _LEADING_NOISE.sub("", sql, count=1)
    for word in _EXPLAIN_WORDS:  # EXPLAIN [QUERY PLAN], comments allowed in between
        if _first_keyword(rest) != word:
            break
        rest = _LEADING_NOISE.sub("", rest[len(word):], count=1)
    if _first_keyword(rest) != "pragma":
        return
    shown = " ".join(rest.split())[:60]
    allowed = ", ".join(sorted(_PRAGMAS_READ))
    match = _PRAGMA.fullmatch(rest)
    if match is None:
        raise ToolError(
            f"sql_query cannot run '{shown}': write a PRAGMA as 'PRAGMA name' or "
            "'PRAGMA name(table)', with no comments inside")
    name = match.group("name").lower()
    if name not in _PRAGMAS_READ:
        raise ToolError(
            f"sql_query runs only PRAGMAs that read ({allowed}); '{name}' is not one of them")
    if match.group("set") or (match.group("arg") is not None and name not in _PRAGMAS_ON):
        raise ToolError(
            f"sql_query only reads PRAGMAs; '{shown}' sets {name}: a change goes through "
            "sql_execute, which asks for approval")
