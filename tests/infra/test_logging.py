"""Not on a terminal, every line dagbot logs is JSON: structlog's and the standard library's
(uvicorn, slack_sdk, Bolt), exceptions included."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.infra.test_cli_serve import ROOT, playground_url, start, stop

EMIT = """
import logging, structlog
from infra.logging import configure_logging
configure_logging("INFO")
structlog.get_logger("dagbot.x").info("from structlog", k=1)
logging.getLogger("uvicorn.error").info("Uvicorn running on %s", "http://127.0.0.1:3000")
logging.getLogger("slack_sdk.web").debug("filtered out at INFO")
try:
    1 / 0
except ZeroDivisionError:
    logging.getLogger("slack_bolt.App").exception("listener failed")
"""


def test_stdlib_and_structlog_lines_are_json() -> None:
    done = subprocess.run([sys.executable, "-c", EMIT], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stderr.splitlines()]
    assert [(line["event"], line["level"]) for line in lines] == [
        ("from structlog", "info"), ("Uvicorn running on http://127.0.0.1:3000", "info"),
        ("listener failed", "error")]
    assert lines[0]["k"] == 1 and "timestamp" in lines[0] and "timestamp" in lines[1]
    assert lines[1]["logger"] == "uvicorn.error"
    assert "ZeroDivisionError" in lines[2]["exception"]


@pytest.mark.timeout(120)
def test_a_running_playground_logs_only_json(tmp_path: Path) -> None:
    """infra.sandbox_setup logs through the standard library, the bot through structlog."""
    process = start(tmp_path, {"LOG_LEVEL": "INFO"}, database=False)
    try:
        playground_url(process)
    finally:
        assert stop(process) == 0
    assert process.stderr is not None
    lines = process.stderr.read().splitlines()
    assert any(json.loads(line).get("logger") == "infra.sandbox_setup" for line in lines if line), lines
    for line in lines:
        if line.strip():
            json.loads(line)  # every line
