"""The soonest of what is still to come, not one that has passed (sandbox/upcoming_dates.py)."""

from __future__ import annotations

import datetime

from sandbox.table_query import find_table
from sandbox.table_rows import query_rows
from sandbox.upcoming_dates import upcoming_only

TODAY = datetime.date.today()


def day(offset: int) -> str:
    return (TODAY + datetime.timedelta(days=offset)).isoformat()


CERTS = f"name,expires\napi,{day(5)} 07:31:55\nstatus,{day(-2)} 23:59:59\nshop,{day(58)} 04:12:09\n"
ASKED = "Put the name and expiry date of the still-valid certificate that expires soonest into x.txt"


def table():  # type: ignore[no-untyped-def]
    found = find_table({"c": {"path": "certs.csv", "content": CERTS}})
    assert found is not None
    return found


def test_the_soonest_still_valid_is_read_from_the_rows_still_to_come() -> None:
    """weekend next-expiry-to-file: the earliest date of all, a certificate expired two days before."""
    certs = table()
    for sql in ("SELECT name, expires FROM data WHERE expires = (SELECT MIN(expires) FROM data)",
                "SELECT name, expires FROM data ORDER BY expires ASC LIMIT 1",
                "SELECT name, MIN(expires) AS expires FROM data"):
        mended = upcoming_only(certs, ASKED, sql)
        assert mended is not None, sql
        assert query_rows(certs.columns, certs.rows, mended) == {"name": "api", "expires": f"{day(5)} 07:31:55"}
    for asked in ("Which certificate expires next?", "which cert is next to expire?", "the upcoming expiry"):
        assert upcoming_only(certs, asked, "SELECT name FROM data ORDER BY expires LIMIT 1") is not None, asked


def test_no_upcoming_asked_a_compared_date_an_or_or_the_latest_is_left_as_written() -> None:
    certs = table()
    earliest = "SELECT name FROM data ORDER BY expires LIMIT 1"
    assert upcoming_only(certs, "Which certificate has the earliest expiry date?", earliest) is None
    assert upcoming_only(certs, ASKED, f"SELECT name FROM data WHERE expires > '{day(0)}' ORDER BY expires LIMIT 1") \
        is None
    assert upcoming_only(certs, ASKED, "SELECT name FROM data WHERE name = 'a' OR name = 'b' ORDER BY expires "
                                       "LIMIT 1") is None
    assert upcoming_only(certs, ASKED, "SELECT name FROM data ORDER BY expires DESC LIMIT 1") is None
    assert upcoming_only(certs, ASKED, "SELECT name FROM data WHERE expires > datetime('now') ORDER BY expires "
                                       "LIMIT 1") is None
