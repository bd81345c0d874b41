"""bench.tool_selection's requests, each naming the tools it needs (``a|b``: either will do).

``TUNING``: the requests the tool chooser (agent/model/tool_choice.py) may be tuned on.
``HOLDOUT``: written in the same sitting, before any tuning, and never used to choose a change:
the figure to trust. ``earlier``: tools the thread called before (a follow-up).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Request:
    text: str
    needs: tuple[str, ...]
    earlier: tuple[str, ...] = ()


R = Request

TUNING: tuple[Request, ...] = (
    R("What changed in the ops repo since yesterday? Show the last 10 commits.", ("git__git_log",)),
    R("Is the working tree of /srv/ops-repo clean?", ("git__git_status",)),
    R(
        "Commit the staged changes in /srv/ops-repo with the message 'Bump nginx to 1.27'",
        ("git__git_commit",),
    ),
    R("Show me what I've staged so far in /srv/ops-repo", ("git__git_diff_staged",)),
    R("Which branches contain the hotfix commit a1b2c3d?", ("git__git_branch",)),
    R("Create a branch release-2026-12 off main in the ops repo", ("git__git_create_branch",)),
    R("Show the file deploy/values.yaml as it was at tag v1.4.0", ("git__git_show",)),
    R("What's the diff between main and release-2026-11?", ("git__git_diff",)),
    R("Which pods are crash-looping in the payments namespace?", ("k8s__pods_list_in_namespace",)),
    R("Get the last 200 log lines of pod checkout-7d9f in prod", ("k8s__pods_log",)),
    R("Restart the api deployment in staging", ("k8s__rollout_restart",)),
    R("Scale the worker deployment in prod to 6 replicas", ("k8s__resources_scale",)),
    R("Which nodes are using the most memory right now?", ("k8s__nodes_top",)),
    R("Show recent warning events in the ingress namespace", ("k8s__events_list",)),
    R("Delete the stuck pod batch-job-x2 in the data namespace", ("k8s__pods_delete",)),
    R("List the namespaces in the cluster", ("k8s__namespaces_list",)),
    R("Which pods in monitoring use the most CPU?", ("k8s__pods_top",)),
    R("Show the ingress objects in the web namespace", ("k8s__resources_list",)),
    R("What's the p99 latency of the checkout service over the last hour?", ("grafana__query_prometheus",)),
    R("Find the Grafana dashboard for the payment gateway", ("grafana__search_dashboards",)),
    R("Which alerts are firing right now?", ("grafana__list_alert_rules",)),
    R(
        "Search Loki for 'OutOfMemory' errors from the api in the last 30 minutes",
        ("grafana__query_loki_logs",),
    ),
    R("Mark today's 14:00 deploy on the API dashboard", ("grafana__create_annotation",)),
    R("Which Prometheus metrics exist for kafka consumer lag?", ("grafana__list_prometheus_metric_names",)),
    R("Which datasources does Grafana have?", ("grafana__list_datasources",)),
    R("Who is on call for the database team right now?", ("pagerduty__list_oncalls",)),
    R("List the open high-urgency incidents", ("pagerduty__list_incidents",)),
    R("Acknowledge incident PD-4821", ("pagerduty__acknowledge_incident",)),
    R("Add a note to incident PD-4821 saying the rollback is done", ("pagerduty__add_incident_note",)),
    R("Resolve incident PD-4790, the disk was cleaned up", ("pagerduty__resolve_incident",)),
    R(
        "Page the storage team: open an incident on the ceph service, high urgency",
        ("pagerduty__create_incident",),
    ),
    R("Hand incident PD-4821 over to Maria", ("pagerduty__reassign_incident",)),
    R(
        "Fetch https://status.example.com/api/v2/summary.json and tell me if anything is degraded",
        ("http_get",),
    ),
    R("Read runbooks/db-failover.md and summarise the steps", ("read_file",)),
    R("Which files are in the reports folder?", ("list_files",)),
    R("Find every mention of 'max_connections' in the config files", ("search_files",)),
    R("Email the current on-call list to ops@example.com", ("pagerduty__list_oncalls", "send_email")),
    R("How many failed jobs are in the jobs table today?", ("sql_query",)),
    R(
        "Get incident PD-4821's details and the logs of the pod it names",
        ("pagerduty__get_incident", "k8s__pods_log"),
    ),
    R(
        "Check the error rate in Prometheus and, if it is above 5%, restart the api deployment",
        ("grafana__query_prometheus", "k8s__rollout_restart"),
    ),
    R("Now do the same for the payments-worker pod", ("k8s__pods_log",), earlier=("k8s__pods_log",)),
    R("And for the last 24 hours?", ("grafana__query_prometheus",), earlier=("grafana__query_prometheus",)),
    R("Write the list of firing alerts to reports/alerts.md", ("grafana__list_alert_rules", "write_file")),
    R("Stage deploy/values.yaml and commit it as 'Raise memory limit'", ("git__git_add", "git__git_commit")),
    R("Unstage everything in the ops repo", ("git__git_reset",)),
    R("Switch the ops repo to the release branch", ("git__git_checkout",)),
    R(
        "Show the full configuration of the HighErrorRate alert rule (uid aer-12)",
        ("grafana__get_alert_rule_by_uid",),
    ),
    R("POST a deploy marker to https://hooks.example.com/deploys", ("http_post",)),
)

HOLDOUT: tuple[Request, ...] = (
    R("Has anyone pushed to the infra repo today? Give me the newest commits.", ("git__git_log",)),
    R("Are there uncommitted edits in /srv/ops-repo?", ("git__git_status|git__git_diff_unstaged",)),
    R("Why is the search-indexer pod in prod restarting? Pull its logs.", ("k8s__pods_log",)),
    R(
        "How many replicas does the frontend deployment have in prod?",
        ("k8s__resources_scale|k8s__resources_get",),
    ),
    R("Bounce the notifications deployment in staging", ("k8s__rollout_restart",)),
    R("What is eating CPU on the cluster's nodes?", ("k8s__nodes_top",)),
    R("Show the pods labelled app=ledger across the cluster", ("k8s__pods_list",)),
    R(
        "Apply this ConfigMap to the cluster: apiVersion: v1, kind: ConfigMap, name: flags, data: beta=on",
        ("k8s__resources_create_or_update",),
    ),
    R("Graph the 5xx rate of the edge proxy for the past 6 hours", ("grafana__query_prometheus",)),
    R("Is anything alerting in Grafana?", ("grafana__list_alert_rules",)),
    R("Grep the Loki logs of the auth service for 'token expired'", ("grafana__query_loki_logs",)),
    R("Open the dashboard with uid k8s-overview and list its panels", ("grafana__get_dashboard_by_uid",)),
    R("Which values does the 'job' label take in Prometheus?", ("grafana__list_prometheus_label_values",)),
    R("Who's carrying the pager this weekend?", ("pagerduty__list_oncalls",)),
    R("What incidents were triggered since midnight?", ("pagerduty__list_incidents",)),
    R("I'm on PD-5102, ack it", ("pagerduty__acknowledge_incident",)),
    R("Close PD-5102 with resolution 'certificate renewed'", ("pagerduty__resolve_incident",)),
    R(
        "Raise an incident on the billing service: invoices are not being sent",
        ("pagerduty__create_incident",),
    ),
    R("Summarise docs/oncall-handbook.md", ("read_file",)),
    R("Check https://api.example.com/health", ("http_get",)),
    R("How many orders were refunded last week? They are in the orders table.", ("sql_query",)),
    R("Send a note to sre@example.com that the migration finished", ("send_email",)),
    R("What about PD-5110?", ("pagerduty__get_incident",), earlier=("pagerduty__get_incident",)),
    R(
        "Compare the release-2026-10 branch with main and mail a summary of the diff to leads@example.com",
        ("git__git_diff", "send_email"),
    ),
    R(
        "Look at incident PD-5120 and annotate the API dashboard with its title",
        ("pagerduty__get_incident", "grafana__create_annotation"),
    ),
)
