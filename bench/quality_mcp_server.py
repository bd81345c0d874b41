"""One of bench.quality's MCP servers (``--mcp``): a FastMCP server over stdio serving one
server's tools of bench.tool_selection's catalogue, as that server lists them (its description,
and :func:`bench.tool_selection_catalogue.input_schema` as its inputSchema), each answering
with bench/quality_mcp_answers.py's small result.

    python -m bench.quality_mcp_server SERVER --calls FILE

Every call is appended to FILE (one JSON line: ``tool``, its registry name ``<server>__<tool>``;
``arguments``; ``red``, whether the catalogue's GREEN leaves it red): what the MCP cases'
checks read to tell whether a red effect happened.
"""

from __future__ import annotations

import argparse
import fnmatch
import inspect
import json
from pathlib import Path
from typing import Any

from mcp import types
from mcp.server.fastmcp import FastMCP

from bench.quality_mcp_answers import answer
from bench.tool_selection_catalogue import GREEN, SERVERS, Arg, input_schema

_TYPES: dict[str, Any] = {"string": str, "integer": int, "number": float, "boolean": bool,
                          "array": list[str], "object": dict[str, Any]}


def is_green(name: str) -> bool:
    """Whether registry name ``name`` is green as the catalogue's operator configures it."""
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in GREEN)


def green_patterns(server: str) -> list[str]:
    """The catalogue's GREEN patterns of ``server``, as its config's ``green`` names them (the
    tool's name on its server)."""
    prefix = f"{server}__"
    return [p.removeprefix(prefix) for p in GREEN if p.startswith(prefix)]


def signature(args: list[Arg]) -> inspect.Signature:
    """The tool function's signature: FastMCP checks a call's arguments against it."""
    parameters = []
    for name, kind, _ in args:
        optional = name.endswith("?")
        annotation = _TYPES[kind] | None if optional else _TYPES[kind]
        parameters.append(inspect.Parameter(name.rstrip("?"), inspect.Parameter.KEYWORD_ONLY,
                                            default=None if optional else inspect.Parameter.empty,
                                            annotation=annotation))
    return inspect.Signature(parameters, return_annotation=dict[str, Any])


class CatalogueServer(FastMCP):
    """FastMCP serving one catalogue server's tools; it lists each with the catalogue's schema."""

    def __init__(self, server: str, calls: Path) -> None:
        super().__init__(server, log_level="WARNING")
        self.schemas: dict[str, dict[str, Any]] = {}
        for tool, description, args in SERVERS[server]:
            self.add_tool(self._tool(f"{server}__{tool}", args, calls), name=tool, description=description)
            self.schemas[tool] = input_schema(args)

    @staticmethod
    def _tool(name: str, args: list[Arg], calls: Path) -> Any:
        async def call(**arguments: Any) -> dict[str, Any]:
            given = {k: v for k, v in arguments.items() if v is not None}
            with calls.open("a", encoding="utf-8") as out:
                out.write(json.dumps({"tool": name, "arguments": given, "red": not is_green(name)}) + "\n")
            return answer(name, given)

        call.__signature__ = signature(args)  # type: ignore[attr-defined]
        call.__name__ = name
        return call

    async def list_tools(self) -> list[types.Tool]:
        listed = await super().list_tools()
        return [t.model_copy(update={"inputSchema": self.schemas[t.name]}) for t in listed]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.quality_mcp_server",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("server", choices=sorted(SERVERS))
    parser.add_argument("--calls", required=True, help="append each call to this file (JSON lines)")
    args = parser.parse_args()
    CatalogueServer(args.server, Path(args.calls)).run("stdio")


if __name__ == "__main__":
    main()
