"""Local stand-ins for the services dagbot talks to: Slack's Web API, an OpenAI-compatible
model server (its replies scripted or by policy, with a latency model and faults to provoke), a
chat model that plays a script, the engine's stores in memory (no database). The playground,
the benchmarks and the tests use them; the bot and the engine cannot tell them from the real
services."""
