"""The emulated Slack's own guarantees, below what the bot and the playground tests exercise."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import aiohttp
import pytest

from infra.emulators.slack.server import SlackServer
from infra.emulators.slack.workspace import Workspace


@pytest.mark.parametrize("clock", [None, time.time], ids=["standing-still", "real"])
def test_every_ts_is_unique_and_in_order_however_fast_messages_come(clock: Callable[[], float] | None) -> None:
    # A float near 1.8e9 cannot add 0.000001 exactly: counted that way, a burst of posts once
    # gave two requests the same ts, and so one thread.
    workspace = Workspace(clock=clock)
    stamps = [workspace.next_ts() for _ in range(20_000)]
    assert len(set(stamps)) == len(stamps)
    assert stamps == sorted(stamps) and all(len(ts.split(".")[1]) == 6 for ts in stamps)


async def test_an_envelope_unacknowledged_when_the_connection_is_replaced_is_delivered_again() -> None:
    # The Slack SDK's client reconnects when it finds its connection stale (a missed pong on a
    # busy machine); Slack delivers what was not acknowledged again on the new connection.
    async with SlackServer() as slack, aiohttp.ClientSession() as http:
        first = await http.ws_connect(slack.socket_mode_url)
        assert (await first.receive_json())["type"] == "hello"
        delivery = asyncio.create_task(slack.over_socket("slash_commands", {"command": "/agent"}))
        lost = await first.receive_json()
        assert lost["retry_attempt"] == 0
        await first.close()  # gone before it acknowledged anything

        second = await http.ws_connect(slack.socket_mode_url)
        assert (await second.receive_json())["type"] == "hello"
        again = await second.receive_json()
        assert again["envelope_id"] == lost["envelope_id"] and again["payload"] == {"command": "/agent"}
        assert again["retry_attempt"] == 1 and again["retry_reason"] == "connection_replaced"
        await second.send_json({"envelope_id": again["envelope_id"], "payload": {"text": "ok"}})
        assert (await delivery)["payload"] == {"text": "ok"}
        await second.close()


def radios(**changes: object) -> dict[str, object]:
    options = [{"text": {"type": "plain_text", "text": word}, "value": word} for word in ("true", "false")]
    element = {"type": "radio_buttons", "action_id": "value", "options": options, **changes}
    return {"type": "modal", "title": {"type": "plain_text", "text": "Edit"},
            "submit": {"type": "plain_text", "text": "Save"},
            "blocks": [{"type": "input", "block_id": "arg:append", "label": {"type": "plain_text", "text": "append"},
                        "element": element}]}


def test_options_are_checked_as_slack_checks_them() -> None:
    from infra.emulators.slack.blockkit import view_refusal

    false = {"text": {"type": "plain_text", "text": "false"}, "value": "false"}
    assert view_refusal(radios(initial_option=false)) is None
    unknown = view_refusal(radios(initial_option={**false, "value": "no"}))
    assert unknown is not None and "must exactly match one of the options" in unknown.messages[0]
    assert view_refusal(radios(options=[])) is not None
    many = [{"text": {"type": "plain_text", "text": str(i)}, "value": str(i)} for i in range(11)]
    assert view_refusal(radios(options=many)) is not None


def test_a_submission_carries_each_input_as_slack_sends_its_kind() -> None:
    from infra.emulators.slack.driver import element_of, input_state

    view = radios()
    element = element_of(view, "arg:append", "value")
    assert input_state(element, "true") == {"type": "radio_buttons", "selected_option": {
        "text": {"type": "plain_text", "text": "true"}, "value": "true"}}
    assert input_state(element, "") == {"type": "radio_buttons", "selected_option": None}
    boxes = {"type": "checkboxes", "options": element["options"]}  # type: ignore[index]
    assert input_state(boxes, ["false"])["selected_options"] == [element["options"][1]]  # type: ignore[index]
    assert input_state({}, "typed\n") == {"type": "plain_text_input", "value": "typed\n"}
    assert input_state({}, "") == {"type": "plain_text_input", "value": None}
