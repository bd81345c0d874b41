"""`python -m infra.cli.entry` is the `dagbot` command (for an environment without the script)."""

from __future__ import annotations

import subprocess
import sys

from tests.infra.test_cli_serve import ROOT


def test_python_m_infra_cli_runs_the_command() -> None:
    done = subprocess.run([sys.executable, "-m", "infra.cli.entry", "--help"], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "dagbot: a chat-ops agent" in done.stdout and "serve" in done.stdout and "migrate" in done.stdout
