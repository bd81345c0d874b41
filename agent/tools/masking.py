"""What a secret shows as wherever it leaves the engine: its own module, so that the logging
set-up masks secrets without loading the tools and LangChain."""

MASK = "•••• (secret)"
"""What a secret argument's value shows as, wherever it leaves the engine."""
