"""The tools dagbot runs with: the registry built from settings (built-in tools and
DAGBOT_TOOLS), the SQL tools, the MCP servers' tools (DAGBOT_MCP_CONFIG, :mod:`infra.tools.mcp`),
and the sandbox that runs package code.
"""
