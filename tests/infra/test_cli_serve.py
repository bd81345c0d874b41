"""`dagbot serve` picks what to serve: the playground without Slack settings (or with
--playground), the Slack bot with them, and a clear error for a half-done Slack setup."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bench.common import free_port

ROOT = Path(__file__).resolve().parents[2]
SLACK_AND_MODEL = ("SLACK_", "OPENAI_", "SANDBOX_", "DAGBOT_")


def start(tmp_path: Path, env: dict[str, str], *args: str, database: bool = True) -> subprocess.Popen[str]:
    """``dagbot serve`` in ``tmp_path``; ``database``: with DATABASE_URL set (a deployment), else
    unset, as on a newcomer's machine."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(SLACK_AND_MODEL) and k != "DATABASE_URL"}
    base["PORT"] = str(free_port())
    if database:
        base["DATABASE_URL"] = f"sqlite:///{tmp_path}/dagbot.sqlite"
    return subprocess.Popen(
        [sys.executable, "-c", "from infra.cli.entry import main; main()", "serve", *args],
        env={**base, "PYTHONPATH": str(ROOT), "LOG_LEVEL": "WARNING", **env},
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(10)


def playground_url(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("dagbot playground: open "):
            return line.removeprefix("dagbot playground: open ").strip().rstrip("/")
    raise AssertionError(f"no playground banner; stderr: {process.stderr.read() if process.stderr else ''}")


def stop(process: subprocess.Popen[str]) -> int:
    process.send_signal(signal.SIGTERM)
    return process.wait(30)


@pytest.mark.timeout(120)
def test_no_slack_settings_serve_the_playground(tmp_path: Path, processes: list[subprocess.Popen[str]]) -> None:
    process = start(tmp_path, {}, database=False)
    processes.append(process)
    url = playground_url(process)
    assert url.startswith("http://127.0.0.1:")
    state = httpx.get(f"{url}/ui/state", timeout=10).json()
    assert state["model"]["demo"] is True
    assert [e["key"] for e in state["examples"]] == ["parallel", "package", "approval", "followup", "reject",
                                                    "approve_all", "tracker", "tracker_note"]
    assert "<title>" in httpx.get(f"{url}/", timeout=10).text
    # an open page keeps an event stream open: stopping must not hang on it
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as page:
        page.sendall(f"GET /ui/events HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: text/event-stream\r\n\r\n".encode())
        assert page.recv(100).startswith(b"HTTP/1.1 200")
        assert stop(process) == 0


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_playground_flag_wins_over_slack_settings(tmp_path: Path, processes: list[subprocess.Popen[str]]) -> None:
    process = start(tmp_path, {"SLACK_BOT_TOKEN": "xoxb-real-looking", "SLACK_SIGNING_SECRET": "s"},
                    "--playground")
    processes.append(process)
    url = playground_url(process)
    assert httpx.get(f"{url}/ui/state", timeout=10).json()["bot"]["name"] == "dagbot"
    assert stop(process) == 0


def test_a_half_done_slack_setup_is_an_error_not_a_playground(tmp_path: Path) -> None:
    process = start(tmp_path, {"SLACK_BOT_TOKEN": "xoxb-real-looking"})
    out, err = process.communicate(timeout=60)
    assert process.returncode == 2
    assert "SLACK_SIGNING_SECRET is not set" in err
    assert "playground" not in out


def test_database_url_without_slack_settings_is_an_error_not_a_playground(
        tmp_path: Path, processes: list[subprocess.Popen[str]]) -> None:
    """A replica whose Slack secrets did not mount keeps its DATABASE_URL: a playground there
    would run the production threads with the demo model. It stops, saying what is missing."""
    process = start(tmp_path, {})
    processes.append(process)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 2
    assert "SLACK_BOT_TOKEN is not set" in err and "SLACK_SIGNING_SECRET is not set" in err
    assert "falls back to the playground only without DATABASE_URL (or with --playground)" in err
    assert "playground: open" not in out and "Traceback" not in err
    assert not (tmp_path / "dagbot.sqlite").exists()  # not a table touched


def test_a_bad_approvers_setting_is_said_plainly(tmp_path: Path) -> None:
    process = start(tmp_path, {"DAGBOT_APPROVERS": "{not json"}, database=False)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 2
    assert "dagbot cannot start the playground" in err and "DAGBOT_APPROVERS" in err
    assert "Traceback" not in err


def test_a_bad_policy_file_is_said_plainly_before_anything_starts(tmp_path: Path) -> None:
    (tmp_path / "policy.yml").write_text("tools:\n  deploy:\n    approvers: [bob]\n")
    process = start(tmp_path, {"SLACK_BOT_TOKEN": "xoxb-real-looking", "SLACK_SIGNING_SECRET": "s",
                               "DAGBOT_POLICY_FILE": str(tmp_path / "policy.yml")})
    _, err = process.communicate(timeout=60)
    assert process.returncode == 2
    assert "policy.yml:3: tools.deploy.approvers[0]: 'bob' is not a Slack user id" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("policy_file", [False, True], ids=["no policy file", "with a policy file"])
def test_approvers_nobody_can_be_stop_the_slack_bot_plainly(tmp_path: Path, policy_file: bool) -> None:
    """An approver id that is no Slack id is a start-up error with or without a policy file: one
    line naming the setting and the value, not a traceback (nor a bot where nobody may approve)."""
    (tmp_path / "policy.yml").write_text("direct_messages: false\n")
    env = {"SLACK_BOT_TOKEN": "xoxb-real-looking", "SLACK_SIGNING_SECRET": "s",
           "DAGBOT_APPROVERS": '{"deploy": ["Ubob"]}'}
    if policy_file:
        env["DAGBOT_POLICY_FILE"] = str(tmp_path / "policy.yml")
    process = start(tmp_path, env)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 2
    assert err.splitlines()[:2] == [
        "dagbot cannot start the Slack bot:",
        "  • DAGBOT_APPROVERS[\"deploy\"][0]: 'Ubob' is not a Slack user id (U…/W…) or user group id (S…)"]
    assert "Traceback" not in err and "validation error" not in err


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_a_second_playground_or_demo_ask_leaves_the_running_playground_alone(
        tmp_path: Path, processes: list[subprocess.Popen[str]]) -> None:
    """The playground wipes its database and lays out its workspace afresh at start: a second
    one must not do that under a running one (`dagbot ask` with the demo model runs beside it,
    in a workspace of its own)."""
    first = start(tmp_path, {}, database=False)
    processes.append(first)
    url = playground_url(first)
    directory = tmp_path / "var" / "playground"
    database = (directory / "dagbot.sqlite").stat()
    (directory / "workspace" / "notes" / "oncall.md").write_text("edited while it runs\n")

    second = start(tmp_path, {}, database=False)
    processes.append(second)
    out, err = second.communicate(timeout=60)
    assert second.returncode == 2
    assert err.strip() == (f"dagbot cannot start the playground: var/playground is in use by the dagbot "
                           f"playground at {url}/ (pid {first.pid}): stop it first, or set "
                           "DAGBOT_PLAYGROUND_DIR to another directory")
    assert "playground: open" not in out

    env = {k: v for k, v in os.environ.items() if not k.startswith(SLACK_AND_MODEL) and k != "DATABASE_URL"}
    ask = subprocess.run([sys.executable, "-c", "from infra.cli.entry import main; main()", "ask", "hello"],
                         env={**env, "PYTHONPATH": str(ROOT)}, cwd=tmp_path, capture_output=True, text=True,
                         timeout=60)
    assert ask.returncode == 0, ask.stdout + ask.stderr
    assert "demo model" in ask.stdout and (tmp_path / "var" / "workspace" / "logs" / "app.log").exists()

    # the running one kept its database and workspace, and still answers
    now = (directory / "dagbot.sqlite").stat()
    assert (now.st_ino, now.st_dev) == (database.st_ino, database.st_dev)
    assert (directory / "workspace" / "notes" / "oncall.md").read_text() == "edited while it runs\n"
    assert httpx.get(f"{url}/ui/state", timeout=10).status_code == 200
    assert stop(first) == 0
    # once it is gone, the next one starts
    third = start(tmp_path, {}, database=False)
    processes.append(third)
    playground_url(third)
    assert stop(third) == 0


@pytest.mark.slow
@pytest.mark.parametrize("mode", [(), ("--socket-mode",)], ids=["http", "socket-mode"])
def test_slack_unreachable_at_start_is_one_line(tmp_path: Path, mode: tuple[str, ...]) -> None:
    api_url = f"http://127.0.0.1:{free_port()}/api/"  # nothing listens there
    process = start(tmp_path, {"SLACK_BOT_TOKEN": "xoxb-real-looking", "SLACK_SIGNING_SECRET": "s",
                               "SLACK_APP_TOKEN": "xapp-real-looking", "SLACK_API_URL": api_url,
                               "OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}, *mode)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 2
    assert "Traceback" not in err and len(err.strip().splitlines()) <= 2, err
    assert err.strip().splitlines()[-1].startswith(
        f"dagbot cannot start the Slack bot: cannot reach Slack at SLACK_API_URL={api_url}: Cannot connect to host")
