"""The processes that follow run events keep following them after one event fails to be handled:
the failure is logged (structlog's own ``event`` argument must not be passed twice) and the next
event is handled."""

from __future__ import annotations

from typing import Any

from agent.events import EventBus, Planning, RunEvent
from bot.outbound.notifier import Notifier
from infra.operations.metrics import Metrics
from tests.fakes.waiting import wait_until

THREAD = "slack:T1:C1:1.0"


async def test_a_thread_lane_goes_on_after_an_event_it_could_not_show() -> None:
    unused: Any = None  # (handling is replaced below: nothing else is reached)
    notifier = Notifier(engine=unused, approvals=unused, store=unused, poster=unused,
                        approval_messages=unused, surfaces=[], tasks=unused)
    shown: list[str] = []

    async def handle(event: RunEvent) -> None:
        if event.run_id == "broken":
            raise RuntimeError("cannot render")
        shown.append(event.run_id)

    notifier.handle = handle  # type: ignore[method-assign]
    notifier._route(Planning(thread_id=THREAD, run_id="broken", request="a"))
    notifier._route(Planning(thread_id=THREAD, run_id="next", request="b"))
    await wait_until(lambda: shown == ["next"], within=5, what="the event after the failed one shown")


async def test_metrics_go_on_counting_after_an_event_they_could_not_count() -> None:
    metrics, events = Metrics("r1"), EventBus()
    observe = metrics.observe

    def flaky(event: RunEvent) -> None:
        if event.run_id == "broken":
            raise RuntimeError("cannot count")
        observe(event)

    metrics.observe = flaky  # type: ignore[method-assign]
    async with metrics.watching(events):
        await events.publish(Planning(thread_id=THREAD, run_id="broken", request="a"))
        await events.publish(Planning(thread_id=THREAD, run_id="next", request="b"))

        def started() -> float:
            value = metrics.registry.get_sample_value("dagbot_runs_started_total", {"replica": "r1"})
            return value or 0.0

        await wait_until(lambda: started() == 1.0, within=5, what="the run after the failed event counted")
