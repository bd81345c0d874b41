"""The plan: dagbot's public, documented JSON format (README, "The plan format").

Models only; validation lives in :mod:`agent.validation`, readiness in
:mod:`agent.readiness`, ``${id}`` references in :mod:`agent.references`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

NODE_ID_PATTERN = r"^[a-z][a-z0-9_]{0,31}$"


class PackageSpec(BaseModel):
    """A short Python script bundling a tightly coupled chain, run in the sandbox."""

    model_config = ConfigDict(extra="forbid")

    goal: str = Field(description="What the script must achieve, in one sentence.")
    code: str = Field(
        description=(
            "Python 3. `inputs` maps each dependency id to its output; `tools.NAME(**kw)` calls a"
            " green tool; assign the JSON-serialisable value to `result`."
        )
    )


class PlanNode(BaseModel):
    """One node: exactly one of ``tool`` (a single tool call) or ``package``."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="Unique id matching [a-z][a-z0-9_]{0,31}.")
    tool: str | None = Field(default=None, description="Name of a registered tool.")
    args: dict[str, Any] = Field(
        default_factory=dict,
        description="Tool arguments; '${id}' or '${id.field}' refers to another node's output.",
    )
    package: PackageSpec | None = None
    depends_on: list[str] = Field(default_factory=list)
    why: str | None = Field(
        default=None, description="Why the plan needs this node; shown on approval requests."
    )


class Plan(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Field order is the order a model writes them in: nodes first, so the first ones can start
    # while the rest of the plan is still being generated.
    nodes: list[PlanNode]
    answer: str | None = Field(default=None, description=(
        "Only when the reply is the results in a fixed sentence: that sentence, with '${id}' or"
        " '${id.field}' where results go. The reply is then sent as is, with no second model call."))
    thought: str = Field(default="", description="Optional: why this decomposition, in one sentence.")

    def node(self, node_id: str) -> PlanNode:
        for node in self.nodes:
            if node.id == node_id:
                return node
        raise KeyError(node_id)

    @property
    def ids(self) -> list[str]:
        return [n.id for n in self.nodes]
