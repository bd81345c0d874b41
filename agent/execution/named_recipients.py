"""A recipient written as who they are, not as an address, is the one address the results give them.

"…and mail the total to the retro's facilitator; her address is in retros/2026-11-27-checkout-retro.md"
was planned as a mail ``to: "retro facilitator"`` (monday mail-checkout-resolve): the plan read the
retro, whose ``Facilitator: Hana Yoon (hana.yoon@example.org)`` says who that is, and the mail
failed when it was sent, after its approval, as no address. Who a name, a handle or a role means
is in what the tools returned (:mod:`agent.execution.address_book`); so when a red node runs, each
recipient of its address arguments that holds no ``@`` is looked up among the results of the steps
it depends on (the plan mend ``named-recipients`` makes it depend on the plan's reads), and is the
one address written with that name. A name the results give no one, or several, fails the step,
before anyone is asked to approve the mail, saying no result gives it an address. The approver
sees the address, never the name.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from typing import Any

from agent.execution.address_book import ADDRESS, address_book, owner_of
from agent.plan.mends.named_recipients import names_someone

_SEPARATE = re.compile(r"\s*(?:,|;|\band\b)\s*")


def unknown_recipients(args: dict[str, Any], address_args: Collection[str]) -> list[str]:
    """The recipients of ``address_args`` still written as names (none of the results gave them
    an address)."""
    return [str(args[arg]) for arg in address_args if arg in args and names_someone(args[arg])]


def with_named_recipients(args: dict[str, Any], address_args: Collection[str],
                          results: Iterable[Any]) -> dict[str, Any]:
    """``args`` with each recipient of ``address_args`` written as a name the one address
    ``results`` give that name; an argument any of whose names stays unknown is left whole."""
    named = [arg for arg in address_args if arg in args and names_someone(args[arg])]
    if not named:
        return args
    book = address_book(result for result in results if result is not None)
    looked_up = dict(args)
    for arg in named:
        value = args[arg]
        items = value if isinstance(value, list) else [part for part in _SEPARATE.split(value) if part]
        found = [item if not isinstance(item, str) or ADDRESS.search(item) else owner_of(item, book)
                 for item in items]
        if all(found):
            looked_up[arg] = found if isinstance(value, list) else ", ".join(str(f) for f in found)
    return looked_up
