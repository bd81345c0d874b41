"""What a red tool changes, in the words a request asks for a change with.

A red tool declares its effects when it is registered (``write_file`` writes, ``send_email``
sends); a request's verbs say which effects it asks for ("delete logs/app.log" asks to delete).
A red call whose tool's effects are none of those the request asks for is not what was asked
(issue 43: "delete a file" planned as ``write_file`` of an empty string, "restart a service" as
an ``http_post`` to a host named nowhere): the approval would protect the world, but the answer
would be wrong. Only words that plainly ask for a change are read; a request with none leaves
the choice to the plan.
"""

from __future__ import annotations

import re

EFFECT_WORDS: dict[str, tuple[str, ...]] = {
    "write": ("write", "save", "append", "overwrite", "clear", "truncate", "copy", "store", "create"),
    "send": ("send", "mail", "email", "e-mail", "notify", "forward"),
    "post": ("post", "webhook", "trigger"),
    "record": ("record", "insert", "register"),
    "delete": ("delete", "remove", "erase", "wipe", "purge", "flush", "invalidate", "prune"),
    "restart": ("restart", "reboot", "reload", "bounce", "start"),
    "deploy": ("deploy", "redeploy", "rollback", "roll back", "roll out", "rollout", "revert", "scale",
               "upgrade", "downgrade", "promote", "fail over", "failover", "provision", "decommission",
               "resize"),
    "move": ("move", "rename"),
    "stop": ("stop", "kill", "shut down", "shutdown", "terminate", "cancel", "abort", "halt", "pause",
             "suspend"),
    "drain": ("drain", "cordon", "uncordon", "evict"),
    "access": ("revoke", "grant", "disable", "enable", "deactivate", "reactivate", "lock", "unlock", "block",
               "unblock", "ban", "unban", "rotate"),
}
"""Each effect, and the verbs (and their -s, -d/-ed, -ing forms) that ask for it: the changes
an ops request asks for by name, whether or not a tool here makes them (a tool registered later,
an MCP server's, declares which it makes)."""
EFFECT_NAMES = {"write": "write files", "send": "send mail", "post": "post to web services",
                "record": "record rows", "delete": "delete", "delete rows": "delete rows",
                "restart": "start or restart services", "deploy": "deploy, scale or roll back",
                "move": "move or rename files", "stop": "stop processes", "drain": "drain or cordon nodes",
                "access": "change accounts, keys or access"}
"""What doing each effect is called, for the reply that says no tool does it."""

_ASKING = {effect: re.compile(r"\b(?:" + "|".join(
    re.escape(word).replace(r"\ ", r"\s+") + r"(?:s|es|d|ed|ing)?" for word in words) + r")\b", re.I)
    for effect, words in EFFECT_WORDS.items()}
_QUOTED = re.compile(r"'[^'\n]*'|\"[^\"\n]*\"|`[^`\n]*`")
"""Quoted text is what to write, not what to do ("write 'deploy done' to notes.txt")."""


_ROWS = re.compile(r"\b(?:rows?|records?|entries|table|database|db)\b", re.I)
"""Words that make a deletion one of a database's rows ("delete the failed rows from deploys"),
which a database tool declares ("delete rows"), not of a file or a thing ("delete logs/app.log")."""


def asked_effects(request: str) -> frozenset[str]:
    """The effects ``request`` asks for by its verbs (quoted text left out); a deletion that
    speaks of rows, records or a table is "delete rows"."""
    text = _QUOTED.sub(" ", request)
    asked = {effect for effect, pattern in _ASKING.items() if pattern.search(text)}
    if "delete" in asked and _ROWS.search(text):
        asked = (asked - {"delete"}) | {"delete rows"}
    return frozenset(asked)
