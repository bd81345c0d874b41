"""The alert hook's settings (``DAGBOT_ALERTS_*``), checked at start like the access policy."""

from __future__ import annotations

from bot.inbound.alerts.group_threads import AlertGroupThreads
from bot.inbound.alerts.hook_config import AlertHook, AlertHookConfig
from bot.inbound.alerts.routes import AlertRoutesError, load_alert_routes
from infra.settings import Settings


def alert_hook_config(settings: Settings) -> AlertHookConfig | None:
    """The hook's configuration; None when ``DAGBOT_ALERTS_FILE`` is unset (no hook). Raises
    :class:`AlertRoutesError` with one line per problem, each naming the setting or the key."""
    token = settings.alerts_token.get_secret_value().strip() if settings.alerts_token else ""
    if settings.alerts_file is None:
        if token:
            raise AlertRoutesError(["DAGBOT_ALERTS_TOKEN is set but DAGBOT_ALERTS_FILE is not: without "
                                    "routes the alert hook has nowhere to post (docs/alerts.md)"])
        return None
    problems = []
    if not token:
        problems.append("DAGBOT_ALERTS_FILE is set but DAGBOT_ALERTS_TOKEN is not: the alert hook takes no "
                        "unauthenticated notification; set a long random token (e.g. openssl rand -hex 32) "
                        "and give Alertmanager the same (docs/alerts.md)")
    try:
        routes = load_alert_routes(settings.alerts_file)
    except AlertRoutesError as exc:
        problems += exc.problems
    if problems:
        raise AlertRoutesError(problems)
    return AlertHookConfig(routes=routes, token=token, runs_per_minute=settings.alerts_runs_per_minute,
                           claim_retake_seconds=settings.claim_retake_seconds)


def alert_hook(config: AlertHookConfig | None, threads: AlertGroupThreads) -> AlertHook | None:
    """What the bot takes alerts with (None: the hook is off)."""
    return AlertHook(config, threads) if config is not None else None
