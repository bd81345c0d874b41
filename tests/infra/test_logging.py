"""Not on a terminal, every line dagbot logs is JSON: structlog's and the standard library's
(uvicorn, slack_sdk, Bolt), exceptions included."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr

from agent.tools.masking import MASK
from infra.settings import Settings
from tests.infra.test_cli_serve import ROOT, playground_url, start, stop

EMIT = """
import logging, structlog
from infra.operations.logging import configure_logging
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
    """infra.tools.sandbox_setup logs through the standard library, the bot through structlog."""
    process = start(tmp_path, {"LOG_LEVEL": "INFO"}, database=False)
    try:
        playground_url(process)
    finally:
        assert stop(process) == 0
    assert process.stderr is not None
    lines = process.stderr.read().splitlines()
    assert any(json.loads(line).get("logger") == "infra.tools.sandbox_setup" for line in lines if line), lines
    for line in lines:
        if line.strip():
            json.loads(line)  # every line


MASKED_EMIT = """
import logging, structlog
from infra.operations.logging import configure_logging
from infra.settings import Settings
configure_logging("INFO", Settings().secret_values())
structlog.get_logger("dagbot.x").info("token xoxb-live-000111 in the message", header="Bearer sk-live-222333",
                                      nested={"urls": ["postgresql://app:pa%2Fss-444@db/x"]})
logging.getLogger("slack_sdk.web").warning("refused %s", "xoxb-live-000111")
try:
    raise RuntimeError("the server said: bad key sk-live-222333")
except RuntimeError:
    structlog.get_logger("dagbot.x").exception("model failed")
    logging.getLogger("slack_bolt.App").exception("listener failed")
logging.getLogger("uvicorn.error").info("connected to postgres as app")
"""


def test_secret_settings_are_masked_in_every_line() -> None:
    env = {"SLACK_BOT_TOKEN": "xoxb-live-000111", "OPENAI_API_KEY": "sk-live-222333",
           "DATABASE_URL": "postgresql://app:pa%2Fss-444@db/x", "PATH": os.environ["PATH"]}
    done = subprocess.run([sys.executable, "-c", MASKED_EMIT], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stderr.splitlines()]
    assert [line["event"].split()[0] for line in lines] == ["token", "refused", "model", "listener", "connected"]
    for secret in ("xoxb-live-000111", "sk-live-222333", "pa%2Fss-444", "pa/ss-444"):
        assert secret not in done.stderr
    assert lines[0]["header"] == f"Bearer {MASK}"
    assert lines[0]["nested"] == {"urls": [f"postgresql://app:{MASK}@db/x"]}
    assert f"bad key {MASK}" in lines[2]["exception"] and f"bad key {MASK}" in lines[3]["exception"]
    assert lines[4]["event"] == "connected to postgres as app"  # a user name is no secret


def test_the_secret_values_of_the_settings() -> None:
    settings = Settings(slack_bot_token=SecretStr("xoxb-1"), slack_signing_secret=SecretStr("sig-2"),
                        smtp_password=SecretStr("smtp-3"), openai_api_key=SecretStr(""),
                        database_url="postgresql://dagbot@db:5432/x", sql_url="postgresql://ro:r%40o-4@db/y",
                        openai_base_url="https://proxy.example/v1?api-key=q-5&region=eu")
    assert sorted(settings.secret_values()) == sorted(["xoxb-1", "sig-2", "smtp-3", "r%40o-4", "r@o-4", "q-5"])
