"""Requests in from Slack: the Bolt listeners and what they hand the work to. Mentions, DMs and
follow-ups (intake), slash commands, clicks and modals (interactions, approval shortcuts,
feedback), an agent session's stop button, and what people look at beside the app; and alerts
from Alertmanager, which open threads and runs by themselves (alerts/)."""
