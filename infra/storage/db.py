"""The database: SQLAlchemy tables (created by Alembic migrations) and engine helpers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Float, Index, Integer, String, Text, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from agent.errors import ConfigurationError
from infra.storage.db_priority import InteractiveFirstPool


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


class Base(DeclarativeBase):
    pass


class ApprovalRow(Base):
    """A request for a human decision on one red node, and the decision."""

    __tablename__ = "approvals"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(32), unique=True)
    thread_id: Mapped[str] = mapped_column(String(255), index=True)
    plan_id: Mapped[str] = mapped_column(String(32))
    run_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    node_id: Mapped[str] = mapped_column(String(32))
    tool: Mapped[str] = mapped_column(String(128))
    args: Mapped[Any] = mapped_column(JSON)
    args_digest: Mapped[str] = mapped_column(String(64))
    why: Mapped[str] = mapped_column(Text, default="")
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    requested_by: Mapped[str | None] = mapped_column(String(255), nullable=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(255), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    edited_args: Mapped[Any] = mapped_column(JSON, nullable=True)
    """An approver's edit of ``args``: what runs if approved (``args`` keeps the plan's)."""
    edited_by: Mapped[str | None] = mapped_column(String(255), nullable=True)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    edits: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    __table_args__ = (Index("ix_approvals_node", "thread_id", "plan_id", "node_id"),)


class AuditRow(Base):
    """The audit trail: append-only (a trigger refuses UPDATE; only retention deletes)."""

    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    thread_id: Mapped[str] = mapped_column(String(255), index=True)
    run_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    actor: Mapped[str | None] = mapped_column(String(255), nullable=True)
    kind: Mapped[str] = mapped_column(String(32))
    detail: Mapped[Any] = mapped_column(JSON)


class ExecutionRow(Base):
    """The execution journal: one row per approved red call, written before the call."""

    __tablename__ = "executions"
    approval_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    thread_id: Mapped[str] = mapped_column(String(255), index=True)
    node_id: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    output: Mapped[Any] = mapped_column(JSON, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class StandingApprovalRow(Base):
    """A standing approval: later calls of ``tool`` in the thread asked for by ``requester`` are
    approved by it until ``expires_at``, or until it is revoked (agent.ports.standing)."""

    __tablename__ = "standing_approvals"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    thread_id: Mapped[str] = mapped_column(String(255))
    tool: Mapped[str] = mapped_column(String(128))
    requester: Mapped[str] = mapped_column(String(255))
    granted_by: Mapped[str] = mapped_column(String(255), index=True)
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    approval_id: Mapped[str] = mapped_column(String(32))
    """The approval whose click gave it."""
    revoked_by: Mapped[str | None] = mapped_column(String(255), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (Index("ix_standing_approvals_scope", "thread_id", "tool", "requester"),
                      Index("ix_standing_approvals_requester", "requester"))


class NodeResultRow(Base):
    """A finished node's full result: per-node durability and the artifact store."""

    __tablename__ = "node_results"
    thread_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    plan_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    node_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    output: Mapped[Any] = mapped_column(JSON, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    started_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    finished_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    attempt_log: Mapped[Any] = mapped_column(JSON, nullable=True)


class QueuedRequestRow(Base):
    """A request waiting for its run (a follow-up, for its thread's current run to end), or
    whose run is starting (``started_at``): removed once the run has parked or ended."""

    __tablename__ = "queued_requests"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    thread_id: Mapped[str] = mapped_column(String(255), index=True)
    text: Mapped[str] = mapped_column(Text)
    requested_by: Mapped[str | None] = mapped_column(String(255), nullable=True)
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    key: Mapped[str | None] = mapped_column(String(32), nullable=True)


class ThreadLeaseRow(Base):
    """Who runs a thread right now (``<replica>:<id>``; NULL: nobody). On PostgreSQL the
    holder also has the thread's advisory lock (infra.storage.ownership), freed if it dies; on SQLite
    the lease expires instead."""

    __tablename__ = "thread_leases"
    thread_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    cancel_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    """Someone cancelled the thread's run; cleared when its next run starts."""
    takeovers: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """How many times the thread's run was taken over; reset when its next run starts."""


ACCEPTED_URLS = "sqlite:///PATH or postgresql://USER:PASSWORD@HOST:PORT/DB (postgres://… too)"


def parse_database_url(url: str) -> URL:
    """DATABASE_URL, parsed: SQLite or PostgreSQL (``postgres://``, the form Heroku and RDS
    give, is PostgreSQL); anything else is a :class:`ConfigurationError` naming the setting."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        scheme = url.split("://", 1)[0] if "://" in url else ""
        raise ConfigurationError(
            f"DATABASE_URL is not a database URL{f' (it starts {scheme}://)' if scheme else ''}: "
            f"use {ACCEPTED_URLS}") from None
    backend, _, driver = parsed.drivername.partition("+")
    if backend == "postgres":
        parsed = parsed.set(drivername="postgresql" + (f"+{driver}" if driver else ""))
    elif backend not in ("postgresql", "sqlite"):
        raise ConfigurationError(
            f"DATABASE_URL {parsed.render_as_string(hide_password=True)}: {backend}:// is not supported: "
            f"use {ACCEPTED_URLS}")
    return parsed


def describe_database(url: str) -> str:
    """Where a database is, for messages: HOST:PORT/DB (no credentials) or the SQLite file."""
    parsed = parse_database_url(url)
    if parsed.get_backend_name() == "sqlite":
        return f"the SQLite file {parsed.database or ':memory:'}"
    return f"{parsed.host or 'localhost'}:{parsed.port or 5432}/{parsed.database or ''}"


def is_sqlite(url: str) -> bool:
    return parse_database_url(url).get_backend_name() == "sqlite"


def libpq_url(url: str) -> str:
    """postgresql+driver://… → postgresql://… (what psycopg understands)."""
    return parse_database_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def sync_url(url: str) -> str:
    """The URL for synchronous use (Alembic)."""
    parsed = parse_database_url(url)
    if parsed.get_backend_name() == "postgresql":
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return parsed.set(drivername="sqlite").render_as_string(hide_password=False)


def async_url(url: str) -> str:
    parsed = parse_database_url(url)
    if parsed.get_backend_name() == "postgresql":
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return parsed.set(drivername="sqlite+aiosqlite").render_as_string(hide_password=False)


def create_engine(url: str, connections: int = 12) -> AsyncEngine:
    """``connections``: the most this engine opens on PostgreSQL, each opened when first needed and
    kept (no overflow: a connection closed when the pool is full and opened again at the next
    burst is churn, and its exiting backend counts against the server's ``max_connections`` for a
    moment beyond the budget).
    Operations a person waits on get the next free connection first (:mod:`infra.storage.db_priority`)."""
    if is_sqlite(url):
        # One connection: SQLite has a single writer, and several pooled connections only
        # meet in its busy handler, which sleeps up to 100 ms a try. Queueing for the one
        # connection in asyncio is fair and prompt (bench.slack: click-to-start p50
        # 1.1 s → 0.6 s with 50 concurrent runs).
        in_memory = parse_database_url(url).database in (None, "", ":memory:")  # (a StaticPool: no sizes)
        sizes: dict[str, Any] = {} if in_memory else {"pool_size": 1, "max_overflow": 0,
                                                       "pool_timeout": 120}
        pool: dict[str, Any] = {} if in_memory else {"poolclass": InteractiveFirstPool}
        engine = create_async_engine(async_url(url), connect_args={"timeout": 30}, **sizes, **pool)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    return create_async_engine(async_url(url), pool_size=max(1, connections), max_overflow=0,
                               pool_pre_ping=True, poolclass=InteractiveFirstPool)


# ------------------------------------------------------------------ Slack (bot.store)

from sqlalchemy import Boolean  # noqa: E402 - kept with the Slack tables it serves


class SlackThreadRow(Base):
    """A Slack thread the bot runs work in: messages there are follow-ups."""

    __tablename__ = "slack_threads"
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    team: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(32))
    root_ts: Mapped[str] = mapped_column(String(32))
    started_by: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_at: Mapped[float] = mapped_column(Float)


class SlackStatusMessageRow(Base):
    """One status message per run, bound to the run id when the engine starts the run."""

    __tablename__ = "slack_status_messages"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    thread_key: Mapped[str] = mapped_column(String(255), index=True)
    run_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    channel: Mapped[str] = mapped_column(String(32))
    ts: Mapped[str] = mapped_column(String(32))
    request: Mapped[str] = mapped_column(Text, default="")
    requested_by: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    created_at: Mapped[float] = mapped_column(Float)
    finished: Mapped[bool] = mapped_column(Boolean, default=False)
    request_key: Mapped[str | None] = mapped_column(String(32), nullable=True)
    """The engine's key of the request shown (its Cancel stops only what it started)."""


class SlackApprovalMessageRow(Base):
    """The Slack message showing an approval, so it can be updated when the approval closes."""

    __tablename__ = "slack_approval_messages"
    approval_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    thread_key: Mapped[str] = mapped_column(String(255), index=True)
    channel: Mapped[str] = mapped_column(String(32))
    ts: Mapped[str] = mapped_column(String(32))
    closed: Mapped[bool] = mapped_column(Boolean, default=False)


class SlackApprovalDMRow(Base):
    """A DM from the app to one person who may decide on an approval asked in a conversation
    they may not see: the row is the once-only claim (its key), then where the DM is."""

    __tablename__ = "slack_approval_dms"
    approval_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    claimed_at: Mapped[float] = mapped_column(Float)
    channel: Mapped[str | None] = mapped_column(String(32), nullable=True)
    ts: Mapped[str | None] = mapped_column(String(32), nullable=True)
    """None until the DM is sent (and for good if Slack refused it or its process died)."""
    intro: Mapped[str | None] = mapped_column(Text, nullable=True)
    closed: Mapped[bool] = mapped_column(Boolean, default=False)


class SlackClaimRow(Base):
    """A delivered Slack message (or event): claimed once, so retries and twins start one run.
    ``settled_at`` is set once its request is queued: an unsettled claim whose process died
    (nobody renewed it, ``kept_at``, for a while) can be taken again by Slack's retry."""

    __tablename__ = "slack_claims"
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    claimed_at: Mapped[float] = mapped_column(Float, index=True)
    """When its current claimer claimed it (or took it over)."""
    settled_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    kept_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    """When its claimer last renewed it, still at work (None: not since it claimed it)."""


class SlackCommandRow(Base):
    """A slash command, recorded before Slack is answered and deleted once its request is
    queued: one left behind by a process that died is taken over (``taken_at``) and run."""

    __tablename__ = "slack_commands"
    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    team: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(32))
    channel_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    user_id: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    response_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    received_at: Mapped[float] = mapped_column(Float)
    taken_at: Mapped[float] = mapped_column(Float, index=True)
    root_ts: Mapped[str | None] = mapped_column(String(32), nullable=True)


class SlackAnswerRow(Base):
    """The message that ends a run's answer (it carries the feedback buttons)."""

    __tablename__ = "slack_answers"
    run_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    thread_key: Mapped[str] = mapped_column(String(255))
    channel: Mapped[str] = mapped_column(String(32))
    ts: Mapped[str] = mapped_column(String(32))
    requested_by: Mapped[str | None] = mapped_column(String(32), nullable=True)
    answered_at: Mapped[float] = mapped_column(Float)


class SlackAnswerFeedbackRow(Base):
    """One person's vote on one answer (a later click replaces it; the audit trail keeps each)."""

    __tablename__ = "slack_answer_feedback"
    run_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    vote: Mapped[str] = mapped_column(String(8))
    at: Mapped[float] = mapped_column(Float)
    thread_key: Mapped[str] = mapped_column(String(255))
    plan_id: Mapped[str | None] = mapped_column(String(32), nullable=True)


class SlackAssistantThreadRow(Base):
    """A thread opened in Slack's assistant pane (a DM thread Slack started for the user)."""

    __tablename__ = "slack_assistant_threads"
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    thread_ts: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    context_channel: Mapped[str | None] = mapped_column(String(32), nullable=True)
    """The channel the user was looking at when they opened (or last moved) the pane."""
    titled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[float] = mapped_column(Float)


# ------------------------------------------------------------------ alerts (bot.inbound.alerts)


class AlertGroupThreadRow(Base):
    """An Alertmanager alert group's Slack thread: claimed before its root message is posted
    (``root_ts`` None), then what the thread last said about the group (its firing alerts'
    fingerprints, its status), changed by compare-and-set."""

    __tablename__ = "alert_group_threads"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    group_key: Mapped[str] = mapped_column(Text)
    route: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(32))
    root_ts: Mapped[str | None] = mapped_column(String(32), nullable=True)
    firing: Mapped[str] = mapped_column(Text, default="")
    """The firing alerts' fingerprints, sorted, comma-separated."""
    status: Mapped[str] = mapped_column(String(8))
    claimed_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)


class AlertStormSlotRow(Base):
    """One of a route's ``DAGBOT_ALERTS_RUNS_PER_MINUTE`` slots of the storm limit, shared by the
    replicas: a run starts by moving a slot last used a window ago to now (compare-and-set on
    ``used_at``, :mod:`infra.storage.storm_budget`). Made when first needed."""

    __tablename__ = "alert_storm_slots"
    route: Mapped[str] = mapped_column(String(32), primary_key=True)
    slot: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    used_at: Mapped[float] = mapped_column(Float)
    """When a run last started on it (wall clock, epoch seconds; 0: never)."""


# ---------------------------------------------------------- schedules (bot.inbound.schedules)


class ScheduleRow(Base):
    """A schedule made with ``/agent every …``: who, where, what, when (its spec as JSON). When it
    fires is APScheduler's (its own tables, made by the same migration)."""

    __tablename__ = "slack_schedules"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    team: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(32), index=True)
    user: Mapped[str] = mapped_column(String(32), index=True)
    request: Mapped[str] = mapped_column(Text)
    spec: Mapped[str] = mapped_column(Text)
    created_at: Mapped[float] = mapped_column(Float)
    cancelled_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    cancelled_by: Mapped[str | None] = mapped_column(String(32), nullable=True)


class ScheduleTickRow(Base):
    """One firing of a schedule: claimed (``claimed_at``), its root message posted (``root_ts``),
    done; its id is the run's queue key (:func:`bot.ground.schedule_book.tick_key`)."""

    __tablename__ = "schedule_ticks"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    schedule_id: Mapped[str] = mapped_column(String(32), index=True)
    fire_time: Mapped[float] = mapped_column(Float)
    claimed_at: Mapped[float] = mapped_column(Float)
    missed: Mapped[int] = mapped_column(Integer, default=0)
    root_ts: Mapped[str | None] = mapped_column(String(32), nullable=True)
    done: Mapped[int] = mapped_column(Integer, default=0)
