"""A real model, end to end: the local model behind llama.cpp's own server plans, runs and
answers an everyday request through the real engine, over the real wire format (streamed
replies, the plan held to its JSON schema, the joiner offered its tool). Temperature 0 and a
fixed seed; the flow and the outcome are asserted, not the wording. Needs `make model` (skipped
without it, failing instead under CI, like the other local-model tests)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agent.events import AnswerReady, NodeFinished, PlanReady, RunEvent, RunFailed
from infra.local_model.use import open_local_model
from infra.settings import Settings
from infra.tools.toolbox import build_registry
from infra.wiring import open_services
from tests.infra.conftest import ROOT

# One llama.cpp server at a time on the machine (two share its cores and crawl): under
# pytest-xdist these run on one worker, one after another.
pytestmark = pytest.mark.xdist_group("local_model")

ONCALL = "# On-call this week\n\n- Primary: maria (checkout, payments)\n- Secondary: dev (search, api)\n"


@pytest.mark.slow
@pytest.mark.timeout(1200)  # two CPU cores read the planner's prompt at about 19 tokens/s
async def test_the_local_model_answers_a_request_end_to_end(model_file: Path, tmp_path: Path) -> None:
    os.chdir(ROOT)  # the default file is pinned where `make model` puts it, relative to here
    workspace = tmp_path / "workspace"
    (workspace / "notes").mkdir(parents=True)
    (workspace / "notes" / "oncall.md").write_text(ONCALL)
    settings = Settings(DAGBOT_LOCAL_MODEL=str(model_file), DATABASE_URL=f"sqlite:///{tmp_path}/d.sqlite",
                        DAGBOT_WORKSPACE=str(workspace),
                        # one thread: under pytest-xdist the other workers hold the other core, and two
                        # threads that keep waiting for each other took half as long again
                        DAGBOT_LOCAL_MODEL_THREADS=1)
    # only the file tools: two CPU cores read each tool's description at about 16 tokens/s, and
    # the request needs none of the others
    registry = build_registry(settings)
    registry = registry.without(set(registry.names()) - {"read_file", "list_files", "search_files"})
    async with (open_local_model(settings, say=lambda line: None) as used,
                open_services(used, registry=registry) as svc):
        assert svc.engine.settings.plan_output == "json_schema"
        queue = svc.events.open("real:1")
        await svc.engine.ask("real:1", "Who is the primary on call this week? It is in notes/oncall.md.")
        events: list[RunEvent] = []
        while not queue.empty():
            events.append(queue.get_nowait())
    failed = [e.error for e in events if isinstance(e, RunFailed)]
    assert not failed, failed
    [plan] = [e.plan for e in events if isinstance(e, PlanReady)]
    reads = [n for n in plan["nodes"] if n.get("tool") == "read_file"]
    assert reads and reads[0]["args"]["path"] == "notes/oncall.md", plan
    assert any(isinstance(e, NodeFinished) and e.node_id == reads[0]["id"] for e in events)
    [answer] = [e.answer for e in events if isinstance(e, AnswerReady)]
    assert "maria" in answer.lower(), answer
    assert "${" not in answer and '"arguments"' not in answer
