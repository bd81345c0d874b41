"""Fixtures the engine's tests share."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller

from bench.common import free_port
from tests.agent.test_tools_email import Recorder


@pytest.fixture
def smtp() -> Iterator[tuple[Recorder, int]]:
    """A real SMTP server on 127.0.0.1 that records what it is sent (no login)."""
    recorder = Recorder()
    port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield recorder, port
    finally:
        controller.stop()
