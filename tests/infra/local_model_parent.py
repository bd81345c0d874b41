"""A process that serves the local model and then waits to be killed (the child-dies-too test).

Usage: python -m tests.infra.local_model_parent MODEL.gguf

Prints one JSON line, ``{"pid": the server's pid, "url": …}``, once the model answers.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from infra.local_model.process import serving_model
from infra.operations.logging import configure_logging


async def main(model: Path) -> None:
    configure_logging("WARNING", [])
    async with serving_model(model, say=lambda line: None) as server:
        print(json.dumps({"pid": server.pid, "url": server.url}), flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1])))
