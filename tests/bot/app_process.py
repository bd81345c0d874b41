"""The Slack app in a process of its own, for the restart scenario (the test kills it).

Usage: python -m tests.bot.app_process CONFIG_JSON
CONFIG_JSON: {"database_url", "api_url", "token", "replies", "approvers"}. Once serving, it
prints ``DAGBOT_APP_URL=<url>`` and runs until killed.
"""

from __future__ import annotations

import asyncio
import json
import sys
from dataclasses import dataclass

from tests.bot.chat import running_bot


@dataclass(frozen=True)
class SlackAddress:
    token: str
    base_url: str


async def main(config: dict[str, object]) -> None:
    slack = SlackAddress(token=str(config["token"]), base_url=str(config["api_url"]))
    async with running_bot(slack, str(config["database_url"]), list(config["replies"]),  # type: ignore[call-overload]
                           approvers=config.get("approvers") or None, holder="old-process") as app:  # type: ignore[arg-type]
        print(f"DAGBOT_APP_URL={app.url}", flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(json.loads(sys.argv[1])))
