"""structlog configuration: one renderer for every log line on stderr, structlog's and the
standard library's (uvicorn, slack_sdk, Bolt, asyncio…): key-value lines on a terminal, JSON
lines otherwise. Secrets are never logged."""

from __future__ import annotations

import logging
import sys

import structlog
from structlog.typing import Processor

HANDLER_NAME = "dagbot-stderr"


def configure_logging(level: str = "INFO") -> None:
    level = level.upper()
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
                    structlog.processors.format_exc_info, renderer],
    ))
    handler.set_name(HANDLER_NAME)
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:  # configured again
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "aiosqlite", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    structlog.configure(
        processors=[*stamped, structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
    )
