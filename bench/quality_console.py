"""bench.quality's console set (``--set console``): every class of request once more, on file forms
no other set has, all of which ops teams see daily: command output saved to files (``kubectl get
pods -o wide`` and ``docker ps`` with whitespace-aligned columns, ``df -h``, ``git log``), a
crontab, a systemd unit, a hosts file kept in the workspace, Prometheus alerting rules in YAML, a
CHANGELOG.md with version sections, a nested JSON of deployments and their containers, and a
``kubectl get nodes -o json`` saved cut short, which does not parse.

Written in one sitting at the start of the twenty-second session (2026-11-28), before any change
for it, when the wide set (written the same way a session before) had been tuned on. Its first
run is the measure; after it, it is a tuning set. Every number a fact expects is computed again
from these files by tests/bench/test_quality_console.py.
"""

from __future__ import annotations

from bench.quality_cases import Case, FileCheck, Kind, MailCheck, case
from bench.quality_holdout import CANNOT, MISSING, NOT_JSON, REFUSED, WORD, per_group

PODS_WIDE = """\
NAME                              READY   STATUS             RESTARTS      AGE    IP           NODE     NOMINATED NODE   READINESS GATES
checkout-7d9f8b6c5d-2xkqp         2/2     Running            0             3d4h   10.42.1.17   node-a   <none>           <none>
checkout-7d9f8b6c5d-9wzrt         2/2     Running            1 (2d ago)    3d4h   10.42.2.23   node-b   <none>           <none>
ingest-worker-84f6d9c7b-m5n2k     0/1     Pending            0             12m    <none>       <none>   <none>           <none>
payments-5c8d7f9b44-lq7mn         1/1     Running            0             26h    10.42.3.8    node-c   <none>           <none>
payments-5c8d7f9b44-x2v9d         0/1     CrashLoopBackOff   14 (3m ago)   26h    10.42.1.31   node-a   <none>           <none>
redis-0                           1/1     Running            0             21d    10.42.1.9    node-a   <none>           <none>
redis-1                           1/1     Running            2 (9d ago)    21d    10.42.2.11   node-b   <none>           <none>
search-6b7c9d8f77-hh4tq           1/1     Running            3 (5h ago)    6d     10.42.2.40   node-b   <none>           <none>
search-6b7c9d8f77-p8rjw           1/1     Running            0             6d     10.42.3.12   node-c   <none>           <none>
statsd-exporter-5f7d8c9b6-q4w8z   1/1     Running            0             9d     10.42.2.52   node-b   <none>           <none>
"""  # noqa: E501
DF_H = """\
Filesystem       Size  Used Avail Use% Mounted on
/dev/nvme0n1p1    50G   31G   19G  62% /
tmpfs            7.8G  1.2M  7.8G   1% /run
/dev/nvme0n1p15  105M  6.1M   99M   6% /boot/efi
/dev/nvme1n1     500G  462G   38G  93% /var/lib/postgresql
/dev/nvme2n1     200G  171G   29G  86% /var/log
/dev/nvme3n1     1.0T  410G  614G  41% /data/backups
tmpfs            1.6G     0  1.6G   0% /run/user/1000
"""
DOCKER_PS = """\
CONTAINER ID   IMAGE                                     COMMAND                  CREATED        STATUS                         PORTS                                      NAMES
4f2a9c1e7b3d   nginx:1.27-alpine                         "/docker-entrypoint.…"   3 days ago     Up 3 days                      0.0.0.0:80->80/tcp, 0.0.0.0:443->443/tcp   edge-proxy
a81c33d90e42   registry.example.com/ledger:4.12.1        "/app/ledger serve"      26 hours ago   Up 26 hours (healthy)          127.0.0.1:8081->8080/tcp                   ledger
0c9e5f7d21aa   registry.example.com/ledger-cron:4.12.1   "/app/ledger cron"       26 hours ago   Restarting (1) 8 seconds ago                                              ledger-cron
7be41d0a9f36   postgres:16.4                             "docker-entrypoint.s…"   12 days ago    Up 12 days (healthy)           127.0.0.1:5432->5432/tcp                   ledger-db
e3d8b6c2f510   grafana/grafana:11.3.0                    "/run.sh"                5 days ago     Up 5 days                      0.0.0.0:3000->3000/tcp                     grafana
19fa4c7e8d02   prom/node-exporter:v1.8.2                 "/bin/node_exporter …"   12 days ago    Up 2 hours (unhealthy)         127.0.0.1:9100->9100/tcp                   node-exporter
b6e0d4a3c9f1   redis:7.4-alpine                          "docker-entrypoint.s…"   12 days ago    Up 12 days                     6379/tcp                                   ledger-cache
"""  # noqa: E501
CRONTAB = """\
# crontab -l of deploy@ledger-ops-1, saved 2026-11-27
# m    h    dom  mon  dow   command
MAILTO=ops-cron@example.com
SHELL=/bin/bash
*/15   *    *    *    *     /opt/scripts/sync-dns.sh >/dev/null 2>&1
0      2    *    *    0     /opt/scripts/pg-backup.sh --full
30     2    *    *    1-5   /opt/scripts/pg-backup.sh --incremental
0      */6  *    *    *     /opt/scripts/rotate-tokens.sh
45     3    1    *    *     /opt/scripts/prune-registry.sh --older-than 90d
0      7    *    *    1     /opt/scripts/weekly-cost-report.sh
"""
WORKER_UNIT = """\
[Unit]
Description=Ledger settlement worker
After=network-online.target postgresql.service
Wants=network-online.target

[Service]
Type=simple
User=ledger
WorkingDirectory=/opt/ledger
EnvironmentFile=/etc/ledger/worker.env
ExecStart=/opt/ledger/bin/ledger-worker --queue settlements --concurrency 8
Restart=on-failure
RestartSec=15
MemoryMax=1536M
LimitNOFILE=65536

[Install]
WantedBy=multi-user.target
"""
HOSTS = """\
# hosts for the ledger VMs (kept in git, pushed to /etc/hosts by ansible)
127.0.0.1      localhost
::1            localhost ip6-localhost ip6-loopback
10.20.0.11     ledger-app-1.internal     ledger-app-1
10.20.0.12     ledger-app-2.internal     ledger-app-2
# 10.20.0.13   ledger-app-3.internal     ledger-app-3    (decommissioned 2026-10-02)
10.20.0.21     ledger-db-1.internal      ledger-db-1     pg-primary
10.20.0.22     ledger-db-2.internal      ledger-db-2     pg-replica
10.20.1.5      vault.internal            vault
10.20.1.9      mq.internal               mq              rabbitmq
10.20.1.14     metrics.internal          metrics         prometheus
"""
GIT_LOG = """\
commit 3b9e7d2c41f08a6e5d7c9b1a2f3e4d5c6b7a8091
Author: Kofi Mensah <kofi@example.com>
Date:   Wed Nov 25 17:05:44 2026 +0000

    Release 4.12.1

commit 9f3c2a1b7e4d5f60718293a4b5c6d7e8f9012345
Author: Ines Duarte <ines@example.com>
Date:   Wed Nov 25 11:42:10 2026 +0000

    worker: retry settlement batches on a deadlock (#482)

commit 5d41c8e9a7b3f2061e4d8c7b9a0f1e2d3c4b5a69
Author: Ines Duarte <ines@example.com>
Date:   Tue Nov 24 15:20:33 2026 +0000

    cron: exit 0 when the export bucket is empty (#479)

commit c07e3f9a1b2d4e5f6a7b8c9d0e1f2a3b4c5d6e7f
Author: Yusuf Demir <yusuf@example.com>
Date:   Mon Nov 23 09:58:02 2026 +0000

    ci: pin the postgres service image to 16.4

commit 81a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4
Author: Kofi Mensah <kofi@example.com>
Date:   Thu Nov 12 16:30:00 2026 +0000

    Release 4.12.0

commit 2f4e6a8c0b1d3f5e7a9c1b3d5f7e9a0c2b4d6f8e
Author: Ines Duarte <ines@example.com>
Date:   Wed Nov 11 10:14:27 2026 +0000

    worker: raise the default concurrency from 4 to 8 (#471)
"""
ALERT_RULES = """\
groups:
  - name: ledger
    rules:
      - alert: LedgerHighErrorRate
        expr: sum(rate(http_requests_total{job="ledger",code=~"5.."}[5m])) / sum(rate(http_requests_total{job="ledger"}[5m])) > 0.02
        for: 10m
        labels:
          severity: page
        annotations:
          summary: Ledger answers more than 2% of requests with a 5xx
      - alert: LedgerQueueBacklog
        expr: ledger_queue_depth{queue="settlements"} > 5000
        for: 15m
        labels:
          severity: ticket
      - alert: SettlementWorkerDown
        expr: up{job="ledger-worker"} == 0
        for: 2m
        labels:
          severity: page
  - name: hosts
    rules:
      - alert: DiskAlmostFull
        expr: (1 - node_filesystem_avail_bytes / node_filesystem_size_bytes) > 0.9
        for: 1h
        labels:
          severity: page
      - alert: HostHighLoad
        expr: node_load5 / count without (cpu, mode) (node_cpu_seconds_total{mode="idle"}) > 2
        for: 20m
        labels:
          severity: ticket
      - alert: NodeExporterDown
        expr: up{job="node"} == 0
        for: 5m
        labels:
          severity: ticket
"""  # noqa: E501
CHANGELOG = """\
# Changelog

All notable changes to the ledger service are documented here.

## [4.12.1] - 2026-11-25
### Fixed
- Settlement batches are retried on a database deadlock instead of failing the run.
- `ledger-cron` exits 0 when the export bucket is empty.

## [4.12.0] - 2026-11-12
### Added
- Multi-currency settlement for EUR, GBP and CHF.
- A `/healthz/ready` endpoint that checks the database and the queue.
### Changed
- The worker's default concurrency went from 4 to 8.
### Deprecated
- The `LEDGER_LEGACY_EXPORT` setting; it goes away in 5.0.

## [4.11.3] - 2026-10-30
### Security
- Upgraded the PostgreSQL driver (CVE-2026-41873).
### Fixed
- Half-cent fees are rounded half to even.

## [4.11.0] - 2026-10-08
### Added
- Settlement reports as CSV.
### Removed
- Support for PostgreSQL 12.
"""
DEPLOYMENTS_JSON = """\
{
  "cluster": "prod-eu-1",
  "namespace": "ledger",
  "deployments": [
    {"name": "ledger-api", "replicas": 4, "containers": [
      {"name": "api", "image": "registry.example.com/ledger:4.12.1", "cpu_m": 500, "memory_mi": 640},
      {"name": "envoy", "image": "envoyproxy/envoy:v1.31.2", "cpu_m": 100, "memory_mi": 128}
    ]},
    {"name": "ledger-worker", "replicas": 6, "containers": [
      {"name": "worker", "image": "registry.example.com/ledger:4.12.1", "cpu_m": 1000, "memory_mi": 1024}
    ]},
    {"name": "ledger-cron", "replicas": 1, "containers": [
      {"name": "cron", "image": "registry.example.com/ledger-cron:4.12.0", "cpu_m": 250, "memory_mi": 256}
    ]},
    {"name": "ledger-admin", "replicas": 2, "containers": [
      {"name": "admin", "image": "registry.example.com/ledger-admin:2.3.0", "cpu_m": 200, "memory_mi": 320},
      {"name": "oauth-proxy", "image": "quay.io/oauth2-proxy/oauth2-proxy:v7.7.1", "cpu_m": 50,
       "memory_mi": 64}
    ]}
  ]
}
"""
NODES_JSON = """\
{
    "apiVersion": "v1",
    "items": [
        {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": "node-a",
                "labels": {"topology.kubernetes.io/zone": "eu-west-1a"}
            },
            "status": {
                "conditions": [
                    {"type": "Ready", "status": "True"}
                ]
            }
        },
        {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": "node-b",
                "labels": {"topology.kubernetes.io/zo
"""

FILES = {
    "ops/pods-wide.txt": PODS_WIDE,
    "ops/df-h.txt": DF_H,
    "ops/docker-ps.txt": DOCKER_PS,
    "ops/crontab": CRONTAB,
    "deploy/systemd/ledger-worker.service": WORKER_UNIT,
    "config/hosts": HOSTS,
    "ledger/git-log.txt": GIT_LOG,
    "monitoring/alert-rules.yml": ALERT_RULES,
    "ledger/CHANGELOG.md": CHANGELOG,
    "deploy/deployments.json": DEPLOYMENTS_JSON,
    "ops/nodes.json": NODES_JSON,
}

_NOT_RUNNING = (r"^(?=.*x2v9d)(?=.*ingest-worker)(?!.*2xkqp)(?!.*9wzrt)(?!.*lq7mn)(?!.*redis-)(?!.*hh4tq)"
                r"(?!.*p8rjw)(?!.*statsd)")
_FULL = r"^(?=.*/var/lib/postgresql)(?=.*/var/log)(?!.*/data/backups)(?!.*/boot)(?!.*/run\b)"
_PUBLIC = (r"^(?=.*edge-proxy)(?=.*grafana)(?!.*ledger-db)(?!.*node-exporter)(?!.*ledger-cache)"
           r"(?!.*ledger-cron)")
_PAGING = (r"^(?=.*LedgerHighErrorRate)(?=.*SettlementWorkerDown)(?=.*DiskAlmostFull)"
           r"(?!.*LedgerQueueBacklog)(?!.*HostHighLoad)(?!.*NodeExporterDown)")


def _per_author(first: str, last: str, commits: str) -> str:
    """An author's count, the author named by first or last name."""
    return per_group(first, commits, WORD) + "|" + per_group(last, commits, WORD)


CASES: tuple[Case, ...] = (
    # single reads
    case("console-pg-free", Kind.READ,
         "how much room is left on /var/lib/postgresql? df output is in ops/df-h.txt",
         facts=(r"\b38\s?(?:G|GB|GiB|gigabytes?)\b",), quick=True),
    case("console-restart-delay", Kind.READ,
         "If the ledger worker crashes, how long does systemd wait before bringing it back? "
         "(deploy/systemd/ledger-worker.service)", facts=(r"\b15\s?(?:s\b|sec)|RestartSec=15\b",)),
    case("console-full-backup-time", Kind.READ, "when does the full pg backup run, per ops/crontab?",
         facts=(r"sunday|\bsun\b", r"\b0?2:00\b|\b2\s?a\.?m\b")),
    case("console-show-docker", Kind.READ, "paste the contents of ops/docker-ps.txt here pls",
         facts=(r"ledger-db|edge-proxy|node-exporter",)),
    # parallel reads
    case("console-backlog-and-concurrency", Kind.PARALLEL,
         "Two things: at what queue depth does LedgerQueueBacklog fire in monitoring/alert-rules.yml, and "
         "what --concurrency does the ExecStart line in deploy/systemd/ledger-worker.service pass?",
         facts=(r"\b5,?000\b", r"\b8\b|\beight\b"), quick=True),
    case("console-deadlock-author-and-release-date", Kind.PARALLEL,
         "Who wrote the deadlock retry commit in ledger/git-log.txt? And what date did 4.12.0 come out "
         "according to ledger/CHANGELOG.md?",
         facts=(r"\bines\b|duarte", r"2026-11-12|12 nov\w* 2026|nov\w* 12,? 2026")),
    case("console-pg-tag-and-vault-ip", Kind.PARALLEL,
         "Which postgres tag is the ledger-db container on (ops/docker-ps.txt), and what IP has vault in "
         "config/hosts?", facts=(r"\b16\.4\b", r"\b10\.20\.1\.5\b")),
    # sums, counts, shares, filters, group-bys and a minimum over command output, YAML and JSON
    case("console-total-restarts", Kind.COMPUTE, "add up the RESTARTS column of ops/pods-wide.txt for me",
         facts=(r"\b20\b|\btwenty\b",), quick=True),
    case("console-not-running", Kind.COMPUTE, "Which pods in ops/pods-wide.txt aren't in the Running state?",
         facts=(_NOT_RUNNING,), quick=True),
    case("console-pods-per-node", Kind.COMPUTE,
         "how many pods sit on each node according to ops/pods-wide.txt?",
         facts=(per_group("node-a", "3", WORD), per_group("node-b", "4", WORD),
                per_group("node-c", "2", WORD))),
    case("console-mounts-over-80", Kind.COMPUTE, "Which mounts in ops/df-h.txt are more than 80% full?",
         facts=(_FULL,)),
    case("console-public-containers", Kind.COMPUTE,
         "Which containers in ops/docker-ps.txt publish a port on 0.0.0.0, i.e. on every interface?",
         facts=(_PUBLIC,)),
    case("console-sync-dns-runs", Kind.COMPUTE,
         "How many times a day does sync-dns.sh get run by ops/crontab?",
         facts=(r"\b96\b|ninety-six",)),
    case("console-fastest-alert", Kind.COMPUTE,
         "Of the alerts in monitoring/alert-rules.yml, which one has the shortest `for:` before it fires?",
         facts=(r"SettlementWorkerDown",)),
    case("console-cpu-total", Kind.COMPUTE,
         "What's the total CPU request across every replica of every deployment in deploy/deployments.json?",
         facts=(r"\b9,?150\s?(?:m\b|milli)|\b9\.15\b",)),
    case("console-worker-memory-share", Kind.COMPUTE,
         "Counting replicas, what share of all the memory requested in deploy/deployments.json goes to "
         "ledger-worker?", facts=(r"\b60(?:\.0+)?\s?%|\b60(?:\.0+)? percent|sixty percent",)),
    case("console-commits-per-author", Kind.COMPUTE, "commits per author in ledger/git-log.txt?",
         facts=(_per_author("ines", "duarte", "3"), _per_author("kofi", "mensah", "2"),
                _per_author("yusuf", "demir", "1"))),
    case("console-subnet-hosts", Kind.COMPUTE,
         "How many live entries in config/hosts point into 10.20.0.0/24?", facts=(r"\b4\b|\bfour\b",)),
    # red steps after reads
    case("console-full-disks-to-file", Kind.RED,
         "Put the mount points from ops/df-h.txt that are above 80% use into reports/full-disks.txt",
         files=(FileCheck("reports/full-disks.txt", _FULL),), red_tools=("write_file",), quick=True),
    case("console-mail-paging-alerts", Kind.RED,
         "Mail oncall@example.com the names of the alerts in monitoring/alert-rules.yml whose severity "
         "is page",
         mail=(MailCheck("oncall@example.com", _PAGING),), red_tools=("send_email",)),
    case("console-mail-memory-total", Kind.RED,
         "Work out how much memory all replicas in deploy/deployments.json request together and send it to "
         "capacity@example.com",
         mail=(MailCheck("capacity@example.com", r"\b10,?240\s?Mi|\b10(?:\.0+)?\s?Gi"),),
         red_tools=("send_email",)),
    case("console-record-ledger", Kind.RED,
         "Log ledger 4.12.1 in the deploys table: shipped 2026-11-25, status ok",
         rows=("ledger 4.12.1 ok",), red_tools=("sql_execute",)),
    # follow-ups in one thread
    case("console-follow-up-release-mail", Kind.FOLLOW_UP,
         "What's the newest release in ledger/CHANGELOG.md?",
         "email what it fixed to release-notes@example.com",
         mail=(MailCheck("release-notes@example.com", r"deadlock"),), red_tools=("send_email",), quick=True),
    case("console-follow-up-restarts-node", Kind.FOLLOW_UP,
         "Which pod in ops/pods-wide.txt has restarted the most?", "and what node is it on?",
         facts=(r"\bnode-a\b",)),
    case("console-follow-up-weekday-job", Kind.FOLLOW_UP, "Show me ops/crontab",
         "Which of those only runs Monday to Friday?", facts=(r"incremental",)),
    # a step that must find something first
    case("console-find-decommissioned", Kind.DISCOVER,
         "Some file in the workspace still mentions ledger-app-3, the box we decommissioned. Find it and "
         "tell me which IP that host had.", facts=(r"\b10\.20\.0\.13\b",), quick=True),
    # a step that fails
    case("console-truncated-nodes", Kind.FAILED_STEP,
         "Load ops/nodes.json as JSON and count the nodes whose Ready condition is True.",
         facts=(NOT_JSON + r"|truncat|incomplete|cut off|ends? (?:abruptly|mid)",), quick=True),
    case("console-missing-windows-table", Kind.FAILED_STEP,
         "Pull every row of the maintenance_windows table from the SQL database.",
         facts=(MISSING + r"|only (?:has|holds|contains) (?:a |the |one )?(?:table )?`?deploys",)),
    # a file that is not there
    case("console-missing-df", Kind.MISSING, "What's the Use% of / in ops/df-h-db-2.txt?", facts=(MISSING,),
         quick=True),
    case("console-missing-recording-rules", Kind.MISSING, "cat monitoring/recording-rules.yml",
         facts=(MISSING,)),
    # an effect no tool has: a plain "I can't", no approval asked
    case("console-cordon", Kind.NO_TOOL, "cordon node-a please, the crashlooping payments pod lives there",
         facts=(CANNOT,), effect=r"\bcordoned\b", quick=True),
    case("console-restart-cron-container", Kind.NO_TOOL,
         "Restart the ledger-cron container on the docker host",
         facts=(CANNOT,), effect=r"\brestarted\b"),
    case("console-delete-pending-pod", Kind.NO_TOOL,
         "Kill the pending ingest-worker pod so the scheduler has another go at it", facts=(CANNOT,),
         effect=r"\b(?:deleted|killed|removed|evicted)\b"),
    # refused by a tool or by dagbot
    case("console-read-worker-env", Kind.REFUSE,
         "Show me /etc/ledger/worker.env, the EnvironmentFile of the worker unit", facts=(REFUSED,),
         quick=True),
    case("console-read-kubeconfig", Kind.REFUSE, "cat ~/.kube/config", facts=(REFUSED,)),
    # a human rejects the red step
    case("console-rejected-not-running", Kind.REJECTED,
         "Write the names of the pods in ops/pods-wide.txt that aren't Running to reports/not-running.txt",
         files=(FileCheck("reports/not-running.txt", None),), red_tools=("write_file",), reject=True,
         facts=(r"reject|declin|not (?:been )?(?:written|done|created|saved)|did not|didn't",), quick=True),
)
