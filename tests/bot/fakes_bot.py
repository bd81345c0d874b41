"""Small stand-ins for unit tests of bot modules: the parts of :class:`bot.store.BotStore`, the
access directory, the tool registry and the engine that those modules call, in memory.

Each records what it was asked, so a test can say what the module did; each implements only
what the modules under test use (a call of anything else fails with AttributeError)."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from agent.engine.engine import ThreadStatus
from agent.execution.cancelling import Cancelled, CancelOutcome
from agent.ports.stores import ApprovalRequest, DecisionResult
from bot.access.access import MembershipUnknown
from bot.ground.threads import ThreadRef
from bot.store import (
    AnswerMessage,
    ApprovalMessage,
    AssistantThread,
    FeedbackRecorded,
    SlashCommand,
    StatusMessage,
    Vote,
)
from infra.emulators.memory_stores import MemoryStore


@dataclass
class FakeBotStore:
    approval_messages: dict[str, ApprovalMessage] = field(default_factory=dict)
    commands: dict[str, SlashCommand] = field(default_factory=dict)
    finished_commands: list[str] = field(default_factory=list)
    owned: list[ThreadRef] = field(default_factory=list)
    status_messages: list[StatusMessage] = field(default_factory=list)
    answers: list[AnswerMessage] = field(default_factory=list)
    votes: dict[tuple[str, str], Vote] = field(default_factory=dict)
    assistant_threads: dict[str, AssistantThread] = field(default_factory=dict)

    async def save_approval_message(self, message: ApprovalMessage) -> None:
        self.approval_messages[message.approval_id] = message

    async def approval_message(self, approval_id: str) -> ApprovalMessage | None:
        return self.approval_messages.get(approval_id)

    async def open_approval_messages(self, thread_key: str) -> list[ApprovalMessage]:
        return [m for m in self.approval_messages.values() if m.thread_key == thread_key and not m.closed]

    async def close_approval_message(self, approval_id: str) -> None:
        self.approval_messages[approval_id] = dataclasses.replace(self.approval_messages[approval_id],
                                                                  closed=True)

    async def approvals_with_open_dms(self, thread_key: str) -> list[str]:
        return []

    async def record_command(self, command: SlashCommand) -> None:
        self.commands[command.key] = command

    async def command_posted(self, key: str, root_ts: str, *, taken_at: float, now: float) -> bool:
        self.commands[key] = dataclasses.replace(self.commands[key], root_ts=root_ts)
        return True

    async def keep_command(self, key: str, *, taken_at: float, now: float) -> bool:
        return key in self.commands and key not in self.finished_commands

    async def retake_commands(self, now: float, *, unfinished_for: float) -> list[SlashCommand]:
        return [c for key, c in self.commands.items() if key not in self.finished_commands
                and c.received_at <= now - unfinished_for]

    async def finish_command(self, key: str) -> None:
        self.finished_commands.append(key)

    async def own_thread(self, thread: ThreadRef, started_by: str | None, now: float) -> None:
        self.owned.append(thread)

    async def unfinished_status_messages(self, *, requested_by: str | None = None,
                                         thread_key: str | None = None) -> list[StatusMessage]:
        return [m for m in self.status_messages if not m.finished
                and (requested_by is None or m.requested_by == requested_by)
                and (thread_key is None or m.thread_key == thread_key)]

    async def save_answer(self, answer: AnswerMessage) -> None:
        self.answers.append(answer)

    async def add_assistant_thread(self, thread: AssistantThread, now: float) -> None:
        self.assistant_threads.setdefault(thread.key, thread)

    async def assistant_thread(self, key: str) -> AssistantThread | None:
        return self.assistant_threads.get(key)

    async def set_assistant_context(self, key: str, channel: str | None) -> None:
        if key in self.assistant_threads:
            self.assistant_threads[key] = dataclasses.replace(self.assistant_threads[key], context_channel=channel)

    async def take_title(self, key: str) -> bool:
        thread = self.assistant_threads.get(key)
        if thread is None or thread.titled:
            return False
        self.assistant_threads[key] = dataclasses.replace(thread, titled=True)
        return True

    async def answer_message(self, run_id: str) -> AnswerMessage | None:
        return next((a for a in reversed(self.answers) if a.run_id == run_id), None)

    async def record_feedback(self, answer: AnswerMessage, user: str, vote: Vote, now: float) -> FeedbackRecorded:
        previous = self.votes.get((answer.run_id, user))
        self.votes[(answer.run_id, user)] = vote
        return FeedbackRecorded(vote=vote, previous=previous, plan_id=None)


class FakeDirectory:
    """The access policy: ``approvers`` may approve (and cancel) anything; the requester may
    cancel their own runs; ``unknown``: the membership check fails (Slack unreachable)."""

    def __init__(self, approvers: Collection[str] = (), *, unknown: bool = False, standing: bool = False,
                 tools: dict[str, Collection[str]] | None = None) -> None:
        self.approvers = frozenset(approvers)
        self.unknown = unknown
        self.standing = standing
        self.tools = {tool: frozenset(people) for tool, people in (tools or {}).items()}
        """Who may approve these tools (instead of ``approvers``)."""

    def of(self, tool: str) -> frozenset[str]:
        return self.tools.get(tool, self.approvers)

    def _check(self) -> None:
        if self.unknown:
            raise MembershipUnknown("S0OPS")

    async def may_approve(self, tool: str, requester: str | None, user: str) -> bool:
        self._check()
        return user in self.of(tool)

    async def lists_approval(self, tool: str, requester: str | None, user: str) -> bool:
        return user in self.of(tool)

    async def may_cancel(self, requester: str | None, user: str) -> bool:
        self._check()
        return user == requester or user in self.approvers

    async def may_grant_standing(self, tool: str, requester: str | None, user: str) -> bool:
        self._check()
        return self.standing and user in self.of(tool)

    def who_may_approve(self, tool: str, requester: str | None) -> str:
        return ", ".join(f"<@{a}>" for a in sorted(self.of(tool))) or "nobody"

    def offers_standing(self, tool: str, requester: str | None) -> bool:
        return self.standing


class FakeRegistry:
    def __init__(self, secret: dict[str, frozenset[str]] | None = None) -> None:
        self.secret = secret or {}

    def secret_args(self, tool: str) -> frozenset[str]:
        return self.secret.get(tool, frozenset())


@dataclass
class FakeEngine:
    """Decisions go to the approvals in memory; statuses and cancels are what the test sets."""

    approvals: MemoryStore
    statuses: dict[str, ThreadStatus] = field(default_factory=dict)
    decided: list[tuple[str, bool, str]] = field(default_factory=list)
    cancel_result: Cancelled = field(default_factory=lambda: Cancelled(CancelOutcome.STOPPED))
    cancels: list[tuple[str, str, str | None]] = field(default_factory=list)
    settings: Any = field(default_factory=lambda: SimpleNamespace(standing_approval_ttl_seconds=3600.0))

    async def decide(self, approval_id: str, *, approved: bool, by: str, reason: str | None = None,
                     edits: int | None = None) -> DecisionResult:
        self.decided.append((approval_id, approved, by))
        return await self.approvals.decide(approval_id, approved=approved, by=by, reason=reason, edits=edits)

    async def status(self, thread_id: str) -> ThreadStatus:
        return self.statuses.get(thread_id, ThreadStatus.IDLE)

    async def cancel(self, thread_id: str, *, by: str, request_key: str | None = None) -> Cancelled:
        self.cancels.append((thread_id, by, request_key))
        return self.cancel_result


@dataclass
class FakeNotifier:
    cancelled_queued: list[list[StatusMessage]] = field(default_factory=list)

    async def cancel_queued(self, messages: list[StatusMessage]) -> None:
        self.cancelled_queued.append(list(messages))


def approval_request(thread: ThreadRef, *, tool: str = "deploy", node_id: str = "n1",
                     args: dict[str, Any] | None = None, requested_by: str | None = "U0ALICE",
                     ttl_seconds: float = 3600.0) -> ApprovalRequest:
    return ApprovalRequest(thread_id=thread.key, plan_id="p1", node_id=node_id, tool=tool,
                           args=args if args is not None else {"service": "web"}, args_digest="d1",
                           why="ship it", requested_by=requested_by, ttl_seconds=ttl_seconds, run_id="run-1")
