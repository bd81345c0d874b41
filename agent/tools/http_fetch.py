"""One HTTP request as the HTTP tools make it: the transport that connects only to checked
addresses, the redirects it follows, the headers it refuses or drops, the size cap on the body,
and the body as the tools return it (HTML as readable text, JSON parsed).

Every hop of a request (the first URL and each redirect) passes the host
allow/deny lists, and every TCP connection goes to an address that was resolved
and checked (:mod:`agent.tools.http_policy`), so cloud-metadata endpoints stay out of reach
even through a redirect or a DNS answer that changes between the check and the connect.

The caller's headers are secret (they carry tokens under any name: Authorization,
X-Api-Key, PRIVATE-TOKEN…): a redirect that changes the scheme, host or port drops every
one of them, and a header that HTTP cannot carry is refused by name, its value never shown.
"""

from __future__ import annotations

import asyncio
import contextlib
import json as jsonlib
import re
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx
from bs4 import BeautifulSoup

from agent.errors import ToolError, TransientToolError
from agent.tools.http_policy import HttpToolConfig, check_host, norm_host, resolve_checked

MAX_REDIRECTS = 5
_REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
_BREAK = "\x00"
_BLOCK_TAGS = re.compile(
    r"^(?:address|article|aside|blockquote|br|dd|div|dl|dt|figcaption|footer|form|h[1-6]|"
    r"header|hr|li|main|nav|ol|p|pre|section|table|td|th|tr|ul)$"
)
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
"""RFC 9110's token."""
_HEADER_VALUE = re.compile(r"(?:[\x21-\x7e]+(?:[ \t]+[\x21-\x7e]+)*)?")
"""Visible ASCII, with spaces or tabs only between (what the HTTP library will send)."""
_DEFAULT_PORTS = {"http": 80, "https": 443}


class _CheckedBackend(httpcore.AsyncNetworkBackend):
    """Connects only to addresses that ``resolve_checked`` accepted (no second lookup)."""

    def __init__(self, config: HttpToolConfig) -> None:
        self._inner = httpcore.AnyIOBackend()
        self.config = config

    async def connect_tcp(
        self, host: str, port: int, timeout: float | None = None,  # noqa: ASYNC109 (httpcore's)
        local_address: str | None = None, socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        last: Exception | None = None
        for address in await resolve_checked(host, port, self.config):
            try:
                return await self._inner.connect_tcp(address, port, timeout, local_address,
                                                     socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        raise last or httpcore.ConnectError(f"no address for {host}")

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None  # noqa: ASYNC109
    ) -> httpcore.AsyncNetworkStream:
        raise ToolError("unix sockets are not allowed")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class _CheckedTransport(httpx.AsyncHTTPTransport):
    def __init__(self, config: HttpToolConfig) -> None:
        super().__init__(trust_env=False)
        # httpx has no public hook for the network backend; its pool is the only seam.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            network_backend=_CheckedBackend(config),
        )


async def fetch(
    config: HttpToolConfig, method: str, url: str, *,
    headers: dict[str, str] | None = None, content: bytes | None = None,
    content_type: str | None = None,
) -> dict[str, Any]:
    """``headers`` are the caller's (secret: never shown, never sent to another origin);
    ``content_type`` goes with ``content``."""
    what = f"{method} {_display(url)}"
    check_headers({**(headers or {}), **({"Content-Type": content_type} if content_type else {})})
    try:
        async with asyncio.timeout(config.timeout_seconds):
            return await _fetch(config, method, url, headers or {}, content, content_type)
    except TimeoutError:
        raise TransientToolError(f"{what} timed out after {config.timeout_seconds:g} s") from None
    except httpx.ConnectError as exc:
        raise TransientToolError(f"{what} failed: could not connect ({exc or 'refused'})") from None
    except httpx.LocalProtocolError as exc:
        # Its text quotes what it refused, which may be a header's (secret) value.
        raise ToolError(f"{what} failed: the request could not be written "
                        f"({type(exc).__name__})") from None
    except httpx.HTTPError as exc:
        raise ToolError(f"{what} failed: {exc or type(exc).__name__}") from None


def check_headers(headers: dict[str, str]) -> None:
    """Refuse a header HTTP cannot carry, naming it; its value (maybe a token) is never shown."""
    for name, value in headers.items():
        if not isinstance(name, str) or not _HEADER_NAME.fullmatch(name):
            raise ToolError(
                f"{str(name)[:40]!r} is not a valid HTTP header name (letters, digits and "
                "!#$%&'*+-.^_`|~ only)")
        if not isinstance(value, str) or not _HEADER_VALUE.fullmatch(value):
            raise ToolError(
                f"header '{name}' cannot be sent: its value {_header_value_problem(value)}; "
                "fix the value (it is not shown here: headers may carry secrets)")


def _header_value_problem(value: object) -> str:
    if not isinstance(value, str):
        return "is not text"
    if "\r" in value or "\n" in value:
        return "contains a line break (a trailing newline read from a file, say)"
    if any((ord(c) < 0x20 and c != "\t") or ord(c) == 0x7F for c in value):
        return "contains a control character"
    if not value.isascii():
        return "contains a non-ASCII character"
    return "starts or ends with a space or tab"


def same_origin(a: httpx.URL, b: httpx.URL) -> bool:
    """Same scheme, host and port (a missing port is the scheme's default)."""
    def origin(url: httpx.URL) -> tuple[str, str, int | None]:
        return url.scheme, norm_host(url.host), url.port or _DEFAULT_PORTS.get(url.scheme)
    return origin(a) == origin(b)


async def _fetch(
    config: HttpToolConfig, method: str, url: str, headers: dict[str, str], content: bytes | None,
    content_type: str | None,
) -> dict[str, Any]:
    target = _parse(url)
    caller_headers = dict(headers)
    async with httpx.AsyncClient(transport=_CheckedTransport(config), trust_env=False,
                                 timeout=httpx.Timeout(config.timeout_seconds)) as client:
        for _hop in range(MAX_REDIRECTS + 1):
            check_host(target.host, config)
            send_headers = {"User-Agent": config.user_agent, **caller_headers}
            if content_type:
                send_headers["Content-Type"] = content_type
            async with client.stream(method, target, headers=send_headers,
                                     content=content) as response:
                location = response.headers.get("location")
                if response.status_code in _REDIRECT_CODES and location:
                    nxt = _parse(str(response.url.join(location)))
                    if not same_origin(nxt, target):
                        caller_headers = {}  # any of them may be a credential for this origin
                    if response.status_code == 303 or (
                        response.status_code in (301, 302) and method == "POST"
                    ):
                        method, content, content_type = "GET", None, None
                    target = nxt
                    continue
                body, truncated = await _read_capped(response, config.max_bytes)
                return _result(response, body, truncated)
    raise ToolError(f"{_display(url)} redirected more than {MAX_REDIRECTS} times; giving up")


def _parse(url: str) -> httpx.URL:
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise ToolError(f"'{_display(url)}' is not a valid URL: {exc}") from None
    if parsed.scheme not in ("http", "https"):
        raise ToolError(f"only http and https URLs are allowed, not '{parsed.scheme or url}'")
    return parsed


async def _read_capped(response: httpx.Response, max_bytes: int) -> tuple[bytes, bool]:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        if size + len(chunk) > max_bytes:
            chunks.append(chunk[: max_bytes - size])
            return b"".join(chunks), True
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks), False


def _result(response: httpx.Response, body: bytes, truncated: bool) -> dict[str, Any]:
    content_type = response.headers.get("content-type", "")
    mime = content_type.split(";", 1)[0].strip().lower()
    out: dict[str, Any] = {"url": _display(str(response.url)), "status": response.status_code,
                           "content_type": content_type, "text": "", "truncated": truncated}
    if not _is_textual(mime, body):
        out["text"] = f"[binary content ({mime or 'unknown type'}), {len(body)} bytes, not shown]"
        return out
    text = body.decode(response.charset_encoding or "utf-8", errors="replace")
    if mime in ("text/html", "application/xhtml+xml"):
        title, text = html_to_text(text)
        if title:
            out["title"] = title
    elif mime == "application/json" or mime.endswith("+json"):
        # Truncated or malformed JSON is still useful as text.
        with contextlib.suppress(ValueError):
            out["json"] = jsonlib.loads(text)
    out["text"] = text
    return out


def _is_textual(mime: str, body: bytes) -> bool:
    if mime.startswith("text/") or mime.endswith(("json", "xml", "javascript")):
        return True
    return not mime and b"\x00" not in body[:8192]


def html_to_text(html: str) -> tuple[str, str]:
    """Readable text of an HTML page: (title, text with the title as first line)."""
    soup = BeautifulSoup(html, "html.parser")
    title = _squash(soup.title.get_text()) if soup.title else ""
    for tag in soup(["script", "style", "noscript", "template", "svg", "head"]):
        tag.decompose()
    # Source newlines are mere spaces in HTML; lines break only around block elements.
    # (The breaks go just inside each tag: the same text as just outside it, without bs4 searching
    # the parent's children for the tag each time, quadratic in a list of thousands of items.)
    for tag in soup.find_all(_BLOCK_TAGS):
        tag.insert(0, _BREAK)
        tag.append(_BREAK)
    lines = (_squash(line) for line in soup.get_text().split(_BREAK))
    body = "\n".join(line for line in lines if line)
    return title, (f"{title}\n\n{body}" if title else body)


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _display(url: str) -> str:
    """The URL without user:password@, so credentials never reach Slack."""
    return re.sub(r"^([a-zA-Z][a-zA-Z0-9+.-]*://)[^/@?#]*@", r"\1", url)
