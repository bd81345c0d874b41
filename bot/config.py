"""The bot's configuration: plain values handed down by ``infra`` (which reads the settings)."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.access.policy import Policy

SLACK_API_URL = "https://slack.com/api/"


@dataclass(frozen=True)
class BotConfig:
    bot_token: str = field(repr=False)
    """SLACK_BOT_TOKEN (xoxb-…). Never logged."""
    signing_secret: str = field(default="", repr=False)
    """SLACK_SIGNING_SECRET: verifies HTTP requests (forged or stale ones get 401)."""
    api_url: str = SLACK_API_URL
    """SLACK_API_URL: the Web API base URL, with its trailing slash."""
    command: str = "/agent"
    """DAGBOT_SLACK_COMMAND: the slash command that starts work."""
    policy: Policy = field(default_factory=Policy)
    """DAGBOT_POLICY_FILE with DAGBOT_APPROVERS folded in: who may use which tool where, who may
    approve it, and where the bot answers (default: everyone, everywhere; the requester approves)."""
    edit_interval_seconds: float = 1.0
    """At most one edit per status message per this many seconds (Slack's rate limits)."""
    tick_seconds: float = 15.0
    """How often a running run's status message refreshes its elapsed time."""
    sweep_interval_seconds: float = 60.0
    """How often overdue approvals are expired (and their messages updated)."""
    durable_ack_seconds: float = 2.0
    """Longest a Slack request waits for its work (a run queued, a decision recorded) before
    Bolt answers Slack, which never resends what it got an answer for."""
    recover_interval_seconds: float = 1.0
    """How often threads whose runner died or failed (a lapsed lease, a decision no runner
    took up) are looked for and resumed, besides at start-up."""
    missing_approval_seconds: float = 10.0
    """A pending approval still without a message this long after it was asked for (the
    process that asked died before posting it) is posted by the recovery pass."""
    claim_retake_seconds: float = 30.0
    """A message claimed by a delivery that has not queued it after this long (its process
    died) is taken over by Slack's next retry (which comes after a minute); a slash command
    recorded and not queued after this long is run by the recovery pass."""
    claim_ttl_seconds: float = 86_400.0
    """How long delivered event ids are remembered for de-duplicating Slack's retries."""
    audit_retention_seconds: float = 0.0
    """DAGBOT_AUDIT_RETENTION_DAYS: the sweeper prunes audit rows older than this (0: never)."""
    usergroup_cache_seconds: float = 300.0
    """How long a user group's members are cached before asking Slack again."""
    rate_limit_retries: int = 2
    """Retries of a rate-limited (HTTP 429) Web API call, each after its Retry-After."""
    answer_note: str = ""
    """Said in every answer's footer (the demo model says there what it is)."""
    stream_answers: bool = True
    """DAGBOT_SLACK_STREAM_ANSWERS: stream the answer into the thread while the model writes it
    (chat.startStream); off, or where Slack will not stream, it is posted once it is complete."""
    stream_interval_seconds: float = 1.0
    """At most one append to a streaming answer or plan per this many seconds (Slack's rate
    limits; a plan's appends are spaced further while many plans stream at once)."""
    stream_plan: bool = True
    """DAGBOT_SLACK_STREAM_PLAN: show a run's plan as tasks in a streamed message (plan display
    mode) where Slack streams, the status message keeping its heading and Cancel; off, or where
    Slack will not, the status message lists the plan's nodes."""
    approver_dms: bool = True
    """DAGBOT_SLACK_APPROVER_DMS: DM each person who may decide on an approval asked where they
    may not see it (a DM with the app, the assistant pane, a group DM, a private channel)."""

    def __post_init__(self) -> None:
        if not self.api_url.endswith("/"):
            object.__setattr__(self, "api_url", self.api_url + "/")
