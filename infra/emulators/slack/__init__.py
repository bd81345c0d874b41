"""Slack, emulated: one workspace and its Web API, as the playground, the benchmarks and the tests
meet it. Lowest first (each module imports only those above it):

    blockkit     what Slack refuses in a message, a modal, a Home tab or a stream's chunks
                 (pure functions)
    workspace    the state: conversations, people, messages with ts, threads and every edit,
                 ephemeral messages, modals, trigger ids, response_urls; watchers see each change
    chat         chat.postMessage, update, delete, postEphemeral, getPermalink
    streaming    chat.startStream, appendStream, stopStream: Markdown and chunks (tasks, a
                 plan's title), in timeline or plan display; idle streams ended
    surfaces     views.open, views.publish, assistant.threads.*
    agents       agents.sessions.setStatus and rename: each thread's agent session
    directory    auth.test, users.info, usergroups.users.list, conversations.info and .replies,
                 apps.connections.open
    limits       rate limits (429 + Retry-After) and injected faults
    web_api      the methods by name; a call read from HTTP
    server       SlackServer: all of it on HTTP (Web API, response_urls, Socket Mode), a call log
    driver       SlackDriver: Slack's signed requests to the app (events, commands, clicks)
"""
