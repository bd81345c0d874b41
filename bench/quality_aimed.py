"""bench.quality's aimed set (``--set aimed``): requests aimed at the classes the holdout set
still fails, on files and wording of their own (a database backup catalogue, a snapshot log, a
standup's checklist, an API's deployment, a server inventory, a month's invoices).

Written in one sitting in the eighteenth session, when the fresh, data and unseen sets passed
nearly whole and the holdout stayed at 0.784 with the same eight requests failing. Only the
holdout's case names and the classes the seventeenth session wrote down for them were used (a
missing file, parallel reads of YAML with JSON or Markdown answered in part, a mail after
them, action owners in Markdown notes, two questions over one CSV, float sums and yes/no
filters over JSON, a follow-up over a log, a table the database lacks), never its requests,
files or answers. Like the unseen set, its first run is the measure; after it, it is a tuning
set. Every number a fact expects is computed again from these files by
tests/bench/test_quality_aimed.py.
"""

from __future__ import annotations

from bench.quality_cases import Case, FileCheck, Kind, MailCheck, case
from bench.quality_holdout import MISSING

BACKUPS_JSON = """\
{
  "taken_on": "2026-11-25",
  "backups": [
    {"id": "b-101", "database": "orders", "size_gb": 12.75, "ok": true, "duration_s": 410},
    {"id": "b-102", "database": "billing", "size_gb": 3.4, "ok": false, "duration_s": 95},
    {"id": "b-103", "database": "users", "size_gb": 1.85, "ok": true, "duration_s": 60},
    {"id": "b-104", "database": "orders", "size_gb": 12.9, "ok": true, "duration_s": 425},
    {"id": "b-105", "database": "search", "size_gb": 7.05, "ok": false, "duration_s": 300},
    {"id": "b-106", "database": "billing", "size_gb": 3.45, "ok": true, "duration_s": 101}
  ]
}
"""
SNAPSHOTS_LOG = """\
2026-11-25T00:10:00Z snapshot volume=vol-data size_mb=5120 seconds=312 result=ok
2026-11-25T01:10:00Z snapshot volume=vol-logs size_mb=880 seconds=64 result=ok
2026-11-25T02:10:00Z snapshot volume=vol-db size_mb=20480 seconds=1290 result=ok
2026-11-25T03:10:00Z snapshot volume=vol-cache size_mb=150 seconds=3 result=failed
2026-11-25T04:10:00Z snapshot volume=vol-media size_mb=5200 seconds=330 result=ok
"""
STANDUP = """\
# Standup, 2026-11-26

Facilitator: Priya Raman

## Action items
- [x] Renew the staging TLS certificate. Owner: Tomas Silva (tomas@example.com)
- [ ] Rotate the Grafana admin password. Owner: Ines Costa (ines@example.com)
- [ ] Move the nightly report to 03:00. Owner: Wei Zhang (wei@example.com)
- [x] Close the stale PagerDuty incidents. Owner: Ines Costa (ines@example.com)

## Notes
- The deploy freeze starts on 2026-12-20.
"""
API_YAML = """\
name: public-api
image: registry.example.com/web/api:7.2.1
replicas: 6
resources:
  limits:
    cpu: "2"
    memory: 3Gi
  requests:
    cpu: 500m
    memory: 1Gi
healthcheck:
  path: /healthz
  interval_s: 15
"""
SERVERS_JSON = """\
{"servers": [
  {"hostname": "web-1", "ram_gb": 16, "free_disk_gb": 42.5, "role": "web"},
  {"hostname": "web-2", "ram_gb": 16, "free_disk_gb": 8.25, "role": "web"},
  {"hostname": "db-1", "ram_gb": 96, "free_disk_gb": 310.0, "role": "db"},
  {"hostname": "queue-1", "ram_gb": 24, "free_disk_gb": 61.0, "role": "queue"}
]}
"""
INVOICES_CSV = """\
invoice,date,customer,amount_eur
N-201,2026-11-02,Acme GmbH,1250.50
N-202,2026-11-02,Borealis AB,310.25
N-203,2026-11-03,Acme GmbH,99.99
N-204,2026-11-05,Cobalt SA,2040.00
N-205,2026-11-05,Borealis AB,415.75
N-206,2026-11-09,Acme GmbH,600.00
"""

FILES = {
    "backups/catalog.json": BACKUPS_JSON,
    "logs/snapshots.log": SNAPSHOTS_LOG,
    "notes/standup-2026-11-26.md": STANDUP,
    "deploy/api.yaml": API_YAML,
    "inventory/servers.json": SERVERS_JSON,
    "billing/invoices-nov.csv": INVOICES_CSV,
}

_OPEN_OWNERS = r"^(?=.*ines@example\.com)(?=.*wei@example\.com)(?!.*tomas)"
_OPEN_ITEMS = r"^(?=.*grafana)(?=.*nightly report)(?!.*(?:tls|pagerduty))"
_FAILED_IDS = r"^(?=.*b-102)(?=.*b-105)(?!.*b-10[1346])"
_LAST_MEMORY = r"\b3\s?(?:gi|gib|gb)\b"

CASES: tuple[Case, ...] = (
    # parallel reads, and a mail after them
    case("aimed-memory-and-mail-host", Kind.RED,
         "How much memory may deploy/api.yaml use, and email the hostname with the least free disk in "
         "inventory/servers.json to infra@example.com",
         facts=(_LAST_MEMORY,), mail=(MailCheck("infra@example.com", r"\bweb-2\b"),),
         red_tools=("send_email",), quick=True),
    case("aimed-health-and-db-ram", Kind.PARALLEL,
         "What health check path does deploy/api.yaml set, and how much RAM does db-1 have in "
         "inventory/servers.json?", facts=(r"/healthz", r"\b96\b"), quick=True),
    case("aimed-image-and-facilitator", Kind.PARALLEL,
         "Which image does deploy/api.yaml run, and who facilitated the standup in "
         "notes/standup-2026-11-26.md?",
         facts=(r"7\.2\.1", r"priya")),
    # action owners and open items in Markdown notes
    case("aimed-mail-open-owners", Kind.RED,
         "Email the owners of the open action items in notes/standup-2026-11-26.md to team@example.com",
         mail=(MailCheck("team@example.com", _OPEN_OWNERS),), red_tools=("send_email",)),
    case("aimed-open-items", Kind.COMPUTE,
         "Which action items in notes/standup-2026-11-26.md are still open?", facts=(_OPEN_ITEMS,)),
    case("aimed-password-owner", Kind.READ,
         "Who owns the Grafana password rotation in notes/standup-2026-11-26.md?", facts=(r"ines",),
         quick=True),
    # two questions over one CSV, and float sums
    case("aimed-day-and-acme", Kind.COMPUTE,
         "How much was invoiced on 2026-11-05 in billing/invoices-nov.csv, and how much did Acme GmbH pay "
         "in November?", facts=(r"\b2,?455\.75\b", r"\b1,?950\.49\b"), quick=True),
    case("aimed-borealis-total", Kind.COMPUTE,
         "What is the total amount_eur for Borealis AB in billing/invoices-nov.csv?",
         facts=(r"\b726(?:\.00?)?\b(?!\.\d)",)),
    # float sums and yes/no filters over JSON
    case("aimed-backup-size", Kind.COMPUTE,
         "What is the total size_gb of the backups in backups/catalog.json?", facts=(r"\b41\.4(?:0*)\b",)),
    case("aimed-ok-backup-size", Kind.COMPUTE,
         "How many GB do the successful backups in backups/catalog.json take up?", facts=(r"\b30\.95\b",)),
    case("aimed-failed-backups", Kind.COMPUTE,
         "Which backups in backups/catalog.json failed? Give their ids.", facts=(_FAILED_IDS,)),
    case("aimed-failed-backups-to-file", Kind.RED,
         "Write the ids of the failed backups in backups/catalog.json to reports/failed-backups.txt",
         files=(FileCheck("reports/failed-backups.txt", _FAILED_IDS),), red_tools=("write_file",)),
    # follow-ups over a log
    case("aimed-follow-up-longest-snapshot", Kind.FOLLOW_UP,
         "Which volume's snapshot took the longest in logs/snapshots.log?", "How big was it?",
         facts=(r"\b20,?480\b|\b20 ?gb\b|\b20\.0 ?gb\b",), quick=True),
    case("aimed-follow-up-failed-volume", Kind.FOLLOW_UP, "Show me logs/snapshots.log",
         "Which volume's snapshot failed?", facts=(r"vol-cache",)),
    case("aimed-snapshot-total", Kind.COMPUTE,
         "How many MB did the successful snapshots in logs/snapshots.log write in total?",
         facts=(r"\b31,?680\b",)),
    # a file or a table that is not there
    case("aimed-missing-postmortem", Kind.MISSING, "Open notes/postmortem-2026-08.md for me",
         facts=(MISSING,), quick=True),
    case("aimed-missing-then-mail", Kind.MISSING,
         "Read notes/standup-2026-11-19.md and email its action items to team@example.com", facts=(MISSING,)),
    case("aimed-missing-builds-table", Kind.FAILED_STEP,
         "What is the average duration in the builds table of the SQL database?",
         facts=(MISSING + r"|only (?:has|holds|contains) (?:a |the |one )?(?:table )?`?deploys",),
         quick=True),
)
