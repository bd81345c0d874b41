"""HTTP tools: ``http_get`` (green) and ``http_post`` (red).

Every hop of a request (the first URL and each redirect) passes the host
allow/deny lists, and every TCP connection goes to an address that was resolved
and checked here, so cloud-metadata endpoints stay out of reach even through a
redirect or a DNS answer that changes between the check and the connect.

Internal addresses (loopback, private, link-local, unique-local, and the same behind IPv4-mapped
IPv6 or NAT64 forms) are refused unless the host is named on the allow list: a request
from chat must not reach the bot's own machine or network by default.

The caller's headers are secret (they carry tokens under any name: Authorization,
X-Api-Key, PRIVATE-TOKEN…): a redirect that changes the scheme, host or port drops every
one of them, and a header that HTTP cannot carry is refused by name, its value never shown.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json as jsonlib
import re
import socket
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import httpcore
import httpx
from bs4 import BeautifulSoup
from langchain_core.tools import BaseTool, StructuredTool
from pydantic import BaseModel, Field

from agent.errors import ToolError, TransientToolError
from agent.tools.registry import Risk

MAX_REDIRECTS = 5
_REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
_METADATA_NAMES = frozenset({"metadata", "metadata.google.internal", "metadata.goog"})
_BLOCKED_NETWORKS = tuple(
    ipaddress.ip_network(n)
    for n in ("169.254.0.0/16", "fe80::/10", "fd00:ec2::254/128", "100.100.100.200/32")
)
"""Never reached, whatever the allow list says (cloud metadata lives here)."""
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
"""Deprecated ::a.b.c.d (RFC 4291); :: and ::1 themselves are checked as they are."""
_IPV4_TRANSLATED = ipaddress.ip_network("::ffff:0:0:0/96")
"""SIIT's ::ffff:0:a.b.c.d (RFC 2765)."""
_INTERNAL_V6 = tuple(ipaddress.ip_network(n) for n in ("64:ff9b:1::/48", "fec0::/10"))
"""Local-use NAT64 (RFC 8215) and the old site-local space: internal, though Python 3.11 does
not call them private."""
_SHARED_V4 = ipaddress.ip_network("100.64.0.0/10")
ALLOW_SETTING = "DAGBOT_HTTP_ALLOW_HOSTS"
_BREAK = "\x00"
_BLOCK_TAGS = re.compile(
    r"^(?:address|article|aside|blockquote|br|dd|div|dl|dt|figcaption|footer|form|h[1-6]|"
    r"header|hr|li|main|nav|ol|p|pre|section|table|td|th|tr|ul)$"
)
_FORBIDDEN_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection"})
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
"""RFC 9110's token."""
_HEADER_VALUE = re.compile(r"(?:[\x21-\x7e]+(?:[ \t]+[\x21-\x7e]+)*)?")
"""Visible ASCII, with spaces or tabs only between (what the HTTP library will send)."""
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class HttpToolConfig:
    allow_hosts: tuple[str, ...] = ()
    """Empty (or ``*``): every public host not denied is allowed. Patterns: 'host' or
    '*.suffix'. A host named here may also be internal (loopback, private)."""
    deny_hosts: tuple[str, ...] = ()
    max_bytes: int = 2_000_000
    timeout_seconds: float = 20.0
    user_agent: str = "dagbot/0.1 (chat-ops bot)"


def host_matches(host: str, pattern: str) -> bool:
    """'*.example.com' matches any subdomain of example.com, not example.com itself."""
    host, pattern = _norm_host(host), _norm_host(pattern)
    if pattern.startswith("*."):
        return host.endswith(pattern[1:])
    return host == pattern


def check_host(host: str, config: HttpToolConfig) -> None:
    """Refuse a host by name: metadata names, deny list, allow list."""
    name = _norm_host(host)
    if not name:
        raise ToolError("the URL has no host name")
    if name in _METADATA_NAMES:
        raise ToolError(f"refused: '{name}' is a cloud metadata endpoint, which dagbot never calls")
    if any(host_matches(name, p) for p in config.deny_hosts):
        raise ToolError(f"refused: host '{name}' is on dagbot's HTTP deny list")
    patterns = [p for p in config.allow_hosts if p != "*"]
    if patterns and "*" not in config.allow_hosts and not any(host_matches(name, p) for p in patterns):
        allowed = ", ".join(config.allow_hosts)
        raise ToolError(f"refused: host '{name}' is not on dagbot's HTTP allow list ({allowed})")


def named_on_allow_list(host: str, config: HttpToolConfig) -> bool:
    """The host is named on the allow list (not just admitted by ``*``)."""
    return any(host_matches(host, p) for p in config.allow_hosts if p != "*")


IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _unwrapped(ip: IPAddress) -> IPAddress:
    """The IPv4 address behind an IPv6 form that carries one: IPv4-mapped (::ffff:a.b.c.d),
    IPv4-compatible (::a.b.c.d), SIIT (::ffff:0:a.b.c.d), NAT64 (64:ff9b::a.b.c.d) and 6to4
    (2002:AABB:CCDD::)."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return ip
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    embeds = ip in _NAT64 or ip in _IPV4_TRANSLATED or (ip in _IPV4_COMPATIBLE and int(ip) > 1)
    return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF) if embeds else ip


def is_internal(ip: IPAddress) -> bool:
    """Loopback, private, link-local, unique-local, site-local, unspecified or shared (CGNAT)
    space, also behind an IPv6 form that carries an IPv4 address."""
    ip = _unwrapped(ip)
    special = ip in _SHARED_V4 if isinstance(ip, ipaddress.IPv4Address) else any(
        ip in net for net in _INTERNAL_V6)
    return ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_unspecified or special


def check_address(address: str, host: str, config: HttpToolConfig | None = None) -> None:
    """Refuse cloud-metadata and link-local addresses always, and internal addresses unless
    the host is named on the allow list, whatever name led to them."""
    given = ipaddress.ip_address(address.split("%", 1)[0])
    ip = _unwrapped(given)
    name = _norm_host(host)
    via = "" if _same_address(name, given) or name == str(ip) else f" ('{name}' resolves to it)"
    if given != ip:
        via = f" (carried in the IPv6 address {given}){via}"
    if any(ip in net for net in _BLOCKED_NETWORKS):
        raise ToolError(
            f"refused: {ip} is a link-local or cloud-metadata address{via}; dagbot never calls "
            f"those, whatever {ALLOW_SETTING} says"
        )
    if is_internal(ip) and not named_on_allow_list(host, config or HttpToolConfig()):
        raise ToolError(
            f"refused: {ip} is an internal address (loopback or private network){via}; to let "
            f"dagbot call '{_norm_host(host)}', add it to {ALLOW_SETTING} (keep '*' there to "
            "allow public hosts too)"
        )


def _same_address(name: str, ip: IPAddress) -> bool:
    try:
        return ipaddress.ip_address(name) == ip
    except ValueError:
        return False


async def resolve_checked(host: str, port: int, config: HttpToolConfig | None = None) -> list[str]:
    """Resolve ``host`` and check every address; the caller connects only to these."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise ToolError(f"could not resolve host '{host}': {exc.strerror}") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    for address in addresses:
        check_address(address, host, config)
    return addresses


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
        return url.scheme, _norm_host(url.host), url.port or _DEFAULT_PORTS.get(url.scheme)
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


def _norm_host(host: str) -> str:
    return host.strip().lower().rstrip(".").strip("[]")


def _display(url: str) -> str:
    """The URL without user:password@, so credentials never reach Slack."""
    return re.sub(r"^([a-zA-Z][a-zA-Z0-9+.-]*://)[^/@?#]*@", r"\1", url)


# ------------------------------------------------------------------ the tools


class HttpGetArgs(BaseModel):
    url: str = Field(description="Absolute http:// or https:// URL to fetch.")


with warnings.catch_warnings():
    # The planner-facing argument is called "json"; BaseModel.json is a deprecated method.
    warnings.filterwarnings("ignore", message='Field name "json"')

    class HttpPostArgs(BaseModel):
        url: str = Field(description="Absolute http:// or https:// URL to post to.")
        json: Any = Field(None, description="JSON value to send as the request body.")
        body: str | None = Field(None, description="Raw text body (instead of json).")
        headers: dict[str, str] | None = Field(
            None, description="Extra request headers.",
            json_schema_extra={"secret": True})  # they often carry a token: never shown


RESPONSE_KEYS = frozenset({"url", "status", "content_type", "text", "truncated", "title", "json"})
"""The keys of http_get's and http_post's output ('title' for HTML pages, 'json' for JSON bodies)."""


def http_tools(config: HttpToolConfig | None = None) -> list[tuple[BaseTool, Risk]]:
    cfg = config or HttpToolConfig()
    limit = f"{cfg.max_bytes:,} bytes"

    async def http_get(url: str) -> dict[str, Any]:
        return await fetch(cfg, "GET", url)

    async def http_post(
        url: str, json: Any = None, body: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        if json is not None and body is not None:
            raise ToolError("http_post takes either 'json' or 'body', not both")
        extra = dict(headers or {})
        bad = sorted(h for h in extra if str(h).lower() in _FORBIDDEN_HEADERS)
        if bad:
            raise ToolError(f"http_post cannot set these headers: {', '.join(bad)}")
        given_type = [extra.pop(h) for h in list(extra) if str(h).lower() == "content-type"]
        content: bytes | None = None
        content_type = given_type[-1] if given_type else None
        if json is not None:
            content = jsonlib.dumps(json).encode()
            content_type = content_type or "application/json"
        elif body is not None:
            content = body.encode()
            content_type = content_type or "text/plain; charset=utf-8"
        return await fetch(cfg, "POST", url, headers=extra, content=content or b"",
                           content_type=content_type)

    returns = (
        "Returns {url (final, after redirects), status, content_type, text, truncated}; HTML "
        "pages come back as readable text with the page title on the first line (also in "
        "'title'), JSON bodies are also parsed into 'json'. Non-2xx statuses are returned, "
        f"not raised: check 'status'. The body is cut at {limit} (truncated=true). Follows up "
        f"to {MAX_REDIRECTS} redirects. Times out after {cfg.timeout_seconds:g} s. "
        "Cloud-metadata and link-local addresses, internal addresses (loopback, private) of "
        "hosts not on the allow list, and hosts on the deny list are refused."
    )
    get_tool = StructuredTool.from_function(
        coroutine=http_get, name="http_get", args_schema=HttpGetArgs,
        description="Fetch a web page or API endpoint with HTTP GET (read-only). " + returns,
    )
    post_tool = StructuredTool.from_function(
        coroutine=http_post, name="http_post", args_schema=HttpPostArgs,
        description=(
            "Send an HTTP POST (changes something remotely, so it needs approval). Give "
            "either 'json' (sent as application/json) or 'body' (raw text), plus optional "
            "'headers' (a redirect to another scheme, host or port drops them). " + returns
        ),
    )
    return [(get_tool, Risk.GREEN), (post_tool, Risk.RED)]
