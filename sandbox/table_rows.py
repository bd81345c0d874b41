"""Rows of a table held in a package's input, and one SQLite query over them.

Self-contained on purpose (the standard library only, nothing of dagbot): dagbot reads these
functions here, to find the table and show the model its columns, and the query package's code
(:mod:`sandbox.table_query`) carries their source into the sandbox, where the same functions
read the same input again and run the query. What is shown and what is computed cannot differ.

A table is a CSV or TSV text, JSON or YAML records (a list of objects, or the one list of objects
an object holds, or objects keyed by their names, :func:`_keyed_records`, or JSON Lines; a
nested object's fields are columns, ``labels_severity``, and a list of objects each row holds is
a table of its own beside ``data``: :func:`nested_tables`), a
web server's access log (:func:`_access_log`), nginx's error log (:func:`_error_log`), a
Terraform plan's resources (:func:`_terraform_plan`), a column of durations written as clocks
(:func:`_clock_durations`), lines of
``key=value`` fields (a logfmt log: ``2026-11-20T02:00:03Z job=backup status=ok
duration=312s``), a log whose every line opens with a time and goes on in fields separated by
spaces (``2026-11-24T10:00:01Z GET /api/orders 200 34ms``: its columns named by what they hold,
:func:`_spaced_log`), or a list of objects another step returned. A column whose every
value is a number, with a unit or a currency sign around it (``312s``, ``$1,240.50``, ``85%``),
holds that number; JSON's true and false are 1 and 0. A Markdown file's list items are rows
too (:func:`_markdown_items`): "mail the owners of its follow-ups" is ``SELECT name FROM data
WHERE section = 'Follow-ups'``, which the 1.5B model writes well, where the Python it wrote for
it opened the file by its path and left the parsing as placeholders (unseen
mail-follow-up-owners).
"""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
import xml.etree.ElementTree as ElementTree
from collections import Counter
from datetime import datetime
from typing import Any

_NUMBER = re.compile(r"\s*[$€£]?\s*(-?(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d+)?)\s*(?:%|[A-Za-z]{1,3})?"
                     r"(?:\s+\([^()]*\))?\s*")
"""A number with a unit or a currency sign around it, and a note in brackets after it
(``2 (3h ago)``: kubectl's restarts)."""
_FIELD = re.compile(r'(\w[\w.-]*)=("[^"]*"|\S*)')
_QUOTED_FIELD_OR_WORD = re.compile(r'\w[\w.-]*="[^"]*"|\S+')
_LEADING_TIME = re.compile(r"\[?(?P<time>\d{4}-\d\d-\d\d[T ]?[\d:.]*Z?)\]?")
"""A line's opening time, bracketed or not (``2026-11-27T01:00:03Z``, ``[2026-11-27 01:00:03]``)."""
_MAX_ROWS = 100_000


def table_rows(value: Any, suffix: str = "", delimiter: str | None = None
               ) -> tuple[list[str], list[dict[str, Any]]] | None:
    """The columns and rows of the table ``value`` holds, its values as they are written (text
    for CSV and logs), but for a column of yes and no words, which holds true and false as JSON's
    do (:func:`_flags`); None when it holds no table. ``suffix``: the file's, when it came from one
    (``.csv``, ``.tsv``); ``delimiter``: what a CSV's fields are split by, when not its suffix's
    (:func:`agent.tools.files.delimiter_of` finds it: this module imports nothing of dagbot's, as
    its source runs in the sandbox)."""
    found = _written_rows(value, suffix, delimiter)
    return _stamp_durations(*_stamp_flags(*_flags(*_clock_durations(*found)))) if found is not None else None


FLAG_WORDS = ({"yes": True, "no": False}, {"true": True, "false": False})
"""The words a CSV or a log writes a yes/no column's values with (:func:`_flags`)."""


def _flags(columns: list[str], rows: list[dict[str, Any]]) -> tuple[list[str], list[dict[str, Any]]]:
    """The rows with each column whose every value is ``yes`` or ``no`` (or ``true`` or ``false``,
    any case) holding true and false: a CSV's ``paid`` of yes and no is a yes/no column, which
    "unpaid" asks for the false rows of (morning outstanding-total: told the request named no
    ``paid = 'no'``, the rewrite dropped the condition)."""
    for column in columns:
        written = {str(r[column]).strip().lower() for r in rows if isinstance(r.get(column), str)
                   and r[column].strip()}
        words = next((w for w in FLAG_WORDS if written and written <= w.keys()), None)
        if words is None or any(r.get(column) is not None and not isinstance(r[column], str) for r in rows):
            continue
        for row in rows:
            if isinstance(row.get(column), str):
                row[column] = words[row[column].strip().lower()] if row[column].strip() else None
    return columns, rows


_DURATION_NAME = re.compile(r"(?i)(?:^|_)(?:time_to|duration|elapsed|took|runtime|run_time|downtime|uptime"
                            r"|mtt[a-z]|tt[a-z]|wait_time|waited)(?:_|$)")
"""A column named for how long something took (``time_to_resolve``, ``duration``, ``mttr``)."""
_CLOCK = re.compile(r"\s*(\d+):([0-5]\d):([0-5]\d)\s*")


def _clock_durations(columns: list[str], rows: list[dict[str, Any]]
                     ) -> tuple[list[str], list[dict[str, Any]]]:
    """The rows with each column named for how long something took (:data:`_DURATION_NAME`) whose
    every value is written as a clock (``00:47:12``, ``125:03:10``) holding it as a duration
    (``47m12s``, ``125h03m10s``), which a query sums and orders by in seconds. Read as text,
    "add up how long the checkout pages took to resolve" summed the hours alone (SQLite's 0, 2
    and 1 of ``00:47:12``, ``02:05:40``, ``01:12:20``: 3), and Python's ``float('00:47:12')``
    failed (monday mail-checkout-resolve). A time of day (``started 18:21:05``) is no duration,
    and keeps its clock."""
    for column in columns:
        values = [r.get(column) for r in rows]
        written = [v for v in values if isinstance(v, str) and v.strip()]
        if not _DURATION_NAME.search(column) or not written or len(written) != len(
                [v for v in values if v not in (None, "")]) or not all(_CLOCK.fullmatch(v) for v in written):
            continue
        for row in rows:
            if isinstance(clock := row.get(column), str) and (found := _CLOCK.fullmatch(clock)):
                hours, minutes, seconds = found.groups()
                row[column] = (f"{int(hours)}h{minutes}m{seconds}s" if int(hours)
                               else f"{int(minutes)}m{seconds}s")
    return columns, rows


_STAMPED = re.compile(r"(?:[A-Za-z]+_)?(?P<stem>[A-Za-z][a-z]{2,})[_ ](?:on|at|date|time|ts)", re.IGNORECASE)
"""A column named for when something happened (``paid_on``, ``resolved_at``, a run's
``run_started_at``): its stem names the yes/no fact it records (:func:`_stamp_flags`)."""
_DATED = re.compile(r"\d{4}-\d\d-\d\d")


def _stamp_flags(columns: list[str], rows: list[dict[str, Any]]) -> tuple[list[str], list[dict[str, Any]]]:
    """The rows with a yes/no column beside each column that dates an event some rows have had
    and others not (``paid_on`` null or a date): ``paid``, true where it holds a date, named by
    its stem, unless a column has that name. "Still unpaid" then asks for ``paid`` false as it
    does of a CSV's yes and no (evening unpaid-total summed every invoice: nothing in the table
    said which were unpaid)."""
    taken = {c.lower() for c in columns}
    for column in list(columns):
        named = _STAMPED.fullmatch(column)
        values = [r.get(column) for r in rows]
        if (named is None or named["stem"].lower() in taken
                or not all(v is None or (isinstance(v, str) and (not v.strip() or _DATED.match(v.strip())))
                           for v in values)):
            continue
        happened = [isinstance(v, str) and bool(v.strip()) for v in values]
        if all(happened) or not any(happened):
            continue
        stem = named["stem"].lower()
        columns.insert(columns.index(column) + 1, stem)
        taken.add(stem)
        for row, done in zip(rows, happened, strict=True):
            row[stem] = done
    return columns, rows


_STARTS = frozenset({"created", "opened", "started", "start", "triggered", "submitted", "queued", "received",
                     "reported", "raised", "requested", "begun", "began"})
_ENDS = frozenset({"resolved", "closed", "finished", "ended", "end", "completed", "fixed", "merged",
                   "acknowledged", "stopped", "done", "shipped", "delivered", "mitigated", "updated"})
"""(``updated``: a run's or a job's last update is when it stopped changing; a GitHub Actions run
export has ``run_started_at`` and ``updated_at``, and "which run took longest from its start to its
last update" was queried for the latest update, monday longest-run)"""
_INSTANT = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:?\d\d)?")


def _stamp_durations(columns: list[str], rows: list[dict[str, Any]]
                     ) -> tuple[list[str], list[dict[str, Any]]]:
    """The rows with, beside each column stamping when something ended (``resolved_at``), how long
    it took from the one column stamping when it started (``created_at``): ``created_to_resolved``,
    written as a duration (``38m30s``), so a query sums it, orders by it and shows it in seconds
    and as written. "Add up how long the resolved incidents took to resolve" is then the SUM of
    a column, not date arithmetic in SQL a small model gets wrong (weekend mail-resolve-total).
    None where either time is missing, or the end comes before the start."""
    stamped: dict[str, str] = {}
    for column in columns:
        named = _STAMPED.fullmatch(column)
        values = [r.get(column) for r in rows]
        if named and any(values) and all(v is None or (isinstance(v, str) and (
                not v.strip() or _INSTANT.fullmatch(v.strip()))) for v in values):
            stamped[column] = named["stem"].lower()
    starts = [c for c, stem in stamped.items() if stem in _STARTS]
    if len(starts) != 1:
        return columns, rows
    taken = {c.lower() for c in columns}
    for end, stem in stamped.items():
        name = f"{stamped[starts[0]]}_to_{stem}"
        took = [_took(row.get(starts[0]), row.get(end)) for row in rows]
        if stem not in _ENDS or name in taken or not any(took):  # (none computed: no column of NULLs)
            continue
        columns.insert(columns.index(end) + 1, name)
        taken.add(name)
        for row, duration in zip(rows, took, strict=True):
            row[name] = duration
    return columns, rows


def _took(start: Any, end: Any) -> str | None:
    """The time from ``start`` to ``end`` (ISO 8601 times) as a duration, ``1h02m05s`` or
    ``3m30s``; None when either is missing or unreadable, or the end is the earlier."""
    if not (isinstance(start, str) and start.strip() and isinstance(end, str) and end.strip()):
        return None
    try:
        seconds = (_instant(end) - _instant(start)).total_seconds()
    except (ValueError, TypeError, OverflowError):  # (TypeError: a time with its zone less one without)
        return None
    if seconds < 0:
        return None
    hours, rest = divmod(int(seconds), 3600)
    minutes, whole = divmod(rest, 60)
    part = seconds - int(seconds)  # (a step of 0.4 s is no 0 s: many would add up to nothing)
    written = f"{whole:02d}" if not part else f"{whole + part:06.3f}".rstrip("0")
    return f"{hours}h{minutes:02d}m{written}s" if hours else f"{minutes}m{written}s"


def _instant(written: str) -> datetime:
    text = written.strip().replace(" ", "T", 1)
    return datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)


def _written_rows(value: Any, suffix: str, delimiter: str | None = None
                  ) -> tuple[list[str], list[dict[str, Any]]] | None:
    if isinstance(value, list):
        return _records(_spread("", value)[1])
    if not isinstance(value, str) or not value.strip():
        return None
    text = value
    if suffix in (".csv", ".tsv"):
        return _delimited(text, delimiter or ("\t" if suffix == ".tsv" else ","))
    if suffix in (".md", ".markdown"):
        return _markdown_items(text)
    listed = _listed_records(text, suffix)
    if listed is not None:
        return _records(_spread(*listed)[1]) if listed[1] else None
    return (_junit(text) or _terraform_plan(text) or _zone(text) or _proxy_servers(text) or _metrics(text)
            or _access_log(text)
            or _error_log(text) or _syslog(text) or _named_numbers(text) or _git_log(text) or _stanzas(text)
            or _logfmt(text) or _spaced_log(text) or _aligned_sections(text) or _aligned(text)
            or _aligned_block(text))


_STANZA_LINE = re.compile(r"\s*(?P<key>[A-Za-z][A-Za-z0-9 ()/_.-]{0,40}?):\s+(?P<value>\S(?:.*\S)?)\s*")
_FEWEST_STANZAS = 2


def _stanzas(text: str) -> tuple[list[str], list[dict[str, Any]]] | None:
    """Records written as ``Key: value`` lines, each opened by the same key (``certbot
    certificates``' ``Certificate Name: …`` then its ``Domains:``, ``Expiry Date:``…): a row
    each, a column per key in snake case (``expiry_date``), values as written. Lines before the
    first record and after the last (a heading, a ruler) aside, when none of them is such a line;
    None unless every other line from the first record to the last is one (or blank), two
    records at least, none naming a key twice."""
    lines = text.splitlines()
    pairs = [(at, m["key"].strip(), m["value"]) for at, line in enumerate(lines)
             if (m := _STANZA_LINE.fullmatch(line))]
    counts = Counter(key for _, key, _ in pairs)
    opener = next((key for _, key, _ in pairs if counts[key] >= _FEWEST_STANZAS), None)
    if opener is None:
        return None
    first = next(at for at, key, _ in pairs if key == opener)
    if pairs[0][0] < first:
        return None  # (a key before the records: a heading of fields, a mail's or a page's, not one of them)
    inside = [(at, key, value) for at, key, value in pairs if at >= first]
    paired = {at for at, _, _ in inside}
    last = inside[-1][0]
    if any(line.strip() and at not in paired for at, line in enumerate(lines[first:last + 1], first)):
        return None
    rows: list[dict[str, Any]] = []
    for _, key, value in inside:
        column = re.sub(r"[^a-z0-9]+", "_", key.lower()).strip("_")
        if key == opener:
            rows.append({})
        if column in rows[-1]:
            return None
        rows[-1][column] = value
    if len(rows) < _FEWEST_STANZAS or len(rows) > _MAX_ROWS or any(len(row) < 2 for row in rows):
        return None
    columns = list(dict.fromkeys(column for row in rows for column in row))
    return columns, [{c: row.get(c) for c in columns} for row in rows]


_JUNIT_ROOT = re.compile(r"<testsuites?[\s>/]")
_OUTCOMES = (("failure", "failed"), ("error", "errored"), ("skipped", "skipped"))
"""A JUnit test case's child element and the status its row says: ``passed`` when it has none."""


def _junit(text: str) -> tuple[list[str], list[dict[str, Any]]] | None:
    """A JUnit XML report (what pytest, Maven, Gradle, Jest and most CI runners write): a row per
    ``testcase``, ``suite``, ``classname``, ``name``, ``time`` (seconds), ``status`` (``passed``,
    ``failed``, ``errored``, ``skipped``) and ``message`` (the failure's, error's or skip's). A
    document that declares a DTD or entities is no report: it is not parsed."""
    if not _JUNIT_ROOT.match(_after_prolog(text)) or "<!DOCTYPE" in text or "<!ENTITY" in text:
        return None
    try:
        root = ElementTree.fromstring(text)  # noqa: S314 (no DTD, so no entity to expand: refused above)
    except ElementTree.ParseError:
        return None
    rows = []
    for suite in root.iter("testsuite"):  # (the root among them when it is one)
        for case in suite.findall("testcase"):
            status, message = "passed", None
            for tag, said in _OUTCOMES:
                found = case.find(tag)
                if found is not None:
                    status, message = said, found.get("message") or (found.text or "").strip() or None
                    break
            named = {key: case.get(key) for key in ("classname", "name", "time")}
            rows.append({"suite": suite.get("name"), **named, "status": status, "message": message})
    if not rows or len(rows) > _MAX_ROWS:
        return None
    return ["suite", "classname", "name", "time", "status", "message"], rows


def _after_prolog(text: str) -> str:
    """An XML text from its first element on: its declaration and comments skipped (by finding
    their ends: a pattern of repeated comments backtracked exponentially on a page of them)."""
    rest = text.lstrip()
    if rest.startswith("<?xml"):
        end = rest.find("?>")
        rest = rest[end + 2:].lstrip() if end >= 0 else ""
    while rest.startswith("<!--"):
        end = rest.find("-->")
        rest = rest[end + 3:].lstrip() if end >= 0 else ""
    return rest


_ZONE_TYPES = frozenset({"SOA", "NS", "A", "AAAA", "CNAME", "MX", "TXT", "SRV", "PTR", "CAA", "DS", "DNSKEY",
                         "SPF", "NAPTR", "TLSA", "SSHFP", "HTTPS", "SVCB", "HINFO", "LOC", "DNAME", "RRSIG",
                         "NSEC", "NSEC3", "NSEC3PARAM", "CDS", "CDNSKEY", "CERT", "URI", "OPENPGPKEY",
                         "SMIMEA", "AFSDB", "RP"})
_ZONE_CLASSES = frozenset({"IN", "CH", "HS"})
_ZONE_DIRECTIVES = frozenset({"$ORIGIN", "$TTL", "$INCLUDE", "$GENERATE"})
_ZONE_TTL = re.compile(r"\d+[smhdw]?(?:\d+[smhdw])*", re.IGNORECASE)
_ZONE_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[^\s()]+|[()]')


_PROXY_SECTION = re.compile(r"(?i)(global|defaults|frontend|backend|listen|resolvers|peers|userlist|mailers"
                            r"|program|cache|ring|http-errors)(?:\s+(\S+))?(?:\s.*)?")
_SERVER_SETTINGS = frozenset({
    "weight", "maxconn", "minconn", "maxqueue", "inter", "fastinter", "downinter", "rise", "fall", "port",
    "addr", "cookie", "slowstart", "id", "observe", "on-error", "on-marked-down", "on-marked-up",
    "error-limit", "ca-file", "crt", "verify", "sni", "resolvers", "init-addr", "check-sni", "agent-port",
    "agent-inter", "proto", "alpn", "pool-max-conn", "pool-purge-delay", "source", "track", "redir",
    "namespace", "check-proto", "check-alpn", "resolve-prefer", "max-reuse", "ws", "usesrc"})
"""The settings of HAProxy's ``server`` line that take a value (``weight 50``); any other word
after the address is a flag (``check``, ``backup``)."""


def _proxy_servers(text: str) -> tuple[list[str], list[dict[str, Any]]] | None:
    """HAProxy's configuration (``haproxy.cfg``): a row per ``server`` line of a ``backend`` or
    ``listen`` section, ``backend`` (the section's name), ``server``, ``address``, and a column
    for each setting the lines write, ``weight 50`` as ``weight``, a flag written alone
    (``check``, ``backup``) true where written and false elsewhere. "What share of be_web's
    requests does web-3 get, going by the weights?" is then a query over the weights (weekend
    web-3-share). The other sections' settings (``timeout server 45s``) stay the file's text to
    read. None unless every line not indented opens a section as HAProxy's do, and two server
    lines at least."""
    section: str | None = None
    name: str | None = None
    rows: list[dict[str, Any]] = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        if not raw[:1].isspace():
            opened = _PROXY_SECTION.fullmatch(line)
            if opened is None:
                return None
            section, name = opened[1].lower(), opened[2]
            continue
        tokens = line.split()
        if section is None:
            return None
        if tokens[0] != "server" or section not in ("backend", "listen") or len(tokens) < 3:
            continue
        row: dict[str, Any] = {"backend": name, "server": tokens[1], "address": tokens[2]}
        rest = iter(tokens[3:])
        for word in rest:
            row[word] = next(rest, None) if word in _SERVER_SETTINGS else True
        rows.append(row)
    if len(rows) < 2 or len(rows) > _MAX_ROWS:
        return None
    columns = list(dict.fromkeys(key for row in rows for key in row))
    flags = {key for row in rows for key, value in row.items() if value is True}
    return columns, [{c: row.get(c, False if c in flags else None) for c in columns} for row in rows]


def _zone(text: str) -> tuple[list[str], list[dict[str, Any]]] | None:
    """A DNS zone file (BIND's master format): a row per record, ``name`` (``@`` and an omitted
    name as the file means them), ``ttl``, ``class``, ``type`` and ``data`` (an SOA's fields on
    one line, a TXT's text without its quotes). Comments (``;``) and ``$ORIGIN``/``$TTL`` aside;
    None unless every other line is part of a record, an SOA or ``$`` line among them."""
    origin, ttl, name = "@", None, None
    rows: list[dict[str, Any]] = []
    directive = False
    pending: list[str] = []
    leading = False
    for raw in text.splitlines():
        tokens = _ZONE_TOKEN.findall(_zone_uncommented(raw))
        if not tokens and not pending:
            continue
        if not pending:
            leading = raw[:1].isspace()
            if tokens[0].startswith("$"):
                if tokens[0].upper() not in _ZONE_DIRECTIVES:
                    return None  # (a shell's prompt, not a zone file's directive)
                directive = True
                if tokens[0].upper() == "$ORIGIN" and len(tokens) > 1:
                    origin = tokens[1]
                elif tokens[0].upper() == "$TTL" and len(tokens) > 1:
                    ttl = tokens[1]
                continue
        pending += tokens
        if pending.count("(") > pending.count(")"):
            continue
        record, pending = [t for t in pending if t not in "()"], []
        if not record:
            return None
        if not leading:
            name, record = (origin if record[0] == "@" else record[0]), record[1:]
        row = _zone_record(record, name, ttl)
        if row is None:
            return None
        rows.append(row)
    if pending or len(rows) < 2 or len(rows) > _MAX_ROWS \
            or not (directive or any(row["type"] == "SOA" for row in rows)):
        return None
    return ["name", "ttl", "class", "type", "data"], rows


def _zone_record(tokens: list[str], name: str | None, ttl: str | None) -> dict[str, Any] | None:
    found: dict[str, Any] = {"name": name, "ttl": ttl, "class": None}
    while tokens and tokens[0].upper() not in _ZONE_TYPES:
        if _ZONE_TTL.fullmatch(tokens[0]):
            found["ttl"] = tokens[0]
        elif tokens[0].upper() in _ZONE_CLASSES:
            found["class"] = tokens[0].upper()
        else:
            return None
        tokens = tokens[1:]
    if name is None or len(tokens) < 2:
        return None
    data = [t[1:-1] if len(t) > 1 and t.startswith('"') and t.endswith('"') else t for t in tokens[1:]]
    kind = tokens[0].upper()  # (a TXT's strings are one text, a DKIM key split in 255-byte parts)
    return {**found, "type": kind, "data": ("" if kind == "TXT" else " ").join(data)}


def _zone_uncommented(line: str) -> str:
    """A zone file's line without its comment (a ``;`` outside quotes)."""
    quoted = escaped = False
    for at, char in enumerate(line):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == ";" and not quoted:
            return line[:at]
    return line


_SAMPLE = re.compile(r"(?P<metric>[A-Za-z_:][\w:]*)(?:\{(?P<labels>[^}]*)\})?\s+"
                     r"(?P<value>[-+]?(?:\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|NaN|Inf))(?:\s+-?\d+)?")
_LABEL = re.compile(r'(\w+)\s*=\s*"((?:[^"\\]|\\.)*)"')


def _metrics(text: str) -> tuple[list[str], list[dict[str, Any]]] | None:
    """Metrics as Prometheus' text format writes them (a node exporter's ``/metrics``: ``# TYPE``
    lines, then ``name{label="…"} value``): a row for each sample, ``metric``, a column for each
    label, and ``value``, a number (``6.8719476736e+10`` is 68719476736). None unless every line
    is a sample or a comment, two samples at least, and a ``# TYPE`` or ``# HELP`` line or a
    label says these are metrics."""
    samples, said = [], False
    for line in (raw.strip() for raw in text.splitlines()):
        if line.startswith("#"):
            said = said or line.startswith(("# TYPE ", "# HELP "))
        elif line and (sample := _SAMPLE.fullmatch(line)):
            samples.append(sample)
        elif line:
            return None
    if len(samples) < 2 or not (said or any(s["labels"] for s in samples)):
        return None
    labels = [dict(_LABEL.findall(s["labels"] or "")) for s in samples]
    keys = list(dict.fromkeys(k for found in labels for k in found if k not in ("metric", "value")))
    rows = []
    for sample, found in zip(samples, labels, strict=True):
        value = float(sample["value"])
        row: dict[str, Any] = {"metric": sample["metric"], **{k: found.get(k) for k in keys}}
        row["value"] = int(value) if value.is_integer() and abs(value) < 2 ** 63 else value
        rows.append(row)
    return ["metric", *keys, "value"], rows


def _listed_records(text: str, suffix: str) -> tuple[str, list[Any]] | None:
    """The list of records a JSON (or YAML) text holds, and the key that holds it ("" for a
    list at the top); ``(key, [])`` for a document that holds no one list; None for a text that
    is no such document (JSON Lines and logs are read otherwise)."""
    stripped = text.lstrip()
    parsed: Any = None
    if stripped[:1] in "[{" and not (suffix == ".log" or _LEADING_TIME.match(stripped)):
        try:
            parsed = json.loads(text)
        except ValueError:
            items = _json_line_items(text)
            return None if items is None else ("", items)
    elif suffix in (".yml", ".yaml"):
        parsed = _yaml(text)
        if parsed is None:
            return None
    else:
        return None
    if isinstance(parsed, dict):
        lists = [(str(k), v) for k, v in parsed.items() if isinstance(v, list) and v
                 and all(isinstance(i, dict) for i in v)]
        if not lists:  # (records keyed by their names: a map of certificates by host)
            lists = [(str(k), records) for k, v in parsed.items() if (records := _keyed_records(str(k), v))]
            if not lists and (records := _keyed_records("", parsed)):
                lists = [("", records)]
        return lists[0] if len(lists) == 1 else ("", [])
    return ("", parsed) if isinstance(parsed, list) else ("", [])


def _keyed_records(key: str, value: Any) -> list[dict[str, Any]] | None:
    """The records of a map keyed by their names (``{"search.example.net": {"issuer": …,
    "not_after": …}, …}``), each with its name under the singular of the map's key
    (``certificate``; ``name`` at the top): a row each. None unless it maps two names or more
    to objects that share most of their fields (a config's sections, each its own fields, are
    no records). Read as one object, "which cert runs out first" had no table to query
    (morning next-cert-expiry)."""
    if not isinstance(value, dict) or len(value) < 2 \
            or not all(isinstance(v, dict) and v for v in value.values()):
        return None
    fields = [set(v) for v in value.values()]
    shared, every = set.intersection(*fields), set.union(*fields)
    if len(shared) < 2 or 2 * len(shared) < len(every):
        return None
    name = _singular(key) if key else "name"
    name = name if name not in every else f"{name}_key"
    return [{name: str(k), **v} for k, v in value.items()]


def _yaml(text: str) -> Any:
    """A YAML document, parsed (PyYAML is in the sandbox's image and dagbot's dependencies);
    None when it does not parse."""
    try:
        import yaml
        return yaml.safe_load(text)
    except Exception:  # (a YAML error, a recursion, or no PyYAML): no table
        return None


def nested_tables(value: Any, suffix: str = "") -> dict[str, tuple[list[str], list[dict[str, Any]]]]:
    """The tables a table's rows hold in a list of objects of their own, each a row per inner
    object with its row's fields beside: deploy/deployments.json's deployments hold their
    ``containers`` (a table ``containers`` with ``deployment_name`` and ``deployment_replicas``
    on each container's row), Prometheus rules' groups their ``rules``. Read with only the outer
    rows, "the total CPU request across every replica" summed the replicas (console cpu-total)."""
    if isinstance(value, list):
        key, items = _spread("", value)
    elif isinstance(value, str) and value.strip():
        listed = _listed_records(value, suffix)
        if listed is None:
            return {}
        key, items = _spread(*listed)
    else:
        return {}
    outer = _records(items)
    if outer is None:
        return {}
    prefix = _singular(key)
    tables: dict[str, tuple[list[str], list[dict[str, Any]]]] = {}
    inner_paths = dict.fromkeys(path for item in items for path in _listed_objects(item))
    lasts = [path[-1] for path in inner_paths]
    for inner in inner_paths:
        rows = []
        for item, row in zip(items, outer[1], strict=True):
            parent = {f"{prefix}_{c}": v for c, v in row.items()}
            rows += [parent | _flat(i) for i in _at(item, inner) if isinstance(i, dict)]
        columns = list(dict.fromkeys(c for row in rows for c in row))
        name = _column_name(inner[-1] if lasts.count(inner[-1]) == 1 else "_".join(inner), 0)
        table = (columns, [{c: r.get(c) for c in columns} for r in rows])
        tables[f"data_{name}" if name == "data" else name] = table
    return tables


def _listed_objects(item: dict[str, Any], depth: int = 0) -> list[tuple[str, ...]]:
    """Where ``item`` holds a list of objects: its own keys, or deeper in the objects it holds
    (four levels down at most): a Kubernetes deployment's containers are at
    ``spec.template.spec.containers`` (morning memory-requested: read with only the
    deployments' rows, nothing held a container's memory request)."""
    found: list[tuple[str, ...]] = []
    for key, value in item.items():
        if isinstance(value, list) and value and all(isinstance(i, dict) for i in value):
            found.append((str(key),))
        elif isinstance(value, dict) and depth < 3:
            found += [(str(key), *path) for path in _listed_objects(value, depth + 1)]
    return found


def _at(item: dict[str, Any], path: tuple[str, ...]) -> list[Any]:
    """The list at ``path`` in ``item``, or [] where it has none."""
    value: Any = item
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value if isinstance(value, list) else []


def _spread(key: str, items: list[Any]) -> tuple[str, list[Any]]:
    """The rows of the one list of objects records hold, each with its record's one field
    beside it, when that field is all the records hold besides (a Prometheus rule group is its
    ``name`` and its ``rules``: the rules are the table, ``group_name`` a column of it; asked
    for the alerts whose severity is page, the model queried the groups' table with the rules'
    columns, console mail-paging-alerts); else the records as they are."""
    if not items or not all(isinstance(i, dict) for i in items):
        return key, items
    lists = {str(k) for i in items for k, v in i.items() if isinstance(v, list) and v
             and all(isinstance(x, dict) for x in v)}
    fields = {str(k) for i in items for k, v in i.items() if not isinstance(v, list)}
    if len(lists) != 1 or len(fields) > 1:
        return key, items
    inner = lists.pop()
    prefix = _singular(key)
    rows = [{f"{prefix}_{k}": v for k, v in _flat(item).items()} | _flat(row)
            for item in items for row in item.get(inner) or [] if isinstance(row, dict)]
    return inner, rows


def _singular(key: str) -> str:
    name = _column_name(key, 0) if key else "parent"
    if name.endswith("ies"):
        return name[:-3] + "y"
    return name[:-1] if name.endswith("s") and not name.endswith("ss") else name


def _flat(item: dict[str, Any], prefix: str = "", depth: int = 0) -> dict[str, Any]:
    """An object's fields, a nested object's as ``labels_severity`` (three levels down at most:
    a YAML anchor can make an object hold itself); lists are left out."""
    out: dict[str, Any] = {}
    for key, value in item.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            if depth < 3:
                out.update(_flat(value, f"{name}_", depth + 1))
        elif not isinstance(value, list):
            out[name] = value
    return out


def _json_line_items(text: str) -> list[Any] | None:
    items = []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError:
            return None
        items.append(item)
    return items if len(items) > 1 else None


_ACCESS = re.compile(r'(?P<client_ip>\S+) (?P<ident>\S+) (?P<user>\S+) \[(?P<time>[^\]]+)\] '
                     r'"(?P<method>[A-Z]+) (?P<path>\S+)(?: (?P<protocol>[^"]*))?" (?P<status>\d{3}) '
                     r'(?P<bytes>\d+|-)(?: "(?P<referer>[^"]*)" "(?P<user_agent>[^"]*)")?.*')
"""A web server's access log line, in the Common or Combined Log Format (nginx's and Apache's
default): ``10.1.2.3 - - [27/Nov/2026:10:00:01 +0000] "GET /api/orders HTTP/1.1" 200 512 "-" "curl/8.5"``."""


def _access_log(text: str) -> tuple[list[str], list[dict[str, Any]]] | None:
    """An access log's requests, a row each: ``client_ip``, ``time``, ``method``, ``path``,
    ``protocol``, ``status``, ``bytes`` (``-``: 0), and ``referer`` and ``user_agent`` when the
    lines have them (``ident`` and ``user`` only when a line has one). "How many requests got a
    5xx?" was counted as the lines holding the text ``5xx`` (0) over such a log, which no table
    was found in. None unless every line is such a request."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines or len(lines) > _MAX_ROWS:
        return None
    found = [m.groupdict() for line in lines if (m := _ACCESS.fullmatch(line))]
    if len(found) != len(lines):
        return None
    for row in found:
        row["bytes"] = "0" if row["bytes"] == "-" else row["bytes"]
    columns = [c for c in _ACCESS.groupindex if any(row[c] not in (None, "-") for row in found)
               or c in ("client_ip", "time", "method", "path", "status", "bytes")]
    return columns, [{c: row[c] for c in columns} for row in found]


_PLANNED = re.compile(r"^\s*# (?P<resource>\S+) (?P<action>will be created|will be destroyed"
                      r"|will be updated in-place|must be replaced|will be read during apply)\b.*$", re.M)
_ACTIONS = {"will be created": "create", "will be destroyed": "destroy", "will be updated in-place": "update",
            "must be replaced": "replace", "will be read during apply": "read"}
_CHANGED = re.compile(r"^\s*[~+-]\s+(?P<name>[\w-]+)\s*=\s*(?P<value>.*?)\s*(?:#.*)?$")


def _terraform_plan(text: str) -> tuple[list[str], list[dict[str, Any]]] | None:
    """``terraform plan``'s output, a row per resource it acts on: ``resource`` (its address,
    ``aws_s3_bucket.exports``), ``type``, ``name``, ``action`` (``create``, ``destroy``,
    ``update``, ``replace``, ``read``), ``destroyed`` (true where the resource is destroyed,
    replaced ones too: Terraform destroys them first) and ``changes`` (``node_type:
    "cache.t4g.small" -> "cache.r7g.large"``, each attribute the plan marks). "Which resources
    will terraform/plan.txt destroy? Count the replacements too." had no table to filter, and a
    small model listed the created and replaced ones (monday destroyed-resources). None unless
    the text says what Terraform will do to a resource (``# x will be destroyed``)."""
    found = list(_PLANNED.finditer(text))
    if not found:
        return None
    rows = []
    for match, after in zip(found, [*found[1:], None], strict=True):
        resource, action = match["resource"], _ACTIONS[match["action"]]
        body = text[match.end():after.start() if after else len(text)]
        changes = [f"{m['name']}: {m['value']}" for line in body.splitlines()
                   if (m := _CHANGED.match(line))]
        kind, _, name = resource.rpartition(".")
        rows.append({"resource": resource, "type": kind.rsplit(".", 1)[-1], "name": name, "action": action,
                     "destroyed": action in ("destroy", "replace"), "changes": "; ".join(changes) or None})
    return ["resource", "type", "name", "action", "destroyed", "changes"], rows


_ERROR_LOG = re.compile(r"(?P<time>\d{4}/\d\d/\d\d \d\d:\d\d:\d\d) \[(?P<level>[a-z]+)\] "
                        r"(?P<pid>\d+)#\d+: (?:\*(?P<connection>\d+) )?(?P<message>.*)")
"""A line of nginx's error log: ``2026/11/30 06:40:19 [error] 2211#2211: *93502 upstream timed
out …, client: 203.0.113.9, server: shop.example.org, request: "GET /x HTTP/2.0"``."""
_ERROR_CONTEXT = re.compile(r', (client|server|request|upstream|host|referrer|subrequest): ("[^"]*"|[^,]*)')
_ERROR_CONTEXT_KEYS = ("client", "server", "request", "upstream", "host", "referrer", "subrequest")


def _error_log(text: str) -> tuple[list[str], list[dict[str, Any]]] | None:
    """nginx's error log, a row each: ``time``, ``level``, ``pid``, ``connection`` (when a line
    has one), ``message``, and the context nginx writes after it (``client``, ``server``,
    ``request``, ``upstream``, ``host``…: quotes off). "Which client IP turns up in the most
    lines?" had no table to group by, and the package's ``client_ip`` key was in no input
    (monday top-error-client). None unless every line is one."""
    lines = [line.rstrip() for line in text.splitlines() if line.strip()]
    if not lines or len(lines) > _MAX_ROWS:
        return None
    found = [m.groupdict() for line in lines if (m := _ERROR_LOG.fullmatch(line))]
    if len(found) != len(lines):
        return None
    for row in found:
        message = row["message"]
        start = message.find(", client: ")
        context = message[start:] if start >= 0 else ""
        row["message"] = message[:start] if start >= 0 else message
        for key, value in _ERROR_CONTEXT.findall(context):
            row[key] = value[1:-1] if value.startswith('"') else value
    columns = [c for c in ("time", "level", "pid", "connection", "message", *_ERROR_CONTEXT_KEYS)
               if any(row.get(c) for row in found) or c in ("time", "level", "message")]
    return columns, [{c: row.get(c) for c in columns} for row in found]


_SYSLOG = re.compile(r"(?P<time>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d|"
                     r"\d{4}-\d\d-\d\dT[\d:.]+(?:Z|[+-]\d\d:?\d\d)?) "
                     r"(?P<host>\S+) (?P<program>[\w./@-]+?)(?:\[(?P<pid>\d+)\])?:\s*(?P<message>.*)")
"""A syslog line (``/var/log/syslog``, ``auth.log``, journalctl's default output): ``Nov 28 03:12:44
lb-02 sshd[1234]: Failed password for root from 203.0.113.45 port 52211 ssh2``, its time in
BSD's form or ISO 8601's."""
_OCTET = r"(?:25[0-5]|2[0-4]\d|1?\d?\d)"
_IPV4 = re.compile(rf"(?<![\w./])(?:{_OCTET}\.){{3}}{_OCTET}(?![\w./])")
_NOT_AN_EVENT = re.compile(r"^-- .* --$|\blast message repeated \d+ times?\b")
"""journalctl's ``-- Journal begins at … --`` and ``-- Boot … --`` lines, syslog's repeats."""
_LEVEL_LIKE = re.compile(r"\[.*\]|(?i:trace|debug|info|notice|warn|warning|error|err|crit|critical|fatal|"
                         r"alert|emerg|panic)")


def _syslog(text: str) -> tuple[list[str], list[dict[str, Any]]] | None:
    """A syslog's lines, a row each: ``time``, ``host``, ``program``, ``pid`` (when a line has
    one), ``message``, and ``address``: the first IPv4 address the message holds ("which
    addresses failed to log in, how often?" groups by it). None unless every line is one."""
    lines = [line.rstrip() for line in text.splitlines() if line.strip() and not _NOT_AN_EVENT.search(line)]
    if len(lines) < 2 or len(lines) > _MAX_ROWS:
        return None
    found = [m.groupdict() for line in lines if (m := _SYSLOG.fullmatch(line))]
    if len(found) != len(lines) or any(_LEVEL_LIKE.fullmatch(row["host"]) for row in found) \
            or sum(len(_FIELD.findall(row["message"])) >= 2 for row in found) * 2 > len(found):
        return None  # (a level where the host goes, or key=value fields: a log of another shape)
    for row in found:
        row["time"] = " ".join(row["time"].split())
        address = _IPV4.search(row["message"])
        row["address"] = address.group() if address else None
    columns = [c for c in (*_SYSLOG.groupindex, "address") if any(row.get(c) for row in found)
               or c in ("time", "host", "program", "message")]
    return columns, [{c: row.get(c) for c in columns} for row in found]


_NAMED_NUMBER = re.compile(r"(?P<name>[A-Za-z_][\w.()/-]*)\s*[:=]\s*"
                           r"(?P<value>-?\d+(?:\.\d+)?(?:\s?[A-Za-z%]{1,3})?)")
_FEWEST_NAMED = 3


def _named_numbers(text: str) -> tuple[list[str], list[dict[str, Any]]] | None:
    """A file of named numbers, one a line (``/proc/meminfo``'s ``MemTotal:  8148324 kB``,
    ``sysctl``'s ``vm.swappiness = 10``): a row each, ``name`` and ``value`` (its unit kept: the
    query reads it as a number). Comment lines (``#``) aside; None unless every other line is
    one, three at least."""
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    if len(lines) < _FEWEST_NAMED or len(lines) > _MAX_ROWS:
        return None
    found = [m for line in lines if (m := _NAMED_NUMBER.fullmatch(line))]
    if len(found) != len(lines):
        return None
    return ["name", "value"], [{"name": m["name"], "value": m["value"]} for m in found]


def _records(items: list[Any]) -> tuple[list[str], list[dict[str, Any]]] | None:
    if not items or len(items) > _MAX_ROWS or not all(isinstance(i, dict) for i in items):
        return None
    flat = [_flat(item) for item in items]
    columns: dict[str, None] = {}
    for item in flat:
        columns.update((str(k), None) for k in item)
    if not columns:
        return None
    return list(columns), [{c: item.get(c) for c in columns} for item in flat]


def _delimited(text: str, delimiter: str) -> tuple[list[str], list[dict[str, Any]]] | None:
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    columns = [c.strip() for c in reader.fieldnames or [] if c and c.strip()]
    if len(columns) < 2 or len(set(columns)) != len(columns):
        return None
    rows = [{c.strip(): (v or "").strip() for c, v in row.items() if c and c.strip()} for row in reader]
    if not rows or len(rows) > _MAX_ROWS:
        return None
    return columns, (_decimal_points(columns, rows) if delimiter == ";" else rows)


_DECIMAL_COMMA = re.compile(r"-?(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,\d+)?")
"""A number written with a decimal comma, its thousands grouped by points or not (``1.089,00``,
``24,90``, ``12``)."""


def _decimal_points(columns: list[str], rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows with each column of numbers written with decimal commas (every value a
    :data:`_DECIMAL_COMMA`, one at least with its comma) written with a decimal point instead
    (``1.089,00`` → ``1089.00``), so a query sums them as numbers. Only where the fields are split
    by semicolons, as such exports are (a TSV's ``1,200`` is a thousand and two hundred)."""
    for column in columns:
        values = [str(r.get(column)) for r in rows if r.get(column) not in (None, "")]
        if not values or not all(_DECIMAL_COMMA.fullmatch(v) for v in values) \
                or not any("," in v for v in values):
            continue
        for row in rows:
            if row.get(column) not in (None, ""):
                row[column] = str(row[column]).replace(".", "").replace(",", ".")
    return rows


def _logfmt(text: str) -> tuple[list[str], list[dict[str, Any]]] | None:
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines or len(lines) > _MAX_ROWS:
        return None
    columns: dict[str, None] = {}
    rows = []
    for line in lines:
        fields = {k: v.strip('"') for k, v in _FIELD.findall(line)}
        if len(fields) < 2:
            return None
        head = _LEADING_TIME.match(line.strip())
        if head and "time" not in fields:
            fields = {"time": head["time"], **fields}
        columns.update((k, None) for k in fields)
        rows.append(fields)
    return list(columns), [{c: row.get(c) for c in columns} for row in rows]


_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)[\s#]*$")
_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+(?:\[(?P<box>[ xX])\]\s+)?(.*\S)\s*$")
_NAMED_ITEM = re.compile(r"^[*_`]*@?([^\W\d][\w'.-]*(?: [^\W\d][\w'.-]*){0,3})[*_`]*"
                         r"(?:\s+(?:<[^<>\s]+@[^<>\s]+>|\([^()\s]+@[^()\s]+\)))?:\s+(.*)$")
"""An item that opens with a name and a colon, the name's address between them or not
(``- Grace Liu: alert on …``, ``- Luis Ortega <luis@example.com>: tune …``, ``- @lev
(lev@example.org): add …``, a handle's ``@`` left out)."""


def _markdown_items(text: str) -> tuple[list[str], list[dict[str, Any]]] | None:
    """A Markdown document's list items and table rows, one row each: ``section`` (the heading
    above it; a table's rows have a column for each of its header's cells beside it),
    ``name`` (a name before a colon: ``- Grace Liu: alert on …``, ``- Luis Ortega
    <luis@example.com>: tune …``, when an item has one),
    ``text`` (the rest), ``done`` and ``open`` for a checklist's items (``- [x]`` done, ``- [ ]``
    open: both words, as requests ask for either), a column for each field written inside two
    items or more (``…sandbox. Owner: Lena Fischer (lena@example.com)``, ``(owner: bob, due:
    Friday)``, ``due 2026-12-04``: :func:`_item_fields`) and ``email``, an item's first address,
    when two items or more have one. None for fewer than two items (prose is no table)."""
    section, header = None, None
    rows: list[dict[str, Any]] = []
    table_columns: dict[str, None] = {}
    lines = text.splitlines()
    for at, line in enumerate(lines):
        cells = _cells(line)
        if cells is not None and header is None and at + 1 < len(lines) and _RULE.match(lines[at + 1]):
            header = [_column_name(cell, place) for place, cell in enumerate(cells)]
            table_columns.update((name, None) for name in header)
            continue
        if cells is not None and header is not None:
            if not _RULE.match(line):
                rows.append({"section": section, **dict(zip(header, [*cells, *[None] * len(header)],
                                                             strict=False))})
            continue
        header = None
        if heading := _HEADING.match(line):
            section = heading.group(1)
        elif item := _ITEM.match(line):
            named = _NAMED_ITEM.match(item.group(2))
            rest = named.group(2) if named else item.group(2)
            address = _EMAIL.search(item.group(2))
            box = item.group("box")
            done = None if box is None else box != " "
            rows.append({"section": section, "name": named.group(1) if named else None, "text": rest,
                         "done": done, "open": None if done is None else not done,
                         "email": address.group(0) if address else None, **_item_fields(rest)})
    if len(rows) < 2 or len(rows) > _MAX_ROWS:
        return None
    items = [row for row in rows if "text" in row and "done" in row]
    columns = ["section", *(["name"] if any(row.get("name") for row in items) else []),
               *(["text"] if items else [])]
    counts: dict[str, int] = {}
    for row in items:
        for key in row:
            counts[key] = counts.get(key, 0) + (row[key] is not None)
    columns += [key for key, count in counts.items() if key not in ("section", "name", "text") and count >= 2]
    columns += [key for key in table_columns if key not in columns]
    return columns, [{c: row.get(c) for c in columns} for row in rows]


_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)*\|?\s*$")
"""The line under a Markdown table's header: ``|---|:---:|``."""


def _cells(line: str) -> list[str] | None:
    """A Markdown table line's cells (``| Ivan | alert on lag | 2026-12-03 |``), or None."""
    stripped = line.strip()
    if not (stripped.startswith("|") and stripped.endswith("|") and len(stripped) > 2):
        return None
    return [cell.strip() for cell in stripped[1:-1].split("|")]


def _column_name(cell: str, place: int) -> str:
    """A header cell as a column's name: ``time (UTC)`` is ``time_utc``, ``Use%`` is
    ``use_percent`` (the sign says what the number is); an empty one ``column<n>``."""
    name = re.sub(r"[^0-9a-z]+", "_", cell.lower().replace("%", " percent ")).strip("_")
    return name if name and not name[0].isdigit() else f"column{place + 1}"


_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_ITEM_FIELD = re.compile(r"(?:^|(?<=[.;,(])\s*|\s[-\u2013\u2014]\s)([A-Za-z][a-z]+(?: [a-z]+)?):\s+")
_KEEP = frozenset({"section", "name", "text", "done", "open", "email"})


def _item_fields(text: str) -> dict[str, str]:
    """The ``Key: value`` fields an item's text holds after its first words (``Owner: Lena``,
    ``(owner: bob, due: Friday)``), keyed in lower case with ``_`` for a space; each value runs
    to the next field or the end, its closing punctuation left out (a bracket only when it
    closes none the value opened)."""
    found = list(_ITEM_FIELD.finditer(text))
    fields: dict[str, str] = {}
    for i, match in enumerate(found):
        key = match.group(1).lower().replace(" ", "_")
        if match.start() == 0 or key in _KEEP or key in fields:
            continue  # (an item's leading "Word: …" is its name, or the text itself)
        end = found[i + 1].start() if i + 1 < len(found) else len(text)
        value = text[match.end():end].strip().rstrip(".,;").strip()
        while value.endswith(")") and value.count(")") > value.count("("):
            value = value[:-1].rstrip(".,;").strip()
        if value:
            fields[key] = value
    for word, date in _DATED_WORD.findall(text):
        fields.setdefault(_DATED_COLUMNS[word.lower()], date)
    return fields


_DATED_COLUMNS = {"due": "due", "by": "due", "deadline": "due", "until": "due", "done": "done_on",
                  "closed": "closed_on", "fixed": "fixed_on", "resolved": "resolved_on",
                  "merged": "merged_on", "opened": "opened_on", "since": "since"}
_DATED_WORD = re.compile(rf"\b({'|'.join(_DATED_COLUMNS)})\s+(\d{{4}}-\d\d-\d\d)\b", re.I)
"""A date an item's words say what it is (``…, due 2026-12-04``, ``done 2026-11-27``): a column
named by it (``due``, ``done_on``: ``done`` is the checkbox's). "How many days from the retro to
the latest due date of its open action items?" was queried as a count of the items: the dates
were only words of ``text`` (monday days-to-last-due)."""


_LEVELS = frozenset({"TRACE", "DEBUG", "INFO", "NOTICE", "WARN", "WARNING", "ERROR", "FATAL", "CRITICAL"})
_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
_STATUS = re.compile(r"[1-5]\d\d")
_DURATION = re.compile(r"\d+(?:\.\d+)?(ms|s)")
_PREFIX = re.compile(r"([A-Za-z]{2,})[-_]?\d")


def _spaced_log(text: str) -> tuple[list[str], list[dict[str, Any]]] | None:
    """A log of lines that each open with a time, then fields separated by spaces: ``time``, a
    column for each field every line has at its place, named by what it holds (``level``,
    ``method``, ``path``, ``status``, ``duration_ms``; ``node`` for ``node-1``, ``node-3``;
    else ``field2``…), a column for each ``key=value`` field, and ``message``, the rest of a
    line. None unless every line opens with a time and there are two lines at least (notes or a
    text are no table); but an indented line after one that does continues that line's message
    (a stack trace's ``    at PaymentClient.call``: tuning errors-by-service's log was no table,
    and the planner's code counted its errors by their times)."""
    lines: list[str] = []
    continued: dict[int, list[str]] = {}
    for raw in text.splitlines():
        if lines and raw[:1] in (" ", "\t") and raw.strip() and not _LEADING_TIME.match(raw.strip()):
            continued.setdefault(len(lines) - 1, []).append(raw.strip())
        elif raw.strip():
            lines.append(raw.strip())
    if len(lines) < 2 or len(lines) > _MAX_ROWS:
        return None
    parsed: list[tuple[str, list[str], dict[str, str]]] = []
    tails: list[list[str]] = []
    for line in lines:
        head = _LEADING_TIME.match(line)
        if not head or not re.search(r"\d:\d", head["time"]):
            return None
        tokens = _QUOTED_FIELD_OR_WORD.findall(line[head.end():])  # (q="winter boots" is one field)
        if tokens and tokens[0] in _ZONES:
            tokens = tokens[1:]
        fields = {k: v.strip('"') for k, v in (t.split("=", 1) for t in tokens if _FIELD.fullmatch(t))}
        words = [t for t in tokens if not _FIELD.fullmatch(t)]
        cut = next((i for i, w in enumerate(words[:3]) if w.endswith(":") and w[:-1] in _COLON_LEVELS), None)
        tails.append([*(words[cut + 1:] if cut is not None else []), *continued.get(len(tails), [])])
        parsed.append((head["time"], [*words[:cut], words[cut][:-1]] if cut is not None else words, fields))
    shaped = _usual_shape(parsed)
    width = min(len(parsed[i][1]) for i in shaped)
    names = [_positional_name(i, [parsed[n][1][i] for n in shaped]) for i in range(width)]
    for i in [i for i, name in enumerate(names) if name.startswith("field")][1:]:
        # (a second place of words no kind names, nearly each line's its own, and the place after it
        # too: the message's words, "timeout calling", "upstream provider", not columns; the first
        # such place is the line's source. A user's name alone, the last place, stays a column)
        if i + 1 < width and all(_mostly_distinct([parsed[n][1][at] for n in shaped]) for at in (i, i + 1)):
            width, names = i, names[:i]
            break
    if len(set(names)) != len(names):
        names = [f"field{i + 1}" for i in range(width)]
    taken = {*names, "time", "message"}
    keys = list(dict.fromkeys(k for _, _, fields in parsed for k in fields if k not in taken))
    columns = ["time", *names, *keys] + (["message"] if any(len(w) > width for _, w, _ in parsed)
                                         or len(shaped) < len(parsed) or any(tails) else [])
    rows = []
    usual = set(shaped)
    for n, (time, words, fields) in enumerate(parsed):
        # (a line of another shape, "INFO product-search 3.8.2 listening on :8088" among requests:
        # its words fill the columns whose kind they have, in order, and the rest is its message)
        fit = width if n in usual else next(
            (i for i in range(width) if i >= len(words) or _kind(words[i]) != _kind(parsed[shaped[0]][1][i])),
            width)
        row: dict[str, Any] = {"time": time}
        row.update({name: _unbracketed(words[i]) if i < fit else None for i, name in enumerate(names)})
        row.update({k: fields.get(k) for k in keys})
        if "message" in columns:
            row["message"] = " ".join([*words[fit:], *tails[n]]) or None
        rows.append(row)
    if "message" in columns and "host" not in columns:
        _hosts(columns, rows)
    if "message" in columns:
        _measures(columns, rows)
        rows = _folded_details(columns, rows)
    return (columns, rows) if len(columns) > 1 else None


_ZONES = frozenset({"UTC", "GMT", "Z"})
"""A time zone written after a line's time (PostgreSQL's ``2026-11-26 01:00:03.412 UTC``)."""
_COLON_LEVELS = frozenset({
    "LOG", "DEBUG", "INFO", "NOTICE", "WARNING", "WARN", "ERROR", "FATAL", "PANIC", "DETAIL", "HINT",
    "STATEMENT", "CONTEXT", "QUERY", "LOCATION", "CRITICAL"})
"""Levels written with a colon, the rest of the line being the message (PostgreSQL's ``ERROR:
deadlock detected``, ``STATEMENT:  UPDATE orders …``): the message's first words are no columns
(evening's log had its words as ``field4``, ``field5``, and a count of deadlocks compared them)."""
_PID = re.compile(r"\[(\d+)\]")
_MEASURE = re.compile(r"^(?P<name>[a-z]+):\s+(?P<number>\d+(?:\.\d+)?)\s?(?P<unit>ms|s)\b[\s,;]*"
                      r"(?P<rest>.*)$")


_DETAILS = ("DETAIL", "STATEMENT", "HINT", "CONTEXT", "QUERY")
"""The levels of lines that tell more of the line before them from the same process
(PostgreSQL's ``ERROR:  deadlock detected``, then its ``DETAIL:`` and ``STATEMENT:``)."""


def _folded_details(columns: list[str], rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows with each line that tells more of the one before it (:data:`_DETAILS`, from the
    same process at the same time) folded into that one's row, under a column named by its
    level (``statement``): "the statements that ran into a deadlock" is then one condition on a
    row, where the statement and the error were two rows only a process id joined."""
    if "level" not in columns or "pid" not in columns:
        return rows
    kept: list[dict[str, Any]] = []
    added: list[str] = []
    for row in rows:
        level = str(row.get("level") or "")
        before = kept[-1] if kept else None
        told = _TOLD.match(str(row.get("message") or ""))
        if level in _DETAILS and before is not None and before.get("pid") == row.get("pid") \
                and before.get("time") == row.get("time") and str(before.get("level")) not in _DETAILS:
            column, text, row = level.lower(), row.get("message"), before
        elif told:  # (LOG:  duration: 4821.337 ms  statement: SELECT …)
            column, text = told[1].lower(), told[2]
        else:
            kept.append(row)
            continue
        if column not in columns and column not in added:
            added.append(column)
        row[column] = text
        if row is not before:
            kept.append(row)
    if not added:
        return rows
    columns.extend(added)
    if "statement" in added and "table_name" not in columns:
        columns.append("table_name")
        for row in kept:
            found = _STATEMENT_TABLE.search(str(row.get("statement") or ""))
            row["table_name"] = next((name for name in found.groups() if name), None) if found else None
    for row in kept:
        for column in added:
            row.setdefault(column, None)
    return kept


_TOLD = re.compile(r"(statement|detail|hint|context|query):\s+(.+)", re.I)
"""A message that is one of :data:`_DETAILS` told on its own line's level (``statement: …``)."""
_STATEMENT_TABLE = re.compile(
    r"^\s*(?:UPDATE\s+(?:ONLY\s+)?([\w.\"]+)|INSERT\s+INTO\s+([\w.\"]+)|DELETE\s+FROM\s+([\w.\"]+)"
    r"|SELECT\b.*?\bFROM\s+([\w.\"]+)|(?:VACUUM|ANALYZE)\b(?:\s*\([^)]*\))?\s+([\w.\"]+))", re.I | re.S)
"""The table a statement acts on first (``table_name``: "table" is one of SQL's words): "deadlocks
per table" is a group-by over it."""


def _unbracketed(word: str) -> str:
    """A process id as a number's text (``[31877]``: 31877); any other word as it is."""
    return m[1] if (m := _PID.fullmatch(word)) else word


def _measures(columns: list[str], rows: list[dict[str, Any]]) -> None:
    """A column for a measure the messages open with (``duration: 4821.337 ms  statement: …``:
    ``duration_ms``), the message its rest, when two lines open with one at least: the slowest
    statement is the row with its largest value, which a message as one text cannot give."""
    found = [_MEASURE.match(str(row.get("message") or "")) for row in rows]
    kinds = {(m["name"], m["unit"]) for m in found if m}
    if sum(m is not None for m in found) < 2 or len(kinds) != 1:
        return
    name, unit = kinds.pop()
    column = f"{name}_{unit}"
    if column in columns:
        return
    columns.insert(columns.index("message"), column)
    for row, m in zip(rows, found, strict=True):
        row[column] = m["number"] if m else None
        if m:
            row["message"] = m["rest"] or None


_HOST_PORT = re.compile(r"(?<![\w/.:-])([A-Za-z][\w.-]*:\d{2,5})(?![\w:.-])")


def _hosts(columns: list[str], rows: list[dict[str, Any]]) -> None:
    """A ``host`` column for the one ``host:port`` a line's message names ("upstream timeout
    os-data-2:9200"), when two lines name one at least: errors per upstream node are a group-by
    over it, which the message as one text cannot give (morning errors-per-node)."""
    found = [_HOST_PORT.findall(str(row.get("message") or "")) for row in rows]
    if sum(len(hosts) == 1 for hosts in found) < 2:
        return
    columns.insert(columns.index("message"), "host")
    for row, hosts in zip(rows, found, strict=True):
        row["host"] = hosts[0] if len(hosts) == 1 else None


def _mostly_distinct(values: list[str]) -> bool:
    """Whether more than half of ``values`` (four at least: two lines tell nothing) differ."""
    return len(values) >= 4 and 2 * len(set(values)) > len(values)


def _usual_shape(parsed: list[tuple[str, list[str], dict[str, str]]]) -> list[int]:
    """The lines of the log's usual shape (the kinds of their first three words: a level, a
    method, a path…), when a few lines of another shape stand among them (at most one in four);
    else every line. A server's start-up line before its requests had made every column text."""
    shapes = [tuple(_kind(w) for w in words[:3]) for _, words, _ in parsed]
    usual = Counter(shapes).most_common(1)[0][0]
    shaped = [n for n, shape in enumerate(shapes) if shape == usual]
    odd = len(parsed) - len(shaped)
    if odd == 0 or len(shaped) < 2 or 4 * odd > len(parsed) or all(kind == "text" for kind in usual):
        return list(range(len(parsed)))
    return shaped


def _kind(word: str) -> str:
    """What one word of a log line is, for :func:`_usual_shape`."""
    if word.upper() in _LEVELS or word in _COLON_LEVELS:
        return "level"
    if word in _METHODS:
        return "method"
    if word.startswith("/"):
        return "path"
    if _STATUS.fullmatch(word):
        return "status"
    return "duration" if _DURATION.fullmatch(word) else "text"


_COMMIT = re.compile(r"^commit ([0-9a-f]{7,40})\b")
_PERSON = re.compile(r"^(?P<name>.*?)\s*<(?P<email>[^>]*)>\s*$")
_STAT = re.compile(r"(\d+) files? changed(?:, (\d+) insertions?\(\+\))?(?:, (\d+) deletions?\(-\))?")


def _git_log(text: str) -> tuple[list[str], list[dict[str, Any]]] | None:
    """``git log``'s output (its default format, ``--stat`` too): a row for each commit,
    ``commit``, ``author``, ``email``, ``date``, ``message`` (its subject and body in one line),
    and with ``--stat`` the ``files_changed``, ``insertions`` and ``deletions`` of its summary.
    None unless the text opens with a ``commit <hash>`` line."""
    lines = text.splitlines()
    if not lines or not _COMMIT.match(lines[0]):
        return None
    rows: list[dict[str, Any]] = []
    for line in lines:
        if found := _COMMIT.match(line):
            rows.append({"commit": found.group(1), "message": ""})
        elif line.startswith("Author:") and (person := _PERSON.match(line[7:].strip())):
            rows[-1].update(author=person["name"], email=person["email"])
        elif line.startswith("Date:"):
            rows[-1]["date"] = line[5:].strip()
        elif line.startswith("    "):
            rows[-1]["message"] = f"{rows[-1]['message']} {line.strip()}".strip()
        elif stat := _STAT.search(line):
            rows[-1].update(files_changed=stat.group(1), insertions=stat.group(2) or "0",
                            deletions=stat.group(3) or "0")
    if len(rows) > _MAX_ROWS:
        return None
    columns = ["commit", "author", "email", "date", "message"]
    if any("files_changed" in row for row in rows):
        columns += ["files_changed", "insertions", "deletions"]
    return columns, [{column: row.get(column) for column in columns} for row in rows]


_HEADER_GAP = re.compile(r"\S {2,}\S")


def _aligned(text: str) -> tuple[list[str], list[dict[str, Any]]] | None:
    """A command's output in aligned columns under a header line (``kubectl get pods``, ``df
    -h``, ``docker ps``): a column is a run of places that some line fills, between places every
    line leaves blank, named by the header's words over it (``Mounted on`` is ``mounted_on``,
    ``Use%`` is ``use``, ``NOMINATED NODE`` over no value of its second word is one column); a
    value wider than its header (``Up 2 days (healthy)``, ``2 (3h ago)``) stays whole. None
    unless a header of words with a wide gap in it tops two rows at least."""
    lines = _ruled([line.rstrip() for line in text.splitlines() if line.strip()])
    if len(lines) < 3 or len(lines) > _MAX_ROWS or "\t" in text:
        return None
    header = lines[0]
    words = header.split()
    if len(words) < 2 or not _HEADER_GAP.search(header) or \
            any(not re.search(r"[A-Za-z]", word) for word in words):
        return None
    width = max(len(line) for line in lines)
    filled = [any(place < len(line) and line[place] != " " for line in lines) for place in range(width)]
    spans: list[list[int]] = []
    for place, used in enumerate(filled):
        if used and (not spans or spans[-1][1] < place):
            spans.append([place, place + 1])
        elif used:
            spans[-1][1] = place + 1
    columns: list[list[int]] = []
    for start, end in spans:
        # a span under no header word is a wide value's rest; one with no value a line fills, a
        # space after the one before, is the next word of its header (``NOMINATED NODE``)
        named = bool(header[start:end].strip())
        valued = any(line[start:end].strip() for line in lines[1:])
        if columns and (not named or (not valued and start - columns[-1][1] == 1)):
            columns[-1][1] = end
        else:
            columns.append([start, end])
    names = [_column_name(header[start:end].strip(), place) for place, (start, end) in enumerate(columns)]
    if len(columns) < 2 or not header[columns[0][0]:columns[0][1]].strip() or len(set(names)) < len(names):
        return None
    rows = [{name: _valued(line[start:end]) for name, (start, end) in zip(names, columns, strict=True)}
            for line in lines[1:]]
    if any(sum(value is not None for value in row.values()) * 2 < len(names) for row in rows):
        return None  # (a line that fills few of the columns is text, not a row)
    return _repeats(names, rows)


_REPEATED = re.compile(r"(?P<value>\S.*?)\s*\(x(?P<count>\d+) over (?P<span>[^)]+)\)")
"""kubectl's repeated event, ``3m (x12 over 50m)``: seen 12 times in 50 minutes, last 3m ago."""


def _repeats(columns: list[str], rows: list[dict[str, Any]]) -> tuple[list[str], list[dict[str, Any]]]:
    """The rows with kubectl's repeats (:data:`_REPEATED`) as a number column ``count`` beside the
    column that writes them (its value the time alone; 1 for an event seen once), as the event's
    own ``count`` field holds them: "counting the (xN) repeats, how many Warning events…" sums
    it. As they are when no value is written so, or a column is already named ``count``."""
    written = [] if "count" in columns else [
        c for c in columns if any(isinstance(r.get(c), str) and _REPEATED.fullmatch(r[c]) for r in rows)]
    if not written:
        return columns, rows
    repeated = written[0]
    columns.insert(columns.index(repeated) + 1, "count")
    for row in rows:
        found = _REPEATED.fullmatch(row[repeated]) if isinstance(row.get(repeated), str) else None
        if found:
            row[repeated], row["count"] = found["value"], int(found["count"])
        else:
            row["count"] = 1
    return columns, rows


_NO_VALUE = frozenset({"", "-", "--", "\u2014", "n/a", "N/A"})
"""How a command's aligned output writes no value (a failed backup's size ``-``): read as a
value, it made a size column text, and "48.6 GB" sorted under "95 MB". (kubectl's ``<none>``
stays a value: "which pods have no node?" is asked of it as written.)"""


def _valued(cell: str) -> str | None:
    return None if cell.strip() in _NO_VALUE else cell.strip()


def _aligned_sections(text: str) -> tuple[list[str], list[dict[str, Any]]] | None:
    """Aligned tables (:func:`_aligned`) one after another, blank lines between, each under a
    header of the same columns aligned to its own widths: ``kafka-consumer-groups.sh --describe
    --all-groups`` prints a table per group, and read as one table, its columns ran together
    (tuesday ledger-total-lag summed every group's lag). Their rows, in order; None unless every
    paragraph is such a table, and two at least."""
    blocks = [block for block in re.split(r"\n[ \t]*\n", text) if block.strip()]
    if len(blocks) < 2:
        return None
    tables = [_aligned(block) for block in blocks]
    if any(table is None for table in tables):
        return None
    found = [table for table in tables if table is not None]
    names = found[0][0]
    if any(table[0] != names for table in found[1:]):
        return None
    return names, [row for _, rows in found for row in rows]


def _aligned_block(text: str) -> tuple[list[str], list[dict[str, Any]]] | None:
    """The aligned table (:func:`_aligned`) among a report's paragraphs: a title and its lines
    over it, a summary under it, blank lines between (a backup runner's nightly report: "7 jobs:
    5 OK, 1 WARNING, 1 FAILED" under its table). The paragraph of most rows that is one; None
    when none is, or two are as long (which one a question means is not certain)."""
    blocks = [block for block in re.split(r"\n[ \t]*\n", text) if block.strip()]
    if len(blocks) < 2:
        return None
    tables = sorted((found for block in blocks if (found := _aligned(block)) is not None),
                    key=lambda found: len(found[1]), reverse=True)
    if not tables or (len(tables) > 1 and len(tables[1][1]) == len(tables[0][1])):
        return None
    return tables[0]


_RULER = re.compile(r"[-=+ ]*[-=]{3,}[-=+ ]*")


def _ruled(lines: list[str]) -> list[str]:
    """The header and the rows of a table ruled off under its header (``restic snapshots``: a
    line before the header, a ruler under it, another under the rows, then "7 snapshots"): the
    header is the line over the first ruler, the rows the lines up to the next. Lines with no
    ruler: as they are."""
    rulers = [n for n, line in enumerate(lines) if _RULER.fullmatch(line)]
    if not rulers or rulers[0] == 0:
        return lines
    end = rulers[1] if len(rulers) > 1 else len(lines)
    return [lines[rulers[0] - 1], *lines[rulers[0] + 1:end]]


def _positional_name(place: int, values: list[str]) -> str:
    """What the values at one place of every line are: a level, a method, a path, a status, a
    duration, things named alike (``node-1``: node); else ``field<place>``."""
    kinds = {_kind(v) for v in values}
    if len(kinds) == 1 and (kind := kinds.pop()) in ("level", "method", "path", "status"):
        return kind
    if all(_PID.fullmatch(v) for v in values):
        return "pid"
    units = {m.group(1) if (m := _DURATION.fullmatch(v)) else None for v in values}
    if len(units) == 1 and None not in units:
        return f"duration_{units.pop()}"
    prefixes = {m.group(1).lower() if (m := _PREFIX.match(v)) else None for v in values}
    if len(prefixes) == 1 and None not in prefixes:
        return prefixes.pop() or f"field{place + 1}"
    return f"field{place + 1}"


def number(value: Any) -> float | int | None:
    """The number a value holds (``312s`` → 312, ``$1,240.50`` → 1240.5); None if it holds none."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)):
        return value
    if not isinstance(value, str):
        return None
    if (seconds := _compound_seconds(value)) is not None:
        return seconds
    found = _NUMBER.fullmatch(value)
    if not found or not any(ch.isdigit() for ch in found.group(1)):
        return None
    digits = found.group(1).replace(",", "")
    return float(digits) if "." in digits else int(digits)


def column_units(columns: list[str], rows: list[dict[str, Any]]) -> dict[str, str]:
    """The unit a number column's values are all converted to, for each column whose values
    carry different units of one kind: df -h's ``105M``, ``50G`` and ``1.0T`` (sizes, 1024 apart),
    a log's ``850ms`` and ``2s`` (durations). Its most common unit; a value written with no unit
    (df's ``0``) is in it already. Read with the unit gone, 1.0T was less than 105M."""
    units: dict[str, str] = {}
    for column in columns:
        values = [row.get(column) for row in rows if row.get(column) not in (None, "")]
        written = [_unit_of(v) for v in values]
        found = [u for u in written if u]
        if values and None not in written and any(isinstance(v, str) and _compound_seconds(v) is not None
                                                             for v in values) \
                and all(u in _SCALES[1] for u in found):
            units[column] = "s"  # (1h53m40s, 9m51s: seconds, as their number is)
            continue
        if "cpu" in column.lower() and values and None not in written and found and set(found) == {"m"}:
            units[column] = MILLICORES  # (Kubernetes' 500m and 2: a CPU's thousandths, not minutes)
            continue
        if not values or None in written or len(set(found)) < 2:
            continue
        kinds = [next((i for i, kind in enumerate(_SCALES) if u in kind), None) for u in found]
        if None not in kinds and len(set(kinds)) == 1:
            units[column] = max(dict.fromkeys(found), key=found.count)  # (a tie: the first written)
    return units


MILLICORES = "millicores"
"""The unit of a CPU column written as Kubernetes writes its quantities (``500m``, ``2``): a
thousandth of a CPU. Read as they were written, 2 CPUs were less than 500m (morning
cpu-per-namespace)."""


def column_number(value: Any, unit: str = "") -> float | int | None:
    """The number a value holds, in ``unit`` when one is given (:func:`column_units`)."""
    found = number(value)
    written = _unit_of(value) if unit else ""
    if unit == MILLICORES and found is not None:
        return found if written == "m" else found * 1000
    if found is None or not written or written == unit:
        return found
    scale = next(kind for kind in _SCALES if unit in kind)
    return found * scale[written] / scale[unit]


def _unit_of(value: Any) -> str | None:
    """The unit a number is written with ("" for none); None for a value that holds no number."""
    if number(value) is None:
        return None
    if isinstance(value, str) and _compound_seconds(value) is not None:
        return "s"
    found = _UNIT.fullmatch(value) if isinstance(value, str) else None
    return found.group("unit") if found else ""


def _compound_seconds(value: str) -> int | float | None:
    """The seconds a duration written in two or more units holds (Go's and systemd's
    ``1h53m40s``, ``41m07s``, ``3d4h``, ``2m 14s``); None for anything else (``5m`` alone is
    a number with a unit)."""
    found = _COMPOUND.fullmatch(value)
    if found is None or sum(part is not None for part in found.groups()) < 2:
        return None
    total = sum(float(part) * scale for part, scale in zip(found.groups(), (86400, 3600, 60, 1), strict=True)
                if part is not None)
    return int(total) if total == int(total) else total


_COMPOUND = re.compile(r"\s*(?:(\d+)\s*d)?\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m(?!s))?"
                       r"\s*(?:(\d+(?:\.\d+)?)\s*s)?\s*")
_UNIT = re.compile(r"\s*-?[\d,]*(?:\.\d+)?\s*(?P<unit>[A-Za-z]{1,3})\s*")
_BYTES = {"B": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40, "P": 2**50}
_SIZES: dict[str, float] = {f"{p}{tail}": size for p, size in _BYTES.items()
                             for tail in ("", "i", "B", "iB") if p != "B" or not tail}
_SCALES: tuple[dict[str, float], ...] = (
    _SIZES | {"k": 2**10, "kB": 2**10},
    {"ms": 0.001, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400},
)
"""Units of one kind, each in the first of its kind (bytes, seconds)."""


def column_types(columns: list[str], rows: list[dict[str, Any]]) -> dict[str, str]:
    """Each column's SQLite type: INTEGER or REAL when every value it has is a number (a
    boolean column too), else TEXT."""
    types = {}
    for column in columns:
        values = [row.get(column) for row in rows if row.get(column) not in (None, "")]
        numbers = [number(v) for v in values]
        if values and all(n is not None for n in numbers):
            types[column] = "INTEGER" if all(isinstance(n, int) for n in numbers) else "REAL"
        else:
            types[column] = "TEXT"
    return types


def query_rows(columns: list[str], rows: list[dict[str, Any]], sql: str,
               nested: dict[str, tuple[list[str], list[dict[str, Any]]]] | None = None,
               with_units: bool = False) -> Any:
    """Run one SELECT over the rows as the table ``data`` (in memory), beside the tables their
    rows hold (:func:`nested_tables`), each under its name; its result shaped
    for an answer: one value alone, one column as a list, two columns whose first is text as
    an object (a group-by), else a list of objects; None when no row came back. ``with_units``
    (a value for the answer, no other package's input): each number of several columns a
    column written with a unit gave carries it too (``{"job": "minio-assets", "longest":
    "7082 s"}``)."""
    statement = sql.strip().rstrip(";").strip()
    if not re.match(r"(?is)(select|with)\b", statement) or ";" in statement:
        raise ValueError("the query must be one SELECT statement over the table data")
    db = sqlite3.connect(":memory:")
    for name, (table_columns, table_rows_) in {"data": (columns, rows), **(nested or {})}.items():
        _create(db, name, table_columns, table_rows_)
    cursor = db.execute(statement)
    found = cursor.fetchmany(10_001)
    named = [d[0] for d in cursor.description or []]
    tidied = [[_tidy(v) for v in row] for row in found]
    if with_units and len(named) > 1 and any(units := _item_units(statement, named, columns, rows)):
        tidied = [[_with_unit(v, unit) if unit and _a_number(v) else v
                   for v, unit in zip(row, units, strict=True)] for row in tidied]
    shaped = _shaped(named, tidied)
    unit = _value_unit(statement, columns, rows)
    return _with_unit(shaped, unit) if unit and _a_number(shaped) else shaped


def _a_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


HMS = "h m s"
"""The unit of a column of durations written in hours, minutes and seconds (``1h02m47s``): its
numbers are seconds, shown as the data writes them with the seconds beside (evening
follow-up-longest-nightly was answered "3767 s" for a backup the table says took 1h02m47s)."""


def _with_unit(value: int | float, unit: str) -> str:
    """A number with its unit; a duration of :data:`HMS` as the data writes it, its seconds beside."""
    if unit != HMS:
        return f"{value} {unit}"
    sign, whole = "-" if value < 0 else "", round(abs(value))
    hours, rest = divmod(whole, 3600)
    minutes, seconds = divmod(rest, 60)
    written = (f"{hours}h{minutes:02d}m{seconds:02d}s" if hours else
               f"{minutes}m{seconds:02d}s" if minutes else f"{seconds}s")
    return f"{sign}{written} ({value} s)"


def _item_units(sql: str, named: list[str], columns: list[str], rows: list[dict[str, Any]]) -> list[str]:
    """The unit of each column a query selects (:func:`_column_unit` of the data's column it is,
    or the sum, average, minimum or maximum of), "" where it has none or is anything else."""
    found = SELECT_LIST.match(sql)
    if found is None:
        return [""] * len(named)
    items = select_items(found["columns"])
    if [item.strip() for item in items] == ["*"]:
        items = named
    if len(items) != len(named):
        return [""] * len(named)
    converted = column_units(columns, rows)
    return [_column_unit(m["column"], columns, rows, converted) if (m := _ITEM_COLUMN.match(item)) else ""
            for item in items]


SELECT_LIST = re.compile(r"(?is)^\s*select\s+(?:distinct\s+)?(?P<columns>.+?)\s+from\s+data\b")
"""A query of ``data`` and its select list (``columns``)."""
_ITEM_COLUMN = re.compile(r'(?is)^\s*(?:(?:sum|avg|min|max|total)\s*\(\s*)?"?(?P<column>\w+)"?\s*\)?'
                          r'(?:\s+as\s+"?\w+"?)?\s*$')


def select_items(columns: str) -> list[str]:
    """The items of a select list, split at the commas outside parentheses."""
    items, depth, start = [], 0, 0
    for i, ch in enumerate(columns):
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            items.append(columns[start:i])
            start = i + 1
    return [*items, columns[start:]]


def _column_unit(column: str, columns: list[str], rows: list[dict[str, Any]],
                 converted: dict[str, str] | None = None) -> str:
    """The unit a column's numbers are in: the one its values are converted to
    (:func:`column_units`, or ``converted`` when the caller has them), or the one unit they are
    all written with; "" for none."""
    if column not in columns:
        return ""
    if unit := (column_units(columns, rows) if converted is None else converted).get(column):
        compound = any(isinstance(row.get(column), str) and _compound_seconds(row[column]) is not None
                       for row in rows)
        return HMS if unit == "s" and compound else unit
    written = {_unit_of(row.get(column)) for row in rows  # (a 0 written bare is in any unit: meminfo's, df's)
               if row.get(column) not in (None, "") and not _bare_zero(row[column])}
    [only] = written if len(written) == 1 else [None]
    return only if only and any(only in kind for kind in _SCALES) else ""


def _bare_zero(value: Any) -> bool:
    return number(value) == 0 and not _unit_of(value)


def _value_unit(sql: str, columns: list[str], rows: list[dict[str, Any]]) -> str:
    """The unit of the one value a query selects of a column written with one (its SUM, AVG, MIN,
    MAX or the column itself: ``SELECT SUM(size) FROM data`` over ``38.2GiB``, ``0B``… is in GiB),
    "" for anything else (a count, a ratio of two columns, a column with no unit). Shown with the
    value, the unit is the data's, not a word the answer guesses ("19.3 bytes": nightly
    mail-users-total)."""
    found = _ONE_VALUE.match(sql) or _VALUES_ADDED.match(sql)
    return "" if found is None else _column_unit(found["column"], columns, rows)


_ONE_VALUE = re.compile(r'(?is)^\s*select\s+(?:(?:sum|avg|min|max|total)\s*\(\s*)?"?(?P<column>\w+)"?\s*\)?'
                        r"(?:\s+as\s+\w+)?\s+from\s+data\b(?![^()]*\bgroup\s+by\b)")


_NAMED_ONE = r'\(\s*select\s+"?{column}"?\s+from\s+data\s+where\s+[^()]*\)'
_VALUES_ADDED = re.compile(r"(?is)^\s*select\s+" + _NAMED_ONE.format(column=r"(?P<column>\w+)")
                           + r"(?:\s*[-+]\s*" + _NAMED_ONE.format(column=r"(?P=column)") + r")+"
                           + r"(?:\s+as\s+\w+)?\s*;?\s*$")
"""A sum or a difference of single values of one column (``SELECT (SELECT value FROM data WHERE
name = 'SwapTotal') - (SELECT value FROM data WHERE name = 'SwapFree')``): in that column's unit."""


def _create(db: sqlite3.Connection, name: str, columns: list[str], rows: list[dict[str, Any]]) -> None:
    types = column_types(columns, rows)
    units = column_units(columns, rows)
    # every number column REAL: SQLite divides integers as integers (420 / 500 is 0, and "more
    # than 80% full" found no host); a whole result comes back whole all the same (_tidy)
    names = ", ".join(f'"{c}" {"TEXT" if types[c] == "TEXT" else "REAL"}' for c in columns)
    db.execute(f'CREATE TABLE "{name}" ({names})')
    holes = ", ".join("?" for _ in columns)
    db.executemany(f'INSERT INTO "{name}" VALUES ({holes})',
                   [[_stored(row.get(c), types[c], units.get(c, "")) for c in columns] for row in rows])


def _stored(value: Any, kind: str, unit: str = "") -> Any:
    if value is None or value == "":
        return None
    if kind != "TEXT":
        return column_number(value, unit)
    return value if isinstance(value, str) else json.dumps(value)


def _tidy(value: Any) -> Any:
    if isinstance(value, float):
        value = round(value, 6)
        return int(value) if value.is_integer() and abs(value) < 1e15 else value
    return value


def _shaped(named: list[str], rows: list[list[Any]]) -> Any:
    if not rows or (len(rows) == 1 and all(v is None for v in rows[0])):
        return None
    if len(named) == 1:
        return rows[0][0] if len(rows) == 1 else [r[0] for r in rows]
    if len(rows) == 1:
        return dict(zip(named, rows[0], strict=True))
    keyed = all(isinstance(r[0], str) for r in rows) and len({r[0] for r in rows}) == len(rows)
    if len(named) == 2 and keyed:
        return {r[0]: r[1] for r in rows}
    return [dict(zip(named, r, strict=True)) for r in rows]
