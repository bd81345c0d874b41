"""A server dagbot did not start (OPENAI_BASE_URL) is asked what dagbot's own local model server
is started with: replies capped at DAGBOT_REPLY_TOKENS and a fixed seed. OpenAI's own models
are asked for neither (a reasoning model's thinking counts against a cap)."""

from __future__ import annotations

from langchain_core.messages import HumanMessage
from pydantic import SecretStr

from infra.settings import Settings
from infra.wiring import SEED, build_llm, self_hosted_sampling
from tests.fakes.openai_server import FakeOpenAI


async def test_a_server_at_openai_base_url_gets_the_reply_cap_and_the_seed() -> None:
    with FakeOpenAI(["hello", "again"]) as server:
        await build_llm(Settings(openai_base_url=server.url)).ainvoke([HumanMessage("hi")])
        uncapped = Settings(openai_base_url=server.url, reply_tokens=0)
        await build_llm(uncapped).ainvoke([HumanMessage("hi")])
    capped, free = server.requests
    assert capped["max_completion_tokens"] == 1024 and capped["seed"] == SEED
    assert "max_completion_tokens" not in free and "max_tokens" not in free and free["seed"] == SEED
    assert capped["temperature"] == 0


def test_openais_own_models_are_not_capped_or_seeded() -> None:
    hosted = Settings(openai_api_key=SecretStr("sk-test"))
    assert self_hosted_sampling(hosted) == {}
    llm = build_llm(hosted)
    assert getattr(llm, "max_tokens", None) is None and getattr(llm, "seed", None) is None
    assert Settings(_env_file=None).reply_tokens == 1024  # type: ignore[call-arg]
