"""The shapes of the data files a request names, read for the planner's prompt
(:mod:`agent.model.file_shapes` says why).

They are read with the registry's own ``read_file`` (green: the same workspace checks and
refusals as a plan's read), only when the requester may use it, and only the files the request
names as ones to read (not where something goes: "write it to reports/x.csv"). A file that
cannot be read (missing, outside the workspace, binary) is left out: the plan's own read says
why, in the answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection

import structlog

from agent.model.file_shapes import DATA_FILES, shape_of
from agent.plan.named_files import READ_FILE, is_destination, named_files
from agent.tools.registry import ToolRegistry

log = structlog.get_logger(__name__)

_FILES = 4
"""At most this many files are read for one prompt."""
_SECONDS = 5.0


async def named_file_shapes(request: str, registry: ToolRegistry,
                            refused: Collection[str] = ()) -> dict[str, str]:
    """``{path: shape}`` for the CSV and JSON files ``request`` names to read that exist."""
    if READ_FILE not in registry or READ_FILE in refused:
        return {}
    paths = sorted(p for p in named_files(request)
                   if p.rpartition(".")[2].lower() in DATA_FILES and not is_destination(p, request))[:_FILES]
    shapes = await asyncio.gather(*(_shape(registry, path) for path in paths))
    return {path: shape for path, shape in zip(paths, shapes, strict=True) if shape}


async def _shape(registry: ToolRegistry, path: str) -> str | None:
    try:
        output = await asyncio.wait_for(registry.get(READ_FILE).tool.ainvoke({"path": path}), _SECONDS)
        content = output.get("content") if isinstance(output, dict) else None
        return shape_of(path, content) if isinstance(content, str) else None
    except Exception as exc:  # not there, refused, too slow, unparsable: the plan's own read will say
        log.debug("a named file was not read for its shape", path=path, error=type(exc).__name__)
        return None
