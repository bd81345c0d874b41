"""What Slack shows, rendered (pure: no I/O): a run's progress as the views see it, the status
message, the plan as tasks, answers, approvals and their modals, App Home, the assistant pane,
replies, and every sentence the bot says (:mod:`bot.views.wording`)."""
