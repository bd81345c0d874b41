"""bench.tool_selection's catalogue: four MCP servers as a platform team connects them (Git, as
the official ``mcp-server-git`` describes its tools; Kubernetes, Grafana with Prometheus and
Loki, and a PagerDuty-like incident service, as their community servers describe theirs), each
tool's description and input schema as the server would list them.

The requests (bench/tool_selection_requests.py) name the tools each needs.
"""

from __future__ import annotations

from typing import Any

Arg = tuple[str, str, str]
"""(name, JSON type, description); a name ending in ``?`` is optional."""
ToolEntry = tuple[str, str, list[Arg]]
"""(name on its server, description, arguments)."""

GIT: list[ToolEntry] = [  # mcp-server-git's own descriptions
    ("git_status", "Shows the working tree status", [("repo_path", "string", "")]),
    (
        "git_diff_unstaged",
        "Shows changes in the working directory that are not yet staged",
        [("repo_path", "string", ""), ("context_lines?", "integer", "")],
    ),
    (
        "git_diff_staged",
        "Shows changes that are staged for commit",
        [("repo_path", "string", ""), ("context_lines?", "integer", "")],
    ),
    (
        "git_diff",
        "Shows differences between branches or commits",
        [("repo_path", "string", ""), ("target", "string", ""), ("context_lines?", "integer", "")],
    ),
    (
        "git_commit",
        "Records changes to the repository",
        [("repo_path", "string", ""), ("message", "string", "")],
    ),
    (
        "git_add",
        "Adds file contents to the staging area",
        [("repo_path", "string", ""), ("files", "array", "")],
    ),
    ("git_reset", "Unstages all staged changes", [("repo_path", "string", "")]),
    (
        "git_log",
        "Shows the commit logs",
        [
            ("repo_path", "string", ""),
            ("max_count?", "integer", ""),
            ("start_timestamp?", "string", ""),
            ("end_timestamp?", "string", ""),
        ],
    ),
    (
        "git_create_branch",
        "Creates a new branch from an optional base branch",
        [("repo_path", "string", ""), ("branch_name", "string", ""), ("base_branch?", "string", "")],
    ),
    ("git_checkout", "Switches branches", [("repo_path", "string", ""), ("branch_name", "string", "")]),
    (
        "git_show",
        "Shows the contents of a commit, or of a file or directory given as <revision>:<path>",
        [("repo_path", "string", ""), ("revision", "string", "")],
    ),
    (
        "git_branch",
        "List Git branches",
        [
            ("repo_path", "string", ""),
            ("branch_type", "string", "local, remote or all"),
            ("contains?", "string", ""),
            ("not_contains?", "string", ""),
        ],
    ),
]

KUBERNETES: list[ToolEntry] = [
    (
        "pods_list",
        "List all the Kubernetes pods in the current cluster from all namespaces",
        [("labelSelector?", "string", "Kubernetes label selector (e.g. 'app=myapp,env=prod')")],
    ),
    (
        "pods_list_in_namespace",
        "List all the Kubernetes pods in the specified namespace in the current cluster",
        [("namespace", "string", "Namespace to list pods from"), ("labelSelector?", "string", "")],
    ),
    (
        "pods_get",
        "Get a Kubernetes Pod in the current or provided namespace with the provided name",
        [("name", "string", "Name of the Pod"), ("namespace?", "string", "")],
    ),
    (
        "pods_log",
        "Get the logs of a Kubernetes Pod in the current or provided namespace with the provided name",
        [
            ("name", "string", "Name of the Pod to get the logs from"),
            ("namespace?", "string", ""),
            ("container?", "string", ""),
            ("tail?", "integer", "Number of lines from the end of the logs"),
        ],
    ),
    (
        "pods_delete",
        "Delete a Kubernetes Pod in the current or provided namespace with the provided name",
        [("name", "string", ""), ("namespace?", "string", "")],
    ),
    (
        "pods_top",
        "List the resource consumption (CPU and memory) as recorded by the Kubernetes Metrics Server "
        "for the specified Kubernetes Pods",
        [("namespace?", "string", ""), ("name?", "string", "")],
    ),
    (
        "events_list",
        "List all the Kubernetes events in the current cluster from all namespaces",
        [("namespace?", "string", "")],
    ),
    ("namespaces_list", "List all the Kubernetes namespaces in the current cluster", []),
    (
        "nodes_top",
        "List the resource consumption (CPU and memory) of the cluster's nodes as recorded by the "
        "Metrics Server",
        [("name?", "string", "")],
    ),
    (
        "resources_list",
        "List Kubernetes resources and objects in the current cluster by providing their apiVersion "
        "and kind and optionally the namespace and label selector "
        "(deployments, services, configmaps, ingresses…)",
        [
            ("apiVersion", "string", "e.g. apps/v1"),
            ("kind", "string", "e.g. Deployment"),
            ("namespace?", "string", ""),
        ],
    ),
    (
        "resources_get",
        "Get a Kubernetes resource in the current cluster by providing its apiVersion, kind, "
        "optionally the namespace and its name",
        [
            ("apiVersion", "string", ""),
            ("kind", "string", ""),
            ("name", "string", ""),
            ("namespace?", "string", ""),
        ],
    ),
    (
        "resources_create_or_update",
        "Create or update a Kubernetes resource in the current cluster by providing a "
        "YAML or JSON representation of the resource",
        [("resource", "string", "YAML or JSON of the resource")],
    ),
    (
        "resources_scale",
        "Get or update the scale (replicas) of a Kubernetes resource such as a Deployment or StatefulSet",
        [
            ("apiVersion", "string", ""),
            ("kind", "string", ""),
            ("name", "string", ""),
            ("namespace?", "string", ""),
            ("scale?", "integer", "New number of replicas"),
        ],
    ),
    (
        "rollout_restart",
        "Restart a Deployment, DaemonSet or StatefulSet by a rolling restart of its pods",
        [("kind", "string", ""), ("name", "string", ""), ("namespace?", "string", "")],
    ),
]

GRAFANA: list[ToolEntry] = [
    (
        "search_dashboards",
        "Search for Grafana dashboards by a query string. Returns a list of matching "
        "dashboards with their UID, title and folder",
        [("query", "string", "The query to search for")],
    ),
    (
        "get_dashboard_by_uid",
        "Retrieves the complete dashboard, including panels, variables, and settings, for a "
        "specific dashboard identified by its UID",
        [("uid", "string", "The UID of the dashboard")],
    ),
    (
        "update_dashboard",
        "Create or update a dashboard using a complete dashboard JSON",
        [("dashboard", "object", "The full dashboard JSON"), ("message?", "string", "commit message")],
    ),
    (
        "list_datasources",
        "List available Grafana datasources, optionally filtered by type (prometheus, loki…)",
        [("type?", "string", "")],
    ),
    (
        "query_prometheus",
        "Query Prometheus using a PromQL expression. Supports both instant queries and range "
        "queries over a time window",
        [
            ("datasourceUid", "string", ""),
            ("expr", "string", "The PromQL expression"),
            ("startTime?", "string", ""),
            ("endTime?", "string", ""),
            ("queryType?", "string", "instant or range"),
        ],
    ),
    (
        "list_prometheus_metric_names",
        "List metric names in a Prometheus datasource, optionally filtered by a regex",
        [("datasourceUid", "string", ""), ("regex?", "string", "")],
    ),
    (
        "list_prometheus_label_values",
        "Get the values of a label in Prometheus (for example every job or instance)",
        [("datasourceUid", "string", ""), ("labelName", "string", "")],
    ),
    (
        "query_loki_logs",
        "Executes a LogQL query against a Loki datasource to retrieve log entries or metric values",
        [
            ("datasourceUid", "string", ""),
            ("logql", "string", "The LogQL query"),
            ("limit?", "integer", ""),
            ("startRfc3339?", "string", ""),
        ],
    ),
    (
        "list_alert_rules",
        "Lists Grafana alert rules, returning a summary including UID, title, current state "
        "(firing, pending, normal) and labels",
        [("label_selectors?", "array", "")],
    ),
    (
        "get_alert_rule_by_uid",
        "Retrieves the full configuration and detailed status of a specific Grafana alert "
        "rule identified by its UID",
        [("uid", "string", "")],
    ),
    (
        "create_annotation",
        "Create an annotation on a dashboard or panel, marking an event such as a deploy or an "
        "outage on the graphs",
        [("text", "string", ""), ("dashboardUID?", "string", ""), ("tags?", "array", "")],
    ),
    ("list_oncall_schedules", "List Grafana OnCall schedules", [("teamId?", "string", "")]),
]

PAGERDUTY: list[ToolEntry] = [
    (
        "list_incidents",
        "List incidents, filtered by status (triggered, acknowledged, resolved), urgency, "
        "service or time range",
        [("statuses?", "array", ""), ("service_ids?", "array", ""), ("since?", "string", "")],
    ),
    (
        "get_incident",
        "Get an incident's details: its title, status, urgency, assignees, service and timeline",
        [("incident_id", "string", "")],
    ),
    (
        "create_incident",
        "Trigger a new incident on a service",
        [
            ("title", "string", ""),
            ("service_id", "string", ""),
            ("urgency?", "string", "high or low"),
            ("details?", "string", ""),
        ],
    ),
    (
        "acknowledge_incident",
        "Acknowledge an incident, so escalation stops while someone works on it",
        [("incident_id", "string", "")],
    ),
    (
        "resolve_incident",
        "Resolve an incident",
        [("incident_id", "string", ""), ("resolution?", "string", "")],
    ),
    (
        "add_incident_note",
        "Add a note to an incident's timeline",
        [("incident_id", "string", ""), ("note", "string", "")],
    ),
    (
        "list_oncalls",
        "List who is on call now (or at a given time), for each escalation policy and schedule",
        [("schedule_ids?", "array", ""), ("escalation_policy_ids?", "array", ""), ("since?", "string", "")],
    ),
    (
        "list_services",
        "List the services incidents can be raised on, with their status and escalation policy",
        [("query?", "string", "")],
    ),
    (
        "reassign_incident",
        "Reassign an incident to another user or escalation policy",
        [("incident_id", "string", ""), ("user_id?", "string", ""), ("escalation_policy_id?", "string", "")],
    ),
]

SERVERS: dict[str, list[ToolEntry]] = {
    "git": GIT,
    "k8s": KUBERNETES,
    "grafana": GRAFANA,
    "pagerduty": PAGERDUTY,
}
"""Server name (the tools' prefix, ``<server>__<tool>``) → its tools."""
GREEN = (
    "git__git_status",
    "git__git_diff*",
    "git__git_log",
    "git__git_show",
    "git__git_branch",
    "k8s__pods_list*",
    "k8s__pods_get",
    "k8s__pods_log",
    "k8s__pods_top",
    "k8s__events_list",
    "k8s__namespaces_list",
    "k8s__nodes_top",
    "k8s__resources_list",
    "k8s__resources_get",
    "grafana__search_dashboards",
    "grafana__get_*",
    "grafana__list_*",
    "grafana__query_*",
    "pagerduty__list_*",
    "pagerduty__get_incident",
)
"""The tools an operator would configure green (everything else is red)."""


def input_schema(args: list[Arg]) -> dict[str, Any]:
    """The JSON schema an MCP server lists for ``args``."""
    properties: dict[str, Any] = {}
    required = []
    for name, kind, description in args:
        bare = name.rstrip("?")
        prop: dict[str, Any] = {"type": kind}
        if kind == "array":
            prop["items"] = {"type": "string"}
        if description:
            prop["description"] = description
        properties[bare] = prop
        if not name.endswith("?"):
            required.append(bare)
    return {"type": "object", "properties": properties, "required": required}
