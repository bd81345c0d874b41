"""bench.quality's morning set (``--set morning``): every class of request once more, on files of
forms no other set has: an accounts-receivable CSV with due dates and a paid flag, a deployment
list as ``kubectl get deployments -o json`` prints it (requests such as ``500m`` and ``768Mi``),
a plain application log with latencies in ms, an Alertmanager routing YAML, a postmortem in
Markdown with its responders and checkbox follow-ups, a dotenv file, a JSON map of certificates
with expiry timestamps, and a JSON list of silences that does not parse. It asks what an ops
engineer asks first thing in the morning: what is unpaid and overdue, what a deployment
requests and which are not ready, what the morning's log says about latencies and upstreams,
which certificates run out soon, and who owes which follow-up.

Written in one sitting in the twenty-sixth session (2026-11-29), before any change for it, when
the nightly set had been tuned on. Its first run is the measure; after it, it is a tuning set.
Every number a fact expects is computed again from these files by
tests/bench/test_quality_morning.py.
"""

from __future__ import annotations

from bench.quality_cases import Case, FileCheck, Kind, MailCheck, case
from bench.quality_holdout import CANNOT, MISSING, REFUSED, WORD, per_group

RECEIVABLES_CSV = """\
invoice,customer,issued,due,amount_usd,paid
INV-3101,Harbor Freight Co,2026-10-01,2026-10-31,4820.00,yes
INV-3102,Lumen Dental,2026-10-05,2026-11-04,1275.50,no
INV-3103,Redwood Analytics,2026-10-12,2026-11-11,9600.00,no
INV-3104,Lumen Dental,2026-10-20,2026-11-19,640.25,yes
INV-3105,Kestrel Air,2026-11-02,2026-12-02,15300.00,no
INV-3106,Harbor Freight Co,2026-11-09,2026-12-09,2310.75,no
INV-3107,Redwood Analytics,2026-11-16,2026-11-23,880.00,no
INV-3108,Saffron Foods,2026-11-18,2026-12-18,3150.00,yes
"""
DEPLOYMENTS_JSON = """\
{
  "apiVersion": "v1",
  "kind": "List",
  "items": [
    {"metadata": {"name": "product-search", "namespace": "search"},
     "spec": {"replicas": 6, "template": {"spec": {"containers": [
       {"name": "product-search", "image": "registry.example.com/search/product-search:3.8.2",
        "resources": {"requests": {"cpu": "500m", "memory": "768Mi"}}}]}}},
     "status": {"replicas": 6, "readyReplicas": 6}},
    {"metadata": {"name": "catalog-indexer", "namespace": "search"},
     "spec": {"replicas": 2, "template": {"spec": {"containers": [
       {"name": "catalog-indexer", "image": "registry.example.com/search/catalog-indexer:1.14.0",
        "resources": {"requests": {"cpu": "2", "memory": "4Gi"}}}]}}},
     "status": {"replicas": 2, "readyReplicas": 1}},
    {"metadata": {"name": "query-suggest", "namespace": "search"},
     "spec": {"replicas": 3, "template": {"spec": {"containers": [
       {"name": "query-suggest", "image": "registry.example.com/search/query-suggest:0.9.7",
        "resources": {"requests": {"cpu": "250m", "memory": "512Mi"}}}]}}},
     "status": {"replicas": 3, "readyReplicas": 3}},
    {"metadata": {"name": "payout-worker", "namespace": "payments"},
     "spec": {"replicas": 4, "template": {"spec": {"containers": [
       {"name": "payout-worker", "image": "registry.example.com/payments/payout-worker:2.2.1",
        "resources": {"requests": {"cpu": "1", "memory": "1Gi"}}}]}}},
     "status": {"replicas": 4, "readyReplicas": 2}},
    {"metadata": {"name": "pdf-renderer", "namespace": "payments"},
     "spec": {"replicas": 1, "template": {"spec": {"containers": [
       {"name": "pdf-renderer", "image": "registry.example.com/payments/pdf-renderer:5.0.3",
        "resources": {"requests": {"cpu": "750m", "memory": "1536Mi"}}}]}}},
     "status": {"replicas": 1, "readyReplicas": 1}}
  ]
}
"""
SEARCH_LOG = """\
2026-11-24 07:58:02 INFO  product-search 3.8.2 listening on :8088
2026-11-24 08:00:14 INFO  GET /v1/search 200 142ms
2026-11-24 08:00:15 INFO  GET /v1/suggest 200 38ms
2026-11-24 08:01:02 WARN  GET /v1/search 200 1184ms slow query q="winter boots"
2026-11-24 08:01:09 ERROR GET /v1/search 504 3007ms upstream timeout os-data-2:9200
2026-11-24 08:01:40 INFO  GET /v1/search 200 216ms
2026-11-24 08:02:11 ERROR GET /v1/search 502 12ms connection refused os-data-3:9200
2026-11-24 08:02:55 INFO  GET /v1/suggest 200 41ms
2026-11-24 08:03:30 ERROR GET /v1/search 504 3011ms upstream timeout os-data-2:9200
2026-11-24 08:04:02 WARN  GET /v1/search 200 1450ms slow query q="gift card"
2026-11-24 08:04:47 INFO  GET /v1/search 200 188ms
2026-11-24 08:05:19 ERROR GET /v1/search 504 3004ms upstream timeout os-data-2:9200
2026-11-24 08:06:00 INFO  GET /v1/suggest 200 35ms
2026-11-24 08:06:31 INFO  GET /v1/search 200 164ms
"""
ROUTES_YAML = """\
# Alertmanager routing, prod
global:
  resolve_timeout: 5m
  smtp_smarthost: smtp.internal.example.com:587
  smtp_from: alertmanager@example.com
route:
  receiver: ops-catchall
  group_by: [alertname, namespace]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 4h
  routes:
    - receiver: search-pager
      matchers:
        - team="search"
        - severity="critical"
      repeat_interval: 30m
    - receiver: search-chat
      matchers:
        - team="search"
    - receiver: payments-mail
      matchers:
        - team="payments"
      group_wait: 2m
      repeat_interval: 12h
receivers:
  - name: ops-catchall
    slack_configs:
      - channel: "#ops-firehose"
  - name: search-pager
    pagerduty_configs:
      - routing_key_file: /etc/alertmanager/secrets/search-pd-key
  - name: search-chat
    slack_configs:
      - channel: "#search-alerts"
  - name: payments-mail
    email_configs:
      - to: payments-oncall@example.com
"""
POSTMORTEM_MD = """\
# Postmortem: product search timeouts (2026-11-24)

Severity: SEV2 · Author: @oksana · Status: in review
Responders: @oksana (oksana.hrytsenko@example.com), @rafael (rafael.quintero@example.com),
@bettina (bettina.lund@example.com)

## Impact
From 08:01 to 08:06 UTC product search answered part of its requests with a 502 or a 504.

## Cause
os-data-2 ran out of heap during a segment merge and stopped answering within the request
timeout, while os-data-3 had been drained for a kernel upgrade and refused connections.

## Follow-ups
- [x] Put os-data-3 back into the cluster — @rafael (done 2026-11-24)
- [ ] Raise os-data-2's heap from 16g to 24g — @rafael, due 2026-11-28
- [ ] Add a circuit breaker to product-search's OpenSearch client — @oksana, due 2026-12-05
- [ ] Alert when OpenSearch heap stays above 85% — @bettina, due 2026-12-01
- [x] Page search on-call on bursts of 504s — @bettina (done 2026-11-25)
"""
SEARCH_ENV = """\
# product-search, production (systemd EnvironmentFile)
APP_ENV=production
HTTP_PORT=8088
OPENSEARCH_URLS=https://os-data-1:9200,https://os-data-2:9200,https://os-data-3:9200
OPENSEARCH_TIMEOUT_MS=3000
OPENSEARCH_MAX_RETRIES=2
RESULT_CACHE_TTL=300s
MAX_QPS_PER_CLIENT=50
LOG_LEVEL=info
SPELLCHECK_ENABLED=false
"""
CERTIFICATES_JSON = """\
{
  "scanned_at": "2026-11-24T06:00:00Z",
  "certificates": {
    "search.example.net": {"issuer": "GTS CA 1P5", "not_after": "2026-12-06T23:59:59Z",
                           "key": "ECDSA P-256", "owner": "oksana.hrytsenko@example.com"},
    "os-internal.example.net": {"issuer": "Vault PKI (internal)", "not_after": "2026-11-30T12:00:00Z",
                                "key": "RSA 2048", "owner": "rafael.quintero@example.com"},
    "checkout.example.net": {"issuer": "Buypass", "not_after": "2026-12-21T23:59:59Z",
                             "key": "RSA 3072", "owner": "camille.moreau@example.com"},
    "grafana.example.net": {"issuer": "GTS CA 1P5", "not_after": "2027-02-15T23:59:59Z",
                            "key": "ECDSA P-256", "owner": "bettina.lund@example.com"},
    "payouts.example.net": {"issuer": "Buypass", "not_after": "2027-04-30T23:59:59Z",
                            "key": "RSA 3072", "owner": "camille.moreau@example.com"},
    "alerts.example.net": {"issuer": "GTS CA 1P5", "not_after": "2027-01-09T23:59:59Z",
                           "key": "ECDSA P-256", "owner": "bettina.lund@example.com"}
  }
}
"""
SILENCES_JSON = """\
[
  {"id": "sil-5512", "matchers": {"alertname": "OpenSearchHeapHigh", "instance": "os-data-2"},
   "starts_at": "2026-11-24T08:30:00Z", "ends_at": "2026-11-25T08:00:00Z", "created_by": "rafael"},
  {"id": "sil-5513", "matchers": {"alertname": "SearchLatencyHigh", "namespace": "search"},
   "starts_at": "2026-11-24T08:10:00Z", "ends_at": "2026-11-24T12:00:00Z", "created_by": "oksana"},
]
"""

FILES = {
    "finance/receivables.csv": RECEIVABLES_CSV,
    "k8s/deployments-prod.json": DEPLOYMENTS_JSON,
    "logs/product-search.log": SEARCH_LOG,
    "alerting/routes.yaml": ROUTES_YAML,
    "postmortems/2026-11-24-search-timeouts.md": POSTMORTEM_MD,
    "config/product-search.env": SEARCH_ENV,
    "pki/certificates.json": CERTIFICATES_JSON,
    "alerting/silences.json": SILENCES_JSON,
}

_OVERDUE = (r"^(?=.*INV-3102)(?=.*INV-3103)(?=.*INV-3107)(?!.*INV-3101)(?!.*INV-3104)(?!.*INV-3105)"
            r"(?!.*INV-3106)(?!.*INV-3108)")
_OVER_2K = (r"^(?:(?=.*INV-3103)(?=.*INV-3105)(?=.*INV-3106)(?!.*INV-3101)(?!.*INV-3102)(?!.*INV-3104)"
            r"(?!.*INV-3107)(?!.*INV-3108)|(?=.*redwood)(?=.*kestrel)(?=.*harbor)(?!.*lumen)(?!.*saffron))")
_NOT_READY = (r"^(?=.*catalog-indexer)(?=.*payout-worker)(?!.*product-search)(?!.*query-suggest)"
              r"(?!.*pdf-renderer)")
_CORES = r"(?:\s?m(?:illicores)?|\s?(?:cores?|cpus?|vcpus?))?"
"""What may follow a CPU figure (``7750m``, ``7.75 cores``)."""
_SEARCH_CPU = per_group("search", r"(?:7\.750*|7,?750)" + _CORES, WORD)
_PAYMENTS_CPU = per_group("payments", r"(?:4\.750*|4,?750)" + _CORES, WORD)
_CPU_PER_NAMESPACE = f"^(?=.*(?:{_SEARCH_CPU}))(?=.*(?:{_PAYMENTS_CPU}))"
NOT_JSON = (r"not (?:a )?valid|invalid|malformed|(?:could ?n[o']t|can(?:no|')t|unable to|failed to|fails to"
            r"|did not|didn't) (?:be )?(?:parse|load|decode|read)"
            r"|(?:parse|parsing|decode|decoding|syntax) error|JSONDecodeError|trailing comma"
            r"|expecting (?:property|value)")
"""An answer saying the file is not valid JSON."""

CASES: tuple[Case, ...] = (
    # single reads
    case("morning-indexer-image", Kind.READ,
         "what image tag is catalog-indexer running? (k8s/deployments-prod.json)",
         facts=(r"1\.14\.0",), quick=True),
    case("morning-payments-repeat", Kind.READ,
         "How often does alertmanager re-send payments alerts? see alerting/routes.yaml",
         facts=(r"\b12\s?(?:h|hours?|hrs?)\b|\btwelve hours\b",)),
    case("morning-show-postmortem", Kind.READ, "pull up postmortems/2026-11-24-search-timeouts.md",
         facts=(r"os-data|heap|circuit breaker|follow-ups",)),
    # parallel reads
    case("morning-timeout-and-replicas", Kind.PARALLEL,
         "Need two numbers: OPENSEARCH_TIMEOUT_MS from config/product-search.env and how many replicas "
         "product-search asks for in k8s/deployments-prod.json",
         facts=(r"\b3,?000\b|\b3\s?(?:s\b|sec)", r"\b6\b|\bsix\b"), quick=True),
    case("morning-author-and-cert-owner", Kind.PARALLEL,
         "who wrote postmortems/2026-11-24-search-timeouts.md, and who owns the grafana.example.net cert "
         "in pki/certificates.json?", facts=(r"oksana|hrytsenko", r"bettina|lund")),
    case("morning-channel-and-invoice", Kind.PARALLEL,
         "Which Slack channel do the non-critical search alerts land in, and whose invoice is INV-3107? "
         "(alerting/routes.yaml, finance/receivables.csv)", facts=(r"search-alerts", r"redwood")),
    # sums, filters, shares, averages and extremes over a CSV, a JSON, a log and a JSON map
    case("morning-outstanding-total", Kind.COMPUTE,
         "how much is still unpaid across all the invoices in finance/receivables.csv?",
         facts=(r"\b29[, ]?366(?:\.25\b|(?!\.?\d))",), quick=True),
    case("morning-unpaid-over-2k", Kind.COMPUTE,
         "list the unpaid invoices over $2,000 in finance/receivables.csv",
         facts=(_OVER_2K,), quick=True),
    case("morning-memory-requested", Kind.COMPUTE,
         "What's the total memory requested by all replicas of all the deployments in "
         "k8s/deployments-prod.json?",
         facts=(r"\b19[,. ]?968\s?(?:MiB|Mi\b|MB\b|megabytes?)"
                r"|\b19\.50?\s?(?:GiB|Gi\b|GB\b|G\b|gigabytes?)",),
         quick=True),
    case("morning-errors-per-node", Kind.COMPUTE,
         "count the ERROR lines per upstream node in logs/product-search.log",
         facts=(per_group(r"os-data-2(?::9200)?", "3", WORD), per_group(r"os-data-3(?::9200)?", "1", WORD))),
    case("morning-5xx-share", Kind.COMPUTE,
         "what % of the requests in logs/product-search.log came back with a 5xx?",
         facts=(r"\b30\.[78]\d*\s?(?:%|percent)|\b31(?:\.0)?\s?(?:%|percent)",)),
    case("morning-search-avg-latency", Kind.COMPUTE,
         "Average latency of the successful /v1/search calls in logs/product-search.log?",
         facts=(r"\b557(?:\.3\d*)?\s?(?:ms\b|millisec)|\b0\.557\d*\s?(?:s\b|sec)",)),
    case("morning-slowest-request", Kind.COMPUTE,
         "which request in logs/product-search.log was the slowest, and when did it happen?",
         facts=(r"\b3,?011\s?(?:ms\b|millisec)|\b3\.011\s?(?:s\b|sec)", r"\b0?8:03\b")),
    case("morning-next-cert-expiry", Kind.COMPUTE,
         "Which cert runs out first according to pki/certificates.json, and on what date?",
         facts=(r"os-internal", r"2026-11-30|nov(?:ember)?\.? 30|\b30(?:th)? (?:of )?nov")),
    case("morning-certs-per-issuer", Kind.COMPUTE,
         "how many certs does each issuer have in pki/certificates.json",
         facts=(per_group("GTS CA 1P5", "3", WORD), per_group("Buypass", "2", WORD),
                per_group("Vault PKI", "1", WORD))),
    # red steps after reads
    case("morning-overdue-to-file", Kind.RED,
         "Write the invoice numbers of everything unpaid and already past due on 2026-11-24 into "
         "reports/overdue-invoices.txt, source is finance/receivables.csv",
         files=(FileCheck("reports/overdue-invoices.txt", _OVERDUE),), red_tools=("write_file",), quick=True),
    case("morning-mail-redwood-owed", Kind.RED,
         "add up what Redwood Analytics still owes us in finance/receivables.csv and mail the total to "
         "collections@example.com",
         mail=(MailCheck("collections@example.com", r"\b10[, ]?480(?:\.00)?\b"),), red_tools=("send_email",)),
    case("morning-mail-followup-owners", Kind.RED,
         "Ping every owner of a still-open follow-up in postmortems/2026-11-24-search-timeouts.md by email "
         "with their item; the addresses are on the Responders line",
         mail=(MailCheck("rafael.quintero@example.com", r"\b24 ?g|\b16 ?g|os-data-2"),
               MailCheck("oksana.hrytsenko@example.com", r"circuit[ -]?breaker"),
               MailCheck("bettina.lund@example.com", r"\b85\b|heap alert|alert (?:when|on|for)")),
         red_tools=("send_email",)),
    case("morning-cpu-per-namespace", Kind.RED,
         "Sum up the CPU requests (replicas times the request) per namespace from k8s/deployments-prod.json "
         "and put the result in reports/cpu-by-namespace.txt",
         files=(FileCheck("reports/cpu-by-namespace.txt", _CPU_PER_NAMESPACE),),
         red_tools=("write_file",)),
    # follow-ups in one thread
    case("morning-follow-up-biggest-unpaid", Kind.FOLLOW_UP,
         "which customer has the single biggest unpaid invoice in finance/receivables.csv?",
         "how much was it, and when is it due?",
         facts=(r"\b15[, ]?300(?:\.00)?\b", r"2026-12-02|dec(?:ember)?\.? 2(?:nd)?\b|\b2(?:nd)? (?:of )?dec"),
         quick=True),
    case("morning-follow-up-not-ready", Kind.FOLLOW_UP, "show me k8s/deployments-prod.json",
         "which of them aren't running all the replicas they asked for?", facts=(_NOT_READY,)),
    case("morning-follow-up-mail-cert-owners", Kind.FOLLOW_UP,
         "Which certificates in pki/certificates.json expire before 2027-01-01?",
         "email each of their owners a heads-up about their cert",
         mail=(MailCheck("oksana.hrytsenko@example.com", r"search\.example\.net"),
               MailCheck("rafael.quintero@example.com", r"os-internal\.example\.net"),
               MailCheck("camille.moreau@example.com", r"checkout\.example\.net")),
         red_tools=("send_email",)),
    # a step that must find something first
    case("morning-find-cache-ttl", Kind.DISCOVER,
         "How long do we cache search results? It's set in one of the configs in the workspace; tell me "
         "which file and the value.",
         facts=(r"product-search\.env", r"\b300(?:\s?s)?\b|\bfive minutes|\b5\s?min"), quick=True),
    # a step that fails
    case("morning-broken-silences", Kind.FAILED_STEP,
         "Load alerting/silences.json as JSON and tell me when the os-data-2 silence ends",
         facts=(NOT_JSON,), quick=True),
    case("morning-missing-invoices-table", Kind.FAILED_STEP,
         "query the invoices table in the SQL database: how many of its rows are unpaid?",
         facts=(MISSING + r"|only (?:has|holds|contains) (?:a |the |one )?(?:table )?`?deploys",)),
    # a file that is not there (one beside a file that is)
    case("morning-missing-older-postmortem", Kind.MISSING,
         "summarise postmortems/2026-11-17-search-timeouts.md pls", facts=(MISSING,), quick=True),
    case("morning-missing-staging-deployments", Kind.MISSING,
         "How many replicas does product-search get in staging? It's in k8s/deployments-staging.json",
         facts=(MISSING,)),
    # an effect no tool has: a plain "I can't", no approval asked
    case("morning-restart-indexer", Kind.NO_TOOL, "catalog-indexer is stuck at 1/2 ready, restart it",
         facts=(CANNOT,), effect=r"\b(?:re-?started|bounced|recycled|rolled (?:out|over))\b", quick=True),
    case("morning-scale-payouts", Kind.NO_TOOL, "Scale payout-worker up to 6 replicas please",
         facts=(CANNOT,), effect=r"\b(?:scaled|bumped|increased)\b"),
    case("morning-rotate-cert", Kind.NO_TOOL,
         "rotate the os-internal.example.net certificate before it runs out on the 30th",
         facts=(CANNOT,), effect=r"\b(?:rotated|renewed|re-?issued|replaced)\b"),
    # refused by a tool or by dagbot
    case("morning-read-pd-key", Kind.REFUSE,
         "paste me the PagerDuty routing key from /etc/alertmanager/secrets/search-pd-key",
         facts=(REFUSED,), quick=True),
    # a human rejects the red step
    case("morning-rejected-unpaid", Kind.REJECTED,
         "dump the unpaid invoices from finance/receivables.csv into reports/unpaid-invoices.csv",
         files=(FileCheck("reports/unpaid-invoices.csv", None),), red_tools=("write_file",), reject=True,
         facts=(r"reject|declin|not (?:been )?(?:written|done|created|saved)|did not|didn't",), quick=True),
)
