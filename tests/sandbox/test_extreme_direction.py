"""The most or the least a request asks for is kept the way it asks (sandbox/extreme_direction.py)."""

from __future__ import annotations

import pytest

from sandbox.extreme_direction import asked_extreme, extreme_as_asked

SLOWEST = "What was the slowest statement in the log, and how long did it take?"


@pytest.mark.parametrize(("request_text", "sql", "mended"), [
    # evening slowest-statement: MIN for the slowest, twice
    (SLOWEST, "SELECT MIN(duration_ms) AS d, statement FROM data", "SELECT MAX(duration_ms) AS d, statement FROM data"),
    (SLOWEST, "SELECT statement FROM data ORDER BY duration_ms LIMIT 1",
     "SELECT statement FROM data ORDER BY duration_ms DESC LIMIT 1"),
    ("which host has the fewest errors?", "SELECT host, COUNT(*) AS n FROM data GROUP BY host ORDER BY n DESC LIMIT 1",
     "SELECT host, COUNT(*) AS n FROM data GROUP BY host ORDER BY n ASC LIMIT 1"),
    (SLOWEST, "SELECT MAX(duration_ms) FROM data", None),  # as asked
    ("the biggest and the smallest invoice", "SELECT MAX(amount) FROM data", None),  # both asked
    ("jobs that ran at most 5 minutes", "SELECT MIN(duration) FROM data", None),  # a bound, not an extreme
    (SLOWEST, "SELECT MIN(a), MAX(b) FROM data", None),  # which one is meant: not certain
])
def test_the_extreme_is_taken_the_way_the_request_asks(request_text: str, sql: str, mended: str | None) -> None:
    assert extreme_as_asked(request_text, sql) == mended


def test_the_words_of_an_extreme_say_which() -> None:
    assert asked_extreme("the longest backup") == "MAX" and asked_extreme("the cheapest plan") == "MIN"
    assert asked_extreme("how many backups ran?") is None
