"""The demo's example requests and the planner replies recorded for them.

Together they show every capability: parallel green reads; a package that fails once in the
sandbox and is healed by reflexion; a red node whose approval waits while the green branches
finish; a follow-up in the same thread that uses the earlier answer; a rejection with a reason;
two approvals waiting at once, which one click (Approve all) decides; the playground's own
MCP server (the incident tracker) read at once and written after an approval; and an alert's
investigation (the page's test alert, with green reads only, as an alert route's run may).
Only the model's text is recorded here: the plans run through the real engine, validation,
sandbox and approvals, against the demo's own website, workspace and mail sink.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

NOTE = ("demo model: it only knows the example requests; run `make model` (a local model) or set "
        "OPENAI_API_KEY for real planning")


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
    terminal: bool = False
    """An example of the terminal's (the README's ``dagbot ask``), not offered on the page."""
    alert: bool = False
    """The request of the page's test alert (:mod:`infra.playground.alerts`): asked by its alert
    route, not typed, so not offered as a suggestion."""

    @property
    def mcp_tools(self) -> list[str]:
        """The MCP tools it plans (the incident tracker's, ``server__tool``): a deployment may lack them."""
        return [n["tool"] for n in self.plan["nodes"] if "__" in n.get("tool", "")]

    def plan_for(self, site: str, earlier_answer: str = "", earlier_request: str = "",
                 to: str = "oncall@example.com", incident: str = "INC-142", note: str = "") -> dict[str, Any]:
        text = json.dumps(self.plan).replace("{site}", site)
        text = text.replace("{incident}", incident).replace("{note}", json.dumps(note)[1:-1])
        text = text.replace("{earlier_answer}", json.dumps(earlier_answer)[1:-1])
        text = text.replace("{earlier_subject}", json.dumps(subject_for(earlier_request))[1:-1])
        text = text.replace("{to}", json.dumps(to)[1:-1])
        return dict(json.loads(text))


def subject_for(request: str, limit: int = 70) -> str:
    """A mail's subject for what was asked: its first sentence, on one line, cut at a word."""
    first = re.split(r"(?<=[.?!])\s", " ".join(request.split()), maxsplit=1)[0]
    if len(first) > limit:
        first = first[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "…"
    return f"dagbot: {first[:1].upper()}{first[1:]}" if first else "From dagbot"


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

SUMMARISE_LOGS = """\
log = tools.read_file(path='logs/app.log')['content']
levels, errors = {}, {}
for line in log.splitlines():
    parts = line.split(' ', 3)
    if len(parts) < 4 or not parts[0][:1].isdigit():
        continue  # blank lines and wrapped stack-trace lines carry no level
    stamp, level, service, message = parts
    levels[level] = levels.get(level, 0) + 1
    if level == 'ERROR':
        errors[service] = errors.get(service, 0) + 1
errors = dict(sorted(errors.items(), key=lambda item: -item[1]))
counted = ', '.join(f'{n} {level}' for level, n in sorted(levels.items()))
text = ['# Summary of logs/app.log', '', f"{sum(levels.values())} log lines: {counted}",
        '', '## Errors per service', ''] + [f'- {service}: {n}' for service, n in errors.items()]
result = {'lines': sum(levels.values()), 'levels': levels, 'errors': errors,
          'text': '\\n'.join(text) + '\\n'}
"""

TRACKER_NOTE = "payments failed over to the secondary provider at 09:58."

ALERT_REQUEST = ("Investigate CheckoutLatencyHigh on checkout-1:9100: "
                 "checkout p99 is 870 ms, above its 400 ms SLO")
"""The playground's alert route's request for its test alert (``tests/playground/test_alerts.py``
checks that the route makes exactly this of the alert)."""

HANDOVER = ("${oncall.content}\n## Open incidents\n\n- ${incidents.json.open[0].id} "
            "${incidents.json.open[0].title} (${incidents.json.open[0].severity}, "
            "owner ${incidents.json.open[0].owner})\n")

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
                "thought": "The earlier answer is what to send: one mail.",
                "nodes": [
                    {"id": "mail", "tool": "send_email",
                     "why": "Sends the earlier answer to {to}, as asked.",
                     "args": {"to": "{to}", "subject": "{earlier_subject}",
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
    Example("approve_all", "Two approvals: Approve all",
            "Write the on-call handover to notes/handover.md and email it to oncall@example.com.",
            False, {
                "thought": "Read who is on call and the open incidents; then write the note and mail it: "
                           "two changes, each with its own approval.",
                "nodes": [
                    {"id": "oncall", "tool": "read_file", "args": {"path": "notes/oncall.md"}},
                    {"id": "incidents", "tool": "http_get", "args": {"url": "{site}/incidents.json"}},
                    {"id": "handover", "tool": "write_file",
                     "why": "Writes the handover note you asked for.",
                     "args": {"path": "notes/handover.md", "content": HANDOVER}},
                    {"id": "mail", "tool": "send_email",
                     "why": "Mails the handover to on-call, as asked.",
                     "args": {"to": "oncall@example.com", "subject": "On-call handover", "body": HANDOVER}},
                ]}),
    Example("summary", "Summarise the logs (terminal)",
            "Summarise the logs in workspace/ and write the summary to report.md.",
            False, {
                "thought": "Read and summarise the log in one package; writing report.md needs an approval.",
                "nodes": [
                    {"id": "summary",
                     "package": {"goal": "summarise logs/app.log: lines per level and errors per service",
                                 "code": SUMMARISE_LOGS}},
                    {"id": "report", "tool": "write_file", "why": "Writes the summary you asked for.",
                     "args": {"path": "report.md", "content": "${summary.text}"}},
                ]}, terminal=True),
    Example("tracker", "MCP: the incident tracker",
            "What's open in the incident tracker?",
            False, {
                "thought": "One read of the incident tracker (an MCP server), configured green: it runs now.",
                "nodes": [
                    {"id": "open", "tool": "tracker__list_incidents", "args": {"status": "open"}},
                ]}),
    Example("tracker_note", "MCP: a note, approved",
            f"Add a note to INC-142 in the incident tracker saying {TRACKER_NOTE}",
            False, {
                "thought": "Read the incident while the note (a change in the tracker) waits for approval.",
                "nodes": [
                    {"id": "incident", "tool": "tracker__show_incident", "args": {"incident": "{incident}"}},
                    {"id": "note", "tool": "tracker__add_note",
                     "why": "Adds the note you asked for to {incident}: everyone following it sees it.",
                     "args": {"incident": "{incident}", "text": "{note}"}},
                ]}),
    Example("alert", "Test alert: an investigation", ALERT_REQUEST, False, {
                "thought": "An alert's run only reads: the status page, the log's errors, who is on call "
                           "and the checkout runbook, all at once.",
                "nodes": [
                    {"id": "status", "tool": "http_get", "args": {"url": "{site}/status.json"}},
                    {"id": "errors", "tool": "search_files",
                     "args": {"query": "ERROR (checkout|payments) ", "pattern": "logs/*.log", "regex": True}},
                    {"id": "oncall", "tool": "read_file", "args": {"path": "notes/oncall.md"}},
                    {"id": "runbook", "tool": "read_file", "args": {"path": "runbooks/checkout.md"}},
                ]}, alert=True),
)

_WORDS = re.compile(r"[a-z0-9.]+")


def words(text: str) -> set[str]:
    return set(_WORDS.findall(text.lower().replace("/", " ")))


_ADDRESS = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_MAIL_IT = re.compile(r"\b(?:e-?mail|mail|send)\b", re.I)


def address_in(request: str) -> str | None:
    """The first mail address a request names."""
    found = _ADDRESS.search(request)
    return found.group(0).rstrip(".") if found else None


def match_example(request: str) -> Example | None:
    """The example a request asks for: the one sharing most of its words (at least 70 %); else
    "email/send that … to ADDRESS" is the follow-up (to that address)."""
    said = words(request)
    best, best_score = None, 0.0
    for example in EXAMPLES:
        expected = words(example.request)
        score = len(said & expected) / len(expected)
        if score > best_score:
            best, best_score = example, score
    if best_score >= 0.7:
        return best
    if note_in(request):
        return by_key("tracker_note")
    return by_key("followup") if _MAIL_IT.search(request) and address_in(request) else None


_NOTE = re.compile(r"\badd (?:a )?note to (INC-\d+)\b.*?\bsaying:?\s+(.+)", re.I | re.S)


def note_in(request: str) -> tuple[str, str] | None:
    """The incident and the note's text of "add a note to INC-N … saying TEXT"."""
    found = _NOTE.search(request)
    return (found.group(1).upper(), " ".join(found.group(2).split())) if found else None


def by_key(key: str) -> Example:
    return next(e for e in EXAMPLES if e.key == key)


PAGE_EXAMPLES = tuple(e for e in EXAMPLES if not e.terminal and not e.alert)
"""The examples the playground's page offers."""
