"""A query of ``data`` under one alias is read as one of ``data`` by its own name."""

from __future__ import annotations

import pytest

from sandbox.query_aliases import without_alias
from sandbox.query_checks import without_targets
from sandbox.table_query import Table
from sandbox.table_rows import table_rows

NOTES = """\
## Attendees

| Name | Email |
|---|---|
| Kenji Watanabe | kenji.watanabe@example.org |

## Action items

| Action | Owner | Status |
|---|---|---|
| Add a lock_timeout | Kenji | open |
| Rotate the password | Kenji | done |
"""


def test_the_one_alias_of_data_is_dropped_from_its_read_and_its_columns() -> None:
    assert without_alias("SELECT T1.name AS owner, T1.email FROM data AS T1 WHERE T1.status = 'open'") == (
        "SELECT name AS owner, email FROM data WHERE status = 'open'")
    assert without_alias("SELECT d.host, COUNT(*) AS n FROM data d GROUP BY d.host ORDER BY n DESC") == (
        "SELECT host, COUNT(*) AS n FROM data GROUP BY host ORDER BY n DESC")


@pytest.mark.parametrize("sql", [
    "SELECT host FROM data WHERE n > 1",  # no alias
    "SELECT a.x FROM data a JOIN data b ON a.x = b.y",  # a self-join: two names for two reads
    "SELECT t.x FROM data t JOIN attendees u ON t.owner = u.name",  # another table
    "SELECT t.x FROM data t WHERE t.y = (SELECT MAX(y) FROM data)",  # a subquery may refer to it
    "SELECT x FROM data WHERE y = 1 ORDER BY x",
])
def test_a_query_with_no_single_alias_of_data_alone_is_left_as_it_is(sql: str) -> None:
    assert without_alias(sql) is None


def test_behind_an_alias_a_condition_on_the_files_own_path_is_still_found_and_left_out() -> None:
    columns, rows = table_rows(NOTES, ".md") or ([], [])
    table = Table("inputs['notes']['content']", ".md", columns, rows, "meetings/sync.md")
    request = "Email each owner of an open action item in meetings/sync.md their item"
    aliased = "SELECT T1.action, T1.owner FROM data AS T1 WHERE T1.section = 'meetings/sync.md' AND T1.status = 'open'"
    assert without_targets(table, request, aliased) is None  # (the alias hid the column)
    plain = without_alias(aliased)
    assert plain is not None
    assert without_targets(table, request, plain) == "SELECT action, owner FROM data WHERE status = 'open'"
