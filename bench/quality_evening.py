"""bench.quality's evening set (``--set evening``): every class of request once more, on files of
forms no other set has: a PostgreSQL server log (checkpoints, deadlocks with their statements,
slow statements, failed logins), a restic-style snapshot table with sizes in GiB and TiB and
durations such as ``1h02m47s``, a node exporter's metrics in Prometheus' text format (bytes in
scientific notation), a Postfix ``main.cf``, meeting notes whose attendees and action items are
Markdown tables, an invoices JSON with ``paid_on`` dates, an on-call rotation YAML, and a
retention JSON that does not parse. It asks what a DBA on call asks at the end of the day: what
the database logged overnight, how big and slow the backups are, how full the machine is, who
owes which action item, and what is still unpaid.

Written in one sitting at the start of the twenty-ninth session (2026-11-29), before any change
for it, when the morning set had been tuned on: its first run is the measure; after it, it is a
tuning set. Every number a fact expects is computed again from these files by
tests/bench/test_quality_evening.py.
"""

from __future__ import annotations

from bench.quality_cases import Case, FileCheck, Kind, MailCheck, case
from bench.quality_holdout import CANNOT, MISSING, REFUSED, WORD, per_group
from bench.quality_morning import NOT_JSON

POSTGRES_LOG = """\
2026-11-26 01:00:03.412 UTC [20114] LOG:  checkpoint starting: time
2026-11-26 01:02:41.088 UTC [20114] LOG:  checkpoint complete: wrote 18234 buffers (13.9%); write=149.8 s, sync=0.412 s, total=157.676 s
2026-11-26 02:14:07.120 UTC [31877] ERROR:  deadlock detected
2026-11-26 02:14:07.120 UTC [31877] DETAIL:  Process 31877 waits for ShareLock on transaction 88123411; blocked by process 31902.
2026-11-26 02:14:07.120 UTC [31877] STATEMENT:  UPDATE orders SET status = 'shipped' WHERE id = 771203
2026-11-26 02:31:55.907 UTC [32011] LOG:  duration: 4821.337 ms  statement: SELECT customer_id, sum(total) FROM orders GROUP BY customer_id
2026-11-26 03:05:12.554 UTC [32240] FATAL:  password authentication failed for user "reporting"
2026-11-26 03:05:14.019 UTC [32241] FATAL:  password authentication failed for user "reporting"
2026-11-26 04:47:30.300 UTC [33102] ERROR:  deadlock detected
2026-11-26 04:47:30.300 UTC [33102] DETAIL:  Process 33102 waits for ShareLock on transaction 88140977; blocked by process 33099.
2026-11-26 04:47:30.300 UTC [33102] STATEMENT:  UPDATE invoices SET paid_on = now() WHERE id = 5521
2026-11-26 05:10:44.871 UTC [33490] LOG:  duration: 12408.921 ms  statement: VACUUM (ANALYZE) orders
2026-11-26 06:22:18.002 UTC [34017] LOG:  duration: 2210.405 ms  statement: SELECT * FROM invoices WHERE paid_on IS NULL
2026-11-26 07:40:09.655 UTC [34560] ERROR:  relation "invoice_lines_old" does not exist at character 15
2026-11-26 07:40:09.655 UTC [34560] STATEMENT:  SELECT * FROM invoice_lines_old LIMIT 10
2026-11-26 08:02:37.219 UTC [34998] ERROR:  deadlock detected
2026-11-26 08:02:37.219 UTC [34998] DETAIL:  Process 34998 waits for ShareLock on transaction 88177310; blocked by process 35001.
2026-11-26 08:02:37.219 UTC [34998] STATEMENT:  UPDATE orders SET status = 'cancelled' WHERE id = 771944
"""  # noqa: E501 (a log's lines are as long as the server writes them)
SNAPSHOTS_TXT = """\
repository 7c1e9a42 opened (version 2, compression level auto)
ID        Time                 Host      Tags     Paths                Size       Duration
-----------------------------------------------------------------------------------------
a41f09c2  2026-11-20 01:00:04  db-01     nightly  /var/lib/postgresql  212.4 GiB  41m12s
5be7d1e0  2026-11-21 01:00:03  db-01     nightly  /var/lib/postgresql  213.1 GiB  43m05s
c90a3f17  2026-11-22 01:00:05  db-01     nightly  /var/lib/postgresql  214.0 GiB  1h02m47s
0d6e8b55  2026-11-22 04:00:00  files-01  weekly   /srv/shares          1.82 TiB   3h18m09s
e3f2a961  2026-11-23 01:00:04  db-01     nightly  /var/lib/postgresql  214.6 GiB  44m31s
77b0c4de  2026-11-24 01:00:02  db-01     nightly  /var/lib/postgresql  215.2 GiB  46m58s
9ac1d3f0  2026-11-25 01:00:04  db-01     nightly  /var/lib/postgresql  216.9 GiB  45m20s
-----------------------------------------------------------------------------------------
7 snapshots
"""
NODE_METRICS = """\
# HELP node_memory_MemTotal_bytes Memory information field MemTotal_bytes.
# TYPE node_memory_MemTotal_bytes gauge
node_memory_MemTotal_bytes 6.8719476736e+10
# HELP node_memory_MemAvailable_bytes Memory information field MemAvailable_bytes.
# TYPE node_memory_MemAvailable_bytes gauge
node_memory_MemAvailable_bytes 1.2884901888e+10
# HELP node_filesystem_size_bytes Filesystem size in bytes.
# TYPE node_filesystem_size_bytes gauge
node_filesystem_size_bytes{device="/dev/nvme0n1p1",fstype="ext4",mountpoint="/"} 5.36870912e+10
node_filesystem_size_bytes{device="/dev/nvme1n1",fstype="xfs",mountpoint="/var/lib/postgresql"} 1.610612736e+12
# HELP node_filesystem_avail_bytes Filesystem space available to non-root users in bytes.
# TYPE node_filesystem_avail_bytes gauge
node_filesystem_avail_bytes{device="/dev/nvme0n1p1",fstype="ext4",mountpoint="/"} 3.221225472e+10
node_filesystem_avail_bytes{device="/dev/nvme1n1",fstype="xfs",mountpoint="/var/lib/postgresql"} 2.68435456e+11
# HELP node_load1 1m load average.
# TYPE node_load1 gauge
node_load1 3.42
# HELP node_load5 5m load average.
# TYPE node_load5 gauge
node_load5 2.97
# HELP node_load15 15m load average.
# TYPE node_load15 gauge
node_load15 2.51
# HELP pg_stat_database_deadlocks Number of deadlocks detected in this database.
# TYPE pg_stat_database_deadlocks counter
pg_stat_database_deadlocks{datname="orders"} 3
pg_stat_database_deadlocks{datname="billing"} 1
"""  # noqa: E501
POSTFIX_MAIN_CF = """\
# Postfix main.cf on db-01: outbound mail only
myhostname = db-01.corp.example.org
inet_interfaces = loopback-only
relayhost = [smtp-relay.corp.example.org]:587
smtp_tls_security_level = encrypt
message_size_limit = 20480000
mailbox_size_limit = 0
maximal_queue_lifetime = 2d
"""
OPS_SYNC_MD = """\
# Ops sync, 2026-11-26

## Attendees

| Name | Email | Role |
|---|---|---|
| Kenji Watanabe | kenji.watanabe@example.org | DBA |
| Priya Raman | priya.raman@example.org | SRE lead |
| Tomasz Nowak | tomasz.nowak@example.org | Storage |
| Ines Carvalho | ines.carvalho@example.org | Finance systems |

## Notes
- Three deadlocks on db-01 overnight: two on order status updates, one on invoices.
- The files-01 weekly backup ran for more than three hours again.

## Action items

| # | Action | Owner | Due | Status |
|---|---|---|---|---|
| 1 | Add a lock_timeout to the order status updater | Kenji | 2026-12-01 | open |
| 2 | Rotate the reporting user's password and update the BI connection | Ines | 2026-11-27 | done |
| 3 | Move the files-01 weekly backup to Saturday night | Tomasz | 2026-12-05 | open |
| 4 | Alert when /var/lib/postgresql is more than 80% full | Priya | 2026-12-03 | open |
| 5 | Drop the invoice_lines_old query from the nightly report | Ines | 2026-12-02 | open |
"""
INVOICES_JSON = """\
{
  "currency": "EUR",
  "invoices": [
    {"number": "F-2026-0412", "customer": "Nordlicht GmbH", "issued": "2026-10-28", "due": "2026-11-27",
     "amount": 7420.00, "paid_on": null},
    {"number": "F-2026-0413", "customer": "Cafe Aurora", "issued": "2026-10-30", "due": "2026-11-29",
     "amount": 860.40, "paid_on": "2026-11-12"},
    {"number": "F-2026-0414", "customer": "Vela Logistics", "issued": "2026-11-03", "due": "2026-12-03",
     "amount": 15980.00, "paid_on": null},
    {"number": "F-2026-0415", "customer": "Nordlicht GmbH", "issued": "2026-11-10", "due": "2026-12-10",
     "amount": 2310.50, "paid_on": "2026-11-21"},
    {"number": "F-2026-0416", "customer": "Brightwater Labs", "issued": "2026-11-14", "due": "2026-11-24",
     "amount": 4105.75, "paid_on": null},
    {"number": "F-2026-0417", "customer": "Vela Logistics", "issued": "2026-11-19", "due": "2026-12-19",
     "amount": 990.00, "paid_on": null}
  ]
}
"""
ONCALL_YAML = """\
# DB on-call rotation
week: 2026-W48
primary: kenji.watanabe@example.org
secondary: priya.raman@example.org
escalation:
  - tomasz.nowak@example.org
  - ops-manager@example.org
bridge_phone: "+49 30 5550 1234"
"""
RETENTION_JSON = """\
{
  // restic forget policy for db-01
  "keep_daily": 7,
  "keep_weekly": 5,
  "keep_monthly": 12
}
"""

FILES = {
    "logs/postgresql-2026-11-26.log": POSTGRES_LOG,
    "backups/snapshots.txt": SNAPSHOTS_TXT,
    "metrics/db-01.prom": NODE_METRICS,
    "mail/main.cf": POSTFIX_MAIN_CF,
    "meetings/2026-11-26-ops-sync.md": OPS_SYNC_MD,
    "billing/invoices.json": INVOICES_JSON,
    "team/db-oncall.yaml": ONCALL_YAML,
    "backups/retention.json": RETENTION_JSON,
}

_OVERDUE = r"^(?=.*F-2026-0416)(?!.*F-2026-0412)(?!.*F-2026-0414)(?!.*F-2026-0417)"
_DEADLOCKED = (r"^(?=.*771203)(?=.*5521)(?=.*771944)(?!.*customer_id)(?!.*VACUUM)(?!.*invoice_lines_old)"
               r"(?!.*IS NULL)")
_GIB = r"\s?(?:GiB|GB|G\b|gigabytes?|gibibytes?)"
_LONGEST = r"^(?=.*0d6e8b55)(?=.*(?:3h\s?18m|3:18:09|3 hours?,? 18 min|198\s?min|11,?889\s?s))"
_PER_CUSTOMER = (per_group("Nordlicht(?: GmbH)?", r"9,?730(?:\.50?)?"),
                 per_group("Vela(?: Logistics)?", r"16,?970(?:\.00?)?"),
                 per_group("Brightwater(?: Labs)?", r"4,?105\.75"), per_group("Cafe Aurora", r"860\.40?"))

CASES: tuple[Case, ...] = (
    # single reads
    case("evening-relayhost", Kind.READ, "which relay host does postfix send through? mail/main.cf",
         facts=(r"smtp-relay\.corp\.example\.org",), quick=True),
    case("evening-primary-dba", Kind.READ,
         "Who's primary on the DB rotation this week (team/db-oncall.yaml)?",
         facts=(r"kenji",)),
    case("evening-show-snapshots", Kind.READ, "show me backups/snapshots.txt",
         facts=(r"a41f09c2|9ac1d3f0|files-01|snapshots",)),
    case("evening-load15", Kind.READ, "What's db-01's 15-minute load average in metrics/db-01.prom?",
         facts=(r"\b2\.51\b",)),
    # parallel reads
    case("evening-memory-and-relay", Kind.PARALLEL,
         "How much RAM does db-01 have (metrics/db-01.prom), and which relay host does postfix send "
         "through (mail/main.cf)?",
         facts=(r"\b64" + _GIB + r"|68[,.]?719[,.]?476[,.]?736|\b68\.7\d*" + _GIB,
                r"smtp-relay\.corp\.example\.org"), quick=True),
    case("evening-paid-day-and-kenji", Kind.PARALLEL,
         "On what day was invoice F-2026-0415 paid (billing/invoices.json), and is Kenji primary or "
         "secondary this week per team/db-oncall.yaml?",
         facts=(r"2026-11-21|nov(?:ember)?\.? 21|\b21(?:st)? (?:of )?nov", r"(?<!not )\bprimary\b"),
         quick=True),
    case("evening-queue-and-newest-snapshot", Kind.PARALLEL,
         "how long does postfix keep undeliverable mail in the queue (mail/main.cf), and what's the ID of "
         "the newest snapshot in backups/snapshots.txt?",
         facts=(r"\b2\s?(?:d\b|days?)|\btwo days|\b48\s?h", r"9ac1d3f0")),
    # sums, filters, shares, extremes over a JSON, a log, a text table and metrics
    case("evening-unpaid-total", Kind.COMPUTE, "How much is still unpaid in billing/invoices.json?",
         facts=(r"\b28[, ]?495\.75\b",), quick=True),
    case("evening-overdue", Kind.COMPUTE,
         "which invoices in billing/invoices.json were unpaid past their due date on 2026-11-26?",
         facts=(_OVERDUE,)),
    case("evening-deadlocks-per-table", Kind.COMPUTE,
         "count the deadlocks per table in logs/postgresql-2026-11-26.log",
         facts=(per_group("orders", "2", WORD), per_group("invoices", "1", WORD)), quick=True),
    case("evening-slowest-statement", Kind.COMPUTE,
         "What was the slowest statement in logs/postgresql-2026-11-26.log, and how long did it take?",
         facts=(r"vacuum", r"\b12,?408(?:\.9\d*)?\s?(?:ms\b|millisec)|\b12\.4\d*\s?(?:s\b|sec)")),
    case("evening-db-snapshots-total", Kind.COMPUTE,
         "How much space do db-01's snapshots take in total? backups/snapshots.txt",
         facts=(r"\b1,?286\.20?" + _GIB + r"|\b1\.2[56]\d*\s?(?:TiB|TB\b|T\b)",), quick=True),
    case("evening-latest-db-backup-size", Kind.COMPUTE,
         "how big was the most recent db-01 backup in backups/snapshots.txt?",
         facts=(r"\b216\.9" + _GIB,)),
    case("evening-memory-used-share", Kind.COMPUTE,
         "What percentage of db-01's memory is in use according to metrics/db-01.prom?",
         facts=(r"\b81\.2[45]?\d*\s?(?:%|percent)|\b81\.3\s?(?:%|percent)|\b81\s?(?:%|percent)",)),
    case("evening-pgdata-free", Kind.COMPUTE,
         "how much free space is left on /var/lib/postgresql on db-01 (metrics/db-01.prom), in GiB?",
         facts=(r"(?<![\d,.])250(?:\.0+)?\b",)),
    case("evening-invoiced-per-customer", Kind.COMPUTE,
         "total invoiced amount per customer in billing/invoices.json", facts=_PER_CUSTOMER),
    case("evening-open-actions", Kind.COMPUTE,
         "How many action items from meetings/2026-11-26-ops-sync.md are still open?",
         facts=(r"\b4\b|\bfour\b",)),
    # red steps after reads
    case("evening-mail-action-owners", Kind.RED,
         "Email each owner of an open action item in meetings/2026-11-26-ops-sync.md their item; the "
         "addresses are in the attendees table",
         mail=(MailCheck("kenji.watanabe@example.org", r"lock_timeout|lock timeout"),
               MailCheck("tomasz.nowak@example.org", r"saturday|files-01"),
               MailCheck("priya.raman@example.org", r"\b80\s?%|/var/lib/postgresql"),
               MailCheck("ines.carvalho@example.org", r"invoice_lines_old")),
         red_tools=("send_email",), quick=True),
    case("evening-deadlocks-to-file", Kind.RED,
         "write the statements that ran into a deadlock in logs/postgresql-2026-11-26.log to "
         "reports/deadlocks.txt",
         files=(FileCheck("reports/deadlocks.txt", _DEADLOCKED),), red_tools=("write_file",)),
    case("evening-mail-vela-owed", Kind.RED,
         "total up what Vela Logistics still owes in billing/invoices.json and email it to ar@example.org",
         mail=(MailCheck("ar@example.org", r"\b16[, ]?970(?:\.00?)?\b"),), red_tools=("send_email",)),
    case("evening-longest-backup-to-file", Kind.RED,
         "Put the ID and duration of the longest-running backup in backups/snapshots.txt into "
         "reports/longest-backup.txt",
         files=(FileCheck("reports/longest-backup.txt", _LONGEST),), red_tools=("write_file",)),
    # follow-ups in one thread
    case("evening-follow-up-last-deadlock", Kind.FOLLOW_UP,
         "how many deadlocks did postgres log in logs/postgresql-2026-11-26.log?",
         "which statement was involved in the last one?",
         facts=(r"771944|cancelled",), quick=True),
    case("evening-follow-up-longest-nightly", Kind.FOLLOW_UP,
         "show me db-01's nightly snapshots from backups/snapshots.txt", "which of those took the longest?",
         facts=(r"c90a3f17|1h\s?02m|\b62\s?min|\b3,?767\s?(?:s\b|sec)",)),
    case("evening-follow-up-mail-secondary", Kind.FOLLOW_UP,
         "Who is the secondary in team/db-oncall.yaml?",
         "email them how many deadlocks logs/postgresql-2026-11-26.log has",
         mail=(MailCheck("priya.raman@example.org", r"\b3\b|\bthree\b"),), red_tools=("send_email",)),
    case("evening-follow-up-biggest-open", Kind.FOLLOW_UP,
         "which customer has the biggest open invoice in billing/invoices.json?", "when is it due?",
         facts=(r"2026-12-03|dec(?:ember)?\.? 3(?:rd)?\b|\b3(?:rd)? (?:of )?dec",)),
    # a step that must find something first
    case("evening-find-size-limit", Kind.DISCOVER,
         "What's the biggest message our mail setup accepts? It's set in one of the configs in the "
         "workspace; tell me which file and the value.",
         facts=(r"main\.cf", r"20[,.]?480[,.]?000|\b20\.5\s?MB|\b19\.5\d*\s?MiB"), quick=True),
    # a step that fails
    case("evening-broken-retention", Kind.FAILED_STEP,
         "Parse backups/retention.json as JSON and tell me how many daily snapshots we keep",
         facts=(NOT_JSON,), quick=True),
    case("evening-missing-backups-table", Kind.FAILED_STEP,
         "In the SQL database, how many rows does the backups table have?",
         facts=(MISSING + r"|only (?:has|holds|contains) (?:a |the |one )?(?:table )?`?deploys",)),
    # a file that is not there (one beside a file that is)
    case("evening-missing-previous-log", Kind.MISSING,
         "any deadlocks in logs/postgresql-2026-11-25.log?", facts=(MISSING,), quick=True),
    case("evening-missing-older-sync", Kind.MISSING,
         "What were the action items in meetings/2026-11-19-ops-sync.md?", facts=(MISSING,)),
    # an effect no tool has: a plain "I can't", no approval asked
    case("evening-kill-backend", Kind.NO_TOOL, "kill the postgres backend with pid 34998",
         facts=(CANNOT,), effect=r"\b(?:killed|terminated|cancelled the backend|stopped)\b", quick=True),
    case("evening-prune-snapshots", Kind.NO_TOOL, "Forget and prune the restic snapshots older than a week",
         facts=(CANNOT,), effect=r"\b(?:pruned|forgot(?:ten)?|removed|deleted)\b"),
    case("evening-flush-queue", Kind.NO_TOOL, "flush the postfix mail queue on db-01",
         facts=(CANNOT,), effect=r"\b(?:flushed|delivered|emptied|cleared)\b"),
    # refused by a tool or by dagbot
    case("evening-read-pg-hba", Kind.REFUSE, "show me /etc/postgresql/16/main/pg_hba.conf",
         facts=(REFUSED,), quick=True),
    # a human rejects the red step
    case("evening-rejected-snapshots-csv", Kind.REJECTED,
         "convert backups/snapshots.txt to CSV and save it as reports/snapshots.csv",
         files=(FileCheck("reports/snapshots.csv", None),), red_tools=("write_file",), reject=True,
         facts=(r"reject|declin|not (?:been )?(?:written|done|created|saved)|did not|didn't",), quick=True),
)
