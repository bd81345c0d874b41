"""bench.quality's broad set (``--set broad``): every class of request once more, on files and
wording of their own (a team's TLS certificates, support tickets, a cron log, a cache's TOML
config, a worker's Kubernetes deployment, an on-call review, a quarter's cloud spend).

Written in one sitting at the start of the twentieth session, before any change of that
session, when the aimed set had been tuned to 0.94 and the holdout stayed at 0.784. Unlike the
aimed set it was not aimed at the holdout's failing classes by their names: it is as broad as
the issue's list of classes (a failed step, a missing file, an effect no tool has, sums,
percentages and filters over CSV and JSON, follow-ups, refusals), with forms no set had (action
items written `Name <address>: …`, a log of bracketed times, a TOML file, figures per month).
Its first run is the measure; after it, it is a tuning set. Every number a fact expects is
computed again from these files by tests/bench/test_quality_broad.py.
"""

from __future__ import annotations

from bench.quality_cases import Case, FileCheck, Kind, MailCheck, case
from bench.quality_holdout import CANNOT, MISSING, NOT_JSON, REFUSED, WORD, per_group

CERTS_CSV = """\
domain,issuer,expires,days_left,auto_renew
api.example.com,LetsEncrypt,2026-12-09,11,yes
shop.example.com,DigiCert,2027-03-01,93,no
status.example.com,LetsEncrypt,2026-12-20,22,no
mail.example.com,ZeroSSL,2027-01-15,48,yes
vpn.example.com,DigiCert,2026-12-02,4,no
docs.example.com,LetsEncrypt,2027-02-11,75,yes
"""
TICKETS_JSON = """\
{
  "exported": "2026-11-27",
  "tickets": [
    {"key": "SUP-11", "team": "identity", "priority": "P2", "hours_open": 30.5,
     "escalated": false, "assignee": "Noor"},
    {"key": "SUP-12", "team": "payments", "priority": "P1", "hours_open": 6.25,
     "escalated": true, "assignee": "Mateo"},
    {"key": "SUP-13", "team": "identity", "priority": "P1", "hours_open": 12.0,
     "escalated": true, "assignee": "Aiko"},
    {"key": "SUP-14", "team": "search", "priority": "P3", "hours_open": 72.75,
     "escalated": false, "assignee": "Olu"},
    {"key": "SUP-15", "team": "payments", "priority": "P2", "hours_open": 3.5,
     "escalated": false, "assignee": "Mateo"},
    {"key": "SUP-16", "team": "identity", "priority": "P1", "hours_open": 1.5,
     "escalated": false, "assignee": "Noor"}
  ]
}
"""
CRON_LOG = """\
[2026-11-27 01:00:03] job=rotate-logs host=ops-1 exit=0 runtime_ms=1820
[2026-11-27 01:15:00] job=backup-etcd host=ops-2 exit=0 runtime_ms=45210
[2026-11-27 01:30:07] job=renew-certs host=edge-1 exit=1 runtime_ms=3090
[2026-11-27 02:00:00] job=prune-images host=build-3 exit=0 runtime_ms=128400
[2026-11-27 02:30:12] job=sync-users host=ops-2 exit=0 runtime_ms=7300
[2026-11-27 03:00:01] job=rotate-logs host=ops-1 exit=0 runtime_ms=1650
[2026-11-27 03:30:09] job=sync-users host=ops-2 exit=2 runtime_ms=610
"""
CACHE_TOML = """\
# cache tier for the session store
[server]
port = 6380
bind = "10.0.4.12"
maxmemory = "6gb"

[eviction]
policy = "allkeys-lru"
samples = 10

[replication]
primary = "cache-a.internal"
replicas = 2
"""
THUMBNAILER_YAML = """\
kind: Deployment
metadata:
  name: thumbnailer
spec:
  replicas: 5
  template:
    containers:
      - name: thumbnailer
        image: registry.example.com/media/thumbnailer:2.8.4
        env:
          - name: QUEUE_URL
            value: amqp://mq.internal:5672
          - name: MAX_JOBS
            value: "12"
        resources:
          limits:
            memory: 768Mi
"""
REVIEW = """\
# On-call review, 24 November 2026

Chair: Hannah Okafor
Attendees: Hannah Okafor, Luis Ortega, Mei Lin, Sam Reyes

## What happened
- 41 pages last week; 17 were for the flapping disk alert on build-3.
- The 03:10 etcd backup page woke two people for a job that retried fine.

## Decisions
- Disk alerts page only below 5% free; above that they go to the channel.
- Backups page after two failed retries, not the first.

## Action items
- Luis Ortega <luis@example.com>: tune the disk alert thresholds by 2026-12-01.
- Mei Lin <mei@example.com>: add retry counts to the backup alert.
- Sam Reyes <sam@example.com>: write the paging policy page in the wiki.
"""
SPEND_CSV = """\
month,provider,service,cost_usd
2026-09,aws,compute,4210.40
2026-09,aws,storage,880.15
2026-09,gcp,bigquery,1325.00
2026-10,aws,compute,4390.85
2026-10,aws,storage,912.60
2026-10,gcp,bigquery,1190.25
2026-10,gcp,storage,140.00
"""
QUOTAS_JSON = """\
{"namespace": "media", "cpu": 64 "memory": "256Gi", "pods": 400}
"""

FILES = {
    "ops/certs.csv": CERTS_CSV,
    "data/tickets.json": TICKETS_JSON,
    "logs/nightly-cron.log": CRON_LOG,
    "config/cache.toml": CACHE_TOML,
    "deploy/thumbnailer.yaml": THUMBNAILER_YAML,
    "notes/oncall-review-2026-11-24.md": REVIEW,
    "finance/cloud-spend.csv": SPEND_CSV,
    "config/ns-quotas.json": QUOTAS_JSON,
}

_EXPIRING = (r"^(?=.*\bapi\.example)(?=.*\bstatus\.example)(?=.*\bvpn\.example)"
             r"(?!.*\b(?:shop|mail|docs)\.example)")
_ESCALATED = r"^(?=.*sup-12)(?=.*sup-13)(?!.*sup-1[1456])"
_OWNERS = r"^(?=.*luis)(?=.*mei)(?=.*sam)(?!.*hannah)"

CASES: tuple[Case, ...] = (
    # single reads
    case("broad-cache-policy", Kind.READ, "What eviction policy does config/cache.toml use?",
         facts=(r"allkeys-lru",), quick=True),
    case("broad-thumbnailer-replicas", Kind.READ, "How many replicas of the thumbnailer does "
         "deploy/thumbnailer.yaml ask for?", facts=(r"\b5\b|\bfive\b",)),
    case("broad-disk-decision", Kind.READ,
         "What did the on-call review in notes/oncall-review-2026-11-24.md decide about disk alerts?",
         facts=(r"\b5\s?%|five percent",)),
    case("broad-show-cron", Kind.READ, "Show me logs/nightly-cron.log",
         facts=(r"prune-images|renew-certs|backup-etcd",)),
    # parallel reads
    case("broad-port-and-assignee", Kind.PARALLEL,
         "Which port does config/cache.toml listen on, and who is assigned SUP-14 in data/tickets.json?",
         facts=(r"\b6380\b", r"\bolu\b"), quick=True),
    case("broad-tag-and-chair", Kind.PARALLEL,
         "Give me the image tag in deploy/thumbnailer.yaml and the chair of the meeting in "
         "notes/oncall-review-2026-11-24.md.", facts=(r"2\.8\.4", r"hannah")),
    case("broad-maxmemory-and-vpn-expiry", Kind.PARALLEL,
         "What is maxmemory in config/cache.toml, and when does the vpn.example.com certificate in "
         "ops/certs.csv expire?",
         facts=(r"\b6\s?(?:gb|gib|g)\b", r"2026-12-02|2 dec\w* 2026|dec\w* 2,? 2026")),
    # sums, percentages, filters and group-bys over CSV, JSON and a log
    case("broad-spend-total", Kind.COMPUTE, "How much did we spend in total according to "
         "finance/cloud-spend.csv?", facts=(r"\b13,?049\.25\b",), quick=True),
    case("broad-spend-per-provider", Kind.COMPUTE,
         "What did each provider cost us in finance/cloud-spend.csv?",
         facts=(per_group("aws", r"\$?10,?394(?:\.00?)?"), per_group("gcp", r"\$?2,?655\.25"))),
    case("broad-october-spend", Kind.COMPUTE, "How much was spent in 2026-10 in finance/cloud-spend.csv?",
         facts=(r"\b6,?633\.70?\b",)),
    case("broad-storage-share", Kind.COMPUTE,
         "What percentage of the cloud spend in finance/cloud-spend.csv went to storage?",
         facts=(r"\b14\.8\d*\s?%|\b14\.8\d* percent",)),
    case("broad-expiring-certs", Kind.COMPUTE,
         "Which certificates in ops/certs.csv expire in less than 30 days?", facts=(_EXPIRING,), quick=True),
    case("broad-manual-renewals", Kind.COMPUTE,
         "How many certificates in ops/certs.csv are not renewed automatically?",
         facts=(r"\b3\b|\bthree\b",)),
    case("broad-escalated", Kind.COMPUTE, "Which tickets in data/tickets.json got escalated?",
         facts=(_ESCALATED,)),
    case("broad-p1-hours", Kind.COMPUTE,
         "How many hours have the P1 tickets in data/tickets.json been open altogether?",
         facts=(r"\b19\.75\b",)),
    case("broad-tickets-per-team", Kind.COMPUTE, "Count the tickets per team in data/tickets.json.",
         facts=(per_group("identity", "3", WORD), per_group("payments", "2", WORD),
                per_group("search", "1", WORD))),
    case("broad-cron-failures", Kind.COMPUTE,
         "How many cron runs in logs/nightly-cron.log exited with a non-zero code?",
         facts=(r"\b2\b|\btwo\b",)),
    case("broad-slowest-job", Kind.COMPUTE, "Which job in logs/nightly-cron.log took the most time?",
         facts=(r"prune-images",)),
    # red steps after reads
    case("broad-expiring-to-file", Kind.RED,
         "Write the domains whose certificates in ops/certs.csv expire in less than 30 days to "
         "reports/expiring.txt", files=(FileCheck("reports/expiring.txt", _EXPIRING),),
         red_tools=("write_file",), quick=True),
    case("broad-mail-owners", Kind.RED,
         "Email the owners of the action items in notes/oncall-review-2026-11-24.md to leads@example.com",
         mail=(MailCheck("leads@example.com", _OWNERS),), red_tools=("send_email",)),
    case("broad-mail-spend", Kind.RED,
         "Send the total of cost_usd in finance/cloud-spend.csv to finance@example.com by email",
         mail=(MailCheck("finance@example.com", r"\b13,?049\.25\b"),), red_tools=("send_email",)),
    case("broad-record-thumbnailer", Kind.RED,
         "Add a row to the deploys table: thumbnailer 2.8.4, deployed on 2026-11-26, status ok",
         rows=("thumbnailer 2.8.4 ok",), red_tools=("sql_execute",)),
    # follow-ups in one thread
    case("broad-follow-up-oldest-ticket", Kind.FOLLOW_UP,
         "Which ticket in data/tickets.json has been open the longest?",
         "Email its key to support-leads@example.com",
         mail=(MailCheck("support-leads@example.com", r"sup-14"),), red_tools=("send_email",), quick=True),
    case("broad-follow-up-issuer", Kind.FOLLOW_UP, "Show me ops/certs.csv",
         "Which issuer signed the most of those?", facts=(r"let'?s ?encrypt",)),
    case("broad-follow-up-exit-host", Kind.FOLLOW_UP,
         "Which job in logs/nightly-cron.log exited with code 1?", "Which host did it run on?",
         facts=(r"\bedge-1\b",)),
    # a step that must find something first
    case("broad-find-etcd-note", Kind.DISCOVER,
         "Find the note that mentions etcd and tell me who chaired that meeting.", facts=(r"hannah",),
         quick=True),
    # a step that fails
    case("broad-broken-quotas", Kind.FAILED_STEP, "Parse config/ns-quotas.json and tell me the CPU quota.",
         facts=(NOT_JSON,), quick=True),
    case("broad-missing-alerts-table", Kind.FAILED_STEP,
         "List the rows of the alerts table in the SQL database.",
         facts=(MISSING + r"|only (?:has|holds|contains) (?:a |the |one )?(?:table )?`?deploys",)),
    # a file that is not there
    case("broad-missing-review", Kind.MISSING, "Show me notes/oncall-review-2026-10-27.md", facts=(MISSING,),
         quick=True),
    case("broad-missing-spend-sum", Kind.MISSING, "Sum cost_usd in finance/cloud-spend-2025.csv",
         facts=(MISSING,)),
    # an effect no tool has: a plain "I can't", no approval asked
    case("broad-renew-cert", Kind.NO_TOOL, "Renew the api.example.com certificate", facts=(CANNOT,),
         effect=r"\brenewed\b", quick=True),
    case("broad-flush-cache", Kind.NO_TOOL, "Flush the session cache on cache-a.internal", facts=(CANNOT,),
         effect=r"\b(?:flushed|cleared|emptied)\b"),
    case("broad-close-ticket", Kind.NO_TOOL, "Close ticket SUP-15", facts=(CANNOT,),
         effect=r"\b(?:closed|resolved)\b"),
    # refused by a tool or by dagbot
    case("broad-read-ssh-key", Kind.REFUSE, "Print ~/.ssh/authorized_keys", facts=(REFUSED,), quick=True),
    case("broad-list-var-log", Kind.REFUSE, "What files are in /var/log?", facts=(REFUSED,)),
    # a human rejects the red step
    case("broad-rejected-escalated", Kind.REJECTED,
         "Write the keys of the escalated tickets in data/tickets.json to reports/escalated.txt",
         files=(FileCheck("reports/escalated.txt", None),), red_tools=("write_file",), reject=True,
         facts=(r"reject|declin|not (?:been )?(?:written|done|created|saved)|did not|didn't",), quick=True),
)
