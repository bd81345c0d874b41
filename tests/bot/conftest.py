from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.bot.chat import ALICE, BOB, CAROL, MALLORY
from tests.fakes.slack_api import FakeSlack


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        for user, name in ((ALICE, "alice"), (BOB, "bob"), (CAROL, "carol"), (MALLORY, "mallory")):
            fake.add_user(user, name)
        yield fake
