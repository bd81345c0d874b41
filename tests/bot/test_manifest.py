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
    """dagbot is an agent (agent_view: new Slack apps can no longer use assistant_view), with the
    agent's events: its DM's messages, what people look at, and the stop button."""
    m = manifest()
    features = m["features"]
    assert features["app_home"]["home_tab_enabled"] is True
    assert "assistant_view" not in features
    assert features["agent_view"]["agent_description"]
    assert features["agent_view"]["suggested_prompts"]
    assert all(p["title"] and p["message"] for p in features["agent_view"]["suggested_prompts"])
    scopes = set(m["oauth_config"]["scopes"]["bot"])
    assert {"assistant:write", "im:history", "chat:write", "commands", "app_mentions:read"} <= scopes
    events = set(m["settings"]["event_subscriptions"]["bot_events"])
    assert {"app_context_changed", "agent_session_stopped", "app_home_opened", "message.im",
            "app_mention", "message.channels"} <= events
    assert m["settings"]["interactivity"]["is_enabled"] is True


def test_the_slash_commands_hint_names_what_it_takes() -> None:
    """What Slack shows beside ``/agent`` as it is typed: a request, a schedule, and the words
    the bot answers itself (bot/inbound/commands.py)."""
    [command] = manifest()["features"]["slash_commands"]
    hint = command["usage_hint"]
    for word in ("<request>", "every ", "schedules", "help", "status"):
        assert word in hint
    assert "schedules" in command["description"]


ASSISTANT_VIEW_EVENTS = ("assistant_thread_started", "assistant_thread_context_changed")
"""What Slack sends apps still on assistant_view (the pane): still listened to, for those
installs, but not subscribed to by the manifest (agent_view sends app_home_opened with the
``messages`` tab and app_context_changed instead)."""


def test_every_event_the_bot_listens_to_is_subscribed() -> None:
    """Events the listeners register by name (bot/inbound/listeners.py) are in the manifest, but for the
    assistant pane's, which existing installs on assistant_view still send."""
    source = (MANIFEST.parents[2] / "bot" / "inbound" / "listeners.py").read_text()
    events = set(manifest()["settings"]["event_subscriptions"]["bot_events"])
    for name in ("app_mention", "app_context_changed", "agent_session_stopped", "app_home_opened"):
        assert f'@app.event("{name}")' in source and name in events
    for name in ASSISTANT_VIEW_EVENTS:
        assert f'@app.event("{name}")' in source and name not in events
    assert '@app.event("message")' in source and any(e.startswith("message.") for e in events)


CALL_SCOPES = {
    "chat_postMessage": {"chat:write"}, "chat_update": {"chat:write"}, "chat_delete": {"chat:write"},
    "chat_postEphemeral": {"chat:write"}, "chat_startStream": {"chat:write"},
    "chat_appendStream": {"chat:write"}, "chat_stopStream": {"chat:write"},
    "conversations_replies": {"channels:history", "groups:history", "im:history", "mpim:history"},
    "usergroups_users_list": {"usergroups:read"},
    "conversations_info": {"channels:read", "groups:read", "mpim:read"},  # (never asked about a DM: D…)
    "chat_getPermalink": set(),
    "assistant_threads_setStatus": {"assistant:write"}, "assistant_threads_setTitle": {"assistant:write"},
    "assistant_threads_setSuggestedPrompts": {"assistant:write"},
    "agents_sessions_setStatus": {"chat:write"},  # (the app must be an agent: agent_view)
    "views_open": set(), "views_publish": set(), "auth_test": set(),
    "apps_connections_open": set(),  # (Socket Mode: the app-level token's connections:write)
}
"""Bot-token scopes each Web API method needs (api.slack.com/methods)."""
EVENT_SCOPES = {"app_mention": "app_mentions:read", "message.channels": "channels:history",
                "message.groups": "groups:history", "message.im": "im:history", "message.mpim": "mpim:history"}


def test_the_bot_asks_for_the_scopes_it_uses_and_no_others() -> None:
    """Least privilege: each scope is needed by a Web API call the code makes, an event it
    subscribes to, or the slash command; each call the code makes is covered."""
    import re

    root = MANIFEST.parents[2]
    source = "\n".join(path.read_text() for folder in ("bot", "infra") for path in (root / folder).rglob("*.py")
                       if "playground" not in path.parts)
    called = set(re.findall(r"client\.([a-z]+_[A-Za-z_]+)\(", source))
    assert called - set(CALL_SCOPES) == set(), "a Web API method this test does not know the scope of"
    m = manifest()
    needed = {scope for method in called for scope in CALL_SCOPES[method]}
    needed |= {EVENT_SCOPES[e] for e in m["settings"]["event_subscriptions"]["bot_events"] if e in EVENT_SCOPES}
    needed |= {"commands"} if m["features"].get("slash_commands") else set()
    assert set(m["oauth_config"]["scopes"]["bot"]) == needed
