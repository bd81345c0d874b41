"""bench.quality's data set (``--set data``): questions over data files (sums, group-bys, shares,
filters, maxima, and such a value carried into a follow-up, a file or a mail) on files of their
own (a team's cloud costs, TLS certificates, a cron log, on-call pages, disks).

Written in the thirteenth session, after the development set had been tuned on for two sessions
(0.9 there, 0.62 on the holdout set, whose failures are mostly data questions): a fresh set to
choose fixes for data questions on, without reading the holdout set's requests. The holdout set
stays the measure nobody tunes on. Every number a fact expects is computed again from these files
by tests/bench/test_quality_data.py. A fact that lists what must be named also says, with a
negative lookahead, what must not be (a filter that lets everything through is not an answer).
"""

from __future__ import annotations

from bench.quality_cases import Case, FileCheck, Kind, MailCheck, case

COSTS_CSV = """\
team,service,month,cost_usd
payments,ledger,2026-09,1240.50
payments,ledger,2026-10,1310.25
payments,fraud-check,2026-10,480.00
search,indexer,2026-09,2210.00
search,indexer,2026-10,2345.75
search,query-api,2026-10,890.40
identity,auth,2026-09,615.00
identity,auth,2026-10,640.20
growth,experiments,2026-10,305.10
"""
CERTS_JSON = """\
{
  "generated": "2026-11-25",
  "certificates": [
    {"domain": "api.example.com", "issuer": "Let's Encrypt", "expires": "2026-12-04", "auto_renew": true},
    {"domain": "shop.example.com", "issuer": "DigiCert", "expires": "2027-03-18", "auto_renew": false},
    {"domain": "status.example.com", "issuer": "Let's Encrypt", "expires": "2026-12-19", "auto_renew": false},
    {"domain": "mail.example.com", "issuer": "Sectigo", "expires": "2027-01-09", "auto_renew": true},
    {"domain": "docs.example.com", "issuer": "Let's Encrypt", "expires": "2027-02-14", "auto_renew": true},
    {"domain": "vpn.example.com", "issuer": "DigiCert", "expires": "2026-12-30", "auto_renew": false}
  ]
}
"""
CRON_LOG = """\
2026-11-20T02:00:03Z job=db-backup status=ok duration=312s
2026-11-20T03:00:01Z job=log-rotate status=ok duration=14s
2026-11-20T04:00:02Z job=cert-check status=failed duration=3s
2026-11-21T02:00:02Z job=db-backup status=ok duration=298s
2026-11-21T03:00:01Z job=log-rotate status=ok duration=12s
2026-11-21T04:00:04Z job=cert-check status=failed duration=2s
2026-11-22T02:00:01Z job=db-backup status=failed duration=605s
2026-11-22T03:00:02Z job=log-rotate status=ok duration=15s
2026-11-22T04:00:03Z job=cert-check status=ok duration=4s
2026-11-23T02:00:02Z job=db-backup status=ok duration=331s
"""
PAGES_CSV = """\
date,service,severity,acknowledged_min
2026-11-02,checkout,sev2,7
2026-11-04,search,sev1,3
2026-11-07,checkout,sev1,9
2026-11-09,ledger,sev3,25
2026-11-12,checkout,sev2,4
2026-11-15,search,sev2,11
2026-11-18,ledger,sev1,6
2026-11-21,checkout,sev3,30
"""
DISKS_JSON = """\
[
  {"host": "db-1", "used_gb": 420, "size_gb": 500},
  {"host": "db-2", "used_gb": 310, "size_gb": 500},
  {"host": "cache-1", "used_gb": 92, "size_gb": 100},
  {"host": "web-1", "used_gb": 35, "size_gb": 80},
  {"host": "web-2", "used_gb": 70, "size_gb": 80}
]
"""

FILES = {
    "finance/costs.csv": COSTS_CSV,
    "tls/certs.json": CERTS_JSON,
    "logs/cron.log": CRON_LOG,
    "oncall/pages.csv": PAGES_CSV,
    "infra/disks.json": DISKS_JSON,
}

_DECEMBER = (r"^(?=.*api\.example\.com)(?=.*status\.example\.com)(?=.*vpn\.example\.com)"
             r"(?!.*(?:shop|mail|docs)\.example\.com)")



def _count(name: str, count: int) -> str:
    """``name`` then its count, a word or two between (``checkout: 4``, ``checkout service had 4``)."""
    return rf"\b{name}\W{{1,4}}(?:(?:service|pages?|had|has|got|with)\W{{1,4}}){{0,2}}{count}\b"


CASES: tuple[Case, ...] = (
    # a filter, then a sum, an average, a count or a maximum
    case("data-payments-cost", Kind.COMPUTE,
         "What is the total cost_usd of the payments team in finance/costs.csv?",
         facts=(r"3,?030\.75",), quick=True),
    case("data-sev1-ack", Kind.COMPUTE,
         "What is the average acknowledged_min of the sev1 pages in oncall/pages.csv?",
         facts=(r"(?<![\d.])6(?:\.0+)?(?![\d.]*\d)",)),
    case("data-letsencrypt-count", Kind.COMPUTE,
         "How many certificates in tls/certs.json were issued by Let's Encrypt?",
         facts=(r"\b3\b|\bthree\b",)),
    case("data-backup-duration", Kind.COMPUTE,
         "How many seconds did the db-backup runs in logs/cron.log take in total?", facts=(r"1,?546\b",),
         quick=True),
    case("data-longest-backup", Kind.COMPUTE, "How long was the longest db-backup run in logs/cron.log?",
         facts=(r"\b605\b",)),
    # a group-by, then its largest group or every group
    case("data-top-spender", Kind.COMPUTE, "Which team spent the most in finance/costs.csv?",
         facts=(r"\bsearch\b",), quick=True),
    case("data-cost-per-team", Kind.COMPUTE, "Give me the total cost_usd per team from finance/costs.csv",
         facts=(r"3,?030\.75", r"5,?446\.15", r"1,?255\.20?\b", r"305\.10?\b")),
    case("data-pages-per-service", Kind.COMPUTE, "How many pages did each service get, according to "
         "oncall/pages.csv?", facts=(_count("checkout", 4), _count("search", 2), _count("ledger", 2))),
    case("data-flakiest-job", Kind.COMPUTE, "Which job in logs/cron.log failed most often?",
         facts=(r"cert-check",), quick=True),
    # shares and filters over computed values
    case("data-cron-failure-rate", Kind.COMPUTE, "What share of the runs in logs/cron.log failed?",
         facts=(r"\b30(?:\.0+)?\s*%|\b30(?:\.0+)? percent|\b0\.30?\b|\b3 (?:of|out of) (?:the )?10\b",)),
    case("data-full-disks", Kind.COMPUTE, "Which hosts in infra/disks.json are more than 80% full?",
         facts=(r"\bdb-1\b", r"cache-1", r"web-2", r"^(?!.*\bdb-2\b)(?!.*\bweb-1\b)")),
    case("data-manual-certs", Kind.COMPUTE,
         "Which certificates in tls/certs.json do not renew automatically?",
         facts=(r"shop\.example\.com", r"status\.example\.com", r"vpn\.example\.com",
                r"^(?!.*(?:api|mail|docs)\.example\.com)")),
    case("data-free-space", Kind.COMPUTE,
         "How much free space do the hosts in infra/disks.json have in total?",
         facts=(r"\b333\b",)),
    # such a value carried into a file, a mail or a follow-up
    case("data-renew-to-file", Kind.RED,
         "Write the domains of the certificates in tls/certs.json that expire in December 2026 to "
         "reports/renew.txt",
         files=(FileCheck("reports/renew.txt", _DECEMBER),), red_tools=("write_file",), quick=True),
    case("data-follow-up-busiest", Kind.FOLLOW_UP, "Which service had the most pages in oncall/pages.csv?",
         "Email that service's name to oncall@example.com",
         mail=(MailCheck("oncall@example.com", r"checkout"),), red_tools=("send_email",), quick=True),
    case("data-follow-up-team-share", Kind.FOLLOW_UP, "What is the total cost_usd in finance/costs.csv?",
         "And how much of that is the search team's?", facts=(r"5,?446\.15",)),
)
