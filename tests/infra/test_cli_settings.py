"""An invalid setting stops dagbot with one line per problem naming the setting, not a
traceback: numbers that are not numbers or out of range, and log levels that do not exist."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from infra.settings import Settings
from tests.infra.test_cli_serve import ROOT, SLACK_AND_MODEL


def dagbot(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(SLACK_AND_MODEL) and k not in ("PORT", "LOG_LEVEL")}
    return subprocess.run([sys.executable, "-c", "from infra.cli.entry import main; main()", *args],
                          env={**base, "DATABASE_URL": f"sqlite:///{tmp_path}/dagbot.sqlite",
                               "PYTHONPATH": str(ROOT), **env},
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("command", [("serve",), ("ask", "hello"), ("migrate",)])
def test_invalid_settings_are_one_line_each(tmp_path: Path, command: tuple[str, ...]) -> None:
    done = dagbot(tmp_path, *command, PORT="abc", DAGBOT_MAX_REPLANS="-1", LOG_LEVEL="verbose",
                  SLACK_BOT_TOKEN="xoxb-real-looking")
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "dagbot: configuration error: DAGBOT_MAX_REPLANS: Input should be greater than or equal to 0 (got '-1')",
        "dagbot: configuration error: PORT: Input should be a valid integer, unable to parse string as an "
        "integer (got 'abc')",
        "dagbot: configuration error: LOG_LEVEL or DAGBOT_LOG_LEVEL: must be one of DEBUG, INFO, WARNING, "
        "ERROR, CRITICAL (any case) (got 'verbose')",
    ]
    assert not (tmp_path / "dagbot.sqlite").exists()


def test_log_level_is_read_in_any_case() -> None:
    assert Settings(LOG_LEVEL="debug").log_level == "DEBUG"
    assert Settings(DAGBOT_LOG_LEVEL=" Warning ").log_level == "WARNING"
