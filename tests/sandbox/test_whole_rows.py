"""A step whose goal asks for whole rows selects them whole (sandbox/whole_rows.py)."""

from __future__ import annotations

import pytest

from agent.engine.recipient_mails import RECIPIENTS_GOAL
from sandbox.table_rows import query_rows, table_rows
from sandbox.whole_rows import WHOLE_ROWS, whole_rows

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
GOAL = RECIPIENTS_GOAL.format(request="Email each owner of an open action item their item")


def test_dagbots_listing_goal_asks_for_whole_rows() -> None:
    assert WHOLE_ROWS.search(GOAL)


def test_the_items_a_listing_picks_are_selected_whole_with_their_owner() -> None:
    """evening mail-action-owners: ``name AS owner, email, action`` over the notes' two tables
    left each item's owner out."""
    picked = "SELECT name AS owner, email AS owner_email, action FROM data WHERE status = 'open'"
    whole = whole_rows(GOAL, picked)
    assert whole == "SELECT * FROM data WHERE status = 'open'"
    table = table_rows(NOTES, ".md")
    assert table is not None
    [item] = [query_rows(*table, whole)]
    assert isinstance(item, dict) and item["owner"] == "Kenji" and item["action"] == "Add a lock_timeout"


def test_items_joined_to_other_rows_are_selected_alone_under_their_own_conditions() -> None:
    """evening mail-action-owners: four rewrites joined the items to the attendees on ``T1.owner =
    T2.name`` ("Kenji" to "Kenji Watanabe") and found nothing; the owner's address is dagbot's to find."""
    joined = ("SELECT T1.name AS owner, T1.action AS item FROM data AS T1 JOIN attendees AS T2 "
              "ON T1.owner = T2.name WHERE T1.status = 'open' AND T2.section = 'meetings/ops.md'")
    whole = whole_rows(GOAL, joined)
    assert whole == "SELECT * FROM data WHERE status = 'open'"
    table = table_rows(NOTES, ".md")
    assert table is not None
    [item] = [query_rows(*table, whole)]
    assert isinstance(item, dict) and item["owner"] == "Kenji"
    assert whole_rows(GOAL, "SELECT * FROM data t1 JOIN data t2 ON t1.owner = t2.name") == "SELECT * FROM data"
    # a join whose conditions mix both sides with OR is not taken apart
    assert whole_rows(GOAL, "SELECT * FROM data AS a JOIN data AS b ON a.owner = b.name "
                            "WHERE a.status = 'open' OR b.role = 'DBA'") is None


def test_a_computed_query_or_another_goal_is_left_as_it_is() -> None:
    assert whole_rows(GOAL, "SELECT owner, COUNT(*) AS n FROM data GROUP BY owner") is None
    assert whole_rows(GOAL, "SELECT * FROM data WHERE status = 'open'") is None
    assert whole_rows("the open action items", "SELECT action FROM data WHERE status = 'open'") is None


@pytest.mark.parametrize(("joined", "whole"), [
    ("SELECT * FROM data AS T1 JOIN data AS T2 ON T1.owner = T2.name WHERE T1.status = 'open' "
     "ORDER BY T1.due DESC LIMIT 3", "SELECT * FROM data WHERE status = 'open' ORDER BY due DESC LIMIT 3"),
    ("SELECT * FROM data T1 JOIN data T2 ON T1.owner = T2.name WHERE T1.status = 'open and blocked' "
     "AND T1.section LIKE 'T2.%'", "SELECT * FROM data WHERE status = 'open and blocked' AND section LIKE 'T2.%'"),
    # an order by the rows joined, or a filter of the items inside the ON: not taken apart
    ("SELECT * FROM data AS T1 JOIN data AS T2 ON T1.owner = T2.name WHERE T1.done = 0 ORDER BY T2.name", None),
    ("SELECT * FROM data AS T1 JOIN data AS T2 ON T1.owner = T2.name AND T1.done = 0", None),
    ("SELECT * FROM data INNER JOIN attendees ON owner = name WHERE status = 'open'", None),
])
def test_a_joins_order_limit_and_literals_are_kept(joined: str, whole: str | None) -> None:
    assert whole_rows(GOAL, joined) == whole
