"""SQLAlchemy implementation of the bot's store (:class:`bot.store.BotStore`, every port of
:mod:`bot.store`); :mod:`infra.emulators.memory_slack_store` is its twin in memory, held to the
same contract by ``tests/infra/test_slack_store_contract.py``.

Once-only claims (a delivered message, an approval's DM to one person) are an ``INSERT`` on
the key's primary key; binding a status message
to a run is an ``UPDATE … WHERE run_id IS NULL`` on the thread's oldest unbound row.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from agent.ports.audit import AuditKind
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
from infra.storage.db import (
    ApprovalRow,
    AuditRow,
    SlackAnswerFeedbackRow,
    SlackAnswerRow,
    SlackApprovalDMRow,
    SlackApprovalMessageRow,
    SlackAssistantThreadRow,
    SlackClaimRow,
    SlackCommandRow,
    SlackStatusMessageRow,
    SlackThreadRow,
    utc,
)
from infra.storage.db_priority import interactive_work
from infra.storage.group_commit import GroupCommit


def _status(row: SlackStatusMessageRow) -> StatusMessage:
    return StatusMessage(
        id=row.id, thread_key=row.thread_key, channel=row.channel, ts=row.ts, request=row.request,
        requested_by=row.requested_by, created_at=row.created_at, run_id=row.run_id,
        finished=row.finished, request_key=row.request_key,
    )


def _approval(row: SlackApprovalMessageRow) -> ApprovalMessage:
    return ApprovalMessage(approval_id=row.approval_id, thread_key=row.thread_key, channel=row.channel,
                           ts=row.ts, closed=row.closed)


class SqlSlackStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.session = async_sessionmaker(engine, expire_on_commit=False)
        self._dialect = engine.dialect.name
        # Written together when they come at once (what Slack acknowledgements wait for)
        self._owned = GroupCommit(self._own_all)
        self._statuses = GroupCommit(self._add_all)
        self._commands = GroupCommit(self._record_all)
        self._posted_commands = GroupCommit(self._posted_all)
        self._finished_commands = GroupCommit(self._finish_all)

    # ----------------------------------------------------------------- claims

    @interactive_work
    async def claim(self, key: str, now: float, *, unsettled_for: float) -> Claim | None:
        try:
            async with self.session.begin() as s:
                s.add(SlackClaimRow(key=key, claimed_at=now))
            return Claim(key)
        except IntegrityError:
            pass
        async with self.session.begin() as s:  # taken: left unsettled by a process that died?
            row = await s.get(SlackClaimRow, key)
            before = now - unsettled_for  # (not renewed since: its claimer is presumed dead)
            if row is None or row.settled_at is not None or (row.kept_at or row.claimed_at) > before:
                return None
            stale = func.coalesce(SlackClaimRow.kept_at, SlackClaimRow.claimed_at) <= before
            first = row.claimed_at
            retaken = await s.execute(  # compare-and-set: one retry retakes it, none a renewed one
                update(SlackClaimRow)
                .where(SlackClaimRow.key == key, SlackClaimRow.claimed_at == first,
                       SlackClaimRow.settled_at.is_(None), stale)
                .values(claimed_at=now, kept_at=None))
            return Claim(key, retaken_from=first) if retaken.rowcount == 1 else None  # type: ignore[attr-defined]

    @interactive_work
    async def keep_claim(self, key: str, *, claimed_at: float, now: float) -> bool:
        async with self.session.begin() as s:
            kept = await s.execute(update(SlackClaimRow)
                                   .where(SlackClaimRow.key == key, SlackClaimRow.claimed_at == claimed_at,
                                          SlackClaimRow.settled_at.is_(None))
                                   .values(kept_at=now))
        return bool(kept.rowcount == 1)  # type: ignore[attr-defined]

    @interactive_work
    async def settle_claim(self, key: str, now: float) -> None:
        async with self.session.begin() as s:
            await s.execute(update(SlackClaimRow).where(SlackClaimRow.key == key).values(settled_at=now))

    @interactive_work
    async def claim_settled(self, key: str) -> bool:
        async with self.session() as s:
            row = await s.get(SlackClaimRow, key)
            return row is not None and row.settled_at is not None

    async def forget_claims(self, before: float) -> int:
        async with self.session.begin() as s:
            result = await s.execute(delete(SlackClaimRow).where(SlackClaimRow.claimed_at < before))
            return int(result.rowcount or 0)  # type: ignore[attr-defined]

    # ---------------------------------------------------------- slash commands

    @interactive_work
    async def record_command(self, command: SlashCommand) -> None:
        await self._commands(SlackCommandRow(
            key=command.key, team=command.team, channel=command.channel, channel_name=command.channel_name,
            user_id=command.user, text=command.text, response_url=command.response_url,
            received_at=command.received_at, taken_at=command.taken_at or command.received_at,
            root_ts=command.root_ts))

    async def _record_all(self, rows: list[SlackCommandRow]) -> list[None]:
        async with self.session.begin() as s:
            s.add_all(rows)
        return [None] * len(rows)

    async def command_posted(self, key: str, root_ts: str, *, taken_at: float, now: float) -> bool:
        return await self._posted_commands((key, root_ts, taken_at, now))

    async def _posted_all(self, posted: list[tuple[str, str, float, float]]) -> list[bool]:
        recorded = []
        async with self.session.begin() as s:
            for key, root_ts, taken_at, now in posted:  # compare-and-set: only by its current taker
                result = await s.execute(
                    update(SlackCommandRow)
                    .where(SlackCommandRow.key == key, SlackCommandRow.taken_at == taken_at)
                    .values(root_ts=root_ts, taken_at=now))
                recorded.append(result.rowcount == 1)  # type: ignore[attr-defined]
        return recorded

    @interactive_work
    async def keep_command(self, key: str, *, taken_at: float, now: float) -> bool:
        async with self.session.begin() as s:
            kept = await s.execute(update(SlackCommandRow)
                                   .where(SlackCommandRow.key == key, SlackCommandRow.taken_at == taken_at)
                                   .values(taken_at=now))
        return bool(kept.rowcount == 1)  # type: ignore[attr-defined]

    async def finish_command(self, key: str) -> None:
        await self._finished_commands(key)

    async def _finish_all(self, keys: list[str]) -> list[None]:
        async with self.session.begin() as s:
            await s.execute(delete(SlackCommandRow).where(SlackCommandRow.key.in_(keys)))
        return [None] * len(keys)

    async def retake_commands(self, now: float, *, unfinished_for: float) -> list[SlashCommand]:
        async with self.session() as s:
            rows = (await s.execute(select(SlackCommandRow)
                                    .where(SlackCommandRow.taken_at <= now - unfinished_for)
                                    .order_by(SlackCommandRow.received_at))).scalars().all()
        taken: list[SlashCommand] = []
        for row in rows:
            async with self.session.begin() as s:  # compare-and-set: one taker each
                retaken = await s.execute(
                    update(SlackCommandRow)
                    .where(SlackCommandRow.key == row.key, SlackCommandRow.taken_at == row.taken_at)
                    .values(taken_at=now))
            if retaken.rowcount == 1:  # type: ignore[attr-defined]
                taken.append(SlashCommand(
                    key=row.key, team=row.team, channel=row.channel, user=row.user_id, text=row.text,
                    received_at=row.received_at, channel_name=row.channel_name,
                    response_url=row.response_url, root_ts=row.root_ts, taken_at=row.taken_at))
        return taken

    # ---------------------------------------------------------------- threads

    @interactive_work
    async def own_thread(self, thread: ThreadRef, started_by: str | None, now: float) -> None:
        await self._owned(dict(key=thread.key, team=thread.team, channel=thread.channel,
                               root_ts=thread.root_ts, started_by=started_by, created_at=now))

    async def _own_all(self, threads: list[dict[str, Any]]) -> list[None]:
        insert = sqlite_insert if self._dialect == "sqlite" else postgres_insert
        async with self.session.begin() as s:  # (a thread owned already stays as it is)
            await s.execute(insert(SlackThreadRow).on_conflict_do_nothing(index_elements=["key"]), threads)
        return [None] * len(threads)

    @interactive_work
    async def owns_thread(self, key: str) -> bool:
        async with self.session() as s:
            return await s.get(SlackThreadRow, key) is not None

    # -------------------------------------------------------- status messages

    @interactive_work
    async def add_status_message(
        self, thread_key: str, channel: str, ts: str, request: str, requested_by: str | None,
        now: float, run_id: str | None = None, request_key: str | None = None,
    ) -> StatusMessage:
        row = SlackStatusMessageRow(thread_key=thread_key, run_id=run_id, channel=channel, ts=ts,
                                    request=request, requested_by=requested_by, created_at=now,
                                    finished=False, request_key=request_key)
        return await self._statuses(row)

    async def _add_all(self, rows: list[SlackStatusMessageRow]) -> list[StatusMessage]:
        async with self.session.begin() as s:
            s.add_all(rows)
        return [_status(row) for row in rows]

    async def bind_status_message(self, thread_key: str, run_id: str) -> StatusMessage | None:
        for _ in range(3):  # another binder may win the row; try the next one
            async with self.session.begin() as s:
                row = (await s.execute(
                    select(SlackStatusMessageRow)
                    .where(SlackStatusMessageRow.thread_key == thread_key,
                           SlackStatusMessageRow.run_id.is_(None),
                           SlackStatusMessageRow.finished.is_(False))
                    .order_by(SlackStatusMessageRow.id).limit(1)
                )).scalar_one_or_none()
                if row is None:
                    return None
                taken = await s.execute(
                    update(SlackStatusMessageRow)
                    .where(SlackStatusMessageRow.id == row.id, SlackStatusMessageRow.run_id.is_(None))
                    .values(run_id=run_id)
                )
                if taken.rowcount == 1:  # type: ignore[attr-defined]
                    row.run_id = run_id
                    return _status(row)
        return None

    async def status_message_since(
        self, thread_key: str, request: str, requested_by: str | None, since: float
    ) -> StatusMessage | None:
        async with self.session() as s:
            row = (await s.execute(
                select(SlackStatusMessageRow)
                .where(SlackStatusMessageRow.thread_key == thread_key,
                       SlackStatusMessageRow.request == request,
                       SlackStatusMessageRow.requested_by == requested_by,
                       SlackStatusMessageRow.created_at >= since)
                .order_by(SlackStatusMessageRow.id).limit(1)
            )).scalar_one_or_none()
            return _status(row) if row else None

    async def status_message_for_run(self, thread_key: str, run_id: str) -> StatusMessage | None:
        async with self.session() as s:
            row = (await s.execute(
                select(SlackStatusMessageRow)
                .where(SlackStatusMessageRow.thread_key == thread_key,
                       SlackStatusMessageRow.run_id == run_id)
                .order_by(SlackStatusMessageRow.id.desc()).limit(1)
            )).scalar_one_or_none()
            return _status(row) if row else None

    async def finish_status_message(self, message_id: int) -> None:
        async with self.session.begin() as s:
            await s.execute(update(SlackStatusMessageRow).where(SlackStatusMessageRow.id == message_id)
                            .values(finished=True))

    async def unfinished_status_messages(
        self, *, thread_key: str | None = None, requested_by: str | None = None
    ) -> list[StatusMessage]:
        query = select(SlackStatusMessageRow).where(SlackStatusMessageRow.finished.is_(False))
        if thread_key is not None:
            query = query.where(SlackStatusMessageRow.thread_key == thread_key)
        if requested_by is not None:
            query = query.where(SlackStatusMessageRow.requested_by == requested_by)
        async with self.session() as s:
            rows = (await s.execute(query.order_by(SlackStatusMessageRow.id))).scalars().all()
            return [_status(r) for r in rows]

    # ------------------------------------------------------ approval messages

    async def save_approval_message(self, message: ApprovalMessage) -> None:
        async with self.session.begin() as s:
            s.add(SlackApprovalMessageRow(
                approval_id=message.approval_id, thread_key=message.thread_key, channel=message.channel,
                ts=message.ts, closed=message.closed))

    async def approval_message(self, approval_id: str) -> ApprovalMessage | None:
        async with self.session() as s:
            row = await s.get(SlackApprovalMessageRow, approval_id)
            return _approval(row) if row else None

    async def open_approval_messages(self, thread_key: str) -> list[ApprovalMessage]:
        async with self.session() as s:
            rows = (await s.execute(
                select(SlackApprovalMessageRow)
                .where(SlackApprovalMessageRow.thread_key == thread_key,
                       SlackApprovalMessageRow.closed.is_(False))
            )).scalars().all()
            return [_approval(r) for r in rows]

    async def close_approval_message(self, approval_id: str) -> None:
        async with self.session.begin() as s:
            await s.execute(update(SlackApprovalMessageRow)
                            .where(SlackApprovalMessageRow.approval_id == approval_id).values(closed=True))

    # ----------------------------------------------------------- approval DMs

    async def claim_approval_dm(self, approval_id: str, user: str, now: float) -> bool:
        try:
            async with self.session.begin() as s:
                s.add(SlackApprovalDMRow(approval_id=approval_id, user_id=user, claimed_at=now, closed=False))
        except IntegrityError:
            return False  # claimed already, here or by another process
        return True

    async def save_approval_dm(self, dm: ApprovalDM) -> None:
        async with self.session.begin() as s:
            await s.execute(update(SlackApprovalDMRow)
                            .where(SlackApprovalDMRow.approval_id == dm.approval_id,
                                   SlackApprovalDMRow.user_id == dm.user)
                            .values(channel=dm.channel, ts=dm.ts, intro=dm.intro, closed=dm.closed))

    async def open_approval_dms(self, approval_id: str) -> list[ApprovalDM]:
        async with self.session() as s:
            rows = (await s.execute(
                select(SlackApprovalDMRow)
                .where(SlackApprovalDMRow.approval_id == approval_id, SlackApprovalDMRow.ts.is_not(None),
                       SlackApprovalDMRow.closed.is_(False))
                .order_by(SlackApprovalDMRow.user_id)
            )).scalars().all()
            return [ApprovalDM(approval_id=r.approval_id, user=r.user_id, channel=r.channel or "",
                               ts=r.ts or "", intro=r.intro or "", closed=r.closed) for r in rows]

    async def approvals_with_open_dms(self, thread_key: str) -> list[str]:
        async with self.session() as s:
            rows = await s.execute(
                select(SlackApprovalDMRow.approval_id).distinct()
                .join(ApprovalRow, ApprovalRow.id == SlackApprovalDMRow.approval_id)
                .where(ApprovalRow.thread_id == thread_key, SlackApprovalDMRow.closed.is_(False))
            )
            return sorted(r for (r,) in rows.all())

    async def close_approval_dm(self, approval_id: str, user: str) -> None:
        async with self.session.begin() as s:
            await s.execute(update(SlackApprovalDMRow)
                            .where(SlackApprovalDMRow.approval_id == approval_id,
                                   SlackApprovalDMRow.user_id == user)
                            .values(closed=True))

    # ---------------------------------------------------------------- answers

    async def save_answer(self, answer: AnswerMessage) -> None:
        async with self.session.begin() as s:
            row = await s.get(SlackAnswerRow, answer.run_id)
            if row is None:
                s.add(SlackAnswerRow(run_id=answer.run_id, thread_key=answer.thread_key,
                                     channel=answer.channel, ts=answer.ts, requested_by=answer.requested_by,
                                     answered_at=answer.answered_at))
            else:
                row.channel, row.ts = answer.channel, answer.ts

    async def answer_message(self, run_id: str) -> AnswerMessage | None:
        async with self.session() as s:
            row = await s.get(SlackAnswerRow, run_id)
            return AnswerMessage(run_id=row.run_id, thread_key=row.thread_key, channel=row.channel, ts=row.ts,
                                 requested_by=row.requested_by, answered_at=row.answered_at) if row else None

    async def record_feedback(self, answer: AnswerMessage, user: str, vote: Vote,
                              now: float) -> FeedbackRecorded:
        for _ in range(3):  # two first clicks at once: the loser of the insert updates instead
            try:
                return await self._record_feedback(answer, user, vote, now)
            except IntegrityError:
                continue
        raise RuntimeError("could not record the feedback")

    async def _record_feedback(self, answer: AnswerMessage, user: str, vote: Vote,
                               now: float) -> FeedbackRecorded:
        async with self.session.begin() as s:
            plan_id = (await s.execute(
                select(AuditRow.detail).where(AuditRow.run_id == answer.run_id,
                                              AuditRow.kind == AuditKind.PLAN.value)
                .order_by(AuditRow.id.desc()).limit(1))).scalar_one_or_none()
            plan = str(plan_id["plan_id"]) if isinstance(plan_id, dict) and plan_id.get("plan_id") else None
            row = await s.get(SlackAnswerFeedbackRow, (answer.run_id, user))
            previous = Vote(row.vote) if row is not None else None
            if row is None:
                s.add(SlackAnswerFeedbackRow(run_id=answer.run_id, user_id=user, vote=vote.value, at=now,
                                             thread_key=answer.thread_key, plan_id=plan))
            else:
                row.vote, row.at = vote.value, now
            s.add(AuditRow(at=utc(now), thread_id=answer.thread_key, run_id=answer.run_id, actor=user,
                           kind=AuditKind.FEEDBACK.value,
                           detail={"vote": vote.value, "replaced": previous.value if previous else None,
                                   "plan_id": plan}))
        return FeedbackRecorded(vote=vote, previous=previous, plan_id=plan)

    async def recent_runs(self, requested_by: str, limit: int) -> list[RecentRun]:
        query = (select(SlackStatusMessageRow, SlackAnswerRow.run_id)
                 .outerjoin(SlackAnswerRow, SlackAnswerRow.run_id == SlackStatusMessageRow.run_id)
                 .where(SlackStatusMessageRow.requested_by == requested_by)
                 .order_by(SlackStatusMessageRow.created_at.desc(), SlackStatusMessageRow.id.desc())
                 .limit(limit))
        async with self.session() as s:
            rows = (await s.execute(query)).all()
        return [RecentRun(thread_key=m.thread_key, request=m.request, created_at=m.created_at,
                          answered=answered is not None, finished=m.finished) for m, answered in rows]

    # ------------------------------------------------------ assistant threads

    async def add_assistant_thread(self, thread: AssistantThread, now: float) -> None:
        try:
            async with self.session.begin() as s:
                s.add(SlackAssistantThreadRow(
                    key=thread.key, channel=thread.channel, thread_ts=thread.thread_ts, user_id=thread.user,
                    context_channel=thread.context_channel, titled=False, created_at=now))
        except IntegrityError:
            pass  # Slack retried the event

    async def assistant_thread(self, key: str) -> AssistantThread | None:
        async with self.session() as s:
            row = await s.get(SlackAssistantThreadRow, key)
            if row is None:
                return None
            return AssistantThread(key=row.key, channel=row.channel, thread_ts=row.thread_ts,
                                   user=row.user_id, context_channel=row.context_channel, titled=row.titled)

    async def set_assistant_context(self, key: str, channel: str | None) -> None:
        async with self.session.begin() as s:
            await s.execute(update(SlackAssistantThreadRow).where(SlackAssistantThreadRow.key == key)
                            .values(context_channel=channel))

    async def take_title(self, key: str) -> bool:
        async with self.session.begin() as s:
            taken = await s.execute(update(SlackAssistantThreadRow)
                                    .where(SlackAssistantThreadRow.key == key,
                                           SlackAssistantThreadRow.titled.is_(False))
                                    .values(titled=True))
            return taken.rowcount == 1  # type: ignore[attr-defined]
