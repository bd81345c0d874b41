"""Who cancelled a run travels on the run's events: a cancel ``by`` someone makes the run's
scheduler publish :class:`RunCancelled` naming them, before the :class:`RunFailed` that ends it,
and withdraws its approvals in their name (front ends read it there, not beside the events)."""

from __future__ import annotations

from agent.events import AwaitingApproval, NodeStarted, RunCancelled, RunFailed
from agent.execution.cancelling import CancelOutcome
from tests.agent.harness import MEMORY, harness

DEPLOY_AND_LOOK = {"nodes": [{"id": "ship", "tool": "deploy", "args": {"target": "prod"}},
                             {"id": "look", "tool": "lookup", "args": {"key": "k", "gate": "g"}}]}
DEPLOY = {"nodes": [{"id": "ship", "tool": "deploy", "args": {"target": "prod"}}]}


async def test_a_cancel_by_a_user_is_an_event_of_the_run_naming_them() -> None:
    async with harness(MEMORY, [DEPLOY_AND_LOOK]) as h:
        await h.engine.submit("x1", "deploy and look", requested_by="U0BOB")
        asked = await h.next_event(AwaitingApproval)
        await h.next_event(NodeStarted, node_id="look")

        stopped = await h.engine.cancel("x1", by="U0ALICE")
        assert stopped.outcome is CancelOutcome.STOPPED
        assert [a.reason for a in stopped.withdrawn] == ["run cancelled by U0ALICE"]

        cancelled = await h.next_event(RunCancelled)
        assert cancelled.by == "U0ALICE" and cancelled.run_id == asked.run_id
        failed = await h.next_event(RunFailed)
        assert failed.run_id == asked.run_id
        await h.engine.idle()
        assert [type(e).__name__ for e in h.drain()].count("RunCancelled") == 1
        assert h.log.count("deploy") == 0


async def test_a_parked_run_cancelled_by_nobody_in_particular_says_so() -> None:
    async with harness(MEMORY, [DEPLOY]) as h:
        await h.engine.submit("x2", "deploy", requested_by="U0BOB")
        await h.next_event(AwaitingApproval)
        await h.engine.idle()  # parked: only the approval is left

        stopped = await h.engine.cancel("x2", by=None)
        assert [a.reason for a in stopped.withdrawn] == ["run cancelled"]
        assert (await h.next_event(RunCancelled)).by is None
        await h.next_event(RunFailed)
