"""The demo joiner's answers, written from the results in its prompt (pure functions).

The joiner prompt lists each node as ``- id: done → output`` or ``- id: status — error``,
with long outputs clipped; the writers read what they need with patterns that survive the
clipping, so every answer reports what the tools returned and what people decided.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agent.model.untrusted import without_wrappers
from infra.playground.demo.examples import EXAMPLES, Example

_LINE = re.compile(r"^- ([a-z][a-z0-9_]*): (\w+)(?: → (.*)| — (.*))?$", re.M)
_USER = re.compile(r"\bby (U[A-Z0-9]{2,})\b")


@dataclass(frozen=True)
class NodeOutcome:
    status: str
    output: str = ""
    error: str = ""

    @property
    def done(self) -> bool:
        return self.status == "done"

    def value(self) -> Any:
        """The output as JSON when it was not clipped, else the text."""
        try:
            return json.loads(self.output)
        except ValueError:
            return self.output

    def objects(self, key: str) -> list[dict[str, Any]]:
        """The flat JSON objects in the output that have ``key`` (each once), even when the
        output as a whole was clipped or holds them as escaped text too."""
        found: dict[str, dict[str, Any]] = {}
        for candidate in re.findall(r"\{[^{}]*\}", self.output.replace('\\"', '"')):
            try:
                obj = json.loads(candidate)
            except ValueError:
                continue
            if isinstance(obj, dict) and key in obj:
                found.setdefault(str(obj[key]), obj)
        return list(found.values())

    def number(self, name: str) -> str | None:
        match = re.search(rf'\\?"{re.escape(name)}\\?": ?([0-9.]+)', self.output)
        return match.group(1) if match else None


@dataclass(frozen=True)
class Edited:
    """A red call an approver edited before approving it: what it ran with, and who edited it."""

    args: dict[str, Any]
    by: str


_EDITED = re.compile(r"^- ([a-z][a-z0-9_]*): .* — not as planned: it ran as [a-z0-9_]+\((\{.*\})\), "
                     r"edited by (\S+)$", re.M)


def parse_edits(text: str) -> dict[str, Edited]:
    """The edited calls the joiner prompt's "Changes made" lists (``— not as planned: it ran as
    tool({...}), edited by U…``)."""
    edits = {}
    for match in _EDITED.finditer(text):
        try:
            args = json.loads(match.group(2))
        except ValueError:
            args = {}
        edits[match.group(1)] = Edited(args if isinstance(args, dict) else {}, match.group(3))
    return edits


def parse_results(text: str) -> dict[str, NodeOutcome]:
    """(A tool's output is read as the prompt shows it, less its untrusted-content marks.)"""
    return {m.group(1): NodeOutcome(m.group(2), (m.group(3) or "").strip(), (m.group(4) or "").strip())
            for m in _LINE.finditer(without_wrappers(text))}


def mention_users(text: str) -> str:
    return _USER.sub(lambda m: f"by <@{m.group(1)}>", text)


def mention(user: str) -> str:
    return f"<@{user}>" if re.fullmatch(r"U[A-Z0-9]{2,}", user) else user


def unknown_request() -> str:
    # (not the test alert's: nobody types it, and its figures are nowhere in this run's results)
    listed = "\n".join(f"- {e.title}: _{e.request}_" for e in EXAMPLES if not e.alert)
    return ("I'm dagbot's **demo model**, so I only know the example requests:\n"
            f"{listed}\n\nTo plan anything else, connect a model and start dagbot again: `make model` "
            "assembles a small one that runs on this machine (no key, no network once it is there; "
            "`make run` then plans with it), or set `OPENAI_API_KEY` (OpenAI), or `OPENAI_BASE_URL` "
            "for an Ollama, vLLM or llama.cpp server.")


def no_earlier_answer() -> str:
    return ("There is no earlier answer in this thread to send yet. Run one of the examples first, "
            "then ask this as a reply in its thread.")


def tool_missing(tools: list[str]) -> str:
    return (f"This dagbot has no `{'`, `'.join(tools)}`: the playground's incident tracker (an MCP "
            "server) is connected only when `DAGBOT_MCP_CONFIG` is not set. Add its entry to your "
            "file to keep it (docs/playground.md).")


def _not_done(results: dict[str, NodeOutcome]) -> list[str]:
    """Steps that failed or were skipped. (A rejected one is not repeated here: dagbot puts a
    line under every answer for each step nobody approved, with who decided and why.)"""
    lines = []
    for node_id, outcome in results.items():
        if not outcome.done and outcome.status != "rejected":
            lines.append(f"- `{node_id}` {outcome.status}: {mention_users(outcome.error)}")
    return ["**Not done**", *lines] if lines else []


def _parallel(results: dict[str, NodeOutcome]) -> list[str]:
    lines = ["**Service health**"]
    status = results.get("status")
    if status and status.done:
        for service in status.objects("name"):
            state = service.get("status", "?")
            note = f" ({service['note']})" if service.get("note") else ""
            lines.append(f"- {service['name']}: " + ("ok" if state == "ok" else f"**{state}**{note}"))
    incidents = results.get("incidents")
    if incidents and incidents.done:
        listed = [f"{i['id']} {i.get('title', '')} ({i.get('severity', '?')}, owner {i.get('owner', '?')})"
                  for i in incidents.objects("id")]
        lines.append("**Open incidents**: " + ("; ".join(listed) or "none"))
    oncall = results.get("oncall")
    if oncall and oncall.done:
        people = re.findall(r"- (Primary|Secondary): (\w+)", oncall.output)
        if people:
            lines.append("**On call**: " + ", ".join(f"{who} ({role.lower()})" for role, who in people))
    return lines


def _package(results: dict[str, NodeOutcome]) -> list[str]:
    counts = results.get("error_counts")
    if not counts or not counts.done:
        return []
    value = counts.value()
    if isinstance(value, dict) and value:
        listed = ", ".join(f"{service} {count}" for service, count in value.items())
        return [f"Errors in `logs/app.log` per service: {listed}.",
                "The package's first version crashed on the log's blank and wrapped lines; "
                "reflexion rewrote it and the second attempt succeeded."]
    return [f"The package returned: {counts.output}"]


def _approval(results: dict[str, NodeOutcome]) -> list[str]:
    lines = []
    publish = results.get("publish")
    if publish and publish.done:
        written = publish.number("bytes_written")
        lines.append(f"Published the 2.4.0 release notes to `releases/2.4.0.md` ({written} bytes).")
    metrics = results.get("metrics")
    if metrics and metrics.done:
        lines.append(f"Live error rate: {metrics.number('error_rate_pct')} % "
                     f"(p99 {metrics.number('p99_ms')} ms, {metrics.number('requests_per_s')} requests/s).")
    return lines


def _followup(results: dict[str, NodeOutcome]) -> list[str]:
    mail = results.get("mail")
    if mail and mail.status == "rejected":
        return ["I did **not** email it."]
    if not mail or not mail.done:
        return []
    sent = mail.value()
    to = sent.get("sent_to") if isinstance(sent, dict) else None
    return [f"Emailed it to {', '.join(to) if to else 'its recipient'}."]


def _summary(results: dict[str, NodeOutcome]) -> list[str]:
    lines = []
    summary, report = results.get("summary"), results.get("report")
    if report and report.status == "rejected":
        lines.append("I did **not** write `report.md`.")
    if report and report.done:
        written = report.number("bytes_written")
        lines.append(f"Wrote the summary of `logs/app.log` to `report.md` ({written} bytes).")
    value = summary.value() if summary and summary.done else None
    if isinstance(value, dict) and isinstance(value.get("levels"), dict):
        levels = ", ".join(f"{n} {level}" for level, n in sorted(value["levels"].items()))
        errors = ", ".join(f"{service} {n}" for service, n in (value.get("errors") or {}).items())
        lines.append(f"**{value.get('lines')} log lines**: {levels}.")
        lines.append(f"**Errors per service**: {errors or 'none'}.")
    return lines


def _approve_all(results: dict[str, NodeOutcome]) -> list[str]:
    lines = []
    handover, mail = results.get("handover"), results.get("mail")
    if handover and handover.done:
        written = handover.number("bytes_written")
        lines.append(f"Wrote the on-call handover to `notes/handover.md` ({written} bytes).")
    if mail and mail.done:
        lines.append("Emailed it to oncall@example.com.")
    return lines


def _reject(results: dict[str, NodeOutcome], edits: dict[str, Edited]) -> list[str]:
    lines = []
    listing = results.get("logs")
    size = listing.number("size") if listing and listing.done else None
    clear = results.get("clear")
    edited = edits.get("clear")
    if clear and clear.done and edited and (edited.args.get("content") or edited.args.get("append")):
        path = edited.args.get("path", "logs/app.log")
        written = clear.number("bytes_written")
        how = "Appended" if edited.args.get("append") else "Replaced the content of"
        to = " to" if edited.args.get("append") else ""
        lines.append(f"{how}{to} `{path}` with the text {mention(edited.by)} edited in "
                     f"({written} bytes): it was **not** cleared.")
    elif clear and clear.done:
        lines.append("Cleared `logs/app.log`" + (f" (it was {size} bytes)." if size else "."))
    elif clear and clear.status == "rejected":
        lines.append("I did **not** clear `logs/app.log`" + (f" ({size} bytes)" if size else "") + ".")
    return lines


def _tracker(results: dict[str, NodeOutcome]) -> list[str]:
    listed = results.get("open")
    if not listed or not listed.done:
        return []
    found = [f"- {i['id']} {i.get('title', '')} ({i.get('severity', '?')}, owner {i.get('owner', '?')}, "
             f"{i.get('notes', 0)} note(s))" for i in listed.objects("id")]
    return ["**Open in the incident tracker**", *found] if found else ["Nothing is open in the tracker."]


def _tracker_note(results: dict[str, NodeOutcome]) -> list[str]:
    lines = []
    incident, note = results.get("incident"), results.get("note")
    shown = incident.value() if incident and incident.done else None
    about = shown.get("structured") if isinstance(shown, dict) else None
    if isinstance(about, dict) and about.get("id"):
        lines.append(f"{about['id']} {about.get('title', '')} is **{about.get('status', '?')}** "
                     f"(owner {about.get('owner', '?')}).")
    added = note.objects("added") if note and note.done else []
    if added:
        lines.append(f"Added the note to {added[0].get('id', 'the incident')} in the incident tracker "
                     f"(it has {added[0].get('notes', '?')} notes now).")
    elif note and note.status == "rejected":
        lines.append("I did **not** add the note.")
    return lines


def _alert(results: dict[str, NodeOutcome]) -> list[str]:
    lines = ["**What I found** (an alert's run only reads: nothing was changed)"]
    status = results.get("status")
    for service in status.objects("name") if status and status.done else []:
        if service["name"] == "checkout":
            note = f", {service['note']}" if service.get("note") else ""
            lines.append(f"- Status page: checkout is **{service.get('status', '?')}** "
                         f"(p99 {service.get('p99_ms', '?')} ms{note}).")
    errors = results.get("errors")
    matches = errors.objects("text") if errors and errors.done else []
    found = [parts for m in matches if len(parts := str(m.get("text", "")).split(" ", 3)) == 4]
    if found:
        counts: dict[str, int] = {}
        for _, _, source, _ in found:
            counts[source] = counts.get(source, 0) + 1
        stamp, _, source, message = found[0]
        lines.append(f"- Errors in `logs/app.log`: {', '.join(f'{s} {n}' for s, n in counts.items())}; "
                     f"the first at {stamp[11:19]} from {source}: `{message}`.")
    oncall = results.get("oncall")
    people = re.findall(r"- (Primary): (\w+)", oncall.output) if oncall and oncall.done else []
    if people:
        lines.append(f"- On call: {people[0][1]} (primary).")
    runbook = results.get("runbook")
    steps = re.findall(r"\d\. ([^\\\n\"]+)", runbook.output) if runbook and runbook.done else []
    if steps:
        lines.append(f"The runbook (`runbooks/checkout.md`) ends: _{steps[-1].strip()}_ That is a change, "
                     "which an alert's run never makes by itself: a person decides, in this thread.")
    return lines


_WRITERS: dict[str, Callable[[dict[str, NodeOutcome]], list[str]]] = {
    "parallel": _parallel, "package": _package, "approval": _approval, "followup": _followup,
    "approve_all": _approve_all, "summary": _summary, "tracker": _tracker, "tracker_note": _tracker_note,
    "alert": _alert,
}


def markdown(lines: list[str]) -> str:
    """Lines as Markdown: a line of its own is a paragraph, consecutive ``- `` lines one list.
    (A line right under a list item would be read as part of that item.)"""
    text = ""
    for previous, line in zip(["", *lines], lines, strict=False):
        both_items = previous.startswith("- ") and line.startswith("- ")
        text += ("\n" if both_items else "\n\n" if text else "") + line
    return text


def _edited(edits: dict[str, Edited]) -> list[str]:
    return [f"- `{node_id}` ran with the arguments {mention(e.by)} edited before approving."
            for node_id, e in edits.items()]


def write_answer(example: Example, results: dict[str, NodeOutcome],
                 edits: dict[str, Edited] | None = None) -> str:
    """The answer to ``example`` from its results; a call an approver edited is told as it ran."""
    edits = edits or {}
    if example.key == "reject":
        lines = _reject(results, edits)
        edits = {k: v for k, v in edits.items() if k != "clear"}
    else:
        lines = _WRITERS[example.key](results)
    lines += _edited(edits) + _not_done(results)
    return markdown(lines) or "The plan ran, but produced nothing to report."
