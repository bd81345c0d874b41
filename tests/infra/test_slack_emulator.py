"""The emulated Slack's own guarantees, below what the bot and the playground tests exercise."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from infra.emulators.slack.workspace import Workspace


@pytest.mark.parametrize("clock", [None, time.time], ids=["standing-still", "real"])
def test_every_ts_is_unique_and_in_order_however_fast_messages_come(clock: Callable[[], float] | None) -> None:
    # A float near 1.8e9 cannot add 0.000001 exactly: counted that way, a burst of posts once
    # gave two requests the same ts, and so one thread.
    workspace = Workspace(clock=clock)
    stamps = [workspace.next_ts() for _ in range(20_000)]
    assert len(set(stamps)) == len(stamps)
    assert stamps == sorted(stamps) and all(len(ts.split(".")[1]) == 6 for ts in stamps)
