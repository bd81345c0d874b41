"""The playground's own MCP server, an incident tracker: connected by default, its reads green
and its writes red by the playground's configuration; a person sees it planned, approved and
audited on the page."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.ports.audit import AuditKind
from agent.tools.registry import Risk
from infra.playground.app import Playground
from infra.playground.demo.examples import by_key
from infra.playground.incidents import IncidentError, IncidentFile, connect_tracker
from infra.settings import Settings
from tests.playground.conftest import ALICE, Channel, Person, text_of

pytestmark = [pytest.mark.timeout(120), pytest.mark.tracker]


def test_the_tracker_reads_and_writes_its_json_file(tmp_path: Path) -> None:
    incidents = IncidentFile(tmp_path / "incidents.json")
    incidents.seed()
    assert [i["id"] for i in incidents.listed()] == ["INC-142", "INC-143"]
    assert [i["id"] for i in incidents.listed("all")] == ["INC-140", "INC-141", "INC-142", "INC-143"]
    assert [i["id"] for i in incidents.search("payments 503")] == ["INC-142"]  # a note's words count
    assert incidents.add_note("inc-143", "  the vendor is on it ", "alice") == {
        "id": "INC-143", "notes": 1, "added": "the vendor is on it"}
    assert incidents.set_status("INC-143", "mitigated") == {"id": "INC-143", "status": "mitigated", "was": "open"}
    shown = incidents.show("INC-143")
    assert shown["status"] == "mitigated" and shown["notes"][0]["author"] == "alice"
    with pytest.raises(IncidentError, match="no incident 'INC-9' in the tracker; it has INC-140, INC-141"):
        incidents.show("INC-9")
    with pytest.raises(IncidentError, match="the note is empty"):
        incidents.add_note("INC-142", " ", "alice")
    with pytest.raises(IncidentError, match="one of open, mitigated, resolved"):
        incidents.set_status("INC-142", "closed")  # type: ignore[arg-type]


def test_an_operators_mcp_file_wins_over_the_tracker(tmp_path: Path) -> None:
    own = tmp_path / "mine.json"
    settings = Settings(DAGBOT_PLAYGROUND_DIR=tmp_path / "pg", DAGBOT_MCP_CONFIG=str(own))
    assert connect_tracker(settings).mcp_config == own
    assert not (tmp_path / "pg").exists()


async def test_the_tracker_is_connected_and_its_configuration_decides_the_risk(playground: Playground) -> None:
    registry, mcp = playground.services.registry, playground.services.mcp
    assert mcp is not None and [s.state for s in mcp.statuses()] == ["connected"]
    for read in ("tracker__list_incidents", "tracker__show_incident", "tracker__search_incidents"):
        assert registry.risk_of(read) is Risk.GREEN
    for write in ("tracker__add_note", "tracker__set_status"):
        assert registry.risk_of(write) is Risk.RED
        assert mcp.tools[write].decision.why.startswith("not in mcpServers.tracker.green")
    keys = [e["key"] for e in playground.extras()["examples"]]
    assert keys[-2:] == ["tracker", "tracker_note"]


async def test_whats_open_in_the_tracker_runs_green(alice: Person, channel: Channel) -> None:
    await alice.send(f"/agent {by_key('tracker').request}")
    root = await channel.root_for("incident tracker")
    answer = text_of(await channel.answer_in(root))
    assert "**Open in the incident tracker**" in answer
    assert "- INC-142 Checkout latency above SLO (SEV2, owner maria, 1 note(s))" in answer
    assert "INC-143" in answer and "INC-141" not in answer  # resolved: not open
    plan = await channel.final_plan(root)
    assert "[complete] open: tracker__list_incidents" in plan
    assert not [m for m in channel.thread(root.ts) if "Approval needed" in text_of(m)]


async def test_a_note_waits_for_approval_is_written_once_and_audited(playground: Playground, alice: Person,
                                                                    channel: Channel) -> None:
    data = playground.services.settings.playground_dir / "incidents.json"
    await alice.send("/agent Add a note to INC-143 in the incident tracker saying the vendor rotated the key.")
    root = await channel.root_for("Add a note to INC-143")
    approval = await channel.approval_in(root, "tracker__add_note")
    assert "the vendor rotated the key." in text_of(approval) and "INC-143" in text_of(approval)
    await channel.wait_for(lambda: (plan := channel.plan_of(root)) is not None
                           and "[complete] incident: tracker__show_incident" in plan.content,
                           "the green read to finish while the note waits")
    assert json.loads(data.read_text())[3]["notes"] == []  # nothing written before the approval

    await alice.click(approval, "Approve")
    answer = text_of(await channel.answer_in(root))
    assert "INC-143 Payment webhooks fail their signature check is **open** (owner dev)." in answer
    assert "Added the note to INC-143 in the incident tracker (it has 1 notes now)." in answer
    [note] = json.loads(data.read_text())[3]["notes"]
    assert note["text"] == "the vendor rotated the key." and note["author"] == "dagbot"
    assert f"Approved by <@{ALICE}>" in text_of(approval)

    trail = [(e.kind, e.detail.get("tool"), e.detail.get("outcome"))
             for e in await playground.services.store.audit_entries()]
    assert [t for t in trail if t[1] == "tracker__add_note" and t[0] in (AuditKind.RED_START, AuditKind.RED_OUTCOME)] \
        == [(AuditKind.RED_START, "tracker__add_note", None), (AuditKind.RED_OUTCOME, "tracker__add_note", "finished")]
