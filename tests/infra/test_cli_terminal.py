"""`dagbot` in a terminal, as a person meets it: the README's terminal example typed as written
in a fresh directory (beside a running playground), y/n with a reason, the answer's Markdown as
a terminal shows it, and `--help` that reads as written. Each runs in a pseudo-terminal."""

from __future__ import annotations

import os
import re
import shlex
import sys
import time
from pathlib import Path

import pytest

from infra.playground.demo.lock import playground_lock
from tests.infra.pty_terminal import Terminal

pytestmark = pytest.mark.timeout(180)

ROOT = Path(__file__).resolve().parents[2]
DAGBOT = [sys.executable, "-c", "from infra.cli.entry import main; main()"]
MODEL_SETTINGS = ("OPENAI_", "DAGBOT_", "DATABASE_URL", "SLACK_")


def fresh_env(**more: str) -> dict[str, str]:
    """A newcomer's environment: no model, no Slack, no database set (dagbot's source on the path)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(MODEL_SETTINGS)}
    return {**env, "PYTHONPATH": str(ROOT), **more}


def readme_terminal_example() -> list[str]:
    """The README's terminal example, line by line, without its comments."""
    readme = (ROOT / "README.md").read_text()
    block = readme.split("The terminal works too", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    return [line.split("   #")[0].strip() for line in block.strip().splitlines()]


def as_typed(line: str, directory: Path) -> tuple[list[str], dict[str, str]]:
    """A README line as the shell runs it in ``directory``: ``export`` sets a variable; ``make run
    ARGS='…'`` runs ``dagbot …`` (what make does once installed), as ``.venv/bin/dagbot …`` does."""
    words = shlex.split(line.replace("$PWD", str(directory)))
    if words[0] == "export":
        name, _, value = words[1].partition("=")
        return [], {name: value}
    if words[:2] == ["make", "run"]:
        assert words[2].startswith("ARGS="), line
        return [*DAGBOT, *shlex.split(words[2].removeprefix("ARGS="))], {}
    assert words[0] == ".venv/bin/dagbot", line
    return [*DAGBOT, *words[1:]], {}


def test_the_readme_terminal_example_works_as_written_from_a_fresh_clone(tmp_path: Path) -> None:
    """Typed in a directory with nothing made yet, while a playground runs there: the demo model
    knows both requests, the workspace is made, the summary is written once approved, and the
    follow-up mails it."""
    env = fresh_env()
    commands = []
    for line in readme_terminal_example():
        argv, exported = as_typed(line, tmp_path)
        env.update(exported)
        if argv:
            commands.append(argv)
    assert len(commands) == 2 and env["DAGBOT_WORKSPACE"] == str(tmp_path / "workspace")
    assert not (tmp_path / "workspace").exists()

    with playground_lock(tmp_path / "var" / "playground", "the dagbot playground at http://127.0.0.1:3000/"):
        first = Terminal(commands[0], env=env, cwd=tmp_path)
        try:
            first.expect("? approve write_file(")
            first.expect("[y/N] ")
            first.type("y")
            answer = first.expect("node(s)")
            assert first.wait() == 0, first.text
        finally:
            first.close()
        assert "Wrote the summary of logs/app.log to report.md" in answer
        assert "Errors per service: checkout 4, payments 2, search 1." in answer
        assert "**" not in answer and "`" not in answer  # Markdown, shown as a terminal shows it
        report = (tmp_path / "workspace" / "report.md").read_text()
        assert report.startswith("# Summary of logs/app.log") and "- checkout: 4" in report

        follow_up = Terminal(commands[1], env=env, cwd=tmp_path)
        try:
            follow_up.expect("? approve send_email(")
            follow_up.expect("[y/N] ")
            follow_up.type("y")
            follow_up.expect("✉ the demo's mail sink got a mail to ops@example.com")
            answer = follow_up.expect("node(s)")
            assert follow_up.wait() == 0, follow_up.text
        finally:
            follow_up.close()
        assert "Emailed it to ops@example.com." in answer
    assert "in use" not in first.text + follow_up.text
    assert not (tmp_path / "var" / "playground" / "workspace").exists()  # the playground's is its own


def test_no_asks_why_records_the_reason_and_says_nothing_more_is_waiting(tmp_path: Path) -> None:
    terminal = Terminal([*DAGBOT, "ask", "Clear logs/app.log to free disk space."], env=fresh_env(), cwd=tmp_path)
    try:
        terminal.expect("? approve write_file(")
        terminal.expect("[y/N] ")
        terminal.type("n")
        terminal.expect("why not?")
        terminal.type("we keep logs for 30 days")
        after = terminal.expect("node(s)")
        assert terminal.wait() == 0, terminal.text
    finally:
        terminal.close()
    assert re.search(r"⛔ clear: rejected by \S+: we keep logs for 30 days", after), after
    assert "I did not clear logs/app.log" in after and "**" not in after
    assert "waiting for" not in terminal.text  # the question said so; nothing waits once answered
    assert (tmp_path / "var" / "workspace" / "logs" / "app.log").stat().st_size > 0


def test_help_reads_as_written(tmp_path: Path) -> None:
    """Flags show no type (they take no value), defaults are said once, and a command's
    description in the list is whole, on one line in a wide terminal."""
    shown = {}
    for args in (["--help"], ["serve", "--help"], ["ask", "--help"]):
        terminal = Terminal([*DAGBOT, *args], env=fresh_env(), cwd=tmp_path, columns=250)
        try:
            assert terminal.wait() == 0, terminal.text
        finally:
            terminal.close()
        shown[args[0]] = terminal.text
    everything = "\n".join(shown.values())
    assert "<bool>" not in everything
    assert re.search(r"--help\s+Show this message and exit\.", shown["--help"])
    assert re.search(r"--yes\s+Approve every red node without asking\.", shown["ask"])
    port = next(line for line in shown["serve"].splitlines() if "--port" in line)
    assert "The port to listen on (default: PORT, 3000)." in port and "[default: 0]" not in port
    migrate = next(line for line in shown["--help"].splitlines() if " migrate " in line)
    assert migrate.rstrip(" │").endswith("needs only SELECT, INSERT, UPDATE, DELETE).")  # whole, one line


def test_the_playground_terminal_is_quiet_one_line_per_event(tmp_path: Path) -> None:
    """`make run`'s terminal: the banner, then one line for each request, approval asked and
    decided, mail and answer; no log chatter (its info lines, the mail sink's SMTP exchange)."""
    import httpx

    from tests.infra.test_cli_serve import free_port

    port = free_port()
    terminal = Terminal([*DAGBOT, "serve"], env=fresh_env(PORT=str(port)), cwd=tmp_path, columns=160)
    try:
        terminal.expect("Ctrl-C stops it.")
        page = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=page, timeout=30) as http:
            request = "Write the on-call handover to notes/handover.md and email it to oncall@example.com."
            assert http.post("/ui/send", json={"user": "U0ALICE", "channel": "C0OPS",
                                                "text": f"/agent {request}"}).json()["ok"]
            terminal.expect("(mail) waits for an approval")
            deadline = time.monotonic() + 60
            while not (found := [(m, b, e) for m in http.get("/ui/state").json()["messages"] for b in m["blocks"]
                                 if b.get("type") == "actions" for e in b["elements"]
                                 if e["text"]["text"] == "Approve all"]):  # (the status is edited ≤ 1/s)
                assert time.monotonic() < deadline, "no Approve all on the status message"
                time.sleep(0.05)
            [(status, block, button)] = found
            assert http.post("/ui/action", json={"user": "U0ALICE", "channel": status["channel"], "ts": status["ts"],
                                                  "action_id": button["action_id"],
                                                  "block_id": block.get("block_id", "")}).json()["ok"]
            terminal.expect("answered in")
    finally:
        terminal.process.send_signal(2)  # Ctrl-C
        terminal.wait()
        terminal.close()
    said = terminal.text.split("Ctrl-C stops it.", 1)[1].strip().splitlines()[2:]  # after the banner
    lines = [re.sub(r"^\d\d:\d\d:\d\d  ", "", line) for line in said]
    about = "“Write the on-call handover to notes/han…”"  # the request, clipped
    assert lines[0] == f"▶ asked: {about}", terminal.text
    assert sorted(lines[1:-1]) == sorted([  # (the two steps go side by side: in either order)
        f"? {about}: write_file (handover) waits for an approval",
        f"? {about}: send_email (mail) waits for an approval",
        f"  {about}: handover approved by alice",
        f"  {about}: mail approved by alice",
        "✉ the mail sink got a mail to oncall@example.com: 'On-call handover'"]), terminal.text
    assert lines[-1].startswith(f"✔ {about}: answered in "), terminal.text
    assert re.fullmatch(r"\d+\.\d s \(4 node\(s\) run\)", lines[-1].split("answered in ")[-1])
