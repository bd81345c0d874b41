"""MCP servers' tools in dagbot's registry (DAGBOT_MCP_CONFIG, docs/tools.md).

    config       the mcpServers file: pydantic models, ``${VAR}`` from the environment
    risk         each tool's risk and why, decided by the operator's configuration only
    arguments    a tool's inputSchema as the argument model the registry validates with
    results      a tools/call result as a tool's output: text, structured content, notes, capped
    transports   stdio, Streamable HTTP and SSE connections, opened with the official SDK
    connection   one server kept up: its session, restarted with backoff, calls with a timeout
    tools        one MCP tool as a LangChain tool calling through its server's connection
    servers      every configured server, started and stopped with dagbot, its tools registered
"""
