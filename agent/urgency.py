"""Work a person is waiting on: a Slack acknowledgement, a click and what it starts.

Fifty runs going at once share the database connections and the checkpointer with the
acknowledgement of the fifty-first request. Code doing what a person waits for marks it
:func:`urgent`; the stores serve urgent work before the runs' statements that waited longer
(``infra.storage.db_priority``). The mark follows the code into the tasks it starts, except runs:
the engine starts those as background work (:func:`in_background`), so a click's urgency
ends where the run it resumed goes on.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

_URGENT: contextvars.ContextVar[bool] = contextvars.ContextVar("dagbot_urgent", default=False)


@contextlib.contextmanager
def urgent() -> Iterator[None]:
    token = _URGENT.set(True)
    try:
        yield
    finally:
        _URGENT.reset(token)


def is_urgent() -> bool:
    return _URGENT.get()


def in_background() -> contextvars.Context:
    """The current context, without the urgent mark: for a task that is not urgent work."""
    context = contextvars.copy_context()
    context.run(_URGENT.set, False)
    return context
