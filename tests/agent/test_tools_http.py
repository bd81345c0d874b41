"""http_get / http_post against a real aiohttp server on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from typing import Any

import httpx
import pytest
import pytest_asyncio
from aiohttp import web

from agent.errors import ToolError
from agent.tools.http import http_tools
from agent.tools.http_fetch import same_origin
from agent.tools.http_policy import HttpToolConfig, check_address, host_matches
from agent.tools.registry import Risk, ToolRegistry

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

HTML = """<!doctype html><html><head><title>  Release   notes </title>
<style>body { color: red }</style><script>var secret = "do-not-show";</script></head>
<body><h1>Version 2</h1>
<p>Faster   <b>DAGs</b>,
   fewer bugs.</p><noscript>enable js</noscript></body></html>"""


async def _huge(request: web.Request) -> web.StreamResponse:
    resp = web.StreamResponse(headers={"Content-Type": "text/plain"})
    await resp.prepare(request)
    chunk = b"x" * 65536
    for _ in range(200):  # ~13 MB: far more than the tool may read
        try:
            await resp.write(chunk)
        except (ConnectionError, RuntimeError):
            break
    return resp


async def _echo(request: web.Request) -> web.Response:
    return web.json_response({
        "method": request.method,
        "body": (await request.read()).decode(),
        "content_type": request.headers.get("Content-Type"),
        "x_token": request.headers.get("X-Token"),
        "user_agent": request.headers.get("User-Agent"),
    })


def _static(make: Callable[[], web.Response]) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        return make()
    return handler


def _redirect(location: str, status: int = 302) -> Handler:
    return _static(lambda: web.Response(status=status, headers={"Location": location}))


async def _chain(request: web.Request) -> web.Response:
    n = int(request.match_info["n"])
    target = "/page" if n == 0 else f"/chain/{n - 1}"
    return web.Response(status=302, headers={"Location": target})


@pytest_asyncio.fixture(loop_scope="session")
async def server() -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_get("/page", _static(lambda: web.Response(text=HTML, content_type="text/html")))
    app.router.add_get("/data", _static(lambda: web.json_response({"items": [1, 2, 3], "ok": True})))
    app.router.add_get("/binary", _static(lambda: web.Response(
        body=b"\x00\x01\x02" * 10, content_type="application/octet-stream")))
    app.router.add_get("/missing", _static(lambda: web.Response(status=404, text="no such thing")))
    app.router.add_get("/huge", _huge)
    app.router.add_route("*", "/echo", _echo)
    app.router.add_get("/to-metadata", _redirect("http://169.254.169.254/latest/meta-data/"))
    app.router.add_get("/to-metadata-name", _redirect("http://metadata.google.internal/x"))
    app.router.add_get("/to-denied", _redirect("http://evil.denied.test/"))
    app.router.add_get("/to-ftp", _redirect("ftp://127.0.0.1/file"))
    app.router.add_get("/to-localhost", lambda request: _redirect(
        f"http://localhost:{request.url.port}/data")(request))
    app.router.add_post("/post-303", _redirect("/echo", 303))
    app.router.add_post("/post-307", _redirect("/echo", 307))
    app.router.add_get("/chain/{n}", _chain)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


LOCAL = HttpToolConfig(allow_hosts=("*", "127.0.0.1"))
"""Public hosts, plus the test server on 127.0.0.1 (internal addresses need naming)."""


def _tools(config: HttpToolConfig | None = None) -> ToolRegistry:
    registry = ToolRegistry()
    for tool, risk in http_tools(config or LOCAL):
        registry.add(tool, risk)
    return registry


async def _get(url: str, config: HttpToolConfig | None = None) -> dict[str, Any]:
    result: dict[str, Any] = await _tools(config).get("http_get").tool.ainvoke({"url": url})
    return result


def test_risks_come_from_the_registry() -> None:
    registry = _tools()
    assert registry.risk_of("http_get") is Risk.GREEN
    assert registry.risk_of("http_post") is Risk.RED


async def test_html_becomes_readable_text(server: str) -> None:
    result = await _get(f"{server}/page")
    assert result["status"] == 200
    assert result["content_type"].startswith("text/html")
    assert result["title"] == "Release notes"
    assert result["text"] == "Release notes\n\nVersion 2\nFaster DAGs, fewer bugs."
    assert "do-not-show" not in result["text"] and "color" not in result["text"]
    assert result["truncated"] is False
    json.dumps(result)


async def test_json_is_parsed(server: str) -> None:
    result = await _get(f"{server}/data")
    assert result["json"] == {"items": [1, 2, 3], "ok": True}
    assert json.loads(result["text"]) == result["json"]


async def test_binary_and_error_statuses_are_reported(server: str) -> None:
    binary = await _get(f"{server}/binary")
    assert "binary content" in binary["text"] and "\x00" not in binary["text"]
    missing = await _get(f"{server}/missing")
    assert missing["status"] == 404 and missing["text"] == "no such thing"


async def test_huge_body_is_truncated(server: str) -> None:
    result = await _get(f"{server}/huge", replace(LOCAL, max_bytes=100_000))
    assert result["truncated"] is True
    assert len(result["text"]) == 100_000


async def test_redirects_are_followed_and_bounded(server: str) -> None:
    result = await _get(f"{server}/chain/3")
    assert result["url"] == f"{server}/page" and result["title"] == "Release notes"
    with pytest.raises(ToolError, match="redirected more than 5 times"):
        await _get(f"{server}/chain/9")


async def test_metadata_address_is_refused_before_connecting() -> None:
    with pytest.raises(ToolError, match=r"169\.254\.169\.254 is a link-local or cloud-metadata"):
        await _get("http://169.254.169.254/latest/meta-data/")
    with pytest.raises(ToolError, match="cloud metadata endpoint"):
        await _get("http://metadata.google.internal/computeMetadata/v1/")
    with pytest.raises(ToolError, match="link-local"):
        await _get("http://[fe80::1]/")
    for disguised in ("http://2852039166/", "http://[::ffff:169.254.169.254]/",
                      "http://metadata.google.internal./"):
        with pytest.raises(ToolError, match="metadata"):
            await _get(disguised)


async def test_redirect_hops_are_checked(server: str) -> None:
    with pytest.raises(ToolError, match="link-local or cloud-metadata"):
        await _get(f"{server}/to-metadata")
    with pytest.raises(ToolError, match="cloud metadata endpoint"):
        await _get(f"{server}/to-metadata-name")
    with pytest.raises(ToolError, match="deny list"):
        await _get(f"{server}/to-denied", replace(LOCAL, deny_hosts=("*.denied.test",)))
    with pytest.raises(ToolError, match="only http and https"):
        await _get(f"{server}/to-ftp")


async def test_allow_and_deny_lists(server: str) -> None:
    assert (await _get(f"{server}/data", HttpToolConfig(allow_hosts=("127.0.0.1",))))["json"]
    with pytest.raises(ToolError, match="not on dagbot's HTTP allow list"):
        await _get(f"{server}/data", HttpToolConfig(allow_hosts=("*.example.com",)))
    with pytest.raises(ToolError, match="deny list"):
        await _get(f"{server}/data", HttpToolConfig(deny_hosts=("127.0.0.1",)))


def test_host_patterns_and_blocked_addresses() -> None:
    assert host_matches("api.example.com", "*.example.com")
    assert host_matches("A.B.Example.COM.", "*.example.com")
    assert not host_matches("example.com", "*.example.com")
    assert not host_matches("badexample.com", "*.example.com")
    assert host_matches("example.com", "example.com")
    for address in ("169.254.169.254", "::ffff:169.254.169.254", "fd00:ec2::254",
                    "100.100.100.200", "fe80::1%eth0"):
        with pytest.raises(ToolError):
            check_address(address, address)
    check_address("93.184.216.34", "example.com")  # public: fine
    for address in ("127.0.0.1", "10.0.0.1", "::1", "100.100.100.201"):
        check_address(address, address, HttpToolConfig(allow_hosts=(address,)))  # named: fine


@pytest.mark.parametrize("address", [
    "127.0.0.1", "127.1.2.3", "10.0.0.1", "172.16.5.4", "192.168.1.1", "100.64.0.1", "0.0.0.0",
    "::1", "::", "fc00::1", "fd12:3456::1", "::ffff:127.0.0.1", "::ffff:10.1.2.3", "64:ff9b::7f00:1",
])
def test_internal_addresses_are_refused_unless_the_host_is_named(address: str) -> None:
    with pytest.raises(ToolError, match=r"internal address.*DAGBOT_HTTP_ALLOW_HOSTS"):
        check_address(address, "intranet.example.com")
    with pytest.raises(ToolError, match="internal address"):  # '*' admits public hosts only
        check_address(address, "intranet.example.com", HttpToolConfig(allow_hosts=("*",)))
    check_address(address, "intranet.example.com", HttpToolConfig(allow_hosts=("*.example.com",)))


async def test_internal_hosts_are_refused_by_default_also_after_a_redirect(server: str) -> None:
    port = server.rsplit(":", 1)[1]
    for url in (f"{server}/data", f"http://localhost:{port}/data", f"http://2130706433:{port}/data",
                f"http://[::1]:{port}/data", f"http://[::ffff:127.0.0.1]:{port}/data"):
        with pytest.raises(ToolError, match="internal address"):
            await _get(url, HttpToolConfig())
    # 127.0.0.1 is named, localhost is not: the redirect's hop is checked on its own
    with pytest.raises(ToolError, match=r"127\.0\.0\.1 is an internal address .*\('localhost' resolves to it\)"):
        await _get(f"{server}/to-localhost")
    assert (await _get(f"{server}/to-localhost", replace(LOCAL, allow_hosts=("127.0.0.1", "localhost"))))["json"]


async def test_only_http_urls(server: str) -> None:
    for url in ("file:///etc/passwd", "ftp://127.0.0.1/", "not a url"):
        with pytest.raises(ToolError):
            await _get(url)


async def test_post_json_body_and_headers(server: str) -> None:
    post = _tools(replace(LOCAL, user_agent="dagbot-test")).get("http_post").tool
    result = await post.ainvoke(
        {"url": f"{server}/echo", "json": {"a": 1}, "headers": {"X-Token": "t1"}}
    )
    assert result["json"] == {"method": "POST", "body": '{"a": 1}', "x_token": "t1",
                              "content_type": "application/json", "user_agent": "dagbot-test"}
    raw = await post.ainvoke({"url": f"{server}/echo", "body": "hello"})
    assert raw["json"]["body"] == "hello"
    assert raw["json"]["content_type"].startswith("text/plain")
    with pytest.raises(ToolError, match="either 'json' or 'body'"):
        await post.ainvoke({"url": f"{server}/echo", "json": {}, "body": "x"})
    with pytest.raises(ToolError, match="cannot set these headers: Host"):
        await post.ainvoke({"url": f"{server}/echo", "body": "x", "headers": {"Host": "a"}})


async def test_post_redirects(server: str) -> None:
    post = _tools().get("http_post").tool
    after_303 = await post.ainvoke({"url": f"{server}/post-303", "body": "data"})
    assert after_303["json"]["method"] == "GET" and after_303["json"]["body"] == ""
    after_307 = await post.ainvoke({"url": f"{server}/post-307", "body": "data"})
    assert after_307["json"]["method"] == "POST" and after_307["json"]["body"] == "data"


async def test_credentials_in_url_are_not_echoed(server: str) -> None:
    result = await _get(server.replace("http://", "http://user:s3cret@") + "/data")
    assert "s3cret" not in json.dumps(result)
    with pytest.raises(ToolError) as info:
        await _get("http://user:s3cret@127.0.0.1:1/")
    assert "s3cret" not in str(info.value)


@pytest.mark.parametrize(("address", "carried"), [
    ("::127.0.0.1", "127.0.0.1"), ("::ffff:0:a00:1", "10.0.0.1"), ("2002:7f00:1::1", "127.0.0.1"),
    ("2002:c0a8:101::", "192.168.1.1"), ("64:ff9b::a9fe:1", None), ("64:ff9b:1::a00:1", None),
    ("fec0::1", None), ("fe80::1", None),
])
def test_ipv6_forms_carrying_an_internal_address_are_refused(address: str, carried: str | None) -> None:
    with pytest.raises(ToolError, match=r"refused: .*DAGBOT_HTTP_ALLOW_HOSTS") as refused:
        check_address(address, address, HttpToolConfig(allow_hosts=("*",)))
    if carried:
        assert f"{carried} is an" in str(refused.value) and "carried in the IPv6 address" in str(refused.value)


def test_link_local_is_refused_even_when_named_and_says_the_setting_cannot_allow_it() -> None:
    for address in ("169.254.10.1", "fe80::1", "::ffff:169.254.169.254", "2002:a9fe:a9fe::"):
        with pytest.raises(ToolError, match="never calls those, whatever DAGBOT_HTTP_ALLOW_HOSTS says"):
            check_address(address, address, HttpToolConfig(allow_hosts=(address, "*")))


@pytest.mark.parametrize("target", [
    "http://[::1]:{port}/data", "http://[::ffff:127.0.0.1]:{port}/data", "http://[::127.0.0.1]:{port}/data",
    "http://[2002:7f00:1::1]:{port}/data", "http://[fd00::1]:{port}/data", "http://10.0.0.1:{port}/data",
    "http://[fe80::1]:{port}/data",
])
async def test_a_redirect_to_an_internal_address_is_refused_at_that_hop(server: str, target: str) -> None:
    """The first hop (127.0.0.1, named on the allow list) is fine; the hop it redirects to is checked
    on its own, before any connection, whatever form its address takes."""
    from aiohttp import web as aioweb

    port = server.rsplit(":", 1)[1]
    location = target.format(port=port)

    async def handler(request: aioweb.Request) -> aioweb.Response:
        return aioweb.Response(status=302, headers={"Location": location})

    app = aioweb.Application()
    app.router.add_get("/hop", handler)
    runner = aioweb.AppRunner(app)
    await runner.setup()
    site = aioweb.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    first = f"http://127.0.0.1:{runner.addresses[0][1]}/hop"
    try:
        with pytest.raises(ToolError, match=r"refused: .*(internal address|link-local)") as refused:
            await _get(first, HttpToolConfig(allow_hosts=("*", "127.0.0.1")))
        assert "DAGBOT_HTTP_ALLOW_HOSTS" in str(refused.value)
    finally:
        await runner.cleanup()


SECRETS = {"Authorization": "Bearer sk-SECRET-1", "X-Api-Key": "key-SECRET-2",
           "PRIVATE-TOKEN": "glpat-SECRET-3", "Cookie": "session=SECRET-4"}


async def _site(routes: dict[str, Handler]) -> tuple[web.AppRunner, int]:
    app = web.Application()
    for path, handler in routes.items():
        app.router.add_route("*", path, handler)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, runner.addresses[0][1]


async def _headers_seen(request: web.Request) -> web.Response:
    return web.json_response({"headers": dict(request.headers), "body": (await request.text())})


@pytest.mark.parametrize("status", [302, 307])
async def test_a_redirect_to_another_origin_drops_every_caller_header(status: int) -> None:
    """Another port, then another host on that port: none of the caller's headers, whatever
    their names, reach it; a 307 keeps the body and its type (not secret)."""
    other, other_port = await _site({"/collect": _headers_seen})
    targets = {"port": f"http://127.0.0.1:{other_port}/collect",
               "host": f"http://localhost:{other_port}/collect"}
    first, first_port = await _site({f"/to-{k}": _redirect(v, status) for k, v in targets.items()})
    post = _tools(HttpToolConfig(allow_hosts=("127.0.0.1", "localhost"))).get("http_post").tool
    try:
        for kind in targets:
            result = await post.ainvoke({"url": f"http://127.0.0.1:{first_port}/to-{kind}",
                                         "json": {"a": 1}, "headers": SECRETS})
            assert result["status"] == 200, kind
            seen = json.dumps(result["json"]["headers"])
            assert "SECRET" not in seen, (kind, seen)
            assert not {"authorization", "x-api-key", "private-token", "cookie"} & {
                h.lower() for h in result["json"]["headers"]}
            if status == 307:
                assert result["json"]["body"] == '{"a": 1}'
                assert result["json"]["headers"]["Content-Type"] == "application/json"
    finally:
        await first.cleanup()
        await other.cleanup()


async def test_a_redirect_within_the_origin_keeps_the_callers_headers() -> None:
    site, port = await _site({"/collect": _headers_seen, "/hop": _redirect("/collect", 307)})
    post = _tools().get("http_post").tool
    try:
        result = await post.ainvoke({"url": f"http://127.0.0.1:{port}/hop", "body": "x",
                                     "headers": {"X-Api-Key": "k1", "content-type": "text/csv"}})
        headers = result["json"]["headers"]
        assert headers["X-Api-Key"] == "k1" and headers["Content-Type"] == "text/csv"
        assert [h.lower() for h in headers].count("content-type") == 1
    finally:
        await site.cleanup()


@pytest.mark.parametrize(("a", "b", "same"), [
    ("https://api.example.com/x", "http://api.example.com/x", False),  # downgrade, same host
    ("https://api.example.com/x", "http://api.example.com:443/x", False),
    ("http://api.example.com/x", "http://api.example.com:8080/x", False),
    ("https://api.example.com/x", "https://evil.example.com/x", False),
    ("https://api.example.com/x", "https://API.example.com:443/y?q=1", True),
    ("http://api.example.com/x", "http://api.example.com:80/", True),
])
def test_same_origin_counts_default_ports_and_the_scheme(a: str, b: str, same: bool) -> None:
    assert same_origin(httpx.URL(a), httpx.URL(b)) is same


@pytest.mark.parametrize(("headers", "problem"), [
    ({"Authorization": "Bearer sk-SECRET-123\n"}, "contains a line break"),
    ({"X-Api-Key": "key-SECRET\r\nX-Evil: 1"}, "contains a line break"),
    ({"X-Api-Key": "key-\x00SECRET"}, "contains a control character"),
    ({"X-Api-Key": "kéy-SECRET"}, "contains a non-ASCII character"),
    ({"X-Api-Key": " key-SECRET"}, "starts or ends with a space or tab"),
])
async def test_a_header_http_cannot_carry_is_refused_by_name_never_by_value(
    server: str, headers: dict[str, str], problem: str
) -> None:
    post = _tools().get("http_post").tool
    with pytest.raises(ToolError) as refused:
        await post.ainvoke({"url": f"{server}/echo", "json": {}, "headers": headers})
    name = next(iter(headers))
    assert f"header '{name}' cannot be sent: its value {problem}" in str(refused.value)
    assert "SECRET" not in str(refused.value)
    with pytest.raises(ToolError, match="not a valid HTTP header name") as bad_name:
        await post.ainvoke({"url": f"{server}/echo", "json": {}, "headers": {"X Token": "SECRET"}})
    assert "SECRET" not in str(bad_name.value)
    fine = await post.ainvoke({"url": f"{server}/echo", "json": {},
                               "headers": {"X-Token": "two\twords and spaces"}})
    assert fine["json"]["x_token"] == "two\twords and spaces"
