"""structlog configuration: one renderer for every log line on stderr, structlog's and the
standard library's (uvicorn, slack_sdk, Bolt, asyncio…): key-value lines on a terminal, JSON
lines otherwise. Secrets are never logged: the values of the secret settings are masked in
every line, its message, fields and traceback alike (:class:`MaskSecrets`)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, Mapping
from typing import Any

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from agent.execution.redaction import Redactor

HANDLER_NAME = "dagbot-stderr"


class MaskSecrets:
    """A processor: each string in the event (message, fields, nested values, the formatted
    traceback) with the given secrets masked, in the forms messages quote them in."""

    def __init__(self, secrets: Iterable[str]) -> None:
        self.redactor = Redactor(secrets)

    def __call__(self, logger: WrappedLogger, name: str, event: EventDict) -> EventDict:
        if not self.redactor.secrets:
            return event
        return {key: self._masked(value) for key, value in event.items()}

    def _masked(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.redactor(value)
        if isinstance(value, Mapping):
            return {key: self._masked(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [self._masked(item) for item in value]
        return value


def configure_logging(level: str = "INFO", secrets: Iterable[str] = ()) -> None:
    """``secrets``: values no line may show (:meth:`infra.settings.Settings.secret_values`)."""
    level = level.upper()
    mask = MaskSecrets(secrets)
    renderer: Processor = (structlog.dev.ConsoleRenderer(colors=False) if sys.stderr.isatty()
                           else structlog.processors.JSONRenderer())
    stamped: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso"),
    ]
    # Standard-library records are rendered by the same renderer (ProcessorFormatter), with
    # the logger's name, and their exceptions as structlog renders its own.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*stamped, structlog.stdlib.add_logger_name],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info, mask, renderer],
    ))
    handler.set_name(HANDLER_NAME)
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:  # configured again
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # (mail.log: aiosmtpd, the demo's mail sink, which logs each SMTP exchange at INFO)
    for noisy in ("httpx", "httpcore", "aiosqlite", "alembic", "mail.log"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    structlog.configure(
        processors=[*stamped, structlog.processors.format_exc_info, mask, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
    )
