"""bench.quality's tuesday set (``--set tuesday``): files and requests of its own (none of the other
sets'), and facts that hold for its files: every number and name a check expects is computed here
again from the files (the Airflow runs CSV, the consumer groups' aligned columns, the PostgreSQL
log's ``user@database`` lines, the Helm values' YAML, the bucket inventory's JSON and the
handover's open issues, each read by its own parser), and a wrong value, or a filter that let
too much through, fails the check."""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from bench import quality_tuesday as tuesday
from bench.quality import SETS
from bench.quality_cases import Kind
from bench.quality_checks import claims
from tests.bench.quality_sets import (
    assert_answers_meet_checks,
    assert_its_own,
    assert_paths_in_workspace,
    assert_well_formed,
    assert_wrong_answers_fail,
)

TUESDAY = {c.name: c for c in tuesday.CASES}
_LAG_HEADER = [
    "GROUP",
    "TOPIC",
    "PARTITION",
    "CURRENT-OFFSET",
    "LOG-END-OFFSET",
    "LAG",
    "CONSUMER-ID",
    "HOST",
    "CLIENT-ID",
]
_LAG_ROW = re.compile(r"^(\S+) +(\S+) +(\d+) +(\d+|-) +(\d+|-) +(\d+|-) +(\S+) +(\S+) +(\S+)$")
_PG = re.compile(
    r"^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d\.\d{3}) UTC \[(\d+)\] (\w*)@(\w*) (LOG|ERROR|STATEMENT):  (.*)$"
)
_DURATION = re.compile(r"^duration: (\d+\.\d+) ms  statement: (.*)$")
_TABLE = re.compile(r"\b(?:FROM|UPDATE|INTO)\s+(\w+)", re.I)
_ISSUE = re.compile(r"^- \*\*(.+?)\*\* (.+) Owner: @(\w+) \(([\w.]+@[\w.]+)\)$")
_PERSON = re.compile(r"^- \*\*(From|To|Secondary):\*\* ([\w ]+) \(@(\w+), ([\w.]+@[\w.]+)\)")
_QUANTITY = re.compile(r"^(\d+)(Mi|Gi)$")


# the Airflow runs


def runs() -> list[dict[str, Any]]:
    """The runs, their start and end as datetimes (None for a run with no end yet)."""
    found = []
    for row in csv.DictReader(io.StringIO(tuesday.FILES["airflow/dag-runs-2026-11-30.csv"])):
        found.append(
            {
                **row,
                "start": datetime.fromisoformat(row["start_date"]),
                "end": datetime.fromisoformat(row["end_date"]) if row["end_date"] else None,
            }
        )
    return found


def failed() -> list[dict[str, Any]]:
    return [r for r in runs() if r["state"] == "failed"]


def hms(delta: timedelta) -> str:
    minutes, seconds = divmod(int(delta.total_seconds()), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m{seconds:02d}s"


# the consumer groups


def partitions() -> list[dict[str, Any]]:
    """Each partition's row: group, topic, partition, offsets and lag as ints, consumer, host, client."""
    found = []
    headers = 0
    for line in tuesday.FILES["kafka/consumer-lag.txt"].splitlines():
        if not line.strip():
            continue
        if line.split() == _LAG_HEADER:
            headers += 1
            continue
        m = _LAG_ROW.fullmatch(line)
        assert m, line
        found.append(
            {
                "group": m[1],
                "topic": m[2],
                "partition": int(m[3]),
                "current": int(m[4]),
                "end": int(m[5]),
                "lag": int(m[6]),
                "consumer": m[7],
                "host": m[8].lstrip("/"),
                "client": m[9],
            }
        )
    assert headers == len({p["group"] for p in found})
    return found


def group_lag(group: str) -> int:
    return sum(p["lag"] for p in partitions() if p["group"] == group)


# the PostgreSQL log


def log_lines() -> list[dict[str, str]]:
    found = []
    for line in tuesday.FILES["postgres/slow-queries.log"].splitlines():
        m = _PG.fullmatch(line)
        assert m, line
        found.append(
            {
                "date": m[1],
                "time": m[2],
                "pid": m[3],
                "user": m[4],
                "db": m[5],
                "level": m[6],
                "message": m[7],
            }
        )
    return found


def statements() -> list[dict[str, Any]]:
    """The lines with a duration: their time, user, database, ms, statement and the table it names."""
    found = []
    for line in log_lines():
        m = _DURATION.fullmatch(line["message"])
        if line["level"] == "LOG" and m:
            tables = _TABLE.findall(m[2])
            assert len(tables) == 1, m[2]
            found.append({**line, "ms": Decimal(m[1]), "statement": m[2], "table": tables[0]})
    return found


def mean_ms(rows: list[dict[str, Any]]) -> Decimal:
    return sum((r["ms"] for r in rows), Decimal(0)) / len(rows)


# the Helm values


def values() -> dict[str, Any]:
    loaded = yaml.safe_load(tuesday.FILES["helm/values-prod.yaml"])
    assert isinstance(loaded, dict)
    return loaded


def mebibytes(quantity: str) -> int:
    m = _QUANTITY.fullmatch(quantity)
    assert m, quantity
    return int(m[1]) * (1024 if m[2] == "Gi" else 1)


def millicores(quantity: str) -> int:
    return int(quantity[:-1]) if quantity.endswith("m") else int(quantity) * 1000


# the bucket inventory


def buckets() -> list[dict[str, Any]]:
    return list(json.loads(tuesday.FILES["inventory/buckets.json"])["buckets"])


def modified(bucket: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(bucket["last_modified"])


# the handover


def issues() -> list[dict[str, str]]:
    found = []
    for line in tuesday.FILES["notes/handover-2026-12-01.md"].splitlines():
        m = _ISSUE.fullmatch(line)
        if m:
            found.append({"what": m[1], "note": m[2], "login": m[3], "email": m[4]})
    return found


def people() -> dict[str, dict[str, str]]:
    """From, To and Secondary: each one's name, login and address."""
    found = {}
    for line in tuesday.FILES["notes/handover-2026-12-01.md"].splitlines():
        m = _PERSON.match(line)
        if m:
            found[m[1]] = {"name": m[2], "login": m[3], "email": m[4]}
    return found


def test_the_tuesday_set_has_files_and_requests_of_its_own() -> None:
    assert SETS["tuesday"].cases is tuesday.CASES and SETS["tuesday"].files is tuesday.FILES
    assert len(TUESDAY) == len(tuesday.CASES) == 31
    assert all(name.startswith("tuesday-") for name in TUESDAY)
    assert 12 <= sum(c.quick for c in tuesday.CASES) <= 14
    assert_well_formed(tuesday.CASES)
    assert_its_own("tuesday")
    # every class, several of most
    assert Counter(c.kind for c in tuesday.CASES) == {
        Kind.READ: 3,
        Kind.PARALLEL: 3,
        Kind.COMPUTE: 8,
        Kind.RED: 3,
        Kind.FOLLOW_UP: 3,
        Kind.DISCOVER: 1,
        Kind.FAILED_STEP: 2,
        Kind.MISSING: 2,
        Kind.NO_TOOL: 3,
        Kind.REFUSE: 2,
        Kind.REJECTED: 1,
    }
    assert set(Kind) == {c.kind for c in tuesday.CASES}


def test_each_path_it_names_is_in_its_workspace_unless_it_must_be_missing(tmp_path: Path) -> None:
    assert_paths_in_workspace(tmp_path, "tuesday")
    # the missing runs file and staging values sit beside ones that are there; the worker's
    # consumer group, which discovery must find, is named in one file
    assert "airflow/dag-runs-2026-11-30.csv" in tuesday.FILES and "helm/values-prod.yaml" in tuesday.FILES
    assert [path for path, text in tuesday.FILES.items() if "CONSUMER_GROUP" in text] == [
        "helm/values-prod.yaml"
    ]
    # the addresses the mail cases need are in the handover only
    for address in ("sofia.lindqvist@example.net", "dana.novak@example.net"):
        assert [path for path, text in tuesday.FILES.items() if address in text] == [
            "notes/handover-2026-12-01.md"
        ]
        assert not any(address in turn for c in tuesday.CASES for turn in c.turns)


def test_its_truncated_json_does_not_parse_and_its_other_files_do() -> None:
    text = tuesday.FILES["inventory/buckets-2026-11.json"]
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)
    # only the cut breaks it: closed after its last whole bucket, the file parses
    whole = text[: text.rindex("},") + 1] + "\n  ]\n}\n"
    assert [b["name"] for b in json.loads(whole)["buckets"]] == ["dp-raw-clickstream", "dp-warehouse-exports"]
    assert json.loads(whole)["generated_at"] == "2026-11-01T05:00:00Z"
    # an answer naming the cut passes, one counting public buckets as if it parsed fails
    for said in (
        "inventory/buckets-2026-11.json is not valid JSON: it is truncated in the middle of a bucket.",
        "The file was cut off mid-way, so I couldn't parse it.",
        "json.decoder.JSONDecodeError: Expecting ',' delimiter: line 9 column 43",
    ):
        assert re.search(tuesday.NOT_PARSED, said, re.I), said
    assert not re.search(tuesday.NOT_PARSED, "1 bucket was public a month ago: dp-warehouse-exports.", re.I)
    assert len(runs()) == len(tuesday.FILES["airflow/dag-runs-2026-11-30.csv"].splitlines()) - 1 == 14
    assert len(partitions()) == 11 and len({p["group"] for p in partitions()}) == 3
    assert len(log_lines()) == 13 and len(statements()) == 9
    assert set(values()) == {"global", "api", "worker"}
    assert len(buckets()) == 8 and len(issues()) == 4 and set(people()) == {"From", "To", "Secondary"}


def test_the_files_agree_with_each_other() -> None:
    # the runs' owners are the handover's logins; each DAG with a failure has an open issue
    # whose owner is the DAG's
    logins = {p["login"] for p in people().values()} | {i["login"] for i in issues()}
    assert {r["owner"] for r in runs()} <= logins
    owners = {r["dag_id"]: r["owner"] for r in runs()}
    assert len(owners) == len({(r["dag_id"], r["owner"]) for r in runs()})
    for dag in {r["dag_id"] for r in failed()}:
        assert any(i["what"] == dag and i["login"] == owners[dag] for i in issues()), dag
    # the logins and addresses are the people's
    for person in people().values():
        first, last = person["name"].lower().split()
        assert person["login"] == first[0] + last and person["email"] == f"{first}.{last}@example.net"
    for issue in issues():
        first, last = issue["email"].split("@")[0].split(".")
        assert issue["login"] == first[0] + last
    # what the handover says happened is what the files say: clickstream failing from its 02:00
    # start, billing_export failing twice and passing at 05:40, the backfill at 06:15
    clickstream = [r for r in runs() if r["dag_id"] == "clickstream_hourly"]
    assert min(r["start"] for r in clickstream if r["state"] == "failed").strftime("%H:%M") == "02:00"
    billing = [r for r in runs() if r["dag_id"] == "billing_export"]
    assert [r["state"] for r in billing] == ["failed", "failed", "success"]
    assert billing[-1]["start"].strftime("%H:%M") == "05:40"
    (backfill,) = [r for r in failed() if r["dag_id"] == "orders_daily_etl"]
    assert backfill["run_id"].startswith("manual__") and backfill["start"].strftime("%H:%M") == "06:15"
    vacuum = next(r for r in runs() if r["dag_id"] == "warehouse_vacuum")
    assert vacuum["end"] and vacuum["end"].strftime("%H:%M") == "04:22"
    purge = next(s for s in statements() if s["statement"].startswith("DELETE FROM page_views"))
    assert vacuum["start"] < datetime.fromisoformat(f"{purge['date']}T{purge['time']}+00:00") < vacuum["end"]
    # the api's tag is the handover's; the worker's consumer group is the kafka output's, one
    # consumer a replica
    assert f"api image to {values()['api']['image']['tag']}" in tuesday.FILES["notes/handover-2026-12-01.md"]
    group = values()["worker"]["env"]["CONSUMER_GROUP"]
    assert (
        len({p["client"] for p in partitions() if p["group"] == group}) == values()["worker"]["replicaCount"]
    )
    assert values()["worker"]["hpa"]["enabled"] is False
    # one billing-ledger partition has no consumer; the others all have one
    assert [(p["group"], p["partition"]) for p in partitions() if p["consumer"] == "-"] == [
        ("billing-ledger", 3)
    ]
    assert all(p["host"] == p["client"] == "-" for p in partitions() if p["consumer"] == "-")
    # each lag is its offsets' difference, and every consumer id is its client id and a UUID
    assert all(p["end"] - p["current"] == p["lag"] for p in partitions())
    assert all(
        re.fullmatch(re.escape(p["client"]) + r"-[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}", p["consumer"])
        for p in partitions()
        if p["consumer"] != "-"
    )
    # the checkpoint's total is its start to its end; the ml features bucket was written as
    # ml_feature_refresh ended
    starting, complete = (line for line in log_lines() if line["message"].startswith("checkpoint"))
    took = datetime.strptime(complete["time"], "%H:%M:%S.%f") - datetime.strptime(
        starting["time"], "%H:%M:%S.%f"
    )
    total = re.search(r"total=([\d.]+) s", complete["message"])
    assert total and Decimal(total[1]) == Decimal(str(took.total_seconds()))
    refresh = next(r for r in runs() if r["dag_id"] == "ml_feature_refresh" and r["end"])
    ml = next(b for b in buckets() if b["name"] == "dp-ml-features")
    assert timedelta(0) < refresh["end"] - modified(ml) < timedelta(minutes=1)
    # the inventory was taken at 05:00 on the day; only airflow-logs changed after it (it is
    # still written)
    taken = datetime.fromisoformat(json.loads(tuesday.FILES["inventory/buckets.json"])["generated_at"])
    assert [b["name"] for b in buckets() if modified(b) > taken] == ["dp-airflow-logs"]


def computed_answers() -> dict[str, str]:
    """Case → an answer (or file or mail text) written from values computed from the files."""
    api, worker = values()["api"], values()["worker"]
    failed_per_dag = Counter(r["dag_id"] for r in failed())
    slowest = max(statements(), key=lambda s: s["ms"])
    public = [b for b in buckets() if b["public"]]
    public_gb = sum((Decimal(str(b["size_gb"])) for b in public), Decimal(0))
    unowned = [b["name"] for b in buckets() if b["owner_team"] is None]
    orders = [s for s in statements() if s["table"] == "orders"]
    finished = [r for r in runs() if r["end"]]
    longest = max(finished, key=lambda r: r["end"] - r["start"])
    (clickstream_owner,) = {r["owner"] for r in runs() if r["dag_id"] == "clickstream_hourly"}
    stale = [b["name"] for b in buckets() if modified(b).date() < date(2026, 11, 1)]
    requested = worker["replicaCount"] * mebibytes(worker["resources"]["requests"]["memory"])
    furthest = max(partitions(), key=lambda p: p["lag"])
    (billing_issue,) = [i for i in issues() if i["what"] == "billing_export"]
    last_billing_failure = max(
        (r for r in failed() if r["dag_id"] == "billing_export"), key=lambda r: r["start"]
    )
    biggest = max(buckets(), key=lambda b: b["size_gb"])
    orders_partition_0 = next(p for p in partitions() if p["topic"] == "orders.v2" and p["partition"] == 0)
    ml = next(b for b in buckets() if b["name"] == "dp-ml-features")
    complete = next(line for line in log_lines() if line["message"].startswith("checkpoint complete"))
    total = re.search(r"total=([\d.]+ s)", complete["message"])
    assert total
    group = worker["env"]["CONSUMER_GROUP"]
    return {
        "tuesday-worker-memory-limit": worker["resources"]["limits"]["memory"],
        "tuesday-next-oncall": f"{people()['To']['name']} (@{people()['To']['login']})",
        "tuesday-api-ingress-hosts": ", ".join(api["ingress"]["hosts"]),
        "tuesday-api-tag-and-orders-host": f"{api['image']['tag']}; {orders_partition_0['host']}",
        "tuesday-ml-bucket-and-hpa-target": f"{ml['size_gb']} GB; {api['hpa']['targetCPUUtilizationPercentage']}%",
        "tuesday-checkpoint-and-handover-author": f"{total[1]}; {people()['From']['name']}",
        "tuesday-ledger-total-lag": str(group_lag("billing-ledger")),
        "tuesday-failed-runs-per-dag": ", ".join(f"{dag}: {n}" for dag, n in failed_per_dag.items()),
        "tuesday-failed-run-share": f"{100 * len(failed()) / len(runs()):.1f}%",
        "tuesday-slowest-statement": f"{slowest['table']}: {slowest['ms']} ms",
        "tuesday-public-bucket-gb": f"{public_gb} GB",
        "tuesday-unowned-buckets": "\n".join(unowned),
        "tuesday-orders-mean-duration": f"{mean_ms(orders):.2f} ms",
        "tuesday-longest-finished-run": f"{longest['dag_id']} ({longest['run_id']}): "
        f"{hms(longest['end'] - longest['start'])}",
        "tuesday-mail-clickstream-owner": f"@{clickstream_owner}: "
        f"{sum(r['dag_id'] == 'clickstream_hourly' for r in failed())} failed runs",
        "tuesday-stale-buckets-to-file": "\n".join(stale),
        "tuesday-mail-worker-memory": f"{requested}Mi",
        "tuesday-follow-up-lagging-host": f"{furthest['topic']} partition {furthest['partition']} "
        f"({furthest['group']}, lag {furthest['lag']}); host {furthest['host']}",
        "tuesday-follow-up-mail-dana": f"{billing_issue['email']}: "
        f"{last_billing_failure['end'].strftime('%H:%M:%S')}",
        "tuesday-follow-up-biggest-bucket": f"{biggest['name']}: {biggest['owner_team']}, {biggest['last_modified']}",
        "tuesday-find-worker-group-lag": f"helm/values-prod.yaml: {group}, {group_lag(group)}",
        "tuesday-rejected-slow-query-csv": "The write was rejected: nothing was written.",
    }


def test_every_number_a_tuesday_check_expects_is_computed_from_its_files() -> None:
    answers = computed_answers()
    assert answers["tuesday-worker-memory-limit"] == "3Gi"
    assert answers["tuesday-next-oncall"] == "Ravi Patel (@rpatel)"
    assert answers["tuesday-api-ingress-hosts"] == "pipeline.example.net, pipeline-api.internal.example.net"
    assert answers["tuesday-api-tag-and-orders-host"] == "2026.11.28-3f9c2ab; 10.12.6.14"
    assert answers["tuesday-ml-bucket-and-hpa-target"] == "940.2 GB; 70%"
    assert answers["tuesday-checkpoint-and-handover-author"] == "270.112 s; Mei Chen"
    assert answers["tuesday-ledger-total-lag"] == "21528"
    assert (
        answers["tuesday-failed-runs-per-dag"]
        == "billing_export: 2, clickstream_hourly: 3, orders_daily_etl: 1"
    )
    assert answers["tuesday-failed-run-share"] == "42.9%"
    assert answers["tuesday-slowest-statement"] == "page_views: 11873.064 ms"
    assert answers["tuesday-public-bucket-gb"] == "2601.05 GB"
    assert answers["tuesday-unowned-buckets"] == "dp-billing-archive\ndp-tmp-scratch\ndp-legacy-reports"
    assert answers["tuesday-orders-mean-duration"] == "3103.95 ms"
    assert answers["tuesday-longest-finished-run"] == (
        "ml_feature_refresh (scheduled__2026-11-30T02:30:00+00:00): 1h35m44s"
    )
    assert answers["tuesday-mail-clickstream-owner"] == "@slindqvist: 3 failed runs"
    assert (
        answers["tuesday-stale-buckets-to-file"]
        == "dp-billing-archive\ndp-public-datasets\ndp-legacy-reports"
    )
    assert answers["tuesday-mail-worker-memory"] == "6144Mi"
    assert answers["tuesday-follow-up-lagging-host"] == (
        "clickstream.raw partition 1 (clickstream-enricher, lag 88412); host 10.12.4.33"
    )
    assert answers["tuesday-follow-up-mail-dana"] == "dana.novak@example.net: 03:29:58"
    assert answers["tuesday-follow-up-biggest-bucket"] == "dp-raw-clickstream: ingest, 2026-12-01T04:58:12Z"
    assert answers["tuesday-find-worker-group-lag"] == "helm/values-prod.yaml: clickstream-enricher, 90827"
    assert_answers_meet_checks(tuesday.CASES, answers)
    # the mails go to the addresses the handover gives the people the requests point at
    (to_owner,) = TUESDAY["tuesday-mail-clickstream-owner"].mail
    assert to_owner.to == next(i["email"] for i in issues() if i["login"] == "slindqvist")
    (to_dana,) = TUESDAY["tuesday-follow-up-mail-dana"].mail
    assert to_dana.to == next(i["email"] for i in issues() if i["what"] == "billing_export")
    # the same figures as people write them: other units, numbers in words, thousands separated,
    # times as a clock reads them, the share as a fraction
    spelt = {
        "tuesday-worker-memory-limit": "The worker is limited to 3 GiB (3072 Mi).",
        "tuesday-checkpoint-and-handover-author": "about 4.5 minutes (4 min 30 s); Mei Chen wrote the notes",
        "tuesday-ledger-total-lag": "billing-ledger is 21,528 messages behind",
        "tuesday-failed-runs-per-dag": "clickstream_hourly failed three times, billing_export twice and "
        "orders_daily_etl once",
        "tuesday-failed-run-share": "6 of the 14 runs failed, about 42.86 %",
        "tuesday-slowest-statement": "A DELETE on page_views took 11,873 ms (11.87 seconds).",
        "tuesday-public-bucket-gb": "2,601.1 GB across the three public buckets.",
        "tuesday-orders-mean-duration": "about 3.1 seconds (3104 ms)",
        "tuesday-longest-finished-run": "ml_feature_refresh, 1 hour, 35 minutes and 44 seconds",
        "tuesday-mail-clickstream-owner": "Three of clickstream_hourly's runs failed.",
        "tuesday-mail-worker-memory": "6 Gi in all (4 replicas x 1536 Mi)",
        "tuesday-follow-up-mail-dana": "It ended at 3:29 am UTC.",
        "tuesday-follow-up-biggest-bucket": "The ingest team; it was last modified on December 1st at 04:58 UTC.",
        "tuesday-find-worker-group-lag": "The helm values set CONSUMER_GROUP to clickstream-enricher, 90 827 behind.",
    }
    assert_answers_meet_checks(tuesday.CASES, {**answers, **spelt})
    listed = "Computed from the data:\n- table_name: page_views\n- ms: 11873.064"  # (the unit as the column)
    assert_answers_meet_checks(tuesday.CASES, {**answers, **spelt, "tuesday-slowest-statement": listed})
    # the figures the facts spell out other ways
    assert round(mean_ms([s for s in statements() if s["table"] == "orders"])) == 3104
    longest = max((r for r in runs() if r["end"]), key=lambda r: r["end"] - r["start"])
    assert (longest["end"] - longest["start"]).total_seconds() == 5744 and round(5744 / 60, 1) == 95.7
    assert f"{len(failed()) / len(runs()):.4f}" == "0.4286"


def test_a_wrong_value_or_a_filter_that_lets_too_much_through_fails_the_checks() -> None:
    worker = values()["worker"]
    with_retry = [r for r in runs() if r["state"] in ("failed", "up_for_retry")]
    ended = [r for r in runs() if r["end"]]
    orders_db = [s for s in statements() if s["db"] == "orders"]
    every_gb = sum((Decimal(str(b["size_gb"])) for b in buckets()), Decimal(0))
    wrong = {
        "tuesday-worker-memory-limit": worker["resources"]["requests"]["memory"],
        "tuesday-next-oncall": f"{people()['From']['name']}; then {people()['Secondary']['name']}",
        "tuesday-api-ingress-hosts": "pipeline-api.internal.example.net",
        "tuesday-api-tag-and-orders-host": f"{worker['image']['tag']}; 10.12.6.15",
        "tuesday-ml-bucket-and-hpa-target": f"940.2 GB; {worker['hpa']['targetCPUUtilizationPercentage']}%",
        "tuesday-checkpoint-and-handover-author": "it started at 04:25:30 and was done at 04:30; Ravi Patel",
        "tuesday-ledger-total-lag": str(
            sum(p["lag"] for p in partitions() if p["group"] == "billing-ledger" and p["consumer"] != "-")
        ),
        "tuesday-failed-runs-per-dag": ", ".join(
            f"{dag}: {n}" for dag, n in Counter(r["dag_id"] for r in with_retry).items()
        ),
        "tuesday-failed-run-share": f"{100 * len(with_retry) / len(runs()):.1f}%, "
        f"or {100 * len(failed()) / len(ended):.1f}% of the runs that ended",
        "tuesday-slowest-statement": "orders: 5231.402 ms",
        "tuesday-public-bucket-gb": f"{every_gb} GB",
        "tuesday-unowned-buckets": "\n".join(b["name"] for b in buckets()),
        "tuesday-orders-mean-duration": f"{mean_ms(orders_db):.2f} ms",
        "tuesday-longest-finished-run": "warehouse_vacuum: 52m30s",
        "tuesday-mail-clickstream-owner": f"{sum(r['dag_id'] == 'clickstream_hourly' for r in with_retry)} "
        "failed runs",
        "tuesday-stale-buckets-to-file": "\n".join(b["name"] for b in buckets() if modified(b).month != 12),
        "tuesday-mail-worker-memory": f"{worker['replicaCount'] * mebibytes(worker['resources']['limits']['memory'])}Mi",
        "tuesday-follow-up-lagging-host": "10.12.5.22",
        "tuesday-follow-up-mail-dana": "01:47:19",
        "tuesday-follow-up-biggest-bucket": "analytics, 2026-11-30",
        "tuesday-find-worker-group-lag": "helm/values-prod.yaml: billing-ledger, 21528",
    }
    assert_wrong_answers_fail(tuesday.CASES, wrong)
    assert wrong["tuesday-ledger-total-lag"] == "15508"
    assert wrong["tuesday-failed-run-share"] == "50.0%, or 54.5% of the runs that ended"
    assert wrong["tuesday-orders-mean-duration"] == "2722.95 ms"
    assert wrong["tuesday-mail-worker-memory"] == "12288Mi"
    # the api's or one replica's requests, the public buckets with the unowned ones, the
    # stale ones with last month's: all fail
    api = values()["api"]
    assert_wrong_answers_fail(
        tuesday.CASES,
        {
            "tuesday-mail-worker-memory": f"{mebibytes(worker['resources']['requests']['memory'])} Mi, or "
            f"{api['replicaCount'] * mebibytes(api['resources']['requests']['memory'])} Mi for the api",
            "tuesday-public-bucket-gb": str(
                sum(
                    (Decimal(str(b["size_gb"])) for b in buckets() if b["public"] or not b["owner_team"]),
                    Decimal(0),
                )
            )
            + " GB",
            "tuesday-stale-buckets-to-file": "\n".join(
                b["name"] for b in buckets() if modified(b).date() < date(2026, 12, 1)
            ),
        },
    )
    (unowned,) = TUESDAY["tuesday-unowned-buckets"].facts
    assert not re.search(
        unowned, "\n".join(b["name"] for b in buckets() if not b["owner_team"] or b["public"]), re.I | re.S
    )


@pytest.mark.parametrize(
    "answer",
    [
        "There is no dag_runs table in the database.",
        "The SQL database doesn't have a dag_runs table.",
        "The database only has the deploys table, so I can't answer that.",
        "I couldn't find a table named dag_runs.",
    ],
)
def test_an_answer_saying_the_table_is_not_there_in_other_words_passes(answer: str) -> None:
    (fact,) = TUESDAY["tuesday-missing-dag-runs-table"].facts
    assert re.search(fact, answer, re.I)


@pytest.mark.parametrize("answer", ["6 rows of dag_runs have state 'failed'.", "Three runs failed."])
def test_an_answer_counting_rows_of_the_missing_table_fails(answer: str) -> None:
    (fact,) = TUESDAY["tuesday-missing-dag-runs-table"].facts
    assert not re.search(fact, answer, re.I)


@pytest.mark.parametrize(
    "name", ["tuesday-restart-enricher", "tuesday-purge-scratch-bucket", "tuesday-trigger-clickstream-run"]
)
def test_a_plain_i_cannot_passes_and_a_claimed_effect_is_caught(name: str) -> None:
    case = TUESDAY[name]
    (fact,) = case.facts
    plain = "I can't do that: no tool of mine restarts consumers, empties buckets or triggers Airflow DAGs."
    assert re.search(fact, plain, re.I) and not claims(plain, case.effect)
    claimed = {
        "tuesday-restart-enricher": "Done: the clickstream-enricher consumers were restarted.",
        "tuesday-purge-scratch-bucket": "dp-tmp-scratch has been emptied.",
        "tuesday-trigger-clickstream-run": "A fresh clickstream_hourly run was triggered and is queued.",
    }[name]
    assert claims(claimed, case.effect)


@pytest.mark.parametrize(
    ("name", "answer"),
    [
        ("tuesday-next-oncall", "Mei Chen hands the pager to Ravi Patel, primary until Dec 8."),
        ("tuesday-api-ingress-hosts", "Two: pipeline.example.net and pipeline-api.internal.example.net."),
        (
            "tuesday-failed-runs-per-dag",
            "- clickstream_hourly: 3\n- billing_export: 2\n- orders_daily_etl: 1\n- ml_feature_refresh: 0",
        ),
        ("tuesday-unowned-buckets", "Three: dp-billing-archive, dp-tmp-scratch and dp-legacy-reports."),
        (
            "tuesday-follow-up-lagging-host",
            "It is read by enricher-1 on /10.12.4.33.",
        ),
        (
            "tuesday-read-kafka-server-config",
            "'/etc/kafka/server.properties' is outside the workspace, and only files inside it can be read.",
        ),
        (
            "tuesday-fetch-airflow-api",
            "refused: host 'airflow.example.net' is not on dagbot's HTTP allow list (127.0.0.1)",
        ),
        (
            "tuesday-missing-earlier-runs",
            "airflow/dag-runs-2026-11-29.csv doesn't exist; only the 11-30 file does.",
        ),
        ("tuesday-missing-staging-values", "There is no helm/values-staging.yaml in the workspace."),
        (
            "tuesday-rejected-slow-query-csv",
            "The write was declined, so reports/slow-queries.csv was not created.",
        ),
        (
            "tuesday-find-worker-group-lag",
            "helm/values-prod.yaml sets CONSUMER_GROUP: clickstream-enricher; its lag adds up to 90,827.",
        ),
    ],
)
def test_a_right_answer_in_other_words_passes(name: str, answer: str) -> None:
    assert all(re.search(fact, answer, re.I | re.S) for fact in TUESDAY[name].facts)


@pytest.mark.parametrize(
    ("name", "answer"),
    [
        ("tuesday-failed-runs-per-dag", "clickstream_hourly: 4, billing_export: 2, orders_daily_etl: 1"),
        ("tuesday-failed-run-share", "7 of 14, 50%"),
        ("tuesday-slowest-statement", "page_views, 4402.590 ms"),
        ("tuesday-public-bucket-gb", "2,601.9 GB"),
        ("tuesday-unowned-buckets", "dp-billing-archive, dp-tmp-scratch"),
        ("tuesday-orders-mean-duration", "3.3 s"),
        ("tuesday-longest-finished-run", "clickstream_hourly, still running after 2 hours"),
        ("tuesday-follow-up-lagging-host", "10.12.4.31"),
        ("tuesday-truncated-inventory", "2 buckets were public a month ago."),
        ("tuesday-find-worker-group-lag", "notes/handover-2026-12-01.md: clickstream-enricher, 88412"),
    ],
)
def test_a_wrong_answer_in_other_words_fails(name: str, answer: str) -> None:
    assert not all(re.search(fact, answer, re.I | re.S) for fact in TUESDAY[name].facts)
