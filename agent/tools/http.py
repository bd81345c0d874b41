"""HTTP tools: ``http_get`` (green) and ``http_post`` (red), their arguments and what they return.

Which hosts and addresses they may reach is in :mod:`agent.tools.http_policy`; how a request is
made (checked connections, redirects, secret headers, the size cap, the body as text) in
:mod:`agent.tools.http_fetch`.
"""

from __future__ import annotations

import json as jsonlib
import warnings
from typing import Any

import httpx
from langchain_core.tools import BaseTool, StructuredTool
from pydantic import BaseModel, Field

from agent.errors import ToolError
from agent.tools.http_fetch import MAX_REDIRECTS, fetch
from agent.tools.http_policy import HttpToolConfig, check_host
from agent.tools.registry import ArgumentRefusal, PlanCheck, Risk

_FORBIDDEN_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection"})


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


def refused_address(config: HttpToolConfig) -> PlanCheck:
    """The HTTP tools' plan-time check (:attr:`agent.tools.registry.ToolSpec.plan_check`): the
    host of a call's literal ``url`` that its name alone has refused (the allow and deny lists,
    cloud-metadata names), or None. An address with a reference in it is checked when it runs,
    as are the addresses a name resolves to."""
    def check(args: dict[str, Any]) -> ArgumentRefusal | None:
        url = args.get("url")
        if not isinstance(url, str) or "${" in url:
            return None
        try:
            host = httpx.URL(url).host
        except (httpx.InvalidURL, TypeError):
            return None  # (the call says so when it runs)
        if not host:
            return None
        try:
            check_host(host, config)
        except ToolError as exc:
            return ArgumentRefusal(host, f"{url}: {exc}")
        return None
    return check


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
