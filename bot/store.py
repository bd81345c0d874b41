"""What the bot remembers across restarts, behind small ports (``infra`` implements them in SQL,
and in memory for tests), one per kind of record:

- claims (:class:`DeliveryClaims`): delivered messages, so retries and twins start one run; a
  claim is renewed while its claimer works and settled once its request is queued, and one
  left unsettled by a process that died can be taken again;
- slash commands (:class:`SlashCommandLog`): recorded before Slack is answered, so that one
  whose process died is run by another;
- owned threads (:class:`ThreadOwnership`): a message in one of them is a follow-up, no mention
  needed;
- status messages (:class:`StatusMessageRecords`): one per run, bound to the run when the
  engine starts it;
- approval messages (:class:`ApprovalMessageRecords`): which Slack message shows which
  approval, to update it later;
- approval DMs (:class:`ApprovalDMRecords`): the direct message each approver got about an
  approval asked where they may not see it (claimed once per approval and person, across
  processes);
- answers (:class:`AnswerLog`): the message ending each run's answer, and the feedback votes
  on it; and what each person asked lately (:class:`RunHistory`);
- assistant threads (:class:`AssistantThreadRecords`): threads opened in Slack's assistant pane.

:class:`BotStore` is all of them, for the wiring; each part of the bot takes only the ones it
uses (a part that uses several takes one of the unions at the end of this module), so that its
tests can hand it a fake of just those.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from bot.ground.threads import ThreadRef


@dataclass(frozen=True)
class StatusMessage:
    id: int
    thread_key: str
    channel: str
    ts: str
    request: str
    requested_by: str | None
    created_at: float
    run_id: str | None = None
    """None while the request waits in the thread's queue (not started by the engine yet)."""
    finished: bool = False
    request_key: str | None = None
    """The engine's key of the request (None on messages from before keys were kept)."""


@dataclass(frozen=True)
class ApprovalMessage:
    approval_id: str
    thread_key: str
    channel: str
    ts: str
    closed: bool = False
    """The message shows a final state (decided, expired, withdrawn): no more edits needed."""


@dataclass(frozen=True)
class ApprovalDM:
    """The app's direct message to one person who may decide on an approval."""

    approval_id: str
    user: str
    channel: str
    """The app's DM with ``user`` (``D…``)."""
    ts: str
    intro: str
    """What the DM says above the approval (who asked, where, a link): kept for its updates."""
    closed: bool = False


@dataclass(frozen=True)
class Claim:
    key: str
    retaken_from: float | None = None
    """When it was first claimed, if that claimer left it unsettled (it died before queueing
    the request) and this delivery took it over."""


@dataclass(frozen=True)
class SlashCommand:
    """A ``/agent <request>``, recorded before Slack gets its answer (Slack never resends a
    command): whoever finds it unfinished later (its process died) runs it."""

    key: str
    """Its request's key in the engine's queue (32 characters)."""
    team: str
    channel: str
    user: str
    text: str
    received_at: float
    channel_name: str | None = None
    response_url: str | None = None
    """Where the requester is told, privately, what went wrong (Slack's, valid 30 minutes)."""
    root_ts: str | None = None
    """The root message quoting the request, once posted: its thread is the run's."""
    taken_at: float | None = None
    """When its current taker took it (``received_at`` for the process that recorded it)."""


@dataclass(frozen=True)
class AnswerMessage:
    """The message that ends a run's answer: the one with the feedback buttons."""

    run_id: str
    thread_key: str
    channel: str
    ts: str
    requested_by: str | None
    answered_at: float


class Vote(StrEnum):
    UP = "up"
    DOWN = "down"


@dataclass(frozen=True)
class FeedbackRecorded:
    vote: Vote
    previous: Vote | None
    """The same person's earlier vote on the answer, which this one replaced."""
    plan_id: str | None


@dataclass(frozen=True)
class RecentRun:
    thread_key: str
    request: str
    created_at: float
    answered: bool
    finished: bool


@dataclass(frozen=True)
class AssistantThread:
    key: str
    channel: str
    thread_ts: str
    user: str | None
    context_channel: str | None = None
    titled: bool = False


class DeliveryClaims(Protocol):
    """Delivered messages claimed once, so that Slack's retries and twins start one run."""

    async def claim(self, key: str, now: float, *, unsettled_for: float) -> Claim | None:
        """The claim the first time a key is claimed, or when its claim has stayed unsettled,
        and not renewed, for ``unsettled_for`` seconds (its claimer died); None otherwise
        (atomic). Its claimer's claim is identified by ``now`` (:meth:`keep_claim`)."""

    async def keep_claim(self, key: str, *, claimed_at: float, now: float) -> bool:
        """Its claimer of ``claimed_at`` is still at it: the claim is renewed as of ``now``, so
        that no retry takes it over (compare-and-set). False when it was taken over or settled."""

    async def settle_claim(self, key: str, now: float) -> None:
        """Its request is recorded: the claim can no longer be taken again."""

    async def claim_settled(self, key: str) -> bool: ...

    async def forget_claims(self, before: float) -> int: ...


class SlashCommandLog(Protocol):
    """Slash commands recorded before Slack is answered, until their request is queued."""

    async def record_command(self, command: SlashCommand) -> None:
        """Durably: a command recorded is run (by this process or, if it dies, another)."""

    async def command_posted(self, key: str, root_ts: str, *, taken_at: float, now: float) -> bool:
        """Its root message is posted by its taker of ``taken_at`` (a later taker reuses it instead
        of posting another): recorded, and the take renewed as of ``now`` (compare-and-set). False,
        and nothing recorded, when the command was taken over or finished meanwhile."""

    async def keep_command(self, key: str, *, taken_at: float, now: float) -> bool:
        """Its taker of ``taken_at`` is still at it: the take is renewed as of ``now``, so that no
        recovery pass takes it over (compare-and-set). False when it was taken over or finished."""

    async def finish_command(self, key: str) -> None:
        """Its request is queued (or refused, and the requester told): nothing is left to do."""

    async def retake_commands(self, now: float, *, unfinished_for: float) -> list[SlashCommand]:
        """Commands taken (or their take renewed) at least ``unfinished_for`` seconds ago and
        still unfinished (their taker died), taken by the caller as of ``now`` (compare-and-set:
        one taker each); their ``taken_at`` is the previous taker's."""
        ...


class ThreadOwnership(Protocol):
    """The threads the bot runs work in: a message in one of them is a follow-up."""

    async def own_thread(self, thread: ThreadRef, started_by: str | None, now: float) -> None:
        """Remember that the bot runs work in this thread (idempotent)."""

    async def owns_thread(self, key: str) -> bool: ...


class StatusMessageRecords(Protocol):
    """Each run's status message: posted before the run starts, bound to it when it does."""

    async def add_status_message(
        self, thread_key: str, channel: str, ts: str, request: str, requested_by: str | None,
        now: float, run_id: str | None = None, request_key: str | None = None,
    ) -> StatusMessage:
        """Remember a run's status message; unbound (``run_id`` None) until the run starts.
        ``request_key``: the request's key in the engine's queue."""

    async def bind_status_message(self, thread_key: str, run_id: str) -> StatusMessage | None:
        """Bind the thread's oldest unbound status message to a run that just started."""

    async def status_message_since(
        self, thread_key: str, request: str, requested_by: str | None, since: float
    ) -> StatusMessage | None:
        """The first status message posted for this request since ``since`` (a retaken claim:
        its claimer may have posted it before dying)."""

    async def status_message_for_run(self, thread_key: str, run_id: str) -> StatusMessage | None: ...

    async def finish_status_message(self, message_id: int) -> None: ...

    async def unfinished_status_messages(
        self, *, thread_key: str | None = None, requested_by: str | None = None
    ) -> list[StatusMessage]: ...


class ApprovalMessageRecords(Protocol):
    """Which Slack message in the thread shows which approval, to update it later."""

    async def save_approval_message(self, message: ApprovalMessage) -> None: ...

    async def approval_message(self, approval_id: str) -> ApprovalMessage | None: ...

    async def open_approval_messages(self, thread_key: str) -> list[ApprovalMessage]: ...

    async def close_approval_message(self, approval_id: str) -> None: ...


class ApprovalDMRecords(Protocol):
    """The direct messages about an approval sent to people who may not see its thread."""

    async def claim_approval_dm(self, approval_id: str, user: str, now: float) -> bool:
        """True the first time an approval's DM to ``user`` is claimed, by any process (atomic):
        the claimer sends it; a DM claimed and never sent (its process died) stays unsent."""

    async def save_approval_dm(self, dm: ApprovalDM) -> None:
        """The claimed DM was sent: remember where, to update it later."""

    async def open_approval_dms(self, approval_id: str) -> list[ApprovalDM]:
        """The approval's DMs that were sent and do not show a final state yet."""

    async def approvals_with_open_dms(self, thread_key: str) -> list[str]:
        """The thread's approvals with a DM that does not show a final state yet (also those
        whose message in the thread could not be posted)."""

    async def close_approval_dm(self, approval_id: str, user: str) -> None: ...


class AnswerLog(Protocol):
    """The message ending each run's answer, and the votes people cast on it."""

    async def save_answer(self, answer: AnswerMessage) -> None: ...

    async def answer_message(self, run_id: str) -> AnswerMessage | None: ...

    async def record_feedback(self, answer: AnswerMessage, user: str, vote: Vote,
                              now: float) -> FeedbackRecorded:
        """Store ``user``'s vote on the answer (replacing theirs, if any) and append it to the
        audit trail, with the plan the answer came from, in one transaction."""


class RunHistory(Protocol):
    """What a person asked for lately (their status messages, and whether each was answered)."""

    async def recent_runs(self, requested_by: str, limit: int) -> list[RecentRun]:
        """The person's latest requests (newest first), finished or not."""


class AssistantThreadRecords(Protocol):
    """Threads opened in Slack's assistant pane."""

    async def add_assistant_thread(self, thread: AssistantThread, now: float) -> None:
        """Remember a thread opened in the assistant pane (idempotent)."""

    async def assistant_thread(self, key: str) -> AssistantThread | None: ...

    async def set_assistant_context(self, key: str, channel: str | None) -> None: ...

    async def take_title(self, key: str) -> bool:
        """True once per assistant thread: the caller sets its title (atomic)."""


class BotStore(DeliveryClaims, SlashCommandLog, ThreadOwnership, StatusMessageRecords, ApprovalMessageRecords,
               ApprovalDMRecords, AnswerLog, RunHistory, AssistantThreadRecords, Protocol):
    """All of the above: what ``infra`` implements and :mod:`bot.app` hands out, each part of
    the bot taking only what it reads and writes (below, for the parts that take several)."""


# ------------------------------------------------- the parts that take several


class IntakeStore(DeliveryClaims, ThreadOwnership, StatusMessageRecords, Protocol):
    """:class:`bot.inbound.intake.Intake`: a delivery is claimed, its thread owned, and its run's
    status message posted."""


class SlashCommandStore(SlashCommandLog, ThreadOwnership, Protocol):
    """:class:`bot.inbound.commands.SlashCommands`: a command is recorded, its root message's
    thread owned."""


class AssistantPaneStore(AssistantThreadRecords, ThreadOwnership, Protocol):
    """:class:`bot.outbound.assistant.AssistantPane`: a thread opened in the pane is one the
    bot runs work in."""


class ApprovalDMStore(ApprovalDMRecords, AssistantThreadRecords, Protocol):
    """:class:`bot.outbound.approval_dms.ApprovalDMs`: the DMs, and whether the approval was
    asked in an assistant thread (the DM says where)."""


class ApprovalMessageStore(ApprovalMessageRecords, ApprovalDMRecords, Protocol):
    """:class:`bot.outbound.approval_messages.ApprovalMessages`: the thread's messages, and the
    approvals whose DMs still need a final state."""


class StatusReportStore(StatusMessageRecords, ApprovalMessageRecords, Protocol):
    """:func:`bot.outbound.status_report.status_report`: the person's unfinished runs, and
    whether a pending approval's message was closed as no longer needed."""


class AppHomeStore(StatusReportStore, RunHistory, Protocol):
    """:class:`bot.outbound.home.AppHome`: the status report, and the person's recent runs."""
