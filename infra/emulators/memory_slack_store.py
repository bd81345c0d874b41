"""The bot's store in memory: every port of :mod:`bot.store` (claims, slash commands, owned
threads, status messages, approval messages and DMs, answers and votes, assistant threads) in
plain dicts, beside the engine's :class:`~infra.emulators.memory_stores.MemoryStore`.

What :class:`infra.storage.slack_store.SqlSlackStore` is on a database, this is for tests of
the bot that are not about what a database keeps: the same semantics, which
``tests/infra/test_slack_store_contract.py`` holds both to (as ``test_store_contract.py`` does
for the engine's stores):

- once-only comes from the store: a method checks and changes in one step, with no ``await``
  in between (a claim, a DM's claim, binding a status message to a run, retaking a command,
  an assistant thread's title);
- two records the SQL store joins are joined here too: the engine's approvals (which thread an
  approval with open DMs belongs to) and its audit trail (the plan an answer came from, and each
  vote, appended in the same step as the vote is stored);
- what SQL refuses, a second row with the same key, is refused (with a ValueError).

The records are frozen dataclasses, so what a caller gets back cannot change what is kept.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from agent.ports.audit import AuditEntry, AuditKind
from bot.ground.threads import ThreadRef
from bot.store import (
    AnswerMessage,
    ApprovalDM,
    ApprovalMessage,
    AssistantThread,
    Claim,
    FeedbackRecorded,
    RecentRun,
    SlashCommand,
    StatusMessage,
    Vote,
)
from infra.emulators.memory_stores import MemoryStore


@dataclass
class _Claim:
    claimed_at: float
    settled_at: float | None = None
    kept_at: float | None = None


@dataclass
class _OwnedThread:
    """What ``slack_threads`` keeps (none of it is read back: owning is what counts)."""

    thread: ThreadRef
    started_by: str | None
    created_at: float


@dataclass
class _ApprovalDM:
    """A DM's claim, then where it was sent (None until it is, and for good if it never is)."""

    claimed_at: float
    channel: str | None = None
    ts: str | None = None
    intro: str | None = None
    closed: bool = False


class MemorySlackStore:
    """:class:`bot.store.BotStore` in memory; ``engine``: the engine's stores, whose approvals
    and audit trail it joins as the SQL store joins their tables."""

    def __init__(self, engine: MemoryStore) -> None:
        self._engine = engine
        self._claims: dict[str, _Claim] = {}
        self._commands: dict[str, SlashCommand] = {}
        self._threads: dict[str, _OwnedThread] = {}
        self._statuses: dict[int, StatusMessage] = {}
        """By id, in the order they were added (the SQL ``id``)."""
        self._status_ids = 0
        self._approval_messages: dict[str, ApprovalMessage] = {}
        self._approval_dms: dict[tuple[str, str], _ApprovalDM] = {}
        self._answers: dict[str, AnswerMessage] = {}
        self._votes: dict[tuple[str, str], Vote] = {}
        """By run and person: their vote on the run's answer."""
        self._assistant_threads: dict[str, AssistantThread] = {}

    # ----------------------------------------------------------------- claims

    async def claim(self, key: str, now: float, *, unsettled_for: float) -> Claim | None:
        found = self._claims.get(key)
        if found is None:
            self._claims[key] = _Claim(now)
            return Claim(key)
        if found.settled_at is not None or (found.kept_at or found.claimed_at) > now - unsettled_for:
            return None
        first = found.claimed_at  # left unsettled, and not renewed, by a claimer that died
        found.claimed_at, found.kept_at = now, None
        return Claim(key, retaken_from=first)

    async def keep_claim(self, key: str, *, claimed_at: float, now: float) -> bool:
        found = self._claims.get(key)
        if found is None or found.claimed_at != claimed_at or found.settled_at is not None:
            return False
        found.kept_at = now
        return True

    async def settle_claim(self, key: str, now: float) -> None:
        if key in self._claims:
            self._claims[key].settled_at = now

    async def claim_settled(self, key: str) -> bool:
        found = self._claims.get(key)
        return found is not None and found.settled_at is not None

    async def forget_claims(self, before: float) -> int:
        old = [key for key, found in self._claims.items() if found.claimed_at < before]
        for key in old:
            del self._claims[key]
        return len(old)

    # ---------------------------------------------------------- slash commands

    async def record_command(self, command: SlashCommand) -> None:
        if command.key in self._commands:
            raise ValueError(f"a slash command {command.key} is recorded already")
        self._commands[command.key] = dataclasses.replace(command,
                                                          taken_at=command.taken_at or command.received_at)

    async def command_posted(self, key: str, root_ts: str, *, taken_at: float, now: float) -> bool:
        if not await self.keep_command(key, taken_at=taken_at, now=now):
            return False
        self._commands[key] = dataclasses.replace(self._commands[key], root_ts=root_ts)
        return True

    async def keep_command(self, key: str, *, taken_at: float, now: float) -> bool:
        command = self._commands.get(key)
        if command is None or command.taken_at != taken_at:
            return False
        self._commands[key] = dataclasses.replace(command, taken_at=now)
        return True

    async def finish_command(self, key: str) -> None:
        self._commands.pop(key, None)

    async def retake_commands(self, now: float, *, unfinished_for: float) -> list[SlashCommand]:
        left = sorted((c for c in self._commands.values() if (c.taken_at or 0.0) <= now - unfinished_for),
                      key=lambda c: c.received_at)
        for command in left:  # each told its previous taker's time, as the SQL store tells it
            self._commands[command.key] = dataclasses.replace(command, taken_at=now)
        return left

    # ---------------------------------------------------------------- threads

    async def own_thread(self, thread: ThreadRef, started_by: str | None, now: float) -> None:
        self._threads.setdefault(thread.key, _OwnedThread(thread, started_by, now))

    async def owns_thread(self, key: str) -> bool:
        return key in self._threads

    # -------------------------------------------------------- status messages

    async def add_status_message(
        self, thread_key: str, channel: str, ts: str, request: str, requested_by: str | None,
        now: float, run_id: str | None = None, request_key: str | None = None,
    ) -> StatusMessage:
        self._status_ids += 1
        message = StatusMessage(id=self._status_ids, thread_key=thread_key, channel=channel, ts=ts,
                                request=request, requested_by=requested_by, created_at=now, run_id=run_id,
                                request_key=request_key)
        self._statuses[message.id] = message
        return message

    async def bind_status_message(self, thread_key: str, run_id: str) -> StatusMessage | None:
        oldest = next((m for m in self._statuses.values()
                       if m.thread_key == thread_key and m.run_id is None and not m.finished), None)
        if oldest is None:
            return None
        bound = self._statuses[oldest.id] = dataclasses.replace(oldest, run_id=run_id)
        return bound

    async def status_message_since(
        self, thread_key: str, request: str, requested_by: str | None, since: float
    ) -> StatusMessage | None:
        return next((m for m in self._statuses.values()
                     if (m.thread_key, m.request, m.requested_by) == (thread_key, request, requested_by)
                     and m.created_at >= since), None)

    async def status_message_for_run(self, thread_key: str, run_id: str) -> StatusMessage | None:
        return next((m for m in reversed(self._statuses.values())
                     if m.thread_key == thread_key and m.run_id == run_id), None)

    async def finish_status_message(self, message_id: int) -> None:
        if message_id in self._statuses:
            self._statuses[message_id] = dataclasses.replace(self._statuses[message_id], finished=True)

    async def unfinished_status_messages(
        self, *, thread_key: str | None = None, requested_by: str | None = None
    ) -> list[StatusMessage]:
        return [m for m in self._statuses.values() if not m.finished
                and thread_key in (None, m.thread_key) and requested_by in (None, m.requested_by)]

    # ------------------------------------------------------ approval messages

    async def save_approval_message(self, message: ApprovalMessage) -> None:
        if message.approval_id in self._approval_messages:
            raise ValueError(f"the approval {message.approval_id} has a message already")
        self._approval_messages[message.approval_id] = message

    async def approval_message(self, approval_id: str) -> ApprovalMessage | None:
        return self._approval_messages.get(approval_id)

    async def open_approval_messages(self, thread_key: str) -> list[ApprovalMessage]:
        return [m for m in self._approval_messages.values() if m.thread_key == thread_key and not m.closed]

    async def close_approval_message(self, approval_id: str) -> None:
        if approval_id in self._approval_messages:
            self._approval_messages[approval_id] = dataclasses.replace(self._approval_messages[approval_id],
                                                                       closed=True)

    # ----------------------------------------------------------- approval DMs

    async def claim_approval_dm(self, approval_id: str, user: str, now: float) -> bool:
        if (approval_id, user) in self._approval_dms:
            return False  # claimed already
        self._approval_dms[(approval_id, user)] = _ApprovalDM(now)
        return True

    async def save_approval_dm(self, dm: ApprovalDM) -> None:
        claimed = self._approval_dms.get((dm.approval_id, dm.user))
        if claimed is None:
            return  # never claimed: not kept (SQL updates no row)
        claimed.channel, claimed.ts = dm.channel, dm.ts
        claimed.intro, claimed.closed = dm.intro, dm.closed

    async def open_approval_dms(self, approval_id: str) -> list[ApprovalDM]:
        return [ApprovalDM(approval_id=approval_id, user=user, channel=dm.channel or "", ts=dm.ts or "",
                           intro=dm.intro or "", closed=dm.closed)
                for (approval, user), dm in sorted(self._approval_dms.items())
                if approval == approval_id and dm.ts is not None and not dm.closed]

    async def approvals_with_open_dms(self, thread_key: str) -> list[str]:
        approvals = self._engine._approvals  # (the SQL store joins the approvals table)
        return sorted({approval for (approval, _), dm in self._approval_dms.items() if not dm.closed
                       and approval in approvals and approvals[approval].thread_id == thread_key})

    async def close_approval_dm(self, approval_id: str, user: str) -> None:
        if (approval_id, user) in self._approval_dms:
            self._approval_dms[(approval_id, user)].closed = True

    # ---------------------------------------------------------------- answers

    async def save_answer(self, answer: AnswerMessage) -> None:
        kept = self._answers.get(answer.run_id)
        self._answers[answer.run_id] = answer if kept is None else dataclasses.replace(
            kept, channel=answer.channel, ts=answer.ts)  # (an answer posted again moves; the rest stays)

    async def answer_message(self, run_id: str) -> AnswerMessage | None:
        return self._answers.get(run_id)

    async def record_feedback(self, answer: AnswerMessage, user: str, vote: Vote,
                              now: float) -> FeedbackRecorded:
        planned = next((e.detail for e in reversed(self._engine._audit)
                        if e.run_id == answer.run_id and e.kind is AuditKind.PLAN), None)
        plan = str(planned["plan_id"]) if planned and planned.get("plan_id") else None
        previous = self._votes.get((answer.run_id, user))
        self._votes[(answer.run_id, user)] = vote
        self._engine._append(AuditEntry(
            thread_id=answer.thread_key, kind=AuditKind.FEEDBACK, actor=user, run_id=answer.run_id, at=now,
            detail={"vote": vote.value, "replaced": previous.value if previous else None, "plan_id": plan}))
        return FeedbackRecorded(vote=vote, previous=previous, plan_id=plan)

    async def recent_runs(self, requested_by: str, limit: int) -> list[RecentRun]:
        mine = sorted((m for m in self._statuses.values() if m.requested_by == requested_by),
                      key=lambda m: (m.created_at, m.id), reverse=True)[:limit]
        return [RecentRun(thread_key=m.thread_key, request=m.request, created_at=m.created_at,
                          answered=m.run_id is not None and m.run_id in self._answers, finished=m.finished)
                for m in mine]

    # ------------------------------------------------------ assistant threads

    async def add_assistant_thread(self, thread: AssistantThread, now: float) -> None:
        # (Slack retries the event: the thread as first seen stays; it is not titled yet)
        self._assistant_threads.setdefault(thread.key, dataclasses.replace(thread, titled=False))

    async def assistant_thread(self, key: str) -> AssistantThread | None:
        return self._assistant_threads.get(key)

    async def set_assistant_context(self, key: str, channel: str | None) -> None:
        if key in self._assistant_threads:
            self._assistant_threads[key] = dataclasses.replace(self._assistant_threads[key],
                                                               context_channel=channel)

    async def take_title(self, key: str) -> bool:
        thread = self._assistant_threads.get(key)
        if thread is None or thread.titled:
            return False
        self._assistant_threads[key] = dataclasses.replace(thread, titled=True)
        return True
