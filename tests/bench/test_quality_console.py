"""bench.quality's console set (``--set console``): files and requests of its own (none of the other
sets'), and facts that hold for its files: every number a check expects is computed here again
from the files (command output parsed by its columns, the crontab's fields expanded, the YAML, the
unit and the JSON loaded), and a wrong value, or a filter that let too much through, fails the check."""

from __future__ import annotations

import configparser
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from bench import quality_console as console
from bench.quality import SETS
from tests.bench.quality_sets import (
    assert_answers_meet_checks,
    assert_its_own,
    assert_paths_in_workspace,
    assert_wrong_answers_fail,
)

CONSOLE = {c.name: c for c in console.CASES}
_RELEASE = re.compile(r"^## \[(?P<version>[\d.]+)\] - (?P<date>\d{4}-\d\d-\d\d)$", re.M)


def aligned(text: str) -> list[dict[str, str]]:
    """Rows of command output whose columns start where their header's names do (kubectl,
    docker ps): a header name may hold one space (``NOMINATED NODE``), a cell too (``1 (2d ago)``)."""
    header, *lines = text.splitlines()
    names = re.split(r"\s{2,}", header.strip())
    starts = [header.index(name) for name in names]
    ends = [*starts[1:], None]
    return [{name: line[start:end].strip() for name, start, end in zip(names, starts, ends, strict=True)}
            for line in lines]


def df_rows() -> list[dict[str, str]]:
    """``df -h``'s rows (its numbers are right-aligned: split on blanks, the mount point last)."""
    header, *lines = console.FILES["ops/df-h.txt"].splitlines()
    names = header.replace("Mounted on", "Mounted_on").split()
    return [dict(zip(names, line.split(None, len(names) - 1), strict=True)) for line in lines]


def cron_field(field: str, low: int, high: int) -> list[int]:
    """The values a crontab field (``*``, ``*/15``, ``1-5``, ``0``, lists of those) stands for."""
    values: set[int] = set()
    for part in field.split(","):
        span, _, step = part.partition("/")
        if span == "*":
            first, last = low, high
        elif "-" in span:
            first, last = map(int, span.split("-"))
        else:
            first = last = int(span)
        values |= set(range(first, last + 1, int(step or 1)))
    return sorted(values)


def cron_jobs() -> list[dict[str, Any]]:
    """The crontab's jobs (not its comments or its variables): their fields and command."""
    jobs = []
    for line in console.FILES["ops/crontab"].splitlines():
        if not line.strip() or line.startswith("#") or re.match(r"^\w+=", line):
            continue
        minute, hour, dom, month, dow, command = line.split(None, 5)
        jobs.append({"minute": minute, "hour": hour, "dom": dom, "month": month, "dow": dow, "command": command})
    return jobs


def seconds(duration: str) -> int:
    """A Prometheus duration (``2m``, ``1h``) in seconds."""
    number, unit = re.fullmatch(r"(\d+)([smhd])", duration).groups()  # type: ignore[union-attr]
    return int(number) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[unit]


def alert_rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load(console.FILES["monitoring/alert-rules.yml"])["groups"]
    return [rule for group in groups for rule in group["rules"]]


def hosts() -> list[tuple[str, list[str]]]:
    """The hosts file's live entries (commented-out lines are none): address, names."""
    entries = []
    for line in console.FILES["config/hosts"].splitlines():
        fields = line.split("#", 1)[0].split()
        if fields:
            entries.append((fields[0], fields[1:]))
    return entries


def commits() -> list[dict[str, str]]:
    return [m.groupdict() for m in re.finditer(
        r"^commit (?P<hash>[0-9a-f]{40})\nAuthor: (?P<author>[^<]+?) <[^>]+>\nDate: +(?P<date>.+)\n\n +(?P<subject>.+)$",
        console.FILES["ledger/git-log.txt"], re.M)]


def releases() -> dict[str, dict[str, Any]]:
    """The changelog's releases, newest first: version → date and its bullets by section."""
    text = console.FILES["ledger/CHANGELOG.md"]
    heads = list(_RELEASE.finditer(text))
    found: dict[str, dict[str, Any]] = {}
    for head, after in zip(heads, [*heads[1:], None], strict=True):
        body = text[head.end():after.start() if after else len(text)]
        sections: dict[str, list[str]] = {}
        for part in re.split(r"^### ", body, flags=re.M)[1:]:
            title, _, items = part.partition("\n")
            sections[title.strip()] = re.findall(r"^- (.+)$", items, re.M)
        found[head["version"]] = {"date": head["date"], "sections": sections}
    return found


def unit_service() -> dict[str, str]:
    """The systemd unit's [Service] section."""
    unit = configparser.ConfigParser(interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read_string(console.FILES["deploy/systemd/ledger-worker.service"])
    return dict(unit["Service"])


def deployments() -> list[dict[str, Any]]:
    return list(json.loads(console.FILES["deploy/deployments.json"])["deployments"])


def test_the_console_set_has_files_and_requests_of_its_own() -> None:
    assert SETS["console"].cases is console.CASES and SETS["console"].files is console.FILES
    assert len(CONSOLE) == len(console.CASES) >= 30
    assert len(SETS) - 1 >= 9  # tuning, holdout, dev, data, fresh, unseen, aimed, broad, wide
    assert 10 <= sum(c.quick for c in console.CASES) <= 14
    assert_its_own("console")


def test_each_path_it_names_is_in_its_workspace_unless_it_must_be_missing(tmp_path: Path) -> None:
    assert_paths_in_workspace(tmp_path, "console")
    for case in console.CASES:  # and those without a suffix (ops/crontab, config/hosts), which it skips
        bare = set(re.findall(r"(?<![\w/.~])((?:[\w-]+/)+[\w-]+)(?![\w./-])", " ".join(case.turns)))
        assert bare <= console.FILES.keys(), (case.name, bare)
    # what the discovery must find is in one file only
    assert [path for path, text in console.FILES.items() if "ledger-app-3" in text] == ["config/hosts"]


def test_its_cut_short_json_does_not_parse_and_its_other_files_do() -> None:
    with pytest.raises(json.JSONDecodeError):
        json.loads(console.FILES["ops/nodes.json"])
    pods = aligned(console.FILES["ops/pods-wide.txt"])
    assert len(pods) == 10 and all(re.fullmatch(r"\d+/\d+", p["READY"]) for p in pods)
    assert all(re.fullmatch(r"\d+(?: \(\w+ ago\))?", p["RESTARTS"]) for p in pods)
    containers = aligned(console.FILES["ops/docker-ps.txt"])
    assert len(containers) == 7 and all(re.fullmatch(r"[0-9a-f]{12}", c["CONTAINER ID"]) for c in containers)
    assert all(re.fullmatch(r"\d+%", d["Use%"]) and d["Mounted_on"].startswith("/") for d in df_rows())
    assert len(cron_jobs()) == 6
    assert unit_service()["RestartSec"] == "15" and unit_service()["User"] == "ledger"
    assert len(alert_rules()) == 6 and all(r["labels"]["severity"] in ("page", "ticket") for r in alert_rules())
    assert [c["author"] for c in commits()][:2] == ["Kofi Mensah", "Ines Duarte"]
    assert len(commits()) == console.FILES["ledger/git-log.txt"].count("\ncommit ") + 1
    assert list(releases()) == ["4.12.1", "4.12.0", "4.11.3", "4.11.0"]
    assert len(deployments()) == 4 and all(d["containers"] for d in deployments())
    assert dict(hosts())["10.20.0.22"] == ["ledger-db-2.internal", "ledger-db-2", "pg-replica"]


def computed_answers() -> dict[str, str]:
    """Case → an answer (or file or mail text) written from values computed from the files."""
    pods = aligned(console.FILES["ops/pods-wide.txt"])
    containers = aligned(console.FILES["ops/docker-ps.txt"])
    disks = df_rows()
    jobs = cron_jobs()
    rules = alert_rules()
    authors = Counter(c["author"] for c in commits())
    newest_version, newest = next(iter(releases().items()))

    def restarts(pod: dict[str, str]) -> int:
        return int(pod["RESTARTS"].split()[0])

    def runs_a_day(job: dict[str, Any]) -> int:
        return len(cron_field(job["minute"], 0, 59)) * len(cron_field(job["hour"], 0, 23))

    def requested(resource: str) -> int:
        return sum(d["replicas"] * c[resource] for d in deployments() for c in d["containers"])

    def memory_of(name: str) -> int:
        return sum(d["replicas"] * c["memory_mi"] for d in deployments() if d["name"] == name for c in d["containers"])

    not_running = ", ".join(p["NAME"] for p in pods if p["STATUS"] != "Running")
    full = "\n".join(d["Mounted_on"] for d in disks if int(d["Use%"].rstrip("%")) > 80)
    paging = ", ".join(r["alert"] for r in rules if r["labels"]["severity"] == "page")
    sync_dns = next(j for j in jobs if "sync-dns.sh" in j["command"])
    weekdays = [j["command"] for j in jobs if cron_field(j["dow"], 0, 6) == [1, 2, 3, 4, 5]]
    most_restarted = max(pods, key=restarts)
    full_backup = next(j for j in jobs if "--full" in j["command"])
    day = {0: "Sunday", 1: "Monday", 6: "Saturday"}[cron_field(full_backup["dow"], 0, 6)[0]]
    deadlock = next(c for c in commits() if "deadlock" in c["subject"])
    return {
        "console-total-restarts": str(sum(restarts(p) for p in pods)),
        "console-not-running": not_running,
        "console-pods-per-node": ", ".join(f"{node}: {n}" for node, n in sorted(
            Counter(p["NODE"] for p in pods if p["NODE"] != "<none>").items())),
        "console-mounts-over-80": full.replace("\n", ", "),
        "console-public-containers": ", ".join(c["NAMES"] for c in containers if "0.0.0.0:" in c["PORTS"]),
        "console-sync-dns-runs": f"{runs_a_day(sync_dns)} times a day",
        "console-fastest-alert": min(rules, key=lambda r: seconds(r["for"]))["alert"],
        "console-cpu-total": f"{requested('cpu_m'):,}m",
        "console-worker-memory-share": f"{100 * memory_of('ledger-worker') / requested('memory_mi'):.1f}%",
        "console-commits-per-author": ", ".join(f"{a}: {n}" for a, n in authors.items()),
        "console-subnet-hosts": str(sum(address.startswith("10.20.0.") for address, _ in hosts())),
        "console-full-disks-to-file": full,
        "console-mail-paging-alerts": f"Paging alerts: {paging}",
        "console-mail-memory-total": f"All replicas request {requested('memory_mi'):,} Mi of memory.",
        "console-record-ledger": " ".join(re.findall(r"(\w+) ([\d.]+) in the deploys table.*status (\w+)",
                                                     CONSOLE["console-record-ledger"].turns[0])[0]),
        "console-follow-up-release-mail": f"{newest_version} fixed: " + " ".join(newest["sections"]["Fixed"]),
        "console-follow-up-restarts-node": f"{most_restarted['NAME']} runs on {most_restarted['NODE']}",
        "console-follow-up-weekday-job": ", ".join(weekdays),
        "console-rejected-not-running": "The write was rejected: nothing was written.",
        "console-pg-free": next(d["Avail"] for d in disks if d["Mounted_on"] == "/var/lib/postgresql"),
        "console-full-backup-time": f"{day}s at {int(full_backup['hour']):02d}:{int(full_backup['minute']):02d}",
        "console-backlog-and-concurrency": " and ".join(
            [next(r["expr"].rsplit("> ", 1)[1] for r in rules if r["alert"] == "LedgerQueueBacklog"),
             re.findall(r"--concurrency (\d+)", console.FILES["deploy/systemd/ledger-worker.service"])[0]]),
        "console-deadlock-author-and-release-date": f"{deadlock['author']}; {releases()['4.12.0']['date']}",
        "console-pg-tag-and-vault-ip": " and ".join(
            [next(c["IMAGE"].split(":")[1] for c in containers if c["NAMES"] == "ledger-db"),
             next(address for address, names in hosts() if "vault" in names)]),
        "console-restart-delay": f"{unit_service()['RestartSec']} seconds",
        "console-show-docker": console.FILES["ops/docker-ps.txt"],
        "console-find-decommissioned": next(
            re.findall(r"^#\s*(\S+)\s.*\bledger-app-3\b", line)[0]
            for line in console.FILES["config/hosts"].splitlines() if "ledger-app-3" in line),
    }


def test_every_number_a_console_check_expects_is_computed_from_its_files() -> None:
    answers = computed_answers()
    assert answers["console-total-restarts"] == "20"
    assert answers["console-pods-per-node"] == "node-a: 3, node-b: 4, node-c: 2"
    assert answers["console-not-running"] == "ingest-worker-84f6d9c7b-m5n2k, payments-5c8d7f9b44-x2v9d"
    assert answers["console-mounts-over-80"] == "/var/lib/postgresql, /var/log"
    assert answers["console-public-containers"] == "edge-proxy, grafana"
    assert answers["console-sync-dns-runs"] == "96 times a day"
    assert answers["console-cpu-total"] == "9,150m"
    assert answers["console-worker-memory-share"] == "60.0%"
    assert answers["console-mail-memory-total"] == "All replicas request 10,240 Mi of memory."
    assert answers["console-commits-per-author"] == "Kofi Mensah: 2, Ines Duarte: 3, Yusuf Demir: 1"
    assert answers["console-subnet-hosts"] == "4"
    assert answers["console-follow-up-restarts-node"] == "payments-5c8d7f9b44-x2v9d runs on node-a"
    assert answers["console-full-backup-time"] == "Sundays at 02:00"
    assert answers["console-backlog-and-concurrency"] == "5000 and 8"
    assert answers["console-pg-tag-and-vault-ip"] == "16.4 and 10.20.1.5"
    assert answers["console-restart-delay"] == "15 seconds"
    assert answers["console-find-decommissioned"] == "10.20.0.13"
    assert_answers_meet_checks(console.CASES, answers)
    assert (answers["console-record-ledger"],) == CONSOLE["console-record-ledger"].rows


def test_a_wrong_value_or_a_filter_that_lets_too_much_through_fails_the_checks() -> None:
    wrong = {"console-total-restarts": "4", "console-not-running": "payments-5c8d7f9b44-x2v9d",
             "console-pods-per-node": "node-a: 3, node-b: 3, node-c: 2",
             "console-mounts-over-80": "/var/lib/postgresql, /var/log, /boot/efi",
             "console-public-containers": "edge-proxy, grafana, ledger-db",
             "console-sync-dns-runs": "15", "console-fastest-alert": "LedgerHighErrorRate",
             "console-cpu-total": "2,100m", "console-worker-memory-share": "42.1%",
             "console-commits-per-author": "Kofi: 2, Ines: 2, Yusuf: 1", "console-subnet-hosts": "5",
             "console-full-disks-to-file": "/var/lib/postgresql\n/var/log\n/data/backups",
             "console-mail-paging-alerts": "LedgerHighErrorRate, SettlementWorkerDown",
             "console-mail-memory-total": "2,432 Mi",
             "console-follow-up-release-mail": "4.12.0 added multi-currency settlement",
             "console-follow-up-restarts-node": "node-b", "console-follow-up-weekday-job": "weekly-cost-report.sh",
             "console-pg-free": "462G", "console-full-backup-time": "daily at 02:30",
             "console-backlog-and-concurrency": "0.02 and 8",
             "console-deadlock-author-and-release-date": "Kofi Mensah; 2026-11-12",
             "console-pg-tag-and-vault-ip": "16.4 and 10.20.1.9", "console-restart-delay": "5 seconds",
             "console-find-decommissioned": "10.20.0.12"}
    assert_wrong_answers_fail(console.CASES, wrong)
    too_many_pods = "payments-5c8d7f9b44-x2v9d, ingest-worker-84f6d9c7b-m5n2k, redis-1"
    assert_wrong_answers_fail(console.CASES, {"console-not-running": too_many_pods})
