"""Every mend of a model's plan, in the order they run (the registry).

Order matters where one mend's fix is another's input: ids are settled, and the nodes of earlier
runs that the plan reads recalled, and a package's one dependency read under another id renamed,
before anything looks nodes up by id, and a follow-up's path named nowhere is the thread's file
before its searches of that file are computed from it (a follow-up's
``open(inputs['orders']['path'])`` of an earlier read is read as text only once ``orders`` is
back); package code is laid out before its reads are mended; a computed ``${…}`` becomes a
package before a one-item fan-out is judged by who reads it; the reply's place is settled last
among the plan's own mends, and where changes go is decided on the plan as it will run.
``tests/agent/test_mend_pipeline.py`` pins this order.
"""

from __future__ import annotations

from collections.abc import Iterable

from agent.plan.code_mends import JOINED_PACKAGES, OPENED_AS_TEXT, UNFOLDED_BLOCKS
from agent.plan.computed_references import COMPUTED_REFERENCES
from agent.plan.grounding import CHANGE_TARGETS
from agent.plan.input_fields import INPUT_FIELDS
from agent.plan.mends.blank_options import BLANK_OPTIONS
from agent.plan.mends.change_tools import CHANGE_TOOLS
from agent.plan.mends.code_references import CODE_REFERENCES
from agent.plan.mends.contract import Draft, Mend, MendContext, Mended, apply_mends
from agent.plan.mends.fetched_files import FETCHED_FILES
from agent.plan.mends.file_row_queries import FILE_ROW_QUERIES
from agent.plan.mends.fill_ins import MISSING_FILL_INS
from agent.plan.mends.followed_goals import FOLLOWED_GOALS
from agent.plan.mends.input_ids import MISNAMED_INPUTS
from agent.plan.mends.listed_files import LISTED_FILES
from agent.plan.mends.listed_values import LISTED_VALUES
from agent.plan.mends.named_recipients import NAMED_RECIPIENTS
from agent.plan.mends.node_ids import DUPLICATE_IDS, SELF_DEPENDENCY
from agent.plan.mends.padded_paths import PADDED_PATHS
from agent.plan.mends.recalled_calls import RECALLED_CALLS
from agent.plan.mends.refetched_inputs import REFETCHED_INPUTS
from agent.plan.mends.replies import GUESSED_ANSWER, REPLY_PACKAGE, REPLY_PACKAGE_TWICE, UNKNOWN_TEMPLATE
from agent.plan.mends.thread_fed_changes import THREAD_FED_CHANGES
from agent.plan.mends.thread_files import THREAD_FILES
from agent.plan.mends.thread_values import THREAD_VALUES
from agent.plan.reference_fields import REFERENCE_FIELDS
from agent.plan.single_calls import SINGLE_CALLS
from agent.plan.uncalled_function import UNCALLED_FUNCTION

PLAN_MENDS: tuple[Mend, ...] = (
    BLANK_OPTIONS,
    PADDED_PATHS,
    FETCHED_FILES,
    CHANGE_TOOLS,
    LISTED_VALUES,
    MISSING_FILL_INS,
    SELF_DEPENDENCY,
    DUPLICATE_IDS,
    RECALLED_CALLS,
    THREAD_VALUES,
    MISNAMED_INPUTS,
    THREAD_FILES,
    FILE_ROW_QUERIES,
    THREAD_FED_CHANGES,
    LISTED_FILES,
    CODE_REFERENCES,
    FOLLOWED_GOALS,
    UNFOLDED_BLOCKS,
    UNCALLED_FUNCTION,
    COMPUTED_REFERENCES,
    SINGLE_CALLS,
    REFETCHED_INPUTS,
    OPENED_AS_TEXT,
    JOINED_PACKAGES,
    INPUT_FIELDS,
    REFERENCE_FIELDS,
    UNKNOWN_TEMPLATE,
    REPLY_PACKAGE,
    REPLY_PACKAGE_TWICE,
    GUESSED_ANSWER,
    CHANGE_TARGETS,
    NAMED_RECIPIENTS,
)
_BY_NAME = {mend.name: mend for mend in PLAN_MENDS}


def mend_plan(draft: Draft, context: MendContext) -> Mended:
    """``draft`` through every plan mend, in order; which fired."""
    return apply_mends(draft, context, PLAN_MENDS)


def corrections(names: Iterable[str]) -> list[str]:
    """What each named mend corrected, as a person reads it (unknown names are skipped: a plan
    stored by another version of dagbot)."""
    return [_BY_NAME[name].slip for name in names if name in _BY_NAME]
