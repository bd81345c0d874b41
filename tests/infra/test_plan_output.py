"""DAGBOT_PLAN_OUTPUT: how the planner's reply is asked for, by which model plans."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from infra.settings import Settings
from infra.wiring import build_llm, engine_settings


def test_the_local_model_plans_under_the_schema_and_others_with_the_tool_call(tmp_path: Path) -> None:
    local = Settings(DAGBOT_LOCAL_MODEL=str(tmp_path / "m.gguf"), OPENAI_BASE_URL="http://127.0.0.1:9/v1")
    assert engine_settings(local).plan_output == "json_schema"
    assert engine_settings(Settings(OPENAI_API_KEY="sk-x")).plan_output == "tool_call"
    chosen = Settings(OPENAI_API_KEY="sk-x", DAGBOT_PLAN_OUTPUT="json_schema")
    assert engine_settings(chosen).plan_output == "json_schema"
    with pytest.raises(ValidationError, match="DAGBOT_PLAN_OUTPUT"):
        Settings(DAGBOT_PLAN_OUTPUT="grammar")


def test_the_local_model_may_take_minutes_before_its_first_streamed_piece(tmp_path: Path) -> None:
    local = build_llm(Settings(DAGBOT_LOCAL_MODEL=str(tmp_path / "m.gguf"), OPENAI_BASE_URL="http://127.0.0.1:9/v1"))
    hosted = build_llm(Settings(OPENAI_API_KEY="sk-x"))
    assert local.stream_chunk_timeout == 600  # type: ignore[attr-defined]
    assert hosted.stream_chunk_timeout != 600  # type: ignore[attr-defined]
