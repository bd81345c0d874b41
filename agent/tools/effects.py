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
    "write": ("write", "save", "append", "overwrite", "clear", "truncate", "copy", "store", "create", "put"),
    "send": ("send", "mail", "email", "e-mail", "notify", "forward"),
    "post": ("post", "webhook", "trigger"),
    "record": ("record", "insert", "register", "add row", "add rows", "add record", "add entry"),
    "delete": ("delete", "remove", "erase", "wipe", "purge", "flush", "invalidate", "prune"),
    "restart": ("restart", "reboot", "reload", "bounce", "start", "rerun", "re-run", "run again", "retry",
                "kick off"),
    "deploy": ("deploy", "redeploy", "rollback", "roll back", "roll out", "rollout", "revert", "scale",
               "upgrade", "downgrade", "promote", "fail over", "failover", "provision", "decommission",
               "resize"),
    "move": ("move", "rename"),
    "stop": ("stop", "kill", "shut down", "shutdown", "terminate", "cancel", "abort", "halt", "pause",
             "suspend"),
    "drain": ("drain", "cordon", "uncordon", "evict"),
    "access": ("revoke", "grant", "disable", "enable", "deactivate", "reactivate", "lock", "unlock", "block",
               "unblock", "ban", "unban", "rotate", "renew", "reissue", "regenerate"),
    "tickets": ("close", "reopen", "acknowledge", "ack", "escalate", "assign", "reassign", "snooze",
                "silence", "mute", "unmute"),
}
"""Each effect, and the verbs (and their -s, -d/-ed, -ing forms) that ask for it: the changes
an ops request asks for by name, whether or not a tool here makes them (a tool registered later,
an MCP server's, declares which it makes)."""
EFFECT_NAMES = {"write": "write files", "send": "send mail", "post": "post to web services",
                "record": "record rows", "delete": "delete", "delete rows": "delete rows",
                "restart": "start, restart or re-run services and jobs",
                "deploy": "deploy, scale or roll back",
                "move": "move or rename files", "stop": "stop processes", "drain": "drain or cordon nodes",
                "access": "change accounts, keys, certificates or access",
                "tickets": "close, assign or acknowledge tickets, incidents or alerts"}
"""What doing each effect is called, for the reply that says no tool does it."""

_FORMS = r"(?:s|es|d|ed|ing)?"


def _asking(word: str) -> str:
    """The pattern of a verb and its forms; a verb of two words (``roll back``) with its first
    word in any form and up to three words between them ("roll edge-gateway back", "shut the
    queue down"): the object is often said between the two."""
    first, _, rest = word.partition(" ")
    if not rest:
        return re.escape(word) + _FORMS
    return re.escape(first) + _FORMS + r"(?:\s+[\w.-]+){0,3}?\s+" + re.escape(rest).replace(r"\ ", r"\s+")


_ASKING = {effect: re.compile(r"\b(?:" + "|".join(_asking(word) for word in words) + r")\b", re.I)
           for effect, words in EFFECT_WORDS.items()}
_QUOTED = re.compile(r"'[^'\n]*'|\"[^\"\n]*\"|`[^`\n]*`")
"""Quoted text is what to write, not what to do ("write 'deploy done' to notes.txt")."""


_ROWS = re.compile(r"(?<![\w-])(?:rows?|records?|entries|table|database|db)(?![\w-])", re.I)
"""Words that make a deletion one of a database's rows ("delete the failed rows from deploys"),
which a database tool declares ("delete rows"), not of a file or a thing ("delete logs/app.log")."""


_NAMING = re.compile(
    r"(\b(?:the|its|our|this|that|each|every)\s+)[\w-]+"
    r"(?=\s+(?:table|column|field|queue|topic|bucket|index|job|log|dashboard|channel)s?(?![\w/.-]))", re.I)
"""A word that names a table, a column, a queue… ("the deploys table", "the restarts column"):
a name, not a verb."""
_DESCRIBED = re.compile(
    r"\b(?:(?:was|were|is|are|been|be|being|got|gets|get)\s+(?:\w+ly\s+|not\s+|never\s+)?[\w-]+(?:d|ed)\b"
    r"|[\w-]+(?:d|ed)(?=\s+(?:on|at|since|until|in)\s+\d))", re.I)
"""A past participle that says what was done ("was deployed", "has been restarted", "deployed
on 2026-11-26"): a fact of the data, not a change asked for."""

_COMPOUNDS = re.compile(
    r"\b(?P<before>(?:the|our|its|their|this|that|a|an|my|your)\s+(?:[\w-]+\s+)?)"
    r"(?:e-?mail|mail|post|record|write|delete|deploy|restart|reload|scale|stop|drain|lock)\s+"
    r"(?=(?:queue|server|servers|host|hosts|relay|address|addresses|setup|config|configuration|settings|"
    r"system|service|size|limit|limits|window|history|policy|count|counts)\b(?![/.-]))", re.I)
"""A verb's word that is the first half of a noun after a determiner ("the postfix mail queue",
"the deploy history", "our restart policy"): a thing named, not a change asked for (evening
flush-queue was taken to ask to send mail). Without one it is the command it says ("restart
server web-1")."""


def asked_effects(request: str) -> frozenset[str]:
    """The effects ``request`` asks for by its verbs (quoted text left out, and words that name
    a table, a column… or say what was done: "Add a row to the deploys table: thumbnailer
    2.8.4, deployed on 2026-11-26" asks to record a row, not to deploy); a deletion that speaks
    of rows, records or a table is "delete rows"."""
    text = _COMPOUNDS.sub(r"\g<before>", _DESCRIBED.sub(" ", _NAMING.sub(r"\1", _QUOTED.sub(" ", request))))
    asked = {effect for effect, pattern in _ASKING.items() if pattern.search(text)}
    if "delete" in asked and _ROWS.search(text):
        asked = (asked - {"delete"}) | {"delete rows"}
    return frozenset(asked)


_OPENS = r"(?:^|[.;:!?]\s+|,\s*|\b(?:and|then|also)\s+)(?:(?:please|kindly|now|then|also|just)\s+)*"
"""Where a command's verb stands: at the start of the request or of a clause ("…, and email it")."""
_COMMANDING = {effect: re.compile(_OPENS + r"(?:" + "|".join(
    re.escape(word).replace(r"\ ", r"\s+") if " " not in word else _asking(word) for word in words)
    + r")\b", re.I) for effect, words in EFFECT_WORDS.items()}


def commanded_effects(request: str) -> frozenset[str]:
    """The effects ``request`` commands: a verb, bare, that opens it or one of its clauses
    ("Email the total to data@example.com", "Count the failed runs and save the count in
    reports/x.txt", "Can you write…" after :func:`without_courtesy`). Not a verb met in passing
    ("which files did we write?", "how many mails were sent?"): the changes a plan must make."""
    text = without_courtesy(_QUOTED.sub(" ", request))
    commanded = {effect for effect, pattern in _COMMANDING.items() if pattern.search(text)}
    if "delete" in commanded and _ROWS.search(text):
        commanded = (commanded - {"delete"}) | {"delete rows"}
    return frozenset(commanded)


COURTESY = re.compile(r"^\s*(?:(?:please|kindly|now|then|ok(?:ay)?|hey|dagbot)[,!]?\s+|"
                      r"(?:can|could|would|will) you\s+(?:please\s+)?|i (?:want|need) you to\s+)*", re.I)
"""Words a command may open with before its verb ("Please", "Could you", "I need you to")."""


def without_courtesy(request: str) -> str:
    return COURTESY.sub("", request, count=1)
