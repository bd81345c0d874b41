""""Has any …?" answered with the rows that are so beside their count
(sandbox/existence_questions.py)."""

from __future__ import annotations

from sandbox.existence_questions import MOST_NAMED, named_beside_count, naming_column, row_naming_columns
from sandbox.table_query import find_table
from sandbox.table_rows import query_rows

CERTS = """\
certificate,domains,expires
api.example.net,api.example.net,2026-12-04
status.example.net,status.example.net,2026-11-27
shop.example.net,shop.example.net www.example.net,2027-01-26
old.example.net,old.example.net,2026-10-01
"""
COUNTED = "SELECT COUNT(*) FROM data WHERE expires < '2026-11-29'"


def table():  # type: ignore[no-untyped-def]
    found = find_table({"c": {"path": "certs.csv", "content": CERTS}})
    assert found is not None
    return found


def test_a_question_whether_any_row_is_so_gets_the_names_beside_the_count() -> None:
    """weekend expired-cert: counted, and answered "one", not which."""
    certs = table()
    assert row_naming_columns(certs)[0] == "certificate"
    for asked in ("Has any certificate in certs.csv already expired?", "Are there any expired certificates?",
                  "is there an expired cert?", "did any of them expire?"):
        mended = named_beside_count(certs, asked, COUNTED)
        assert mended is not None, asked
        assert query_rows(certs.columns, certs.rows, mended) == {
            "count": 2, "certificate": "status.example.net, old.example.net"}
    aliased = named_beside_count(certs, "Have any expired?", COUNTED.replace("(*)", "(*) AS certificate"))
    assert aliased is not None and 'AS "certificates"' in aliased
    # none: the count still says no
    none = named_beside_count(certs, "Has any certificate expired?", COUNTED.replace("2026-11-29", "2000-01-01"))
    assert none is not None and query_rows(certs.columns, certs.rows, none) == {"count": 0, "certificate": None}


def test_a_count_asked_a_grouped_or_unfiltered_count_or_no_naming_column_is_left_as_written() -> None:
    certs = table()
    assert named_beside_count(certs, "How many certificates have expired, if any?", COUNTED) is None
    assert named_beside_count(certs, "Has any certificate expired?", "SELECT COUNT(*) FROM data") is None
    assert named_beside_count(certs, "Has any certificate expired?",
                              "SELECT COUNT(*) FROM data WHERE expires < '2026-11-29' GROUP BY domains") is None
    assert named_beside_count(certs, "Which certificates expired?", COUNTED) is None  # (told as a fault)
    shared = find_table({"r": {"path": "runs.csv", "content": "team,status\na,ok\na,failed\nb,failed\n"}})
    assert shared is not None and row_naming_columns(shared) == []
    assert named_beside_count(shared, "Has any run failed?",
                              "SELECT COUNT(*) FROM data WHERE status = 'failed'") is None


def test_the_names_come_from_a_naming_column_quoted_and_at_most_twenty() -> None:
    """Not a column of dates (unique as they are), a column named by one of SQL's words quoted,
    and a long list of names left to the count alone."""
    dated = find_table({"c": {"path": "c.csv", "content": "expires,certificate\n2026-12-04,api\n2026-11-27,status\n"
                                                           "2026-10-01,old\n"}})
    assert dated is not None and naming_column(dated) == "certificate"
    checks = find_table({"c": {"path": "checks.csv", "content": "check,status\ndisk,ok\nload,failed\nping,failed\n"}})
    assert checks is not None
    mended = named_beside_count(checks, "Did any check fail?", "SELECT COUNT(*) FROM data WHERE status = 'failed'")
    assert mended is not None
    assert query_rows(checks.columns, checks.rows, mended) == {"count": 2, "check": "load, ping"}
    many = "host,up\n" + "".join(f"h{i},no\n" for i in range(MOST_NAMED + 1))
    hosts = find_table({"h": {"path": "hosts.csv", "content": many}})
    assert hosts is not None
    counted = named_beside_count(hosts, "Is any host down?", "SELECT COUNT(*) FROM data WHERE up = 0")
    assert counted is not None
    assert query_rows(hosts.columns, hosts.rows, counted) == {"count": MOST_NAMED + 1, "host": None}
