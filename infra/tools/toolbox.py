"""The tool registry dagbot runs with: built-in tools configured from settings, plus DAGBOT_TOOLS."""

from __future__ import annotations

from agent.tools.builtin import BuiltinToolConfig, register_builtin_tools
from agent.tools.email import SmtpConfig
from agent.tools.files import FileToolConfig
from agent.tools.http_policy import HttpToolConfig
from agent.tools.registry import ToolRegistry
from infra.settings import Settings, split_hosts
from infra.tools.file_query import FileQueryConfig, register_file_query
from infra.tools.sql_tools import SqlToolConfig, register_sql_tools


def build_registry(settings: Settings) -> ToolRegistry:
    registry = ToolRegistry()
    smtp = None
    if settings.smtp_host:
        smtp = SmtpConfig(
            host=settings.smtp_host, port=settings.smtp_port, username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
            starttls=settings.smtp_starttls, sender=settings.smtp_from,
        )
    register_builtin_tools(registry, BuiltinToolConfig(
        http=HttpToolConfig(allow_hosts=split_hosts(settings.http_allow_hosts),
                            deny_hosts=split_hosts(settings.http_deny_hosts)),
        files=FileToolConfig(workspace=settings.workspace) if settings.workspace else None,
        smtp=smtp,
    ))
    if settings.workspace and settings.query_file:
        register_file_query(registry, FileQueryConfig(workspace=settings.workspace))
    if settings.sql_url:
        register_sql_tools(registry, SqlToolConfig(url=settings.sql_url))
    registry.load_modules(settings.tool_modules())
    return registry
