"""The demo: what dagbot runs with when no model is configured.

:class:`DemoKit` starts the demo's local targets (website, workspace, mail sink) and gives the
:class:`~infra.playground.demo.model.DemoChatModel` and the settings that point the tools at them.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

from infra.operations.embedded_server import serving
from infra.playground.demo.examples import EXAMPLES, NOTE, Example
from infra.playground.demo.model import WORDS_PER_SECOND, DemoChatModel, pieces_of
from infra.playground.demo.targets import Mail, MailSink, create_workspace, demo_site
from infra.settings import Settings

__all__ = ["EXAMPLES", "NOTE", "DemoKit", "Example", "Mail", "model_is_configured", "open_demo"]


def model_is_configured(settings: Settings) -> bool:
    """A real model is configured: an API key, the address of an OpenAI-compatible server, or a
    local model file (DAGBOT_LOCAL_MODEL)."""
    return bool(settings.openai_api_key.get_secret_value() or settings.openai_base_url
                or settings.local_model)


@dataclass
class DemoKit:
    site_url: str
    workspace: Path
    mail: MailSink
    model: DemoChatModel

    def tool_settings(self, settings: Settings) -> Settings:
        """The settings with the tools pointed at the demo's own targets."""
        return settings.model_copy(update={
            "workspace": self.workspace, "smtp_host": "127.0.0.1", "smtp_port": self.mail.port,
            "smtp_username": None, "smtp_password": None, "smtp_starttls": False,
            "smtp_from": "dagbot@localhost", "http_allow_hosts": "127.0.0.1",
        })


@contextlib.asynccontextmanager
async def open_demo(workspace: Path, *, on_mail: Callable[[Mail], None] | None = None,
                    delay_seconds: float = 0.3, words_per_second: float = WORDS_PER_SECOND,
                    keep_files: bool = False) -> AsyncIterator[DemoKit]:
    """Start the demo website and mail sink, lay out the workspace (``keep_files``: only the
    sample files it lacks, nothing there changed); stop them on exit. ``delay_seconds``: the
    model's "thinking" before each reply; ``words_per_second``: the pace of its written answers."""
    sink = MailSink(on_mail)
    await sink.start()
    try:
        async with serving(demo_site()) as site_url:
            yield DemoKit(site_url, create_workspace(workspace, keep_files=keep_files), sink,
                          DemoChatModel(site=site_url, delay_seconds=delay_seconds,
                                        words_per_piece=pieces_of(words_per_second)))
    finally:
        await sink.stop()
