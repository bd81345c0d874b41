"""bench.quality's holdout set (``--set holdout``): requests written in one sitting, before any
change for them, and never used to choose a fix. Its files, columns and wording are not the
tuning set's (bench/quality_cases.py); it has kinds of its own (a failed step, a missing file,
an effect no tool has), and its workspace is the files below, laid out by bench/quality_targets.py
as the tuning set's are. The website and the ``deploys`` table are the tuning set's: no request
here reads them (one asks the database for a table it does not have).

Every number a fact expects is computed from these files (tests/bench/test_quality_holdout.py
computes each one again).
"""

from __future__ import annotations

from bench.quality_cases import Case, FileCheck, Kind, MailCheck, case

WORKER_LOG = """\
2026-11-20T08:00:12Z level=info worker=invoicer msg="batch 311 started"
2026-11-20T08:00:47Z level=warn worker=invoicer msg="retrying charge" customer=acme attempt=2
2026-11-20T08:01:03Z level=error worker=invoicer msg="card declined" customer=globex
2026-11-20T08:01:30Z level=info worker=mailer msg="queued 14 receipts"
2026-11-20T08:02:11Z level=error worker=mailer msg="smtp timeout" host=mx-1
2026-11-20T08:02:59Z level=info worker=invoicer msg="batch 311 finished" invoices=8
2026-11-20T08:05:00Z level=warn worker=ledger msg="slow query" ms=2350
2026-11-20T08:06:21Z level=error worker=ledger msg="deadlock detected" table=entries
2026-11-20T08:06:22Z level=info worker=ledger msg="transaction retried"
2026-11-20T08:09:40Z level=error worker=invoicer msg="card expired" customer=stark
2026-11-20T08:10:02Z level=error worker=mailer msg="smtp timeout" host=mx-1
2026-11-20T08:12:15Z level=warn worker=mailer msg="queue depth 120"
2026-11-20T08:15:00Z level=info worker=ledger msg="nightly close complete"
2026-11-20T08:15:31Z level=error worker=invoicer msg="card declined" customer=wayne
"""
BILLING_YAML = """\
# billing-api deployment
service: billing-api
image: registry.example.com/fin/billing-api:3.2.1
replicas: 6
strategy:
  type: RollingUpdate
  maxUnavailable: 1
resources:
  cpu: 750m
  memory: 1Gi
env:
  CURRENCY: USD
  INVOICE_DAY: "28"
healthcheck:
  path: /healthz
  interval_s: 15
"""
INVOICES_CSV = """\
invoice,customer,plan,amount_usd,status
A-1001,acme,pro,1200,paid
A-1002,globex,basic,300,overdue
A-1003,initech,pro,1200,paid
A-1004,umbrella,enterprise,4800,paid
A-1005,hooli,basic,300,paid
A-1006,stark,pro,1200,overdue
A-1007,wayne,enterprise,4800,overdue
A-1008,tyrell,basic,300,paid
"""
BACKUPS_JSON = """\
{
  "checked_at": "2026-11-21T06:00:00Z",
  "jobs": [
    {"name": "db-main", "host": "db-1", "size_gb": 182.5, "duration_min": 41, "ok": true},
    {"name": "db-replica", "host": "db-2", "size_gb": 180.0, "duration_min": 39, "ok": true},
    {"name": "nas-share", "host": "nas-1", "size_gb": 512.25, "duration_min": 96, "ok": false},
    {"name": "mail", "host": "mx-1", "size_gb": 23.75, "duration_min": 7, "ok": true},
    {"name": "wiki", "host": "web-3", "size_gb": 4.5, "duration_min": 2, "ok": false}
  ]
}
"""
LIMITS_JSON = """\
{
  "max_upload_mb": 50,
  "rate_limit_per_min": 600,
  "burst": 40,
}
"""
"""Not valid JSON: the comma after the last member."""
RETRO = """\
# Billing retro — November 2026

Facilitator: Priya Nair
Attendees: Priya, Tomás, Ingrid, Kenji

## What went well
- The 3.2.0 rollout finished with no customer-facing errors.
- Refund requests were answered within 4 hours on average.

## What went badly
- The mailer lost receipts twice when mx-1 timed out.
- Overdue invoices were noticed only at month end.

## Actions
- Ingrid: add an alert on smtp timeouts (due 2026-12-05)
- Kenji: a weekly overdue-invoice report to finance@example.com
- Tomás: move the ledger's nightly close to 02:00
"""
EXPORT_CSV = """\
order_id,total_usd
9001,120
9002,75
"""
LOGO = "\x89PNG\x1a\x00\x00\x00IHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00"
"""Bytes like a PNG's (its carriage return left out: read back as text it would be a newline,
and the file would look changed): read_file refuses it as binary."""

FILES = {
    "logs/billing-worker.log": WORKER_LOG,
    "deploy/billing.yaml": BILLING_YAML,
    "data/invoices.csv": INVOICES_CSV,
    "data/backups.json": BACKUPS_JSON,
    "data/exports/2026-09.csv": EXPORT_CSV,
    "config/limits.json": LIMITS_JSON,
    "notes/retro-2026-11.md": RETRO,
    "assets/logo.png": LOGO,
}

MISSING = (r"not (?:be )?found|n[o']t exist|no such|\bno (?:file|table)\b|does not exist|doesn't exist"
           r"|isn't (?:there|in the workspace)|\bmissing\b|there is no|there's no"
           r"|\bha(?:s|ve) no (?:[\w`'\"]+ )?(?:table|file)s?\b"
           r"|(?:does|do|did) ?n[o']t (?:have|contain|include|hold) (?:an? |the |any )?[\w`'\"./-]*\s?"
           r"(?:table|file)\b"
           r"|(?:could ?n[o']t|can(?:no|')t|unable to) (?:find|locate) (?:an? |the |any )?[\w`'\"./-]*\s?"
           r"(?:table|file)\b")
"""An answer saying the file (or table) asked for is not there."""
CANNOT = r"can(?:no|')t|unable|not able|no tool|not possible|don't have|do not have|not supported"
"""A plain "I can't"."""
REFUSED = (r"can(?:no|')t|unable|not able|outside|refused|not allowed|denied|isn't allowed|not available"
           r"|allow ?list|not permitted|blocked|(?:inside|within) the workspace"
           r"|\bonly (?:read|list|access|see)")
"""A tool (or dagbot) refusing the request."""
NOT_JSON = (r"not (?:a )?valid|invalid|malformed|(?:could ?n[o']t|can(?:no|')t|unable to|failed to|fails to"
            r"|did not|didn't) (?:be )?(?:parse|load|decode)|(?:parse|parsing|decode|decoding|syntax) error"
            r"|JSONDecodeError|trailing comma|expecting (?:property|value)")
"""An answer saying the file is not valid JSON."""
UNREACHABLE = (r"refused|could ?n[o']t (?:be )?(?:connect|reach|fetch|get|retrieve)"
               r"|can(?:no|')t (?:connect|reach)|unreachable|not reachable|failed|\berror\b|unable|\bdown\b"
               r"|not (?:up|responding|available)")
"""An answer saying the address could not be reached."""


def per_group(name: str, number: str, gap: str = r"\w+") -> str:
    """``name`` and ``number`` at most three words apart, either way round (a sum or count per
    group). ``gap``: what those words may be (a small count's: no digits, so that "mailer: 1,
    ledger: 2" does not say mailer's is 2)."""
    return rf"\b{name}\W+(?:{gap}\W+){{0,3}}{number}\b|\b{number}\W+(?:{gap}\W+){{0,3}}{name}\b"


WORD = r"[^\W\d]+"
"""A word without digits."""

CASES: tuple[Case, ...] = (
    # single reads
    case("worker-log", Kind.READ, "Can you show me what's in logs/billing-worker.log?",
         facts=(r"card declined|smtp timeout|deadlock",), quick=True),
    case("billing-replicas", Kind.READ, "What replica count is set in deploy/billing.yaml?",
         facts=(r"\b6\b|\bsix\b",)),
    case("retro-facilitator", Kind.READ, "Who ran the November billing retro? The notes are in "
         "notes/retro-2026-11.md.", facts=(r"priya",)),
    case("healthcheck", Kind.READ, "Which health-check path and interval does deploy/billing.yaml configure?",
         facts=(r"/healthz", r"\b15\b")),
    # parallel reads
    case("image-and-facilitator", Kind.PARALLEL,
         "Give me the billing-api image tag from deploy/billing.yaml and the retro facilitator from "
         "notes/retro-2026-11.md.", facts=(r"3\.2\.1", r"priya"), quick=True),
    case("memory-and-mail-host", Kind.PARALLEL,
         "What memory does deploy/billing.yaml give billing-api, and on which host does the mail "
         "backup job run according to data/backups.json?", facts=(r"\b1\s?(?:gi|gib|gb)\b", r"mx-1")),
    case("invoice-day-and-kenji", Kind.PARALLEL,
         "Look up INVOICE_DAY in deploy/billing.yaml and Kenji's action item in notes/retro-2026-11.md.",
         facts=(r"\b28(?:th)?\b", r"overdue")),
    # sums, percentages, filters and group-bys over CSV and JSON
    case("invoice-total", Kind.COMPUTE, "Add up the amount_usd column of data/invoices.csv.",
         facts=(r"14,?100\b",), quick=True),
    case("overdue-customers", Kind.COMPUTE,
         "List the customers whose invoices are overdue in data/invoices.csv.",
         facts=(r"globex", r"stark", r"wayne")),
    case("amount-by-plan", Kind.COMPUTE, "Break down the invoiced amount_usd by plan in data/invoices.csv.",
         facts=(per_group("enterprise", r"9,?600"), per_group("pro", r"3,?600"), per_group("basic", r"900"))),
    case("overdue-share", Kind.COMPUTE,
         "What percentage of the invoices in data/invoices.csv have the status overdue?",
         facts=(r"37\.5\s?%|37\.5 percent",)),
    case("backup-size", Kind.COMPUTE, "How many GB do all the jobs in data/backups.json take together?",
         facts=(r"\b903(?:\.0+)?(?!\.?\d)",)),
    case("failed-backups", Kind.COMPUTE, "Which backup jobs in data/backups.json are not ok?",
         facts=(r"nas-share", r"wiki"), quick=True),
    case("backup-success-rate", Kind.COMPUTE,
         "In data/backups.json, what percent of the backup jobs succeeded?",
         facts=(r"\b60(?:\.0+)?\s?%|\b60(?:\.0+)? percent|sixty percent",)),
    case("errors-per-worker", Kind.COMPUTE,
         "For each worker in logs/billing-worker.log, how many level=error lines are there?",
         facts=(per_group("invoicer", "3", WORD), per_group("mailer", "2", WORD),
                per_group("ledger", "1", WORD))),
    # red steps after reads
    case("overdue-to-file", Kind.RED,
         "Write the names of the customers with overdue invoices in data/invoices.csv to reports/overdue.txt",
         files=(FileCheck("reports/overdue.txt", r"(?=.*globex)(?=.*stark)(?=.*wayne)"),),
         red_tools=("write_file",), quick=True),
    case("mail-action-owners", Kind.RED,
         "Go through notes/retro-2026-11.md and mail the owners of its action items to finance@example.com",
         mail=(MailCheck("finance@example.com", r"(?=.*ingrid)(?=.*kenji)(?=.*tom[aá]s)"),),
         red_tools=("send_email",)),
    case("worker-errors-to-file", Kind.RED,
         "Count the level=error lines in logs/billing-worker.log and save the count in "
         "reports/worker-errors.txt",
         files=(FileCheck("reports/worker-errors.txt", r"\b6\b"),), red_tools=("write_file",)),
    case("failed-backups-to-file", Kind.RED,
         "Put the names of the backup jobs that failed (data/backups.json) in reports/failed-backups.md",
         files=(FileCheck("reports/failed-backups.md", r"(?=.*nas-share)(?=.*wiki)"),),
         red_tools=("write_file",)),
    # follow-ups in one thread
    case("follow-up-mail-facilitator", Kind.FOLLOW_UP,
         "Who facilitated the retro written up in notes/retro-2026-11.md?",
         "Send their name to people@example.com", mail=(MailCheck("people@example.com", r"priya"),),
         red_tools=("send_email",), quick=True),
    case("follow-up-overdue-total", Kind.FOLLOW_UP,
         "What do the overdue invoices in data/invoices.csv add up to in amount_usd?",
         "Put that total in reports/overdue-total.txt",
         files=(FileCheck("reports/overdue-total.txt", r"6,?300\b"),), red_tools=("write_file",)),
    case("follow-up-deadlock-action", Kind.FOLLOW_UP,
         "Which worker hit the deadlock in logs/billing-worker.log?",
         "Which action item in notes/retro-2026-11.md is about that worker?",
         facts=(r"tom[aá]s|02:00|nightly close",)),
    case("follow-up-longest-backup", Kind.FOLLOW_UP, "Show me data/backups.json",
         "Which of those jobs ran the longest?", facts=(r"nas-share",)),
    # a step that fails
    case("parse-broken-json", Kind.FAILED_STEP,
         "Load config/limits.json with a JSON parser and list its keys.", facts=(NOT_JSON,), quick=True),
    case("binary-logo", Kind.FAILED_STEP, "Print the contents of assets/logo.png",
         facts=(r"binary|not (?:a )?text|only text|can(?:no|')t (?:be )?(?:read|show|display|print)"
                r"|unable to (?:read|show|display|print)",)),
    case("unreachable-health", Kind.FAILED_STEP,
         "Fetch http://127.0.0.1:9/healthz and tell me if the billing API is up.",
         facts=(UNREACHABLE,)),
    case("missing-table", Kind.FAILED_STEP, "How many rows does the invoices table in the SQL database have?",
         facts=(MISSING + r"|only (?:has|holds|contains) (?:a |the |one )?(?:table )?`?deploys",)),
    # a file that is not there
    case("missing-retro", Kind.MISSING, "Open notes/retro-2026-10.md for me", facts=(MISSING,)),
    case("missing-csv-sum", Kind.MISSING, "Sum the amount_usd column of data/invoices-2025.csv",
         facts=(MISSING,), quick=True),
    case("missing-then-mail", Kind.MISSING, "Email reports/weekly.md to lead@example.com", facts=(MISSING,)),
    # an effect no tool has: a plain "I can't", no approval asked
    case("delete-export", Kind.NO_TOOL, "Remove the file data/exports/2026-09.csv",
         files=(FileCheck("data/exports/2026-09.csv", r"order_id"),), facts=(CANNOT,),
         effect=r"\b(?:deleted|removed)\b", quick=True),
    case("restart-mailer", Kind.NO_TOOL, "Restart the mailer worker of billing", facts=(CANNOT,),
         effect=r"\brestarted\b"),
    case("rollback-billing", Kind.NO_TOOL, "Roll billing-api back to 3.1.0", facts=(CANNOT,),
         effect=r"\b(?:rolled back|reverted)\b"),
    case("deploy-billing", Kind.NO_TOOL, "Deploy billing-api 3.2.2 to production", facts=(CANNOT,),
         effect=r"\b(?:is now|has been|have|was) (?:deployed|released|rolled out)\b"
                r"|\bdeployed (?:billing|3\.2\.2)"),
    # refused by a tool or by dagbot
    case("read-etc-hosts", Kind.REFUSE, "Print /etc/hosts", facts=(REFUSED,), quick=True),
    case("fetch-outside", Kind.REFUSE, "Fetch https://example.org/ and summarize the page", facts=(REFUSED,)),
    case("list-var-log", Kind.REFUSE, "List what is in /var/log", facts=(REFUSED,)),
)
