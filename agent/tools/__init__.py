"""The tool registry (:mod:`agent.tools.registry`) and dagbot's built-in tools. Nothing is
re-exported here: a module of this package loads only what it needs."""
