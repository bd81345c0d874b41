"""Slips in package code whose fix is plain, mended before the plan is checked.

Small models write a loop and its test on one line, as they would a one-line ``if``::

    for s in inputs['status']['json']['services']: if s['status'] == 'degraded': result = s['name']

Python refuses a compound statement after a colon, so the code does not parse, the checks that
read it (its inputs' keys, the names it uses) cannot run, and the sandbox's reflexion gets a
rewrite that a small model often gets wrong. :func:`unfolded_blocks` puts each such header on
a line of its own, its body indented under it: what the code says, laid out as Python needs.
"""

from __future__ import annotations

from agent.plan.package_code import parse_python

_HEADERS = frozenset({"for", "if", "elif", "else", "while", "with", "try", "except", "finally"})
_INDENT = "    "


def unfolded_blocks(code: str) -> str | None:
    """``code`` with compound statements written one after another on a line unfolded into
    indented lines, when there are such lines and the result parses; else None."""
    lines = [part for line in code.split("\n") for part in _unfolded(line)]
    if len(lines) == len(code.split("\n")):
        return None
    text = "\n".join(lines)
    try:
        parse_python(text)
    except SyntaxError:
        return None
    return text


def _unfolded(line: str) -> list[str]:
    stripped = line.strip()
    if _keyword(stripped) not in _HEADERS:
        return [line]
    colon = _header_end(stripped)
    body = stripped[colon + 1:].strip() if colon is not None else ""
    if colon is None or _keyword(body) not in _HEADERS - {"elif", "else", "except", "finally"}:
        return [line]  # a simple statement after the colon is Python already
    indent = line[:len(line) - len(line.lstrip())]
    return [indent + stripped[:colon + 1], *_unfolded(indent + _INDENT + body)]


def _keyword(text: str) -> str:
    word = text.split(None, 1)[0] if text.strip() else ""
    return word.split(":", 1)[0]


def _header_end(text: str) -> int | None:
    """Where the header of the compound statement ``text`` ends: its first colon outside
    brackets and strings."""
    depth, quote = 0, ""
    for index, char in enumerate(text):
        if quote:
            if char == quote and text[index - 1] != "\\":
                quote = ""
        elif char in "'\"":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == ":" and depth == 0:
            return index
    return None
