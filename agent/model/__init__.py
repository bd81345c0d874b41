"""The chat model: calls (structured plans, streamed text), prompts and their size budget,
tool calls written as text, a context window exceeded.
"""
