"""An MCP tool in the engine, on dagbot's own wiring (open_services with DAGBOT_MCP_CONFIG): a
red call whose server dies mid-call is not taken as failed or done, its outcome is unknown, as
for any red call cut off (the fault server over stdio; its ``crash`` made red by the file)."""

from __future__ import annotations

from pathlib import Path

from agent.events import AwaitingApproval, NodeFailed
from agent.ports.audit import AuditKind
from infra.emulators.scripted_chat import ScriptedChatModel
from infra.settings import Settings
from infra.wiring import open_services
from tests.infra.mcp.helpers import next_event, stdio_fault_server, write_config


async def test_a_red_call_cut_off_by_its_server_dying_has_an_unknown_outcome(
        tmp_path: Path, sqlite_url: str) -> None:
    config = write_config(tmp_path / "mcp.json", {
        "faults": stdio_fault_server(tmp_path / "log.txt", trust_annotations=True, red=["crash"])})
    plan = {"nodes": [{"id": "boom", "tool": "faults__crash", "args": {}},
                      {"id": "hello", "tool": "faults__echo", "args": {"text": "hello"}}]}
    llm = ScriptedChatModel(replies=[plan, "The crash call may or may not have run."])
    settings = Settings(DATABASE_URL=sqlite_url, DAGBOT_MCP_CONFIG=str(config))
    async with open_services(settings, llm=llm) as services:
        queue = services.events.open()
        await services.engine.submit("t-crash", "crash the server", requested_by="U1")
        asked = await next_event(queue, AwaitingApproval)
        assert isinstance(asked, AwaitingApproval) and asked.tool == "faults__crash"
        await services.engine.decide(asked.approval_id, approved=True, by="U2")
        failed = await next_event(queue, NodeFailed)
        assert isinstance(failed, NodeFailed) and failed.node_id == "boom"
        assert failed.error == ("MCP server 'faults' went away during the call to 'crash'; its outcome is "
                                "unknown, check before trying again")
        await services.engine.idle()
        outcomes = [e.detail["outcome"] for e in await services.store.audit_entries(thread_id="t-crash")
                    if e.kind is AuditKind.RED_OUTCOME]
        assert outcomes == ["unknown"]
