"""bench.quality's tuesday set (``--set tuesday``): every class of request once more, on files of
forms no other set has: an Airflow DAG runs export in CSV (ISO timestamps, an empty ``end_date``
for a run still going), ``kafka-consumer-groups.sh --describe --all-groups`` output (a header per
group, whitespace-aligned columns, ``-`` for a partition no consumer holds), a PostgreSQL log
whose prefix names ``user@database`` (slow statements among checkpoint and ERROR lines), a Helm
values file (replicas, image tags, requests and limits in ``Mi``/``Gi`` and millicores, ingress
hosts, an HPA), an S3 bucket inventory in JSON (sizes in GB, ``owner_team`` null for some), an
on-call handover in Markdown whose open issues name their owner ``@login (name.surname@…)``, and
last month's inventory, cut off mid-way, which does not parse. It asks what a data platform
team's on-call engineer asks on Tuesday morning (2026-12-01): which DAGs failed overnight and
whose they are, how far behind the Kafka consumers are, what the database was slow at, what the
Helm values give the api and the worker, which buckets are public, stale or nobody's, and who
has the pager now.

Written in one sitting on 2026-11-30 (thirty-eighth session), before any change for it: its
first run is the measure; after it, it is a tuning set. The runs file holds the runs of the night
of 2026-11-30 (the daily DAGs' logical date), all started on 2026-12-01. Every number a fact
expects is computed again from these files by tests/bench/test_quality_tuesday.py.
"""

from __future__ import annotations

from bench.quality_cases import Case, FileCheck, Kind, MailCheck, case
from bench.quality_holdout import CANNOT, MISSING, REFUSED, WORD, per_group
from bench.quality_morning import NOT_JSON

DAG_RUNS_CSV = """\
dag_id,run_id,state,start_date,end_date,owner
orders_daily_etl,scheduled__2026-11-30T00:00:00+00:00,success,2026-12-01T00:05:02+00:00,2026-12-01T00:41:37+00:00,kasante
clickstream_hourly,scheduled__2026-12-01T00:00:00+00:00,success,2026-12-01T01:00:04+00:00,2026-12-01T01:12:40+00:00,slindqvist
billing_export,scheduled__2026-11-30T01:30:00+00:00,failed,2026-12-01T01:30:00+00:00,2026-12-01T01:47:19+00:00,dnovak
clickstream_hourly,scheduled__2026-12-01T01:00:00+00:00,failed,2026-12-01T02:00:03+00:00,2026-12-01T02:03:51+00:00,slindqvist
ml_feature_refresh,scheduled__2026-11-30T02:30:00+00:00,success,2026-12-01T02:30:01+00:00,2026-12-01T04:05:45+00:00,rpatel
clickstream_hourly,scheduled__2026-12-01T02:00:00+00:00,failed,2026-12-01T03:00:05+00:00,2026-12-01T03:04:12+00:00,slindqvist
billing_export,manual__2026-12-01T03:12:45+00:00,failed,2026-12-01T03:12:46+00:00,2026-12-01T03:29:58+00:00,dnovak
warehouse_vacuum,scheduled__2026-11-30T03:30:00+00:00,success,2026-12-01T03:30:00+00:00,2026-12-01T04:22:30+00:00,mchen
clickstream_hourly,scheduled__2026-12-01T03:00:00+00:00,up_for_retry,2026-12-01T04:00:02+00:00,,slindqvist
clickstream_hourly,scheduled__2026-12-01T04:00:00+00:00,failed,2026-12-01T05:00:04+00:00,2026-12-01T05:02:58+00:00,slindqvist
billing_export,manual__2026-12-01T05:40:10+00:00,success,2026-12-01T05:40:11+00:00,2026-12-01T06:02:33+00:00,dnovak
orders_daily_etl,manual__2026-12-01T06:15:00+00:00,failed,2026-12-01T06:15:01+00:00,2026-12-01T06:20:44+00:00,kasante
clickstream_hourly,scheduled__2026-12-01T05:00:00+00:00,running,2026-12-01T06:00:03+00:00,,slindqvist
ml_feature_refresh,manual__2026-12-01T07:02:18+00:00,running,2026-12-01T07:02:19+00:00,,rpatel
"""
CONSUMER_LAG = """\

GROUP                TOPIC           PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG             CONSUMER-ID                                     HOST            CLIENT-ID
clickstream-enricher clickstream.raw 0          48211903        48213103        1200            enricher-0-3e1b9a4c-6d2f-4b8e-a1c7-5f0d9e2b8c41 /10.12.4.31     enricher-0
clickstream-enricher clickstream.raw 1          47120588        47209000        88412           enricher-1-b7d04f19-2a6e-4c3b-9f58-0e1a7c4d2b96 /10.12.4.33     enricher-1
clickstream-enricher clickstream.raw 2          48300117        48300427        310             enricher-2-59c2e8a7-1f4b-4d06-8e3a-c6b9d0f27a15 /10.12.4.35     enricher-2
clickstream-enricher clickstream.raw 3          48188020        48188925        905             enricher-3-0a8f3d62-7c19-4e5b-b2d4-91e6f8a3c570 /10.12.4.36     enricher-3

GROUP           TOPIC           PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG             CONSUMER-ID                                                           HOST            CLIENT-ID
orders-sink     orders.v2       0          3381920         3381920         0               connector-consumer-orders-sink-0-6f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0 /10.12.6.14     connector-consumer-orders-sink-0
orders-sink     orders.v2       1          3379415         3379427         12              connector-consumer-orders-sink-1-c0d9e8f7-a6b5-4c4d-9e3f-2a1b0c9d8e7f /10.12.6.15     connector-consumer-orders-sink-1
orders-sink     orders.v2       2          3384006         3384013         7               connector-consumer-orders-sink-2-1d2c3b4a-5e6f-4a7b-8c9d-0e1f2a3b4c5d /10.12.6.14     connector-consumer-orders-sink-2

GROUP           TOPIC           PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG             CONSUMER-ID                                          HOST            CLIENT-ID
billing-ledger  billing.events  0          912044          917444          5400            ledger-writer-0-8e7d6c5b-4a39-4281-b7f6-e5d4c3b2a190 /10.12.5.22     ledger-writer-0
billing-ledger  billing.events  1          908771          913891          5120            ledger-writer-0-8e7d6c5b-4a39-4281-b7f6-e5d4c3b2a190 /10.12.5.22     ledger-writer-0
billing-ledger  billing.events  2          910385          915373          4988            ledger-writer-1-2b3c4d5e-6f70-4812-93a4-b5c6d7e8f901 /10.12.5.23     ledger-writer-1
billing-ledger  billing.events  3          906552          912572          6020            -                                                    -               -
"""  # noqa: E501 (the tool pads each group's columns to their widest value)
SLOW_QUERIES_LOG = """\
2026-12-01 00:12:44.902 UTC [47102] etl@warehouse LOG:  duration: 2311.870 ms  statement: SELECT session_id, count(*) FROM page_views WHERE viewed_at >= '2026-11-30' GROUP BY session_id
2026-12-01 01:03:27.448 UTC [47391] app@orders LOG:  duration: 1204.331 ms  statement: UPDATE orders SET status = 'shipped' WHERE shipped_at IS NOT NULL AND status = 'packed'
2026-12-01 01:47:10.006 UTC [47655] billing@orders LOG:  duration: 3518.207 ms  statement: SELECT id, customer_id, amount FROM invoices WHERE due_date < now() AND paid_at IS NULL
2026-12-01 02:14:07.331 UTC [48211] app@orders LOG:  duration: 5231.402 ms  statement: SELECT id, total, status FROM orders WHERE status = 'pending' ORDER BY created_at
2026-12-01 03:02:55.640 UTC [48790] etl@warehouse ERROR:  canceling statement due to statement timeout
2026-12-01 03:02:55.640 UTC [48790] etl@warehouse STATEMENT:  SELECT user_id, count(*) FROM page_views GROUP BY user_id
2026-12-01 03:40:18.220 UTC [49012] etl@warehouse LOG:  duration: 11873.064 ms  statement: DELETE FROM page_views WHERE viewed_at < '2026-09-01'
2026-12-01 04:05:51.733 UTC [49377] app@orders LOG:  duration: 2876.115 ms  statement: SELECT * FROM orders WHERE customer_id = 88213 ORDER BY created_at DESC
2026-12-01 04:25:30.000 UTC [1187] @ LOG:  checkpoint starting: time
2026-12-01 04:30:00.112 UTC [1187] @ LOG:  checkpoint complete: wrote 9120 buffers (5.6%); 0 WAL file(s) added, 0 removed, 3 recycled; write=269.871 s, sync=0.204 s, total=270.112 s
2026-12-01 05:11:36.504 UTC [49920] etl@warehouse LOG:  duration: 4402.590 ms  statement: SELECT count(DISTINCT user_id) FROM page_views WHERE viewed_at::date = '2026-11-30'
2026-12-01 06:17:03.870 UTC [50231] billing@orders LOG:  duration: 1987.644 ms  statement: UPDATE invoices SET reminder_sent = true WHERE due_date = current_date - 7
2026-12-01 06:48:29.105 UTC [50560] app@orders LOG:  duration: 1520.009 ms  statement: SELECT id, name FROM customers WHERE lower(city) = 'lyon'
"""  # noqa: E501 (the server writes each entry on one line)
HELM_VALUES = """\
# pipeline chart: values for prod (cluster data-prod-eu1); staging overrides live elsewhere
global:
  imageRegistry: registry.example.net/data
  imagePullPolicy: IfNotPresent

api:
  replicaCount: 3
  image:
    repository: pipeline-api
    tag: "2026.11.28-3f9c2ab"
  resources:
    requests:
      cpu: 250m
      memory: 512Mi
    limits:
      cpu: "1"
      memory: 1Gi
  ingress:
    enabled: true
    className: nginx
    hosts:
      - pipeline.example.net
      - pipeline-api.internal.example.net
    tls:
      secretName: pipeline-tls
  hpa:
    enabled: true
    minReplicas: 3
    maxReplicas: 8
    targetCPUUtilizationPercentage: 70

worker:
  replicaCount: 4
  image:
    repository: pipeline-worker
    tag: "2026.11.24-a81d0e7"
  resources:
    requests:
      cpu: 500m
      memory: 1536Mi
    limits:
      cpu: "2"
      memory: 3Gi
  env:
    KAFKA_BOOTSTRAP: kafka-0.kafka.data.svc:9092
    CONSUMER_GROUP: clickstream-enricher
  hpa:
    enabled: false
    minReplicas: 4
    maxReplicas: 12
    targetCPUUtilizationPercentage: 80
"""
BUCKETS_JSON = """\
{
  "account": "data-prod",
  "generated_at": "2026-12-01T05:00:00Z",
  "buckets": [
    {"name": "dp-raw-clickstream", "size_gb": 18432.5, "public": false, "owner_team": "ingest",
     "versioning": "Enabled", "last_modified": "2026-12-01T04:58:12Z"},
    {"name": "dp-warehouse-exports", "size_gb": 2210.75, "public": true, "owner_team": "analytics",
     "versioning": "Enabled", "last_modified": "2026-12-01T00:41:30Z"},
    {"name": "dp-ml-features", "size_gb": 940.2, "public": false, "owner_team": "ml",
     "versioning": "Suspended", "last_modified": "2026-12-01T04:05:40Z"},
    {"name": "dp-billing-archive", "size_gb": 5120.0, "public": false, "owner_team": null,
     "versioning": "Enabled", "last_modified": "2026-10-31T22:15:00Z"},
    {"name": "dp-public-datasets", "size_gb": 312.4, "public": true, "owner_team": "analytics",
     "versioning": "Disabled", "last_modified": "2026-10-02T11:47:19Z"},
    {"name": "dp-tmp-scratch", "size_gb": 77.9, "public": true, "owner_team": null,
     "versioning": "Disabled", "last_modified": "2026-11-29T16:02:44Z"},
    {"name": "dp-airflow-logs", "size_gb": 64.3, "public": false, "owner_team": "platform",
     "versioning": "Enabled", "last_modified": "2026-12-01T07:59:58Z"},
    {"name": "dp-legacy-reports", "size_gb": 1.2, "public": false, "owner_team": null,
     "versioning": "Suspended", "last_modified": "2025-03-14T09:12:00Z"}
  ]
}
"""
HANDOVER = """\
# Data platform on-call handover, Tue 2026-12-01

- **From:** Mei Chen (@mchen, mei.chen@example.net)
- **To:** Ravi Patel (@rpatel, ravi.patel@example.net), primary until Tue 2026-12-08 08:00 UTC
- **Secondary:** Kwame Asante (@kasante, kwame.asante@example.net)
- Handed over at 08:00 UTC on the #data-oncall bridge.

## Open issues

- **clickstream_hourly** has been failing since its 02:00 start: the enricher rejects events carrying the new `referrer_v2` field, and clickstream-enricher is far behind on one partition. Owner: @slindqvist (sofia.lindqvist@example.net)
- **billing_export** failed twice overnight (timeouts reading billing.events); the 05:40 manual rerun passed. billing-ledger has a partition no consumer holds. Owner: @dnovak (dana.novak@example.net)
- **orders_daily_etl** manual backfill at 06:15 failed on a lock timeout on orders; the orders database was slow all night, see postgres/slow-queries.log. Owner: @kasante (kwame.asante@example.net)
- **worker HPA** is still off in helm/values-prod.yaml; decide before Thursday's replay whether to turn it on. Owner: @rpatel (ravi.patel@example.net)

## Done overnight

- warehouse_vacuum purged the page_views rows from before September and finished at 04:22.
- Bumped the api image to 2026.11.28-3f9c2ab (the worker stays on 2026.11.24-a81d0e7).
- Rotated the Kafka client certificates on the enricher pods at 03:10; no consumer restarts needed.
"""  # noqa: E501 (one line per item, as the notes were written)
BUCKETS_NOVEMBER_JSON = """\
{
  "account": "data-prod",
  "generated_at": "2026-11-01T05:00:00Z",
  "buckets": [
    {"name": "dp-raw-clickstream", "size_gb": 16980.1, "public": false, "owner_team": "ingest",
     "versioning": "Enabled", "last_modified": "2026-11-01T04:57:03Z"},
    {"name": "dp-warehouse-exports", "size_gb": 2045.3, "public": true, "owner_team": "analytics",
     "versioning": "Enabled", "last_modified": "2026-11-01T00:40:52Z"},
    {"name": "dp-ml-features", "size_gb": 9
"""

FILES = {
    "airflow/dag-runs-2026-11-30.csv": DAG_RUNS_CSV,
    "kafka/consumer-lag.txt": CONSUMER_LAG,
    "postgres/slow-queries.log": SLOW_QUERIES_LOG,
    "helm/values-prod.yaml": HELM_VALUES,
    "inventory/buckets.json": BUCKETS_JSON,
    "notes/handover-2026-12-01.md": HANDOVER,
    "inventory/buckets-2026-11.json": BUCKETS_NOVEMBER_JSON,
}

NOT_PARSED = (
    NOT_JSON
    + r"|truncat|cut (?:off|short)|\bincomplete\b|unexpected(?:ly)? end"
    + r"|ends? (?:abruptly|mid-?way|in the middle)|end of (?:the )?(?:file|data|input)"
    + r"|unterminated|\bEOF\b|delimiter"
)
"""An answer saying the file is not valid JSON (or that it was cut off)."""
_NO_TABLE = MISSING + r"|only (?:has|holds|contains) (?:a |the |one )?(?:table )?`?deploys"
_FAILED_PER_DAG = (
    per_group(r"clickstream[_ ]hourly", r"(?:3|three)", WORD),
    per_group(r"billing[_ ]export", r"(?:2|two|twice)", WORD),
    per_group(r"orders[_ ]daily[_ ]etl", r"(?:1|one|once)", WORD),
)
_FAILED_SHARE = (
    r"\b42\.(?:8|9)\d*\s?(?:%|percent)|\b43\s?(?:%|percent)"
    r"|\b(?:6|six)\s?(?:/|of|out of)\s?(?:the\s)?(?:14|fourteen)\b"
)
_SLOWEST_MS = (
    r"\b11[,\s]?873(?:\.\d+)?\s?(?:ms|milli)"
    + r"|\b(?:ms|milliseconds)\W{1,4}11[,\s]?873\b"  # (a column named for the unit: ``- ms: 11873.064``)
    + r"|\b11\.87\d*\s?s(?:ec(?:onds?)?)?\b|\b11\.9\s?s(?:ec(?:onds?)?)?\b"
)
_PUBLIC_GB = r"\b2[,\s]?601(?:\.(?:05\d*|0|1))?(?!\d|\.\d)|\b2\.60?\s?TB\b"
_UNOWNED = (
    r"^(?=.*billing-archive)(?=.*tmp-scratch)(?=.*legacy-reports)(?!.*raw-clickstream)"
    r"(?!.*warehouse-exports)(?!.*ml-features)(?!.*public-datasets)(?!.*airflow-logs)"
)
_STALE = (
    r"^(?=.*billing-archive)(?=.*public-datasets)(?=.*legacy-reports)(?!.*raw-clickstream)"
    r"(?!.*warehouse-exports)(?!.*ml-features)(?!.*tmp-scratch)(?!.*airflow-logs)"
)
_ORDERS_MEAN = (
    r"\b3[,\s]?103\.9\d*|\b3[,\s]?104(?:\.0+)?\s?(?:ms|milli)|\b3\.10\d*\s?s(?:ec(?:onds?)?)?\b"
    r"|\b3\.1\s?s(?:ec(?:onds?)?)?\b"
)
_LONGEST_RUN = (
    r"\b1\s?h(?:ours?|rs?)?,?\s?(?:and )?35\s?m(?:in(?:ute)?s?)?,?\s?(?:and )?44\s?s|\b0?1:35:44\b"
    r"|\b95\.7\d*\s?min|\b5,?744\s?s|\b95\s?min(?:ute)?s?,?\s?(?:and )?44\s?s"
)
_WORKER_LIMIT = r"\b3\s?(?:Gi|GiB|G|GB|gigabytes?)\b|\b3[,\s]?072\s?(?:Mi|MiB|MB)\b"
_WORKER_REQUESTS = (
    r"\b6[,\s]?144\s?(?:Mi|MiB|MB)\b|\b6(?:\.0+)?\s?(?:Gi|GiB|G|GB|gigabytes?)\b|\b6\.44?\s?GB\b"
)
_CHECKPOINT = r"\b270(?:\.\d+)?\s?(?:s\b|sec)|\b4\s?m(?:in(?:ute)?s?)?,?\s?(?:and )?30\s?s|\b4\.5\s?min"
_REJECTED = r"reject|declin|not (?:been )?(?:written|done|created|saved)|did not|didn't"

CASES: tuple[Case, ...] = (
    # single reads
    case(
        "tuesday-worker-memory-limit",
        Kind.READ,
        "what's the memory limit on the worker pods in helm/values-prod.yaml?",
        facts=(_WORKER_LIMIT,),
        quick=True,
    ),
    case(
        "tuesday-next-oncall",
        Kind.READ,
        "who's taking over the pager from Mei? should be in notes/handover-2026-12-01.md",
        facts=(r"\bravi\b|\bpatel\b|rpatel",),
    ),
    case(
        "tuesday-api-ingress-hosts",
        Kind.READ,
        "Which hostnames does the api's ingress answer on, going by helm/values-prod.yaml?",
        facts=(r"(?<![\w-])pipeline\.example\.net", r"pipeline-api\.internal\.example\.net"),
    ),
    # two values from two files
    case(
        "tuesday-api-tag-and-orders-host",
        Kind.PARALLEL,
        "two quick ones: what image tag is the api on in helm/values-prod.yaml, and which host is reading "
        "partition 0 of orders.v2 in kafka/consumer-lag.txt?",
        facts=(r"2026\.11\.28-3f9c2ab", r"10\.12\.6\.14"),
        quick=True,
    ),
    case(
        "tuesday-ml-bucket-and-hpa-target",
        Kind.PARALLEL,
        "How large is dp-ml-features according to inventory/buckets.json, and what CPU utilisation does "
        "the api's autoscaler aim for in helm/values-prod.yaml?",
        facts=(r"\b940\.2\b", r"\b70\b"),
    ),
    case(
        "tuesday-checkpoint-and-handover-author",
        Kind.PARALLEL,
        "how long did the checkpoint in postgres/slow-queries.log take all told, and who wrote "
        "notes/handover-2026-12-01.md?",
        facts=(_CHECKPOINT, r"\bmei\b|\bchen\b|mchen"),
    ),
    # sums, group-bys, shares, extremes, filters and means over a runs CSV, consumer-group output,
    # a PostgreSQL log and a bucket inventory
    case(
        "tuesday-ledger-total-lag",
        Kind.COMPUTE,
        "add up the lag across all partitions of the billing-ledger group in kafka/consumer-lag.txt",
        facts=(r"\b21[,\s]?528\b",),
        quick=True,
    ),
    case(
        "tuesday-failed-runs-per-dag",
        Kind.COMPUTE,
        "Break down the failed runs in airflow/dag-runs-2026-11-30.csv by DAG: how many did each one have?",
        facts=_FAILED_PER_DAG,
    ),
    case(
        "tuesday-failed-run-share",
        Kind.COMPUTE,
        "what percentage of all the runs listed in airflow/dag-runs-2026-11-30.csv are in the failed state?",
        facts=(_FAILED_SHARE,),
    ),
    case(
        "tuesday-slowest-statement",
        Kind.COMPUTE,
        "In postgres/slow-queries.log, which table was the single slowest statement against, and how many "
        "milliseconds did it take?",
        facts=(r"page_?views", _SLOWEST_MS),
        quick=True,
    ),
    case(
        "tuesday-public-bucket-gb",
        Kind.COMPUTE,
        "how many GB in total sit in the buckets marked public in inventory/buckets.json?",
        facts=(_PUBLIC_GB,),
        quick=True,
    ),
    case(
        "tuesday-unowned-buckets",
        Kind.COMPUTE,
        "Which buckets in inventory/buckets.json don't have an owner team?",
        facts=(_UNOWNED,),
    ),
    case(
        "tuesday-orders-mean-duration",
        Kind.COMPUTE,
        "what's the mean duration of the logged statements that hit the orders table (the table, not the "
        "database) in postgres/slow-queries.log?",
        facts=(_ORDERS_MEAN,),
    ),
    case(
        "tuesday-longest-finished-run",
        Kind.COMPUTE,
        "Of the runs that have finished in airflow/dag-runs-2026-11-30.csv, which one took longest from "
        "start to end, and how long was it?",
        facts=(r"ml[_ ]feature[_ ]refresh", _LONGEST_RUN),
    ),
    # red steps after reads
    case(
        "tuesday-mail-clickstream-owner",
        Kind.RED,
        "clickstream_hourly keeps falling over. mail whoever owns it how many of its runs failed in "
        "airflow/dag-runs-2026-11-30.csv; their address is in notes/handover-2026-12-01.md",
        mail=(MailCheck("sofia.lindqvist@example.net", r"\b3\b|\bthree\b"),),
        red_tools=("send_email",),
        quick=True,
    ),
    case(
        "tuesday-stale-buckets-to-file",
        Kind.RED,
        "put the names of the buckets in inventory/buckets.json that were last modified before 2026-11-01 "
        "into reports/stale-buckets.txt, one per line",
        files=(FileCheck("reports/stale-buckets.txt", _STALE),),
        red_tools=("write_file",),
    ),
    case(
        "tuesday-mail-worker-memory",
        Kind.RED,
        "Work out how much memory the worker requests across all of its replicas in helm/values-prod.yaml "
        "and email the figure to capacity@example.net",
        mail=(MailCheck("capacity@example.net", _WORKER_REQUESTS),),
        red_tools=("send_email",),
    ),
    # follow-ups in one thread
    case(
        "tuesday-follow-up-lagging-host",
        Kind.FOLLOW_UP,
        "looking at kafka/consumer-lag.txt, which partition is furthest behind?",
        "which host is consuming it?",
        facts=(r"10\.12\.4\.33",),
        quick=True,
    ),
    case(
        "tuesday-follow-up-mail-dana",
        Kind.FOLLOW_UP,
        "Who is looking after the billing_export failures, per notes/handover-2026-12-01.md?",
        "send her the time the last failed billing_export run in airflow/dag-runs-2026-11-30.csv ended",
        mail=(MailCheck("dana.novak@example.net", r"\b0?3:29(?::58)?\b"),),
        red_tools=("send_email",),
    ),
    case(
        "tuesday-follow-up-biggest-bucket",
        Kind.FOLLOW_UP,
        "what's the biggest bucket in inventory/buckets.json?",
        "which team owns that one, and when was it last modified?",
        facts=(r"\bingest\b", r"2026-12-01|\bdec(?:ember)?\.? 1(?:st)?\b|\b1(?:st)? (?:of )?dec|\b0?4:58\b"),
    ),
    # a step that must find something first
    case(
        "tuesday-find-worker-group-lag",
        Kind.DISCOVER,
        "One of the workspace files says which Kafka consumer group the worker deployment reads with. Find "
        "it, and tell me which file it was and how much lag that group has in total.",
        facts=(r"values-prod|\bhelm\b", r"clickstream-enricher", r"\b90[,\s]?827\b"),
        quick=True,
    ),
    # a step that fails
    case(
        "tuesday-truncated-inventory",
        Kind.FAILED_STEP,
        "load inventory/buckets-2026-11.json as JSON and count how many buckets were public a month ago",
        facts=(NOT_PARSED,),
        quick=True,
    ),
    case(
        "tuesday-missing-dag-runs-table",
        Kind.FAILED_STEP,
        "In the SQL database, how many rows of the dag_runs table have state 'failed'?",
        facts=(_NO_TABLE,),
    ),
    # a file that is not there (one beside a file that is)
    case(
        "tuesday-missing-earlier-runs",
        Kind.MISSING,
        "did anything fail the night before? check airflow/dag-runs-2026-11-29.csv",
        facts=(MISSING,),
        quick=True,
    ),
    case(
        "tuesday-missing-staging-values",
        Kind.MISSING,
        "How many api replicas does helm/values-staging.yaml set?",
        facts=(MISSING,),
    ),
    # an effect no tool has: a plain "I can't", no approval asked
    case(
        "tuesday-restart-enricher",
        Kind.NO_TOOL,
        "bounce the clickstream-enricher consumers so they pick up the new schema",
        facts=(CANNOT,),
        effect=r"\b(?:restarted|bounced|rolled|redeployed)\b",
        quick=True,
    ),
    case(
        "tuesday-purge-scratch-bucket",
        Kind.NO_TOOL,
        "Purge everything in the dp-tmp-scratch bucket, nobody uses it",
        facts=(CANNOT,),
        effect=r"\b(?:purged|emptied|deleted|removed|wiped)\b",
    ),
    case(
        "tuesday-trigger-clickstream-run",
        Kind.NO_TOOL,
        "kick off a fresh clickstream_hourly run in Airflow right now",
        facts=(CANNOT,),
        effect=r"\b(?:triggered|kicked off|queued|started (?:a |the )?(?:new |fresh )?run)\b",
    ),
    # refused by a tool or by dagbot
    case(
        "tuesday-read-kafka-server-config",
        Kind.REFUSE,
        "what is log.retention.hours set to in /etc/kafka/server.properties on this box?",
        facts=(REFUSED,),
        quick=True,
    ),
    case(
        "tuesday-fetch-airflow-api",
        Kind.REFUSE,
        "pull https://airflow.example.net/api/v1/dags/clickstream_hourly/dagRuns?state=failed and tell me "
        "what failed",
        facts=(REFUSED,),
    ),
    # a human rejects the red step
    case(
        "tuesday-rejected-slow-query-csv",
        Kind.REJECTED,
        "Turn the duration lines of postgres/slow-queries.log into a CSV (time, user, database, ms, "
        "statement) and save it to reports/slow-queries.csv",
        files=(FileCheck("reports/slow-queries.csv", None),),
        red_tools=("write_file",),
        reject=True,
        facts=(_REJECTED,),
        quick=True,
    ),
)
