"""The Web API's methods by name, and a call's arguments read from HTTP as Slack reads them.

A call is ``POST /api/{method}`` (or GET) with its arguments as a form, as JSON or in the query
string; its token in the ``Authorization: Bearer`` header or the ``token`` argument. Arguments
that hold JSON in a form (``blocks``, ``view``, ``metadata``…) are parsed; a form whose JSON does
not parse is refused as Slack refuses it (``invalid_blocks_format``, ``invalid_arguments``).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request

from infra.emulators.slack import agents, chat, directory, streaming, surfaces
from infra.emulators.slack.blockkit import Refusal
from infra.emulators.slack.chat import Method

METHODS: dict[str, Method] = {**chat.METHODS, **streaming.METHODS, **surfaces.METHODS, **directory.METHODS,
                              **agents.METHODS}
JSON_ARGUMENTS = ("blocks", "view", "metadata", "prompts", "chunks")


class BadCall(Exception):
    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.error)
        self.refusal = refusal


async def read_call(request: Request) -> tuple[dict[str, Any], str]:
    """A call's arguments and its token (raises :class:`BadCall` for what Slack cannot read)."""
    args: dict[str, Any] = dict(request.query_params)
    body = await request.body()
    if body:
        if request.headers.get("content-type", "").startswith("application/json"):
            try:
                parsed = json.loads(body)
            except ValueError:
                raise BadCall(Refusal("invalid_json")) from None
            if not isinstance(parsed, dict):
                raise BadCall(Refusal("invalid_json"))
            args.update(parsed)
        else:
            args.update(parse_qsl(body.decode()))
    for key in JSON_ARGUMENTS:
        if isinstance(args.get(key), str):
            try:
                args[key] = json.loads(args[key])
            except ValueError:
                error = "invalid_blocks_format" if key == "blocks" else "invalid_arguments"
                raise BadCall(Refusal(error)) from None
    bearer = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
    token = bearer or str(args.pop("token", ""))
    return args, token
