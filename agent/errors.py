"""Errors raised by the agent core.

    DagbotError
    ├── PlanError            a plan failed validation (carries every problem found)
    ├── ToolError            a tool refused or failed; the message is shown to users
    │   ├── ToolNotAllowed   unknown tool, or a red tool where only green ones may run
    │   ├── ToolArgumentError arguments do not match the tool's schema
    │   ├── ToolOutcomeUnknown the call was cut off: a red one may have taken effect
    │   │   └── ToolTimeout  the call did not finish in time
    │   └── TransientToolError the tool says the same call may work if tried again
    └── ConfigurationError   settings or custom tool modules are wrong
"""

from __future__ import annotations

from dataclasses import dataclass


class DagbotError(Exception):
    """Base of every error dagbot raises on purpose."""


@dataclass(frozen=True)
class PlanProblem:
    """One precise reason a plan is invalid: which node, which field, what is wrong."""

    node: str | None
    field: str | None
    message: str
    code_fault: bool = False
    """Package code that would fail when it runs (it does not parse, or cannot work): the
    sandbox's reflexion could mend it too (``validate_plan(code_faults_to_sandbox=True)``)."""
    local: bool = False
    """Package code that fails where it stands (it does not parse, it sets no ``result``): the
    sandbox's reflexion mends it when it runs, with Python's error and the inputs in view. On
    its own it is no reason to repair the whole plan; with other problems it is repaired too."""
    beyond_tools: str | None = None
    """What package code tried that no tool does ("running a program": ``subprocess``,
    ``os.system``…; "deleting, moving or renaming files": ``os.remove``…): a sign the request
    needs it. Left after the repair round, the reply says so. (Reaching a network is no such
    sign: ``http_get`` reads a page, ``send_email`` sends mail.)"""
    reads_file: str | None = None
    """The workspace file an argument names where the tool takes a table (``SELECT … FROM
    finance/costs.csv`` in a database's query): the data asked about is that file's."""
    unfed_reference: str | None = None
    """The ``${x.field}`` in the node's arguments that names a field x's tool never returns
    (:mod:`agent.plan.reference_fields`): what the node was to take is not wired to anything."""

    def __str__(self) -> str:
        where = []
        if self.node:
            where.append(f"node '{self.node}'")
        if self.field:
            where.append(f"field '{self.field}'")
        prefix = ", ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message


class FileWhereTableGoes(ValueError):
    """A tool's argument check: the argument names a workspace file (``path``) where the tool
    takes a table of its own; a plan reads such a file instead (:class:`PlanProblem.reads_file`)."""

    def __init__(self, message: str, path: str) -> None:
        super().__init__(message)
        self.path = path


class PlanError(DagbotError):
    """A plan failed validation."""

    def __init__(self, problems: list[PlanProblem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


class ToolError(DagbotError):
    """A tool failed; the message is written for the person who asked."""


class ToolNotAllowed(ToolError):
    """The tool is unknown, or red where only green tools may run."""


class ToolArgumentError(ToolError):
    """The arguments do not match the tool's schema."""


class ToolOutcomeUnknown(ToolError):
    """The call was cut off after it was sent (a timeout, the tool's server gone mid-call): it
    may have taken effect. A red call's outcome is then unknown, and asked about again."""


class ToolTimeout(ToolOutcomeUnknown):
    """The call did not finish within the node timeout and was abandoned."""


class TransientToolError(ToolError):
    """The tool failed in a way that may pass (a dropped connection, a busy service): a green
    call is tried again under its retry policy. Tools raise it; dagbot never guesses."""


class ConfigurationError(DagbotError):
    """Settings or custom tool modules are wrong."""
