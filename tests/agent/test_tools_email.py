"""send_email against a real aiosmtpd server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from pydantic import SecretStr, ValidationError

from agent.errors import ConfigurationError, ToolError
from agent.tools.email import SmtpConfig, email_tools
from agent.tools.registry import Risk, ToolRegistry
from bench.common import free_port

PASSWORD = "correct-horse-battery"


@dataclass
class Recorder:
    envelopes: list[Envelope] = field(default_factory=list)

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, rcpt_options: list[str]) -> str:
        if address.startswith("nobody@"):
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted"

    def message(self, index: int = -1) -> Message:
        content = self.envelopes[index].content
        assert isinstance(content, bytes)
        return message_from_bytes(content)


def _authenticator(server: SMTP, session: Session, envelope: Envelope, mechanism: str,
                   auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and auth_data.password == PASSWORD.encode()
    # handled=False: aiosmtpd then answers 535 itself instead of leaving the client hanging.
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def smtp_server() -> Iterator[tuple[Recorder, int]]:
    recorder = Recorder()
    port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port,
                            authenticator=_authenticator, auth_require_tls=False)
    controller.start()
    try:
        yield recorder, port
    finally:
        controller.stop()


def _send_tool(config: SmtpConfig) -> Any:
    registry = ToolRegistry()
    for tool, risk in email_tools(config):
        registry.add(tool, risk)
    assert registry.risk_of("send_email") is Risk.RED
    return registry.get("send_email").tool


async def test_send_email_is_received(smtp_server: tuple[Recorder, int]) -> None:
    recorder, port = smtp_server
    send = _send_tool(SmtpConfig(host="127.0.0.1", port=port, sender="DAG Bot <bot@example.org>"))
    result = await send.ainvoke({
        "to": "alice@example.com, Bob <bob@example.com>",
        "cc": ["carol@example.com"],
        "subject": "DAG digest",
        "body": "Five lines.\nÜnïcode too.\n",
    })
    assert result["sent_to"] == ["alice@example.com", "bob@example.com", "carol@example.com"]
    assert "refused" not in result
    envelope = recorder.envelopes[-1]
    assert envelope.mail_from == "bot@example.org"
    assert envelope.rcpt_tos == ["alice@example.com", "bob@example.com", "carol@example.com"]
    msg = recorder.message()
    assert msg["Subject"] == "DAG digest"
    assert msg["From"] == "DAG Bot <bot@example.org>"
    assert msg["To"] == 'alice@example.com, "Bob" <bob@example.com>'
    assert msg["Cc"] == "carol@example.com"
    assert msg["Message-ID"] == result["message_id"] and result["message_id"].endswith(
        "@example.org>")
    payload = msg.get_payload(decode=True)
    assert isinstance(payload, bytes)
    text = payload.decode(msg.get_content_charset() or "utf-8").replace("\r\n", "\n")
    assert text == "Five lines.\nÜnïcode too.\n"


async def test_login_and_partial_refusal(smtp_server: tuple[Recorder, int]) -> None:
    recorder, port = smtp_server
    send = _send_tool(SmtpConfig(host="127.0.0.1", port=port, username="bot",
                                 password=SecretStr(PASSWORD)))
    result = await send.ainvoke({"to": ["a@example.com", "nobody@example.com"],
                                 "subject": "hi", "body": "x"})
    assert result["sent_to"] == ["a@example.com"]
    assert result["refused"]["nobody@example.com"].startswith("550")
    assert recorder.envelopes[-1].rcpt_tos == ["a@example.com"]


async def test_every_recipient_refused(smtp_server: tuple[Recorder, int]) -> None:
    _, port = smtp_server
    send = _send_tool(SmtpConfig(host="127.0.0.1", port=port))
    with pytest.raises(ToolError, match=r"refused every recipient: nobody@example.com \(550"):
        await send.ainvoke({"to": "nobody@example.com", "subject": "s", "body": "b"})


async def test_wrong_password_does_not_leak(smtp_server: tuple[Recorder, int]) -> None:
    recorder, port = smtp_server
    config = SmtpConfig(host="127.0.0.1", port=port, username="bot", password="wrong-s3cret")
    assert "wrong-s3cret" not in repr(config)
    send = _send_tool(config)
    with pytest.raises(ToolError, match="rejected the login for user 'bot'") as info:
        await send.ainvoke({"to": "a@example.com", "subject": "s", "body": "b"})
    assert "wrong-s3cret" not in str(info.value)
    assert recorder.envelopes == []


async def test_invalid_addresses_and_headers(smtp_server: tuple[Recorder, int]) -> None:
    recorder, port = smtp_server
    send = _send_tool(SmtpConfig(host="127.0.0.1", port=port, max_recipients=3))
    bad_calls: list[tuple[dict[str, Any], str]] = [
        ({"to": "not-an-address"}, "invalid email address"),
        ({"to": ["ok@example.com", "bad@@example.com"]}, "invalid email address"),
        ({"to": "a@example.com\r\nBcc: victim@example.com"}, "line breaks"),
        ({"to": "a@example.com", "subject": "x\r\nBcc: v@example.com"}, "single line"),
        ({"to": "a@x.org, b@x.org", "cc": "c@x.org, d@x.org"}, "too many recipients"),
        ({"to": "a@example.com", "cc": "nope"}, "'cc' has invalid"),
    ]
    for override, message in bad_calls:  # (addresses: refused by the schema, before any approval)
        with pytest.raises((ToolError, ValidationError), match=message):
            await send.ainvoke({"subject": "s", "body": "b", **override})
    assert recorder.envelopes == []


async def test_unreachable_server_is_a_clear_error() -> None:
    send = _send_tool(SmtpConfig(host="127.0.0.1", port=free_port(), username="u",
                                 password="p4ss", timeout=5))
    with pytest.raises(ToolError, match=r"could not send mail through 127\.0\.0\.1:\d+") as info:
        await send.ainvoke({"to": "a@example.com", "subject": "s", "body": "b"})
    assert "p4ss" not in str(info.value)


def test_tls_options_are_exclusive() -> None:
    with pytest.raises(ConfigurationError):
        SmtpConfig(host="127.0.0.1", starttls=True, use_ssl=True)
