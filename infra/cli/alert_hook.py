"""The alert hook's settings (``DAGBOT_ALERTS_*``), checked at start like the access policy."""

from __future__ import annotations

from bot.inbound.alerts.group_threads import AlertGroupThreads
from bot.inbound.alerts.hook_config import AlertHook, AlertHookConfig
from bot.inbound.alerts.routes import AlertRoutesError, load_alert_routes
from infra.settings import Settings


def alert_hook_config(settings: Settings) -> AlertHookConfig | None:
    """The hook's configuration; None when ``DAGBOT_ALERTS_FILE`` is unset (no hook). Raises
    :class:`AlertRoutesError` with one line per problem, each naming the setting or the key."""
    token, hmac_secret, pagerduty = (secret.get_secret_value().strip() if secret else "" for secret in (
        settings.alerts_token, settings.alerts_hmac_secret, settings.pagerduty_secret))
    if settings.alerts_file is None:
        named = (("DAGBOT_ALERTS_TOKEN", token), ("DAGBOT_ALERTS_HMAC_SECRET", hmac_secret),
                 ("DAGBOT_PAGERDUTY_SECRET", pagerduty))
        given = [name for name, value in named if value]
        if given:
            raise AlertRoutesError([f"{name} is set but DAGBOT_ALERTS_FILE is not: without routes the alert "
                                    "hook has nowhere to post (docs/alerts.md)" for name in given])
        return None
    problems = []
    if not (token or hmac_secret or pagerduty):
        problems.append("DAGBOT_ALERTS_FILE is set but DAGBOT_ALERTS_TOKEN is not: the alert hook takes no "
                        "unauthenticated notification; set a long random token (e.g. openssl rand -hex 32) "
                        "and give Alertmanager the same, or DAGBOT_ALERTS_HMAC_SECRET for signed "
                        "notifications, or DAGBOT_PAGERDUTY_SECRET for PagerDuty's (docs/alerts.md)")
    try:
        routes = load_alert_routes(settings.alerts_file)
    except AlertRoutesError as exc:
        problems += exc.problems
    if problems:
        raise AlertRoutesError(problems)
    return AlertHookConfig(routes=routes, token=token, hmac_secret=hmac_secret, pagerduty_secret=pagerduty,
                           runs_per_minute=settings.alerts_runs_per_minute,
                           claim_retake_seconds=settings.claim_retake_seconds)


def alert_hook(config: AlertHookConfig | None, threads: AlertGroupThreads) -> AlertHook | None:
    """What the bot takes alerts with (None: the hook is off)."""
    return AlertHook(config, threads) if config is not None else None
