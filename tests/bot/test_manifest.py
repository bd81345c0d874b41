"""The Slack app manifest declares what the bot's listeners and Web API calls need."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

MANIFEST = Path(__file__).resolve().parents[2] / "infra" / "slack" / "manifest.yml"


def manifest() -> dict[str, Any]:
    loaded = yaml.safe_load(MANIFEST.read_text())
    assert isinstance(loaded, dict)
    return loaded


def test_the_ai_app_surface_is_declared() -> None:
    m = manifest()
    features = m["features"]
    assert features["app_home"]["home_tab_enabled"] is True
    assert features["assistant_view"]["assistant_description"]
    assert all(p["title"] and p["message"] for p in features["assistant_view"]["suggested_prompts"])
    scopes = set(m["oauth_config"]["scopes"]["bot"])
    assert {"assistant:write", "im:history", "chat:write", "commands", "app_mentions:read"} <= scopes
    events = set(m["settings"]["event_subscriptions"]["bot_events"])
    assert {"assistant_thread_started", "assistant_thread_context_changed", "app_home_opened", "message.im",
            "app_mention", "message.channels"} <= events
    assert m["settings"]["interactivity"]["is_enabled"] is True


def test_every_event_the_bot_listens_to_is_subscribed() -> None:
    """Events the listeners register by name (bot/listeners.py) are in the manifest."""
    source = (MANIFEST.parents[2] / "bot" / "listeners.py").read_text()
    events = set(manifest()["settings"]["event_subscriptions"]["bot_events"])
    for name in ("app_mention", "assistant_thread_started", "assistant_thread_context_changed",
                 "app_home_opened"):
        assert f'@app.event("{name}")' in source and name in events
    assert '@app.event("message")' in source and any(e.startswith("message.") for e in events)
