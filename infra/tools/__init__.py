"""The tools dagbot runs with: the registry built from settings (built-in tools and
DAGBOT_TOOLS), the SQL tools, and the sandbox that runs package code.
"""
