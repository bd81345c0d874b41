"""A LIKE pattern that matches no row, made the pattern it meant (sandbox/like_patterns.py)."""

from __future__ import annotations

import pytest

from sandbox.like_patterns import likes_as_meant
from sandbox.table_query import Table, find_table
from sandbox.table_rows import query_rows

LOG = """\
Nov 28 02:41:17 lb-02 haproxy[1187]: Server be_api/api-3 is DOWN, reason: Layer4 timeout
Nov 28 02:44:52 lb-02 haproxy[1187]: Server be_api/api-3 is UP, reason: Layer7 check passed
Nov 28 03:12:44 lb-02 sshd[41102]: Failed password for invalid user admin from 203.0.113.45 port 52114 ssh2
Nov 28 03:12:47 lb-02 sshd[41102]: Failed password for invalid user admin from 203.0.113.45 port 52114 ssh2
Nov 28 03:13:02 lb-02 sshd[41109]: Failed password for root from 198.51.100.77 port 40022 ssh2
Nov 28 04:05:09 lb-02 kernel: Out of memory: Killed process 38810 (node_exporter)
Nov 28 07:02:55 lb-02 sshd[44010]: Failed password for invalid user oracle from 203.0.113.45 port 53990 ssh2
"""
PER_SOURCE = "How many failed SSH password attempts came from each address in logs/lb-02.syslog?"


@pytest.fixture
def table() -> Table:
    found = find_table({"log": {"path": "logs/lb-02.syslog", "content": LOG}})
    assert found is not None and "message" in found.columns and "address" in found.columns
    return found


def test_a_rows_message_copied_without_wildcards_becomes_the_words_the_request_says(table: Table) -> None:
    """weekend failed-ssh-per-source: the copied message matched nothing; the words the request
    says ("failed", "password") pick every failed attempt, from each address."""
    sql = ("SELECT address, COUNT(*) AS total FROM data "
           "WHERE message LIKE 'Failed password for invalid user admin' GROUP BY address")
    mended = likes_as_meant(table, PER_SOURCE, sql)
    assert mended is not None and "LIKE '%Failed password%'" in mended
    assert query_rows(table.columns, table.rows, sql) is None
    assert query_rows(table.columns, table.rows, mended) == {"198.51.100.77": 1, "203.0.113.45": 3}


@pytest.mark.parametrize(("asked", "pattern", "meant"), [
    # no wildcard, every word said (linking words aside): contained, not equal
    ("how many times did api-3 go down?", "api-3 is DOWN", "%api-3 is DOWN%"),
    # words the request never says, but no run of two it does: contained as written
    ("how many OOM kills were there?", "Out of memory: Killed", "%Out of memory: Killed%"),
])
def test_a_pattern_that_matches_nothing_is_read_as_contained(table: Table, asked: str, pattern: str,
                                                               meant: str) -> None:
    sql = f"SELECT COUNT(*) FROM data WHERE message LIKE '{pattern}'"
    assert likes_as_meant(table, asked, sql) == f"SELECT COUNT(*) FROM data WHERE message LIKE '{meant}'"


@pytest.mark.parametrize("sql", [
    # it matches rows: the model's choice of rows stands, unsaid words and all
    "SELECT COUNT(*) FROM data WHERE message LIKE 'Server be_api/api-3 is DOWN%'",
    "SELECT COUNT(*) FROM data WHERE message LIKE '%Failed password for invalid user admin%'",
    # NOT LIKE: nothing matched is everything kept
    "SELECT COUNT(*) FROM data WHERE message NOT LIKE 'api-3 is DOWN'",
    # no meaning of it matches anything either
    "SELECT COUNT(*) FROM data WHERE message LIKE 'disk full'",
    # not a text column
    "SELECT COUNT(*) FROM data WHERE pid LIKE '99'",
])
def test_a_pattern_is_left_as_written_unless_another_certainly_meant_matches(table: Table, sql: str) -> None:
    assert likes_as_meant(table, "how many times did api-3 go down, and the disk?", sql) is None


def test_a_short_word_is_said_only_as_a_whole_word(table: Table) -> None:
    """Review: "s" counted as said by "ssh", and the run it started cut the pattern wrong."""
    sql = "SELECT COUNT(*) FROM data WHERE message LIKE 'it''s failed password for admin'"
    mended = likes_as_meant(table, "how many failed password attempts over ssh?", sql)
    assert mended is not None and "LIKE '%failed password%'" in mended
