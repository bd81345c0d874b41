"""Plays Slack's side of the app: signed requests to it (now :mod:`infra.emulators.slack.driver`)."""

from infra.emulators.slack.driver import SlackDriver
from infra.emulators.slack.workspace import APP_ID

__all__ = ["APP_ID", "SlackDriver"]
