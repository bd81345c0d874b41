"""Mail to each recipient the results name: one red step per address, each approved on its own.

"Send a reminder to the owner of each open action item in notes/…; their addresses are in
team/directory.yaml", "email each of their owners a heads-up about their cert": the request
asks to send mail and names no address; who gets what is in the results. How many mails there
are is known only once the files are read, so no plan the planner writes beforehand can give
each its own red node, and a small planner bundled the mails into a package, which cannot send
(nightly mail-action-owners, morning mail-followup-owners: nothing sent, nobody asked).

So once a plan has run, when the request asks to send mail, names no address, no step sent
any (and nobody rejected one), and the results hold addresses the request does not:

- a package that finished with the items to mail about (a list of objects or lines, each
  holding one address or belonging to one by the names written with the addresses in what the
  tools returned, :mod:`agent.execution.address_book`; or an object keyed by the addresses) gives
  the mails: dagbot adds one call of the mail tool per address, its text that address's items,
  to the plan that ran. Each asks its approver as any red step: the approver sees the address
  and the text before anything is sent;
- else dagbot adds one package (once a request) that picks those items from the reads that hold
  no address (a directory is who, not what; all the reads when each holds some), its query
  written for the request when the read is a table, and the step above follows when it has run.

Every address and every word of a mail comes from a result; the model writes none of them.

A draft for such a request whose packages stayed broken after the repair round (they tried to
send: ``smtplib``, a red tool called from code; or they do not parse) runs its reads alone
(:func:`mailing_reads`): the listing above is dagbot's to add once they are in (morning
mail-followup-owners: "Ping every owner of a still-open follow-up … by email" ended with the
plan's faults).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from agent.engine.mail_totals import total_lines
from agent.errors import PlanProblem
from agent.execution.address_book import ADDRESS, address_book, owner_of
from agent.plan.asked_changes import reads_of
from agent.plan.format import canonical_node, free_id
from agent.plan.named_files import READ_FILE, is_destination, named_files
from agent.plan.references import referenced_ids
from agent.plan.unmade_changes import as_text
from agent.ports.stores import NodeStatus
from agent.tools.effects import asked_effects
from agent.tools.registry import Risk, ToolRegistry

RECIPIENTS_ID = "mails"
MAILING_READS = "mailing-reads-kept"
"""How a draft run as its reads alone (:func:`mailing_reads`) is recorded among the mends."""
RECIPIENTS_GOAL = (
    "List the items this request picks to mail about, each as its whole row with every column or "
    "field it has (who it belongs to among them), from the inputs; not everyone an input lists. "
    "Request: {request}")
"""The goal of dagbot's package that picks the items (its query written for the request when the
input is a table, sandbox/table_query.py); who gets each is dagbot's to find (:func:`address_book`)."""
_LISTING = RECIPIENTS_GOAL.split(",", 1)[0]
RECIPIENTS_WHY = ("the items the request mails about, picked by a program from the reads; who gets each is "
                  "found by the addresses the results hold, one approved mail per address")
MAIL_WHY = "one mail of those the request asks for, to a recipient the results name"
MOST_MAILS = 20
"""More recipients than this is a mass mailing, not a chat-ops step: dagbot does not plan it."""

_QUESTION = re.compile(r"\?\s*$|^\s*(?:which|what|who|whom|whose|where|when|how|is|are|did|was|were)\b", re.I)
_BODY_KEYS = ("body", "message", "text", "content", "items", "item", "reminder")
"""An item's field that is its text: a mail's body, a Markdown item's ``text`` (sandbox.table_rows)."""
_SUBJECT_KEYS = ("subject", "title")


def asks_recipient_mails(request: str) -> bool:
    """Whether ``request`` asks to send mail and names no address: its recipients are to be
    found (not a question: "how many mails went out?" asks to send nothing)."""
    return "send" in asked_effects(request) and not ADDRESS.search(request) \
        and not _QUESTION.search(request.strip())


def mail_tool(registry: ToolRegistry) -> str | None:
    """The red tool that sends mail and does nothing else, if there is one (``send_email``, not
    ``http_post``)."""
    senders = [name for name in registry.names(Risk.RED)
               if (registry.effects_of(name) or frozenset()) == {"send"}]
    return senders[0] if senders else None


Mail = tuple[str, str | None, str]
"""A mail: its address, its subject (None: the tool's own), its text."""


def mails_of(output: Any, book: Mapping[str, set[str]] | None = None, request: str = "") -> list[Mail] | None:
    """The mails ``output`` lists, each as (address, subject or None, text): its items (a list
    of objects or lines, or such a list as an object's one field) grouped by the one address
    each holds, or else belongs to by ``book`` (:func:`agent.execution.address_book.owner_of`),
    in the order first met, each group's total ending its text when ``request`` asks for one
    (:func:`agent.engine.mail_totals.total_lines`); one per key of an object keyed by
    addresses; or an object's pairs as items (``{"Jonas Berg": "add an alert…"}``), or else the
    object as one item (a row: ``{"owner": "slindqvist", "n": 3}``). None when
    an item belongs to no address, or to several, or says nothing but its address."""
    if isinstance(output, Mapping) and output and all(ADDRESS.fullmatch(str(key)) for key in output):
        mails: list[Mail] = [(str(key), None, as_text(value)) for key, value in output.items()]
        return mails if all(text.strip() for _, _, text in mails) else None
    if isinstance(output, Mapping) and len(output) == 1 and isinstance(next(iter(output.values())), list):
        return mails_of(next(iter(output.values())), book, request)  # {"mails": [...]}, as a package sets it
    pairs = [f"{key}: {as_text(value)}" for key, value in output.items()] if isinstance(output, Mapping) \
        else []
    # keyed by whom or by what ({"Jonas Berg": "add an alert…"}): each pair is an item
    if pairs and all(isinstance(v, str | list) for v in output.values()) and (keyed := mails_of(pairs, book)):
        return keyed
    if pairs and not any(isinstance(v, Mapping | list) for v in output.values()):
        # one row ({"owner": "slindqvist", "n": 3}: whose runs failed, and how many; tuesday
        # mail-clickstream-owner sent nothing): one item
        return mails_of([dict(output)], book, request)
    if not isinstance(output, list) or not output:
        return None
    grouped: dict[str, list[Mail]] = {}
    items: dict[str, list[Any]] = {}
    for item in output:
        mail = _mail(item, book or {})
        if mail is None or not mail[2].strip():
            return None
        grouped.setdefault(mail[0].lower(), []).append(mail)
        items.setdefault(mail[0].lower(), []).append(item)
    totals: list[str] = total_lines(list(items.values()), request) or [""] * len(grouped)
    return [(group[0][0], group[0][1], "\n".join(text for text in [*_lines(group), total] if text))
            for group, total in zip(grouped.values(), totals, strict=True)]


def _lines(group: list[Mail]) -> list[str]:
    """The texts of one recipient's items, each on a line of its own when there are several
    (a row's fields joined by commas: its lines would run into the next row's)."""
    texts = [text for _, _, text in group]
    return texts if len(texts) == 1 else [", ".join(line.strip() for line in t.splitlines() if line.strip())
                                          for t in texts]


def _pointed_mail(output: Any, address: str) -> list[Mail] | None:
    """The one mail of ``output``'s items to ``address``, whom a follow-up's "them" means, when
    no item names anyone (:func:`mails_of` found no mails): "email them api-3's address from
    edge/haproxy.cfg", after an answer that named the incident's assignee, listed api-3's row,
    which holds no address (weekend follow-up-mail-assignee: nothing was sent)."""
    items = output if isinstance(output, list) else [output] if isinstance(output, Mapping | str) else []
    texts = []
    for item in items:
        if isinstance(item, Mapping):
            item = {key: value for key, value in item.items()
                    if key not in _ROW_MARKS and value not in (None, "")}
        text = as_text(item).strip()
        if not text or ADDRESS.search(text):
            return None  # (an item that names an address is another's: not for "them")
        texts.append(text)
    if not texts:
        return None
    return [(address, None, "\n".join(_lines([(address, None, text) for text in texts])))]


def _mail(item: Any, book: Mapping[str, set[str]]) -> Mail | None:
    if isinstance(item, str):
        found = set(ADDRESS.findall(item))
        if found:  # (the text around the address it holds: "jonas@example.com: Add a saturation alert")
            if len(found) != 1:
                return None
            address = found.pop()
            return address, None, item.replace(address, "").strip(" \t:;,-<>()")
        owner = owner_of(item, book)
        return None if owner is None else (owner, None, item.strip())
    if not isinstance(item, Mapping):
        return None
    addresses = {match for value in item.values() for match in ADDRESS.findall(as_text(value))}
    address = addresses.pop() if len(addresses) == 1 else None if addresses else owner_of(as_text(item), book)
    if address is None:
        return None
    subject = next((str(item[key]) for key in _SUBJECT_KEYS if isinstance(item.get(key), str) and item[key]),
                   None)
    body_key = next((key for key in _BODY_KEYS if item.get(key)), None)
    if body_key is not None:
        return address, subject, as_text(item[body_key])
    rest = {key: value for key, value in item.items() if key not in _SUBJECT_KEYS and key not in _ROW_MARKS
            and value not in (None, "") and not ADDRESS.fullmatch(as_text(value).strip())}
    return address, subject, as_text(rest)


_ROW_MARKS = frozenset({"done", "open", "section", "line", "line_number"})
"""A table row's columns that say where it stands or whether it is ticked: no part of a mail."""


def recipient_mails_plan(plan: Mapping[str, Any], results: Mapping[str, Mapping[str, Any]], request: str,
                         registry: ToolRegistry,
                         pointed: Sequence[str] = ()) -> tuple[dict[str, Any], str | None] | None:
    """``plan`` with what the mails to the recipients the results name still need
    (:mod:`this module <agent.engine.recipient_mails>`): one mail-tool node per mail a finished
    package lists, with ``None``; or, unless dagbot listed them once already, the package that
    lists them, with its id. None when the request names its recipients, a red
    step ran (done or failed: it may have sent) or was rejected, or the results hold no address.
    ``pointed``: the addresses a follow-up's "them" means (the answer before named them); when
    it is one and the listed items name nobody, they are that one's mail."""
    tool = mail_tool(registry)
    if tool is None or not asks_recipient_mails(request):
        return None
    nodes = [dict(node) for node in plan.get("nodes") or [] if isinstance(node, Mapping)]
    red = set(registry.names(Risk.RED))
    statuses = {str(node_id): result.get("status") for node_id, result in results.items()}
    if any(node.get("tool") in red and statuses.get(str(node.get("id"))) in _SENT for node in nodes):
        return None  # a change was made, may have been, or was refused: not dagbot's to redo
    done = [node for node in nodes if statuses.get(str(node.get("id"))) == NodeStatus.DONE.value
            and node.get("tool") not in red]
    outputs = {str(node["id"]): (results.get(str(node["id"])) or {}).get("output") for node in done}
    by_id = {str(node["id"]): node for node in done}
    named = {address.lower() for node_id, output in outputs.items() if "package" not in by_id[node_id]
             for address in ADDRESS.findall(json.dumps(output, default=str))}  # (read, not computed)
    them = [address.lower() for address in pointed][:2]
    ids = {str(node.get("id")) for node in nodes}
    if not named and ((reading := _reading_named_files(plan, nodes, done, request, registry)) is not None
                      or len(them) != 1):
        return reading  # (the files named read first; with them read and no address, "them" is who)
    named |= set(them) if len(them) == 1 else set()
    book = address_book(output for node_id, output in outputs.items() if "package" not in by_id[node_id])
    for node in reversed(done):
        output = outputs[str(node["id"])] if "package" in node else None
        if "package" in node and (mails := mails_of(output, book, request) or (
                _pointed_mail(output, them[0]) if len(them) == 1 and _listed([node]) else None)) \
                and len(mails) <= MOST_MAILS and {a.lower() for a, _, _ in mails} <= named:
            added = []
            for address, subject, text in mails:
                node_id = free_id("mail", ids)
                ids.add(node_id)
                args = _args(registry, tool, address, subject, text)
                added.append({"id": node_id, "tool": tool, "args": args, "depends_on": [str(node["id"])],
                              "why": MAIL_WHY})
            return {**_without_answer(plan), "nodes": [*nodes, *added]}, None
    if _listed(nodes):
        return None  # listed once, and no mails came of it
    items = [node_id for node_id, output in outputs.items() if "package" not in by_id[node_id]
             and not ADDRESS.search(json.dumps(output, default=str))]
    files_named = set(_files_to_read(request))
    named_reads = [node_id for node_id, node in by_id.items() if node.get("tool") == READ_FILE
                   and (node.get("args") or {}).get("path") in files_named]
    if named_reads and not set(named_reads) & set(items):
        # (every file the request names holds addresses: the items are there, beside their owners'
        # addresses; monday mail-open-actions listed from two searches that found nothing, never
        # from the retro whose action items name their owners' addresses)
        items = [*named_reads, *items]
    package = _listing(request, ids, items or [str(node["id"]) for node in done])
    return {**_without_answer(plan), "nodes": [*nodes, package]}, str(package["id"])


def _listing(request: str, taken: set[str], inputs: list[str]) -> dict[str, Any]:
    """dagbot's package that lists the mails ``request`` asks for from ``inputs``, with an id none
    of ``taken`` has."""
    return {"id": free_id(RECIPIENTS_ID, taken),
            "package": {"goal": RECIPIENTS_GOAL.format(request=request.strip()), "code": ""},
            "depends_on": inputs, "why": RECIPIENTS_WHY}


def _reading_named_files(plan: Mapping[str, Any], nodes: list[dict[str, Any]], done: list[dict[str, Any]],
                         request: str, registry: ToolRegistry) -> tuple[dict[str, Any], str | None] | None:
    """``plan`` with a read of each file the request names that no finished node read, and the
    package that lists the mails over every finished read, with its id: evening
    mail-action-owners' plan listed the meeting notes and ran packages that failed, so no result
    held an address. None when every named file was read (the results hold no address, then),
    dagbot listed the mails once already, or no tool reads files."""
    read = {str((node.get("args") or {}).get("path")) for node in done if node.get("tool") == READ_FILE}
    unread = [path for path in _files_to_read(request) if path not in read]
    if not unread or READ_FILE not in registry or _listed(nodes):
        return None
    ids = {str(node.get("id")) for node in nodes}
    reads = [node.model_dump(exclude_none=True, exclude_defaults=True) for node in reads_of(unread, ids)]
    read_ids = [str(node["id"]) for node in reads]
    package = _listing(request, ids | set(read_ids), read_ids)
    return {**_without_answer(plan), "nodes": [*nodes, *reads, package]}, str(package["id"])


def _listed(nodes: Sequence[Mapping[str, Any]]) -> bool:
    """Whether dagbot added its listing package to the plan once already."""
    return any(str((node.get("package") or {}).get("goal") or "").startswith(_LISTING) for node in nodes)


_SENT = frozenset({NodeStatus.DONE.value, NodeStatus.REJECTED.value, NodeStatus.FAILED.value})
"""A red step with any of these may have changed something, or was refused: never redone."""


def _args(registry: ToolRegistry, tool: str, address: str, subject: str | None, text: str) -> dict[str, Any]:
    """The mail tool's arguments: its first required one the address, its last the text, a
    subject where it takes one (left to the tool's fill-in when the mail has none)."""
    schema = registry.get(tool).json_schema()
    required = list(schema.get("required") or ())
    properties = schema.get("properties") or {}
    to = required[0] if required else "to"
    body = required[-1] if len(required) > 1 else "body"
    args: dict[str, Any] = {**registry.fill_ins_of(tool), to: address, body: text}
    if subject and "subject" in properties:
        args["subject"] = subject
    return args


def _without_answer(plan: Mapping[str, Any]) -> dict[str, Any]:
    """The plan's fields but its nodes and its answer sentence (written before the mails were)."""
    return {key: value for key, value in plan.items() if key not in ("nodes", "answer")}


def mailing_reads(draft: Any, problems: list[PlanProblem], request: str, registry: ToolRegistry,
                  thread_files: Sequence[str] = ()) -> dict[str, Any] | None:
    """The draft's green tool nodes alone, for a request that mails recipients the results name
    (:func:`asks_recipient_mails`), when every problem left after the repair round is a
    package's or a mail step's (the mails are dagbot's to plan once the files are read: a
    ``send_email`` to ``${billing.total}``, a field no read has, weekend mail-cost-owners) and no
    tool node goes on from a package; None otherwise. The files the request names that the
    draft does not read are read too, and a follow-up's, ``thread_files`` (the files the thread's
    request before named): "email each of their owners a heads-up about their cert", after a
    question about pki/certificates.json, was drafted as a listing of it and a package that used
    smtplib."""
    nodes = draft.get("nodes") if isinstance(draft, dict) else None
    mail = mail_tool(registry)
    if mail is None or not asks_recipient_mails(request) or not isinstance(nodes, list):
        return None
    canonical = [canonical_node(node) for node in nodes]
    if not all(isinstance(node, dict) and node.get("id") for node in canonical):
        return None
    packages = {str(node["id"]) for node in canonical if "package" in node}
    mails = {str(node["id"]) for node in canonical if node.get("tool") == mail}
    tools = [node for node in canonical if "package" not in node and str(node["id"]) not in mails]
    green = set(registry.names(Risk.GREEN))
    if not packages | mails or not problems or any(p.node not in packages | mails for p in problems) \
            or any(node.get("tool") not in green for node in tools):
        return None
    if any((referenced_ids(node) | set(map(str, node.get("depends_on") or []))) & packages
           or referenced_ids(node) & mails for node in tools):
        return None  # a read goes on from a package (or takes a mail's result): its input would be gone
    tools = [{**node, "depends_on": [d for d in node["depends_on"] if str(d) not in mails]}
             if node.get("depends_on") else node for node in tools]  # (waiting for a mail: no more)
    read = {str((node.get("args") or {}).get("path")) for node in tools if node.get("tool") == READ_FILE}
    wanted = [*_files_to_read(request), *thread_files]
    unread = list(dict.fromkeys(path for path in wanted if path not in read)) if READ_FILE in registry else []
    if not tools and not unread:
        return None
    ids = {str(node["id"]) for node in canonical}
    added = [node.model_dump(exclude_none=True, exclude_defaults=True) for node in reads_of(unread, ids)]
    return {"nodes": [*tools, *added]}


def _files_to_read(request: str) -> list[str]:
    """The workspace files ``request`` names as files to read (not as where something goes)."""
    return [path for path in sorted(named_files(request)) if not is_destination(path, request)]


def mails_reply(plan: Mapping[str, Any], results: Mapping[str, Mapping[str, Any]]) -> str | None:
    """dagbot's own answer once the mails it planned have run, one line each: to whom, what it
    said, and whether it was sent, not approved or failed (and why). The mails are dagbot's
    facts, so their answer is too: a joiner asked to word them said each recipient was sent
    every other's item (morning mail-followup-owners). None when the plan has no such mail, or
    one has not run."""
    mails = [node for node in plan.get("nodes") or []
             if isinstance(node, Mapping) and node.get("why") == MAIL_WHY]
    ran = [(node, results.get(str(node.get("id")))) for node in mails]
    if not ran or any(result is None for _, result in ran):
        return None
    lines = []
    for node, result in ran:
        assert result is not None
        args = node.get("args") or {}
        address = next((str(v) for v in args.values() if isinstance(v, str) and ADDRESS.fullmatch(v)), "?")
        body = next((value for key, value in reversed(list(args.items()))
                     if key != "subject" and isinstance(value, str) and not ADDRESS.fullmatch(value)), "")
        text = " / ".join(line.strip() for line in body.splitlines() if line.strip())
        status = result.get("status")
        outcome = {"done": "sent", "rejected": "not sent: not approved", "skipped": "not sent"}.get(
            str(status), f"not sent: {status}")
        error = str(result.get("error") or "").strip()
        lines.append(f"• {address}: {outcome}{f' ({error})' if error and status != 'done' else ''} — {text}")
    sent = sum(1 for _, result in ran if result and result.get("status") == "done")
    head = f"Sent {sent} of {len(ran)} mails, one to each recipient the results name:" if sent != len(ran) \
        else f"Sent {sent} mail{'s' if sent != 1 else ''}, one to each recipient the results name:"
    return "\n".join([head, *lines])
