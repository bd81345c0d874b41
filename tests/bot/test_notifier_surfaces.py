"""The notifier hands each run event to every surface, in order, with the run as this process
shows it; a surface that fails is logged and the others show the event all the same. Fake
surfaces and a fake store: no database, no Slack, no app."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from structlog.testing import capture_logs

from agent.events import DecisionRecorded, Planning, RunCancelled, RunEvent, RunFailed
from bot.ground.background_tasks import TaskSet
from bot.outbound.notifier import Notifier
from bot.outbound.surface import RunSurface, RunTracker
from bot.store import StatusMessage
from bot.views.progress_view import Phase

THREAD = "slack:T1:C1:1.0"


class StatusMessages:
    """The store's status messages, as the notifier uses them: one, posted for the request."""

    def __init__(self) -> None:
        self.message = StatusMessage(id=1, thread_key=THREAD, channel="C1", ts="2.0", request="deploy prod",
                                     requested_by="U0ALICE", created_at=0.0)
        self.log: list[str] = []

    async def status_message_for_run(self, thread_key: str, run_id: str) -> StatusMessage | None:
        return self.message if self.message.run_id == run_id else None

    async def bind_status_message(self, thread_key: str, run_id: str) -> StatusMessage | None:
        if self.message.run_id is not None:
            return None
        self.message = replace(self.message, run_id=run_id)
        return self.message

    async def finish_status_message(self, message_id: int) -> None:
        self.message = replace(self.message, finished=True)
        self.log.append("status message finished")


class Shown:
    """A surface that notes what it was handed (in a log the surfaces share)."""

    def __init__(self, name: str, log: list[str], *, fails: bool = False) -> None:
        self.name, self.log, self.fails = name, log, fails
        self.runs: list[RunTracker | None] = []

    async def on_event(self, event: RunEvent, run: RunTracker | None) -> None:
        self.log.append(f"{self.name}: {type(event).__name__}")
        self.runs.append(run)
        if self.fails:
            raise RuntimeError("Slack is down for this one")


def notifier(store: Any, surfaces: list[RunSurface]) -> Notifier:
    unused: Any = None  # (the engine, the approvals and Slack are not reached)
    poster: Any = type("Poster", (), {"client": None})()
    return Notifier(engine=unused, approvals=unused, store=store, poster=poster, approval_messages=unused,
                    surfaces=surfaces, tasks=TaskSet())


async def test_every_surface_is_handed_the_event_in_order_and_one_failing_stops_none() -> None:
    store = StatusMessages()
    log = store.log
    first, failing, last = Shown("status", log), Shown("pane", log, fails=True), Shown("home", log)
    notify = notifier(store, [first, failing, last])
    with capture_logs() as logs:
        await notify.handle(Planning(thread_id=THREAD, run_id="r1", request="deploy prod"))
    assert log == ["status: Planning", "pane: Planning", "home: Planning"]
    [run] = {id(r): r for r in first.runs + failing.runs + last.runs}.values()  # one run, handed to each
    assert run is not None and run.run_id == "r1" and run.message == store.message
    assert run.progress.phase is Phase.PLANNING  # applied before the surfaces see it
    [logged] = [entry for entry in logs if entry["log_level"] == "error"]
    assert logged["surface"] == "Shown" and logged["event_type"] == "Planning"

    # the run ends, cancelled by alice: every surface shows it, then its status message is finished
    await notify.handle(RunCancelled(thread_id=THREAD, run_id="r1", by="U0ALICE"))
    await notify.handle(RunFailed(thread_id=THREAD, run_id="r1", error="The run was cancelled"))
    assert log[3:] == ["status: RunCancelled", "pane: RunCancelled", "home: RunCancelled",
                       "status: RunFailed", "pane: RunFailed", "home: RunFailed", "status message finished"]
    assert run.progress.phase is Phase.CANCELLED and run.progress.cancelled_by == "U0ALICE"

    # a late decision on one of its approvals: no run here shows it, the surfaces are told so
    await notify.handle(DecisionRecorded(thread_id=THREAD, run_id="r1", approval_id="a1", node_id="ship",
                                         status="expired", decided_by=None))
    assert log[-3:] == ["status: DecisionRecorded", "pane: DecisionRecorded", "home: DecisionRecorded"]
    assert first.runs[-1] is None and last.runs[-1] is None
    await notify.tasks.close()
