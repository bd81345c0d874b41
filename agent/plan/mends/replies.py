"""The reply in the wrong place: a template naming nothing, a reply written as a package, a
reply written before any result."""

from __future__ import annotations

from agent.plan.edges import dependencies
from agent.plan.mends.contract import Draft, Mend, MendContext
from agent.plan.package_code import parses
from agent.plan.references import referenced_ids

REPLY_IDS = frozenset({"answer", "reply", "response", "final_answer", "final_reply"})
"""Ids a model gives a node that is meant as its reply."""


def without_unknown_template(draft: Draft, context: MendContext) -> Draft:
    """A reply template naming no node of the plan: the joiner answers instead."""
    ids = {node.id for node in draft.nodes}
    if draft.answer and referenced_ids(draft.answer) - ids - draft.unparsed:
        return draft.with_answer(None)
    return draft


def reply_package_as_answer(draft: Draft, context: MendContext) -> Draft:
    """A plan whose reply was written as a package's "code", in prose with references
    (``"code": "There are ${count} slow services."``, which is no Python): that text is the
    plan's answer, and the package is left out, when nothing uses it. The plan has no
    ``answer``, or one that is only that package's result (``"answer": "${answer}"``: the dev
    set's follow-up-laggard, whose sentence ran as code and failed every attempt)."""
    only = draft.answer.strip() if draft.answer else ""
    if only and not _only_reference(only):
        return draft
    ids = {node.id for node in draft.nodes}
    used = {dep for node in draft.nodes for dep in dependencies(node) if dep != node.id}
    for node in draft.nodes:
        if not (node.package and node.id.lower() in REPLY_IDS and node.id not in used):
            continue
        if only and only != f"${{{node.id}}}":
            continue
        text = node.package.code.strip()
        refs = referenced_ids(text)
        if refs and refs <= ids - {node.id} and not parses(text):
            return Draft(tuple(n for n in draft.nodes if n is not node), text, draft.unparsed)
    return draft


def _only_reference(answer: str) -> bool:
    """``answer`` is one reference and nothing else (``${answer}``)."""
    refs = referenced_ids(answer)
    return len(refs) == 1 and answer == f"${{{next(iter(refs))}}}"


def without_reply_packages(draft: Draft, context: MendContext) -> Draft:
    """Without a package that has a reply's id (``answer``…) when nothing needs it and the
    plan's reply template uses other nodes' results: the model's reply written a second time,
    as code ("the reply is never a node"), often code that cannot run."""
    if not draft.answer or not referenced_ids(draft.answer):
        return draft
    needed = referenced_ids(draft.answer) | {dep for node in draft.nodes for dep in dependencies(node)
                                             if dep != node.id}
    return draft.with_nodes(node for node in draft.nodes
                            if not (node.package and node.id.lower() in REPLY_IDS and node.id not in needed))


def without_guessed_answer(draft: Draft, context: MendContext) -> Draft:
    """A reply template that uses no result of a plan that has nodes: written before any result
    ran, so a guess; the joiner answers from the results instead."""
    if draft.nodes and draft.answer and not referenced_ids(draft.answer):
        return draft.with_answer(None)
    return draft


UNKNOWN_TEMPLATE = Mend(
    name="unknown-template", fix=without_unknown_template,
    slip="the reply named steps the plan does not have; the reply is written from the results")
REPLY_PACKAGE = Mend(
    name="reply-package", fix=reply_package_as_answer,
    slip="the reply was written as a step's code; it is the reply")
REPLY_PACKAGE_TWICE = Mend(
    name="reply-package-twice", fix=without_reply_packages,
    slip="the reply was written a second time as a step; that step was left out")
GUESSED_ANSWER = Mend(
    name="guessed-answer", fix=without_guessed_answer,
    slip="the reply was written before any result; it is written from the results instead")
