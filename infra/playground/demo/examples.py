"""The demo's five example requests and the planner replies recorded for them.

Together they show every capability: parallel green reads; a package that fails once in the
sandbox and is healed by reflexion; a red node whose approval waits while the green branches
finish; a follow-up in the same thread that uses the earlier answer; a rejection with a reason.
Only the model's text is recorded here: the plans run through the real engine, validation,
sandbox and approvals, against the demo's own website, workspace and mail sink.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

NOTE = "demo model: it only knows the example requests; set OPENAI_API_KEY for real planning"


@dataclass(frozen=True)
class Example:
    key: str
    title: str
    request: str
    """What the person types (after the slash command, or as a thread reply)."""
    in_thread: bool
    """A follow-up: typed in the thread of an earlier request."""
    plan: dict[str, Any]
    """The recorded planner reply; ``{site}`` stands for the demo website's address."""

    def plan_for(self, site: str, earlier_answer: str = "") -> dict[str, Any]:
        text = json.dumps(self.plan).replace("{site}", site)
        text = text.replace("{earlier_answer}", json.dumps(earlier_answer)[1:-1])
        return dict(json.loads(text))


COUNT_ERRORS_V1 = """\
log = tools.read_file(path='logs/app.log')['content']
counts = {}
for line in log.splitlines():
    stamp, level, service, message = line.split(' ', 3)
    if level == 'ERROR':
        counts[service] = counts.get(service, 0) + 1
result = dict(sorted(counts.items(), key=lambda item: -item[1]))
"""
COUNT_ERRORS_FIXED = """\
log = tools.read_file(path='logs/app.log')['content']
counts = {}
for line in log.splitlines():
    parts = line.split(' ', 3)
    if len(parts) < 4 or not parts[0][:1].isdigit():
        continue  # blank lines and wrapped stack-trace lines carry no level
    stamp, level, service, message = parts
    if level == 'ERROR':
        counts[service] = counts.get(service, 0) + 1
result = dict(sorted(counts.items(), key=lambda item: -item[1]))
"""
"""The reflexion model's recorded rewrite of ``COUNT_ERRORS_V1``."""

RELEASE_NOTES = """\
release = inputs['releases']['json']['releases'][0]
lines = [f"# Release {release['version']} ({release['date']})", '', '## Changes']
lines += [f'- {change}' for change in release['changes']]
if release['breaking']:
    lines += ['', '## Breaking changes'] + [f'- {item}' for item in release['breaking']]
result = '\\n'.join(lines) + '\\n'
"""

EXAMPLES = (
    Example("parallel", "Parallel reads",
            "How are our services doing? Check the status page, the open incidents and who is on call.",
            False, {
                "thought": "Three independent reads: they run in parallel.",
                "nodes": [
                    {"id": "status", "tool": "http_get", "args": {"url": "{site}/status.json"}},
                    {"id": "incidents", "tool": "http_get", "args": {"url": "{site}/incidents.json"}},
                    {"id": "oncall", "tool": "read_file", "args": {"path": "notes/oncall.md"}},
                ]}),
    Example("package", "Package + reflexion",
            "Count the errors in logs/app.log per service.",
            False, {
                "thought": "Read, parse and count are one tightly coupled chain: one package in the sandbox.",
                "nodes": [
                    {"id": "error_counts",
                     "package": {"goal": "count the ERROR lines of logs/app.log per service",
                                 "code": COUNT_ERRORS_V1}},
                ]}),
    Example("approval", "Approval waits alone",
            "Publish the 2.4.0 release notes to releases/2.4.0.md and check the live error rate.",
            False, {
                "thought": "The notes are written after approval; the slow metrics read runs meanwhile.",
                "nodes": [
                    {"id": "releases", "tool": "http_get", "args": {"url": "{site}/releases.json"}},
                    {"id": "notes", "depends_on": ["releases"],
                     "package": {"goal": "format the newest release as Markdown notes",
                                 "code": RELEASE_NOTES}},
                    {"id": "publish", "tool": "write_file",
                     "why": "Publishes the release notes you asked for.",
                     "args": {"path": "releases/2.4.0.md", "content": "${notes}"}},
                    {"id": "metrics", "tool": "http_get", "args": {"url": "{site}/metrics.json"}},
                ]}),
    Example("followup", "Follow-up in the thread",
            "Now email that summary to oncall@example.com.",
            True, {
                "thought": "The earlier answer is the summary: mail it, after approval.",
                "nodes": [
                    {"id": "mail", "tool": "send_email",
                     "why": "Sends the earlier summary to on-call, as asked.",
                     "args": {"to": "oncall@example.com", "subject": "Service summary from dagbot",
                              "body": "{earlier_answer}"}},
                ]}),
    Example("reject", "Rejection with a reason",
            "Clear logs/app.log to free disk space.",
            False, {
                "thought": "Look at the log's size, and empty it once a human approves.",
                "nodes": [
                    {"id": "logs", "tool": "list_files", "args": {"pattern": "logs/*"}},
                    {"id": "clear", "tool": "write_file",
                     "why": "Empties logs/app.log: its lines are gone for good.",
                     "args": {"path": "logs/app.log", "content": ""}},
                ]}),
)

_WORDS = re.compile(r"[a-z0-9.]+")


def words(text: str) -> set[str]:
    return set(_WORDS.findall(text.lower().replace("/", " ")))


def match_example(request: str) -> Example | None:
    """The example a request asks for: the one sharing most of its words (at least 70 %)."""
    said = words(request)
    best, best_score = None, 0.0
    for example in EXAMPLES:
        expected = words(example.request)
        score = len(said & expected) / len(expected)
        if score > best_score:
            best, best_score = example, score
    return best if best_score >= 0.7 else None


def by_key(key: str) -> Example:
    return next(e for e in EXAMPLES if e.key == key)
