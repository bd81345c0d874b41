"""The HTTP tools' configuration and the hosts and addresses it lets them reach: the allow and
deny lists, cloud-metadata names and addresses, and internal addresses.

Internal addresses (loopback, private, link-local, unique-local, and the same behind IPv4-mapped
IPv6 or NAT64 forms) are refused unless the host is named on the allow list: a request
from chat must not reach the bot's own machine or network by default. Cloud-metadata endpoints
are refused whatever the allow list says.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass

from agent.errors import ToolError

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
    host, pattern = norm_host(host), norm_host(pattern)
    if pattern.startswith("*."):
        return host.endswith(pattern[1:])
    return host == pattern


def check_host(host: str, config: HttpToolConfig) -> None:
    """Refuse a host by name: metadata names, deny list, allow list."""
    name = norm_host(host)
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
    name = norm_host(host)
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
            f"dagbot call '{norm_host(host)}', add it to {ALLOW_SETTING} (keep '*' there to "
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


def norm_host(host: str) -> str:
    return host.strip().lower().rstrip(".").strip("[]")
