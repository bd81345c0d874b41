"""Run events out to Slack: the notifier hands each thread's events to its lane, which keeps the
status message (edits coalesced), the plan and answer streams, the approval messages and DMs,
the agent session and assistant pane statuses, and App Home in step with the run."""
