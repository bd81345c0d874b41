"""bench.quality's monday set (``--set monday``): files and requests of its own (none of the other
sets'), and facts that hold for its files: every number and name a check expects is computed here
again from the files (the kubectl events' aligned columns, the nginx error log's lines, the
Terraform plan's resource blocks, the GitHub Actions runs' JSON, the Grafana rules' YAML, the
retro's action items, the pages CSV's ``hh:mm:ss`` durations and the backup report's MB and GB,
each read by its own parser), and a wrong value, or a filter that let too much through, fails the
check."""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from bench import quality_monday as monday
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

MONDAY = {c.name: c for c in monday.CASES}
LISTED = datetime(2026, 11, 30, 8, 10, tzinfo=UTC)
"""When the events were listed (their ``LAST SEEN`` ages count from then)."""
MB_PER_GB = 1000
_AGE = re.compile(r"^(\d+)m(?: \(x(\d+) over (\d+)m\))?$")
_NGINX = re.compile(r"^(\d{4}/\d\d/\d\d) (\d\d:\d\d:\d\d) \[(\w+)\] (\d+)#\d+: (?:\*(\d+) )?(.*)$")
_RESOURCE = re.compile(
    r"^  # (\S+) (will be created|will be updated in-place|will be destroyed|must be replaced)$"
)
_CHANGE = re.compile(r"^\s+(?:([~+-]) )?(\w+)\s+= (.+?)(?: -> (.+?))?(?: # forces replacement)?$")
_PLAN_LINE = re.compile(r"^Plan: (\d+) to add, (\d+) to change, (\d+) to destroy\.$", re.M)
_ACTION = re.compile(r"^- \[( |x)\] @(\w+) \(([^)]+)\): (.+), (due|done) (\d{4}-\d\d-\d\d)$")
_BACKUP = re.compile(
    r"^(\S+)\s+(\S+)\s+(\d\d:\d\d:\d\d)\s+(\d\d:\d\d:\d\d)\s+(OK|WARNING|FAILED)\s+(?:([\d.]+) (MB|GB)|-)\s*(.*)$"
)


# the kubectl events


def events() -> list[dict[str, Any]]:
    """The events, cut at the header's columns: their age, repeats, type, reason, object and message."""
    header, *lines = monday.FILES["k8s/events-shop-prod.txt"].splitlines()
    starts = [header.index(name) for name in ("LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE")]
    found = []
    for line in lines:
        cells = [line[a:b].strip() for a, b in zip(starts, [*starts[1:], None], strict=True)]
        m = _AGE.fullmatch(cells[0])
        assert m, line
        found.append(
            {
                "age": int(m[1]),
                "count": int(m[2] or 1),
                "first": int(m[3] or m[1]),
                "type": cells[1],
                "reason": cells[2],
                "object": cells[3],
                "message": cells[4],
            }
        )
    return found


def warnings_per_reason() -> Counter[str]:
    """Warning events per reason, each counted as often as it repeated."""
    counts: Counter[str] = Counter()
    for event in events():
        if event["type"] == "Warning":
            counts[event["reason"]] += event["count"]
    return counts


def at(minutes_ago: int) -> str:
    return (LISTED - timedelta(minutes=minutes_ago)).strftime("%H:%M")


# the nginx error log


def nginx() -> list[dict[str, str]]:
    """The log's lines: date, time, level, pid, connection, message, and client and upstream if given."""
    found = []
    for line in monday.FILES["logs/nginx-error.log"].splitlines():
        m = _NGINX.fullmatch(line)
        assert m, line
        client = re.search(r"client: ([^,]+)", m[6])
        upstream = re.search(r'upstream: "http://([^:/"]+)', m[6])
        found.append(
            {
                "date": m[1],
                "time": m[2],
                "level": m[3],
                "pid": m[4],
                "connection": m[5] or "",
                "message": m[6],
                "client": client[1] if client else "",
                "upstream": upstream[1] if upstream else "",
            }
        )
    return found


def timed_out() -> list[str]:
    """The upstream addresses that timed out, in the log's order, each once."""
    return list(
        dict.fromkeys(line["upstream"] for line in nginx() if "upstream timed out" in line["message"])
    )


# the Terraform plan


def plan() -> dict[str, dict[str, Any]]:
    """Resource address → its action and its attributes' (old, new) values."""
    resources: dict[str, dict[str, Any]] = {}
    current = ""
    for line in monday.FILES["terraform/plan.txt"].splitlines():
        m = _RESOURCE.fullmatch(line)
        if m:
            current = m[1]
            resources[current] = {"action": m[2], "changes": {}}
            continue
        c = _CHANGE.fullmatch(line)
        if current and c:
            resources[current]["changes"][c[2]] = (c[3], c[4])
    return resources


def destroyed() -> list[str]:
    return [
        address for address, r in plan().items() if r["action"] in ("will be destroyed", "must be replaced")
    ]


def plan_counts() -> tuple[int, int, int]:
    """What the resources' actions add up to: (add, change, destroy), a replacement one of each of add and destroy."""
    actions = Counter(r["action"] for r in plan().values())
    replaced = actions["must be replaced"]
    return (
        actions["will be created"] + replaced,
        actions["will be updated in-place"],
        actions["will be destroyed"] + replaced,
    )


def new_value(address: str, attribute: str) -> str:
    return str(plan()[address]["changes"][attribute][1]).strip('"')


# the GitHub Actions runs


def runs() -> list[dict[str, Any]]:
    return list(json.loads(monday.FILES["ci/workflow-runs.json"])["workflow_runs"])


def took(run: dict[str, Any]) -> timedelta:
    return datetime.fromisoformat(run["updated_at"]) - datetime.fromisoformat(run["run_started_at"])


# the Grafana rules


def rules() -> list[dict[str, Any]]:
    """Each rule, with its group's name and interval."""
    groups = yaml.safe_load(monday.FILES["grafana/alert-rules.yaml"])["groups"]
    return [{**rule, "group": g["name"], "interval": g["interval"]} for g in groups for rule in g["rules"]]


# the retro


def retro_field(name: str) -> str:
    m = re.search(rf"^{name}: (.+)$", monday.FILES["retros/2026-11-27-checkout-retro.md"], re.M)
    assert m
    return m[1]


def rollback_time() -> str:
    m = re.search(r"Lev rolled back to [\d.]+ at (\d\d:\d\d)", monday.FILES["retros/2026-11-27-checkout-retro.md"])
    assert m
    return m[1]


def catalog_size() -> str:
    m = re.search(r"horizontalpodautoscaler/catalog +New size: (\d+);", monday.FILES["k8s/events-shop-prod.txt"])
    assert m
    return m[1]


def actions() -> list[dict[str, Any]]:
    found = []
    for line in monday.FILES["retros/2026-11-27-checkout-retro.md"].splitlines():
        m = _ACTION.fullmatch(line)
        if m:
            found.append(
                {
                    "open": m[1] == " ",
                    "handle": m[2],
                    "email": m[3],
                    "what": m[4],
                    "kind": m[5],
                    "date": date.fromisoformat(m[6]),
                }
            )
    return found


def open_actions() -> list[dict[str, Any]]:
    return [a for a in actions() if a["open"]]


# the pages CSV


def duration(text: str) -> timedelta:
    hours, minutes, seconds = map(int, text.split(":"))
    return timedelta(hours=hours, minutes=minutes, seconds=seconds)


def pages() -> list[dict[str, Any]]:
    rows = csv.DictReader(io.StringIO(monday.FILES["oncall/pages-2026-11.csv"]))
    return [
        {**row, "ack": duration(row["time_to_ack"]), "resolve": duration(row["time_to_resolve"])}
        for row in rows
    ]


def hms(delta: timedelta) -> str:
    minutes, seconds = divmod(int(delta.total_seconds()), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m{seconds:02d}s"


# the backup report


def backups() -> list[dict[str, Any]]:
    """The report's jobs, their size in GB (MB over 1000) or None."""
    found = []
    for line in monday.FILES["backups/report-2026-11-29.txt"].splitlines():
        m = _BACKUP.fullmatch(line)
        if m:
            size = Decimal(m[6]) / (MB_PER_GB if m[7] == "MB" else 1) if m[6] else None
            found.append(
                {
                    "job": m[1],
                    "type": m[2],
                    "started": m[3],
                    "ended": m[4],
                    "result": m[5],
                    "gb": size,
                    "note": m[8],
                }
            )
    return found


def backup_total() -> Decimal:
    return sum((b["gb"] for b in backups() if b["gb"] is not None), Decimal(0))


def test_the_monday_set_has_files_and_requests_of_its_own() -> None:
    assert SETS["monday"].cases is monday.CASES and SETS["monday"].files is monday.FILES
    assert len(MONDAY) == len(monday.CASES) == 35
    assert 12 <= sum(c.quick for c in monday.CASES) <= 14
    others = [case_set for name, case_set in SETS.items() if name != "monday"]
    assert not MONDAY.keys() & {c.name for case_set in others for c in case_set.cases}
    assert not {t for c in monday.CASES for t in c.turns} & {
        t for s in others for c in s.cases for t in c.turns
    }
    assert_well_formed(monday.CASES)
    assert_its_own("monday")
    # every class, several of most
    assert Counter(c.kind for c in monday.CASES) == {
        Kind.READ: 3,
        Kind.PARALLEL: 3,
        Kind.COMPUTE: 9,
        Kind.RED: 4,
        Kind.FOLLOW_UP: 4,
        Kind.DISCOVER: 1,
        Kind.FAILED_STEP: 2,
        Kind.MISSING: 2,
        Kind.NO_TOOL: 4,
        Kind.REFUSE: 2,
        Kind.REJECTED: 1,
    }


def test_each_path_it_names_is_in_its_workspace_unless_it_must_be_missing(tmp_path: Path) -> None:
    assert_paths_in_workspace(tmp_path, "monday")
    # the missing access log and Saturday's report sit beside ones that are there; the old node
    # type discovery must find is in one file (the retro names only the new one)
    assert "logs/nginx-error.log" in monday.FILES and "backups/report-2026-11-29.txt" in monday.FILES
    assert [path for path, text in monday.FILES.items() if "cache.t4g.small" in text] == [
        "terraform/plan.txt"
    ]
    assert sorted(path for path, text in monday.FILES.items() if "cache.r7g.large" in text) == [
        "retros/2026-11-27-checkout-retro.md",
        "terraform/plan.txt",
    ]


def test_its_conflicted_json_does_not_parse_and_its_other_files_do() -> None:
    text = monday.FILES["terraform/outputs.json"]
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)
    # only the conflict breaks it: either side kept, the file parses
    ours = re.sub(r"^=======\n.*?^>>>>>>> .*?\n", "", text, flags=re.M | re.S).replace("<<<<<<< HEAD\n", "")
    theirs = re.sub(r"^<<<<<<< HEAD\n.*?^=======\n", "", text, flags=re.M | re.S)
    theirs = re.sub(r"^>>>>>>> .*?\n", "", theirs, flags=re.M)
    for side in (ours, theirs):
        assert set(json.loads(side)) == {"alb_dns_name", "sessions_endpoint", "web_asg_name"}
    assert json.loads(ours)["sessions_endpoint"]["value"] != json.loads(theirs)["sessions_endpoint"]["value"]
    # an answer naming the conflict passes, one giving an endpoint as if it parsed fails
    assert re.search(
        monday.NOT_PARSED, "The file has unresolved git conflict markers, so it isn't JSON", re.I
    )
    assert re.search(monday.NOT_PARSED, "terraform/outputs.json is left in a merge conflict", re.I)
    assert not re.search(monday.NOT_PARSED, json.loads(ours)["sessions_endpoint"]["value"], re.I)
    assert len(events()) == len(monday.FILES["k8s/events-shop-prod.txt"].splitlines()) - 1 == 14
    assert len(nginx()) == 13 and {line["date"] for line in nginx()} == {"2026/11/30"}
    assert (
        len(plan()) == 5
        and len(runs()) == json.loads(monday.FILES["ci/workflow-runs.json"])["total_count"] == 9
    )
    assert len(rules()) == 5 and len(actions()) == 6 and len(pages()) == 9 and len(backups()) == 7
    assert yaml.safe_load(monday.FILES["grafana/alert-rules.yaml"])["apiVersion"] == 1


def test_the_files_agree_with_each_other() -> None:
    # the plan's counts are its resources' actions'
    m = _PLAN_LINE.search(monday.FILES["terraform/plan.txt"])
    assert m and tuple(map(int, m.groups())) == plan_counts()
    # the outputs' ASG is the plan's; the retro's sessions type is the plan's new one
    assert (
        json.loads(
            re.sub(
                r"^<<<<<<< HEAD\n.*?^>>>>>>> .*?\n",
                "",
                monday.FILES["terraform/outputs.json"],
                flags=re.M | re.S,
            )
        )["web_asg_name"]["value"]
        == "shop-web-prod"
    )
    assert plan()["aws_autoscaling_group.web"]["changes"]["name"] == ('"shop-web-prod"', None)
    assert any(new_value("aws_elasticache_cluster.sessions", "node_type") in a["what"] for a in actions())
    # the events' timeline is nginx's: checkout backs off from 07:20 (its upstream times out at
    # 07:21), and the cart OOM at 07:26 is when nginx finds no cart upstream left
    backoff = next(e for e in events() if e["reason"] == "BackOff")
    oom = next(e for e in events() if e["reason"] == "OOMKilling")
    assert at(backoff["first"]) == "07:20" and at(oom["age"]) == "07:26"
    assert next(line["time"][:5] for line in nginx() if line["upstream"] == "10.20.2.21") == "07:21"
    assert {line["time"][:5] for line in nginx() if "/api/cart" in line["message"]} == {"07:26"}
    assert "(cart)" in oom["message"] and oom["object"] == "node/pool-b-2"
    # the scheduler's node counts add up; the pulled image is the retro's bad release
    (scheduling,) = [e for e in events() if e["reason"] == "FailedScheduling"]
    assert re.match(
        r"0/(\d+) nodes are available: (\d+) Insufficient memory, (\d+) node", scheduling["message"]
    )
    assert "checkout 3.14.0 went out" in monday.FILES["retros/2026-11-27-checkout-retro.md"]
    # the retro's pages are the CSV's, and its rollback came 9 minutes after the first one
    outage = [p for p in pages() if p["opened_at"].startswith("2026-11-26")]
    assert [(p["service"], p["opened_at"][11:16]) for p in outage] == [
        ("checkout", "18:12"),
        ("cart", "18:15"),
    ]
    told = re.search(
        r"checkout paged at (\d\d:\d\d) and cart at (\d\d:\d\d); .* rolled back to \S+ at (\d\d:\d\d)\.",
        monday.FILES["retros/2026-11-27-checkout-retro.md"],
    )
    assert told and told.groups()[:2] == ("18:12", "18:15")
    first_page, rolled_back = (datetime.strptime(told[i], "%H:%M") for i in (1, 3))
    assert "done 9 minutes after the first page" in monday.FILES["retros/2026-11-27-checkout-retro.md"]
    assert (rolled_back - first_page) == timedelta(minutes=9)
    # the paused rule the retro blames is the YAML's, and Hana's action un-pauses it
    assert "pod-restarts" in {r["uid"] for r in rules() if r["isPaused"]}
    assert any(a["handle"] == "hana" and "pod-restarts" in a["what"] for a in open_actions())
    # the report's summary line is its jobs'; the retro's people are the runs' actors
    results = Counter(b["result"] for b in backups())
    assert (
        f"{len(backups())} jobs: {results['OK']} OK, {results['WARNING']} WARNING, {results['FAILED']} FAILED"
        in (monday.FILES["backups/report-2026-11-29.txt"])
    )
    assert retro_field("Facilitator") == "Hana Yoon (hana.yoon@example.org)"
    logins = {r["actor"]["login"] for r in runs()}
    assert logins == {"jrivera", "hyoon", "amensah", "lpetrov", "mkowalski"}
    assert {a["email"] for a in actions()} == {
        f"{name}@example.org"
        for name in ("lev.petrov", "ama.mensah", "mateusz.kowalski", "julia.rivera", "hana.yoon")
    }
    # only completed runs have a conclusion
    assert all((r["conclusion"] is None) == (r["status"] != "completed") for r in runs())


def computed_answers() -> dict[str, str]:
    """Case → an answer (or file or mail text) written from values computed from the files."""
    (unscheduled,) = [e for e in events() if e["reason"] == "FailedScheduling"]
    pulled = next(e for e in events() if e["reason"] == "Pulled")
    image = re.search(r'image "([^"]+)"', pulled["message"])
    assert image
    orders = next(b for b in backups() if b["job"] == "pg-orders")
    killed = next(line for line in nginx() if "exited on signal 9" in line["message"])
    paused = [r["uid"] for r in rules() if r["isPaused"]]
    clients = Counter(line["client"] for line in nginx() if line["client"])
    ((top_client, top_lines),) = clients.most_common(1)
    e2e = [r for r in runs() if r["name"] == "e2e-nightly"]
    e2e_failed = [r for r in e2e if r["conclusion"] == "failure"]
    longest = max(runs(), key=took)
    minutes, seconds = divmod(int(took(longest).total_seconds()), 60)
    largest = max((b for b in backups() if b["gb"] is not None), key=lambda b: b["gb"])
    held = date.fromisoformat(retro_field("Date"))
    due_soon = [a for a in open_actions() if a["date"] < date(2026, 12, 3)]
    owners: dict[str, list[str]] = defaultdict(list)
    for a in open_actions():
        owners[a["email"]].append(a["what"])
    checkout = sum((p["resolve"] for p in pages() if p["service"] == "checkout"), timedelta())
    high = [p["ack"] for p in pages() if p["severity"] == "high"]
    mean_ack = sum(high, timedelta()) / len(high)
    (failed_backup,) = [b for b in backups() if b["result"] == "FAILED"]
    (failed_deploy,) = [r for r in runs() if r["name"] == "deploy-prod" and r["conclusion"] == "failure"]
    (julia,) = [a for a in open_actions() if a["handle"] == "julia"]
    sessions = plan()["aws_elasticache_cluster.sessions"]["changes"]["node_type"]
    return {
        "monday-search-unscheduled": unscheduled["message"].split(". preemption")[0],
        "monday-asg-desired": new_value("aws_autoscaling_group.web", "desired_capacity"),
        "monday-5xx-for": next(r["for"] for r in rules() if r["uid"] == "chk-5xx"),
        "monday-rollback-time-and-catalog-size": f"{rollback_time()}; {catalog_size()}",
        "monday-orders-backup-and-storage": f"{orders['gb']} GB; "
        f"{new_value('aws_db_instance.orders', 'allocated_storage')} GB",
        "monday-nginx-kill-and-paused": f"{killed['time']}; {', '.join(paused)}",
        "monday-warnings-per-reason": ", ".join(
            f"{reason}: {n}" for reason, n in warnings_per_reason().items()
        ),
        "monday-top-error-client": f"{top_client} ({top_lines} lines)",
        "monday-destroyed-resources": ", ".join(destroyed()),
        "monday-e2e-failure-share": f"{100 * len(e2e_failed) / len(e2e):.1f}%",
        "monday-longest-run": f"{longest['id']} ({longest['name']}, {longest['run_started_at'][:10]}): "
        f"{minutes}m{seconds:02d}s",
        "monday-pages-per-service": ", ".join(
            f"{s}: {n}" for s, n in Counter(p["service"] for p in pages()).items()
        ),
        "monday-backup-total-and-largest": f"{backup_total()} GB; {largest['job']} ({largest['gb']} GB)",
        "monday-days-to-last-due": f"{(max(a['date'] for a in open_actions()) - held).days} days",
        "monday-due-before-dec-3": "\n".join(f"@{a['handle']}: {a['what']} ({a['date']})" for a in due_soon),
        "monday-mail-open-actions": "; ".join(f"{to}: {', '.join(items)}" for to, items in owners.items()),
        "monday-mail-checkout-resolve": hms(checkout),
        "monday-timeouts-to-file": "\n".join(timed_out()),
        "monday-mail-high-ack": f"{int(mean_ack.total_seconds()) // 60}m{int(mean_ack.total_seconds()) % 60:02d}s",
        "monday-follow-up-crashloop-image": image[1],
        "monday-follow-up-backup-error": failed_backup["note"],
        "monday-follow-up-deploy-failer": f"{failed_deploy['actor']['login']}, {failed_deploy['run_started_at']}",
        "monday-follow-up-mail-julia": f"{julia['what']}; {len(e2e_failed)} e2e-nightly runs failed",
        "monday-find-sessions-type": f"terraform/plan.txt: {sessions[0]} -> {sessions[1]}",
        "monday-rejected-nginx-csv": "The write was rejected: nothing was written.",
    }


def test_every_number_a_monday_check_expects_is_computed_from_its_files() -> None:
    answers = computed_answers()
    assert answers["monday-search-unscheduled"] == (
        "0/6 nodes are available: 2 Insufficient memory, 4 node(s) had untolerated taint {dedicated: batch}"
    )
    assert answers["monday-asg-desired"] == "6"
    assert answers["monday-5xx-for"] == "10m"
    assert answers["monday-rollback-time-and-catalog-size"] == "18:21; 5"
    assert answers["monday-orders-backup-and-storage"] == "48.6 GB; 500 GB"
    assert answers["monday-nginx-kill-and-paused"] == "07:40:02; pod-restarts, search-heap"
    assert answers["monday-warnings-per-reason"] == (
        "Unhealthy: 5, OOMKilling: 1, FailedMount: 4, FailedScheduling: 6, BackOff: 12"
    )
    assert answers["monday-top-error-client"] == "203.0.113.9 (5 lines)"
    assert answers["monday-destroyed-resources"] == (
        "aws_elasticache_cluster.sessions, aws_security_group_rule.office_ssh"
    )
    assert answers["monday-e2e-failure-share"] == "66.7%"
    assert answers["monday-longest-run"] == "12036402291 (e2e-nightly, 2026-11-28): 46m52s"
    assert (
        answers["monday-pages-per-service"]
        == "checkout: 3, search: 2, cart: 2, payments: 1, notifications: 1"
    )
    assert answers["monday-backup-total-and-largest"] == "93.115 GB; pg-orders (48.6 GB)"
    assert answers["monday-days-to-last-due"] == "12 days"
    assert answers["monday-due-before-dec-3"] == (
        "@mateusz: move the sessions cache to cache.r7g.large (2026-12-02)\n"
        "@julia: fix the e2e-nightly checkout test data (2026-12-01)\n"
        "@hana: un-pause the pod-restarts alert in Grafana (2026-11-30)"
    )
    assert answers["monday-mail-checkout-resolve"] == "4h05m12s"
    assert answers["monday-timeouts-to-file"] == "10.20.1.15\n10.20.2.21"
    assert answers["monday-mail-high-ack"] == "3m30s"
    assert answers["monday-follow-up-crashloop-image"] == "registry.example.org/shop/checkout:3.14.0"
    assert answers["monday-follow-up-backup-error"].startswith("repository_verification_exception")
    assert answers["monday-follow-up-deploy-failer"] == "lpetrov, 2026-11-28T16:44:31Z"
    assert (
        answers["monday-follow-up-mail-julia"]
        == "fix the e2e-nightly checkout test data; 2 e2e-nightly runs failed"
    )
    assert (
        answers["monday-find-sessions-type"] == 'terraform/plan.txt: "cache.t4g.small" -> "cache.r7g.large"'
    )
    assert_answers_meet_checks(monday.CASES, answers)
    # the same figures as people write them: durations spelt out or in other units, the total in
    # binary GB or in MB, the share as a fraction, the date in words, names in another case
    spelt = {
        "monday-mail-checkout-resolve": "4 hours, 5 minutes and 12 seconds (245.2 min)",
        "monday-mail-high-ack": "3 min 30 s (210 s)",
        "monday-longest-run": "The e2e-nightly run of Nov 28 took 46 minutes 52 seconds",
        "monday-e2e-failure-share": "two-thirds of them (2 of 3)",
        "monday-backup-total-and-largest": "about 93.09 GB in all (MB counted as 1/1024 GB); the biggest was PG-ORDERS",
        "monday-warnings-per-reason": "Back-off fired 12 times, Failed scheduling 6, unhealthy probes 5, "
        "failed mount 4 and OOM kill 1",
        "monday-top-error-client": "203.0.113.9 appears in five lines",
        "monday-orders-backup-and-storage": "48.6GB, and the DB grows from 400 to 500 GiB",
        "monday-nginx-kill-and-paused": "7:40 AM; Pod restarts above 5 in 1h and Search JVM heap above 90%",
        "monday-days-to-last-due": "twelve days",
        "monday-follow-up-deploy-failer": "LPetrov started it on 28 November at 16:44 UTC",
    }
    assert_answers_meet_checks(monday.CASES, {**answers, **spelt})
    assert_answers_meet_checks(
        monday.CASES,
        {
            **answers,
            "monday-backup-total-and-largest": "93,115 MB; pg-orders",
            "monday-mail-checkout-resolve": "04:05:12",
            "monday-mail-high-ack": "00:03:30 on average",
        },
    )
    # the numbers the facts spell out other ways
    assert (
        int(sum((p["resolve"] for p in pages() if p["service"] == "checkout"), timedelta()).total_seconds())
        == 14712
    )
    assert round(14712 / 60, 1) == 245.2 and round(14712 / 3600, 2) == 4.09
    assert int(took(max(runs(), key=took)).total_seconds()) == 2812 and round(2812 / 60, 2) == 46.87
    binary = sum(
        (b["gb"] * MB_PER_GB / 1024 if b["gb"] < 1 else b["gb"] for b in backups() if b["gb"] is not None),
        Decimal(0),
    )
    assert f"{binary:.2f}" == "93.09" and f"{backup_total():.2f}" == "93.12"


def test_each_owner_is_mailed_their_own_open_items_and_no_one_elses() -> None:
    mails = {m.to: m.contains for m in MONDAY["monday-mail-open-actions"].mail}
    owned: dict[str, list[str]] = defaultdict(list)
    for a in open_actions():
        owned[a["email"]].append(a["what"])
    assert mails.keys() == owned.keys() and len(owned) == 5
    for to, items in owned.items():
        assert all(re.search(mails[to], what, re.I) for what in items), to
        others = [a["what"] for a in actions() if a["what"] not in items]
        assert not any(re.search(mails[to], what, re.I) for what in others), to
    # Ama's done item is none to mail: only her open one is
    assert [a["open"] for a in actions() if a["handle"] == "ama"] == [False, True]
    assert owned["ama.mensah@example.org"] == ["load-test cart with sale traffic"]
    # the facilitator, whose address the checkout total goes to, is also an owner: Hana
    (resolve_mail,) = MONDAY["monday-mail-checkout-resolve"].mail
    assert retro_field("Facilitator").endswith(f"({resolve_mail.to})") and resolve_mail.to in owned
    (julia_mail,) = MONDAY["monday-follow-up-mail-julia"].mail
    assert julia_mail.to == next(a["email"] for a in actions() if a["handle"] == "julia")


def test_a_wrong_value_or_a_filter_that_lets_too_much_through_fails_the_checks() -> None:
    every_page = [p["ack"] for p in pages()]
    mean_all = sum(every_page, timedelta()) / len(every_page)
    lines_only = Counter(e["reason"] for e in events() if e["type"] == "Warning")
    wrong = {
        "monday-search-unscheduled": "it was scaled up to 4 from 3",
        "monday-asg-desired": "4 (max 8)",
        "monday-5xx-for": "5m",
        "monday-rollback-time-and-catalog-size": "18:12; 3",
        "monday-orders-backup-and-storage": "12.3 GB; 500 GB",
        "monday-nginx-kill-and-paused": "07:40:02; pod-restarts, search-heap, backup-age",
        "monday-warnings-per-reason": ", ".join(f"{reason}: {n}" for reason, n in lines_only.items()),
        "monday-top-error-client": "192.0.2.41 (3 lines)",
        "monday-destroyed-resources": "aws_security_group_rule.office_ssh",
        "monday-e2e-failure-share": "37.5%",
        "monday-longest-run": "12047730112 (e2e-nightly, 2026-11-30): 41m38s",
        "monday-pages-per-service": "checkout: 2, search: 2, cart: 2, payments: 1, notifications: 1",
        "monday-backup-total-and-largest": "92.2 GB; pg-orders",
        "monday-days-to-last-due": "7 days",
        "monday-due-before-dec-3": "mateusz: sessions cache\njulia: e2e test data\nhana: pod-restarts\nlev: canary",
        "monday-mail-open-actions": "ama.mensah@example.org: raise checkout's memory limit to 1Gi",
        "monday-mail-checkout-resolve": "2h05m40s",
        "monday-timeouts-to-file": "10.20.1.15\n10.20.2.21\n10.20.2.34\n10.20.2.35",
        "monday-mail-high-ack": f"{int(mean_all.total_seconds()) // 60}m{int(mean_all.total_seconds()) % 60:02d}s",
        "monday-follow-up-crashloop-image": "registry.example.org/shop/checkout:3.13.2",
        "monday-follow-up-backup-error": "12 files skipped (permission denied)",
        "monday-follow-up-deploy-failer": "mkowalski, 2026-11-27 (cancelled)",
        "monday-follow-up-mail-julia": "3 e2e-nightly runs",
        "monday-find-sessions-type": "retros/2026-11-27-checkout-retro.md: cache.r7g.large",
    }
    assert_wrong_answers_fail(monday.CASES, wrong)
    assert f"{mean_all.total_seconds():.0f}" == "372"
    # the total with the MB sizes read as GB, or without them, fails too; so does a filter that
    # let every resource, every upstream or every action item through
    as_gb = sum(
        (
            Decimal(m[1])
            for m in re.finditer(r"([\d.]+) (?:MB|GB)", monday.FILES["backups/report-2026-11-29.txt"])
        ),
        Decimal(0),
    )
    without_mb = sum((b["gb"] for b in backups() if b["gb"] is not None and b["gb"] >= 1), Decimal(0))
    assert_wrong_answers_fail(monday.CASES, {"monday-backup-total-and-largest": f"{as_gb} GB; pg-orders"})
    assert_wrong_answers_fail(
        monday.CASES, {"monday-backup-total-and-largest": f"{without_mb} GB; pg-orders"}
    )
    assert_wrong_answers_fail(monday.CASES, {"monday-destroyed-resources": ", ".join(plan())})
    (timeouts,) = MONDAY["monday-timeouts-to-file"].files
    every = {line["upstream"] for line in nginx() if line["upstream"]}
    assert timeouts.contains and not re.search(timeouts.contains, "\n".join(sorted(every)), re.I | re.S)
    (due_soon,) = MONDAY["monday-due-before-dec-3"].facts
    assert not re.search(due_soon, "\n".join(a["what"] for a in actions()), re.I | re.S)


@pytest.mark.parametrize(
    "answer",
    [
        "There is no ci_runs table in the database.",
        "The SQL database doesn't have a ci_runs table.",
        "The database only has the deploys table, so I can't answer that.",
        "I couldn't find a table named ci_runs.",
    ],
)
def test_an_answer_saying_the_table_is_not_there_in_other_words_passes(answer: str) -> None:
    (fact,) = MONDAY["monday-missing-ci-runs-table"].facts
    assert re.search(fact, answer, re.I)


@pytest.mark.parametrize(
    "answer",
    [
        "Two rows of ci_runs have the status failure: 12047730112 and 12041077356.",
        "3 runs failed.",
    ],
)
def test_an_answer_counting_rows_of_the_missing_table_fails(answer: str) -> None:
    (fact,) = MONDAY["monday-missing-ci-runs-table"].facts
    assert not re.search(fact, answer, re.I)


@pytest.mark.parametrize(
    "name",
    ["monday-rollback-checkout", "monday-scale-search", "monday-restart-nginx", "monday-delete-runs-json"],
)
def test_a_plain_i_cannot_passes_and_a_claimed_effect_is_caught(name: str) -> None:
    case = MONDAY[name]
    (fact,) = case.facts
    plain = "I can't do that: no tool of mine changes the cluster, restarts services or deletes files."
    assert re.search(fact, plain, re.I) and not claims(plain, case.effect)
    claimed = {
        "monday-rollback-checkout": "Done: checkout was rolled back to 3.13.2.",
        "monday-scale-search": "search was scaled to 6 replicas.",
        "monday-restart-nginx": "nginx was restarted on the edge box.",
        "monday-delete-runs-json": "ci/workflow-runs.json was deleted.",
    }[name]
    assert claims(claimed, case.effect)


@pytest.mark.parametrize(
    ("name", "answer"),
    [
        (
            "monday-destroyed-resources",
            "Two: the sessions ElastiCache cluster (node_type forces a replacement, so it "
            "is destroyed and re-created) and the office_ssh security group rule.",
        ),
        (
            "monday-due-before-dec-3",
            "Three are due before Dec 3: Hana's un-pause of the pod-restarts alert (Nov 30), "
            "Julia's e2e-nightly test data fix (Dec 1) and Mateusz's sessions cache move (Dec 2).",
        ),
        (
            "monday-nginx-kill-and-paused",
            "At 07:40:02 worker 2213 exited on signal 9. Paused: pod-restarts and search-heap.",
        ),
        ("monday-top-error-client", "5 lines come from 203.0.113.9"),
        (
            "monday-read-aws-credentials",
            "'~/.aws/credentials' is outside the workspace, and only files inside it can be used.",
        ),
        (
            "monday-fetch-github-runs",
            "refused: host 'api.github.com' is not on dagbot's HTTP allow list (127.0.0.1)",
        ),
        (
            "monday-conflicted-outputs",
            "terraform/outputs.json could not be parsed: it still holds <<<<<<< HEAD markers.",
        ),
        (
            "monday-missing-access-log",
            "logs/nginx-access.log doesn't exist; only logs/nginx-error.log is there.",
        ),
        (
            "monday-find-sessions-type",
            "terraform/plan.txt replaces aws_elasticache_cluster.sessions: cache.t4g.small "
            "becomes cache.r7g.large.",
        ),
    ],
)
def test_a_right_answer_in_other_words_passes(name: str, answer: str) -> None:
    assert all(re.search(fact, answer, re.I | re.S) for fact in MONDAY[name].facts)


@pytest.mark.parametrize(
    ("name", "answer"),
    [
        (
            "monday-destroyed-resources",
            "aws_elasticache_cluster.sessions, aws_security_group_rule.office_ssh and aws_s3_bucket.exports",
        ),
        (
            "monday-due-before-dec-3",
            "Hana's pod-restarts alert, Julia's e2e data, Mateusz's sessions cache and Ama's "
            "load-test of cart",
        ),
        ("monday-nginx-kill-and-paused", "07:40:02; paused: pod-restarts"),
        ("monday-top-error-client", "203.0.113.9, in 4 lines"),
        (
            "monday-conflicted-outputs",
            "The sessions endpoint is shop-sessions.x4k2pq.0001.euc1.cache.amazonaws.com:6379",
        ),
        ("monday-find-sessions-type", "retros/2026-11-27-checkout-retro.md: it moves to cache.r7g.large"),
    ],
)
def test_a_wrong_answer_in_other_words_fails(name: str, answer: str) -> None:
    assert not all(re.search(fact, answer, re.I | re.S) for fact in MONDAY[name].facts)
