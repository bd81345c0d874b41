"""The ``send_email`` tool (red): plain-text mail through an SMTP server."""

from __future__ import annotations

import asyncio
import base64
import re
import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, getaddresses, make_msgid
from typing import Any

from langchain_core.tools import BaseTool, StructuredTool
from pydantic import BaseModel, Field, SecretStr, ValidationInfo, field_validator

from agent.errors import ConfigurationError, ToolError
from agent.tools.registry import Risk

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_ADDRESS = re.compile(rf"^[A-Za-z0-9.!#$%&'*+/=?^_`{{|}}~-]+@{_LABEL}(?:\.{_LABEL})*$")


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int = 25
    username: str | None = None
    password: str | SecretStr | None = field(default=None, repr=False)
    starttls: bool = False
    use_ssl: bool = False
    sender: str = "dagbot@localhost"
    timeout: float = 20.0
    max_recipients: int = 50

    def __post_init__(self) -> None:
        if self.starttls and self.use_ssl:
            raise ConfigurationError("SMTP: choose starttls or use_ssl, not both")

    def secret(self) -> str | None:
        if isinstance(self.password, SecretStr):
            return self.password.get_secret_value()
        return self.password


def parse_addresses(value: list[str] | str | None, field_name: str) -> list[tuple[str, str]]:
    """(display name, address) pairs; a string may hold several, comma-separated."""
    if value is None:
        return []
    items = [value] if isinstance(value, str) else list(value)
    if any("\r" in item or "\n" in item for item in items):
        raise ToolError(f"'{field_name}' must not contain line breaks")
    pairs = getaddresses(items)
    bad = [item for item in items if not all(_ADDRESS.match(addr) for _, addr in getaddresses([item]))]
    if bad or not pairs:
        shown = ", ".join(repr(b) for b in bad) or repr(value)
        raise ToolError(f"'{field_name}' has invalid email address(es): {shown}")
    return pairs


def _format(pairs: list[tuple[str, str]]) -> str:
    return ", ".join(f'"{name}" <{addr}>' if name else addr for name, addr in pairs)


class SendEmailArgs(BaseModel):
    to: list[str] | str = Field(description="Recipient address(es): a list, or one string "
                                            "with comma-separated addresses.",
                                json_schema_extra={"format": "email"})
    subject: str = Field(description="Subject line (one line).")
    body: str = Field(description="Plain-text message body.",
                      json_schema_extra={"contentMediaType": "text/plain"})  # a document: Edit's text box
    cc: list[str] | str | None = Field(None, description="Optional CC address(es).",
                                       json_schema_extra={"format": "email"})

    @field_validator("to", "cc")
    @classmethod
    def _addresses(cls, value: list[str] | str | None, info: ValidationInfo) -> list[str] | str | None:
        """Checked before anyone is asked to approve the mail, not only when it is sent."""
        if value is not None:
            try:
                parse_addresses(value, info.field_name or "address")
            except ToolError as exc:
                raise ValueError(str(exc)) from None
        return value


class Mailer:
    def __init__(self, config: SmtpConfig) -> None:
        self.config = config
        sender = parse_addresses(config.sender, "sender")
        self._sender_addr = sender[0][1]

    async def send(
        self, to: list[str] | str, subject: str, body: str, cc: list[str] | str | None = None
    ) -> dict[str, Any]:
        to_pairs = parse_addresses(to, "to")
        cc_pairs = parse_addresses(cc, "cc")
        if "\r" in subject or "\n" in subject:
            raise ToolError("the subject must be a single line")
        recipients = list(dict.fromkeys(a for _, a in to_pairs + cc_pairs))
        if len(recipients) > self.config.max_recipients:
            raise ToolError(f"too many recipients ({len(recipients)}); the limit is "
                            f"{self.config.max_recipients}")
        msg = EmailMessage()
        msg["From"] = self.config.sender
        msg["To"] = _format(to_pairs)
        if cc_pairs:
            msg["Cc"] = _format(cc_pairs)
        msg["Subject"] = subject
        msg["Date"] = formatdate(localtime=True)
        msg["Message-ID"] = make_msgid(domain=self._sender_addr.rsplit("@", 1)[1])
        msg.set_content(body)
        refused = await asyncio.to_thread(self._deliver, msg, recipients)
        result: dict[str, Any] = {
            "sent_to": [r for r in recipients if r not in refused],
            "message_id": msg["Message-ID"],
        }
        if refused:
            result["refused"] = refused
        return result

    def _deliver(self, msg: EmailMessage, recipients: list[str]) -> dict[str, str]:
        cfg = self.config
        where = f"{cfg.host}:{cfg.port}"
        try:
            smtp = (
                smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=cfg.timeout,
                                 context=ssl.create_default_context())
                if cfg.use_ssl else smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout)
            )
            with smtp:
                if cfg.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if cfg.username:
                    smtp.login(cfg.username, self.config.secret() or "")
                refused = smtp.send_message(msg, from_addr=self._sender_addr,
                                            to_addrs=recipients)
        except smtplib.SMTPAuthenticationError:
            raise ToolError(f"the mail server at {where} rejected the login for user "
                            f"'{cfg.username}'; check dagbot's SMTP username and password") from None
        except smtplib.SMTPRecipientsRefused as exc:
            raise ToolError("the mail server refused every recipient: "
                            + _describe_refused(exc.recipients)) from None
        except smtplib.SMTPSenderRefused as exc:
            raise ToolError(f"the mail server refused the sender {exc.sender}: "
                            f"{exc.smtp_code} {self._text(exc.smtp_error)}") from None
        except smtplib.SMTPNotSupportedError as exc:
            raise ToolError(f"the mail server at {where} does not support what dagbot's SMTP "
                            f"settings ask for: {self._scrub(str(exc))}") from None
        except smtplib.SMTPResponseException as exc:
            raise ToolError(f"the mail server at {where} answered {exc.smtp_code} "
                            f"{self._text(exc.smtp_error)}") from None
        except (smtplib.SMTPException, OSError) as exc:
            reason = getattr(exc, "strerror", None) or self._scrub(str(exc)) or type(exc).__name__
            raise ToolError(f"could not send mail through {where}: {reason}") from None
        return {addr: f"{code} {self._text(text)}" for addr, (code, text) in refused.items()}

    def _text(self, raw: bytes | str) -> str:
        text = raw.decode(errors="replace") if isinstance(raw, bytes) else raw
        return self._scrub(text)

    def _scrub(self, text: str) -> str:
        """Server replies could echo credentials back; never let them reach Slack."""
        secret = self.config.secret()
        if not secret:
            return text
        forms = {secret, base64.b64encode(secret.encode()).decode()}
        if self.config.username:
            plain = f"\0{self.config.username}\0{secret}".encode()
            forms.add(base64.b64encode(plain).decode())
        for form in forms:
            text = text.replace(form, "***")
        return text


def _describe_refused(recipients: dict[str, tuple[int, bytes]]) -> str:
    return "; ".join(f"{addr} ({code} {text.decode(errors='replace')})"
                     for addr, (code, text) in recipients.items())


def email_tools(config: SmtpConfig) -> list[tuple[BaseTool, Risk]]:
    mailer = Mailer(config)
    tool = StructuredTool.from_function(
        coroutine=mailer.send,
        name="send_email",
        description=(
            "Send a plain-text email (it leaves the building, so it needs approval). 'to' and "
            "'cc' take one address, a comma-separated string or a list; the sender is "
            f"{config.sender}. Returns {{sent_to: [addresses the server accepted], message_id}}"
            " plus 'refused' {address: reason} when the server turned some recipients away. "
            f"At most {config.max_recipients} recipients; no attachments, no HTML."
        ),
        args_schema=SendEmailArgs,
    )
    return [(tool, Risk.RED)]
