"""The ground every room of the bot stands on: Slack's Web API and what it is made of. Posting
(:mod:`bot.ground.poster`), Block Kit and mrkdwn within Slack's limits, the features a workspace
may lack, threads as the engine's thread keys, kinds of conversation, the action and callback
ids the views give and the listeners route on, and the set of background tasks. No I/O beyond
Slack's, and no room above it."""
