"""What the wiring tells the engine to mask: the model's key and the credentials in its URL."""

from __future__ import annotations

from langchain_openai import ChatOpenAI
from pydantic import SecretStr

from agent.tools.masking import MASK
from infra.settings import Settings
from infra.wiring import build_llm, model_secrets


def test_the_key_and_the_urls_credentials_are_masked_and_nothing_else() -> None:
    url = "https://ops%40corp:PW%2Fsecret@llm.internal/v1?api-key=qk-SECRET-9&api-version=2024-06-01"
    settings = Settings(openai_api_key=SecretStr("sk-SECRET-1"), openai_base_url=url)
    redact = model_secrets(settings, build_llm(settings))
    text = redact(f"POST {url} with Bearer sk-SECRET-1 (password PW/secret) failed: HTTP 401")
    assert text == (f"POST https://ops%40corp:{MASK}@llm.internal/v1?api-key={MASK}&api-version=2024-06-01 "
                    f"with Bearer {MASK} (password {MASK}) failed: HTTP 401")


def test_a_model_handed_in_brings_its_own_key_but_not_the_placeholder() -> None:
    local = Settings(openai_base_url="http://127.0.0.1:11434/v1")  # no key: a placeholder is sent
    assert model_secrets(local, build_llm(local)).secrets == frozenset()
    ready_made = ChatOpenAI(model="m", base_url="https://tok-SECRET-5@llm.example/v1", api_key=SecretStr("sk-2"))
    assert model_secrets(local, ready_made).secrets == {"sk-2", "tok-SECRET-5"}
