"""Run events out to Slack: the notifier hands each thread's events to its lane, which hands each
event to every surface that shows runs (:class:`~bot.outbound.surface.RunSurface`, in order): the
status message (edits coalesced) and the plan's tasks, the assistant pane and agent session
statuses, the answer stream, the approval messages and DMs, and App Home."""
