"""Who an item belongs to, by the addresses the results hold and the names written beside them.

Items to mail about name their owners as people write them, not as addresses: "- [ ] Jonas
Berg: add an alert on pgbouncer pool saturation" with the addresses in team/directory.yaml
(``name: Jonas Berg`` / ``email: jonas@example.com``), "- [ ] Raise os-data-2's heap … —
@rafael" with "Responders: @rafael (rafael.quintero@example.com)" at the top of the same file. A
small model's code for that join mailed everyone in the directory, or nobody. The join is
dagbot's: each address the results hold gets the names written with it (the other values of
the object it stands in, the words just before it on its line, the words of its local part),
and an item belongs to the one address whose name it holds, as a whole word.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

import yaml

ADDRESS = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_NAME_WORD = re.compile(r"[^\W\d_][\w'-]*", re.UNICODE)
_LONGEST_NAME = 40
_SHORTEST_WORD = 3
_LEAD = re.compile(r"(?:^|[:;,|]|\b(?:and|or)\b)\s*([^:;,|]*?)\s*[(<\[]?\s*$", re.I)
"""The words just before an address on its line, back to a colon, a comma or an "and"."""
_ROLE = re.compile(r"(?:^|[;,|])[\s*_>#-]*([^:;,|*_]+?)[*_]*\s*:[^:;,|]*$")
"""The label of the line's last colon before an address ("- **On-call**: Priya <…>": "On-call")."""


def address_book(values: Iterable[Any]) -> dict[str, set[str]]:
    """Each address ``values`` hold (tool results: a read's content, parsed when it is JSON or
    YAML, or any JSON value), with the names written with it, in lower case."""
    book: dict[str, set[str]] = {}
    for value in values:
        for text in _texts(value):
            _from_structure(_parsed(text), book)
            _from_lines(text, book)
        if not isinstance(value, str):
            _from_structure(value, book)
    for address, names in book.items():
        names.update(word for word in re.split(r"[._+-]", address.split("@", 1)[0].lower())
                     if len(word) >= _SHORTEST_WORD and word.isalpha())
    return book


def owner_of(text: str, book: Mapping[str, set[str]]) -> str | None:
    """The one address whose name ``text`` holds as a whole word (or that it holds itself);
    None when it names none, or more than one."""
    written = {match.lower() for match in ADDRESS.findall(text)} & set(book)
    if written:
        return written.pop() if len(written) == 1 else None
    lowered = ADDRESS.sub(" ", text).lower()  # (an address another's, not a name: "rafael.quintero@…")
    owners = {address for address, names in book.items()
              if any(re.search(rf"(?<![\w.-]){re.escape(name)}(?![\w-])", lowered) for name in names)}
    if len(owners) > 1:  # a whole name beats a word of one ("Jonas Berg" over "berg" of another's address)
        whole = {address for address in owners
                 if any(" " in name and name in lowered for name in book[address])}
        owners = whole or owners
    return owners.pop() if len(owners) == 1 else None


def _texts(value: Any) -> list[str]:
    """The texts a result holds: a read's ``content``, or the value itself when it is text."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping) and isinstance(value.get("content"), str):
        return [value["content"]]
    return []


def _parsed(text: str) -> Any:
    for parse in (json.loads, yaml.safe_load):
        try:
            return parse(text)
        except (ValueError, yaml.YAMLError):
            continue
    return None


def _from_structure(value: Any, book: dict[str, set[str]]) -> None:
    """An object with one address among its values: its other short texts are the address's
    names (``{name: Jonas Berg, email: jonas@example.com, team: sre}``: "jonas berg", "sre"); a
    key whose value is an address is its name (``{"jonas berg": "jonas@example.com"}``)."""
    if isinstance(value, list):
        for item in value:
            _from_structure(item, book)
    elif isinstance(value, Mapping):
        texts = [str(item) for item in value.values() if isinstance(item, str)]
        addresses = [text.lower() for text in texts if ADDRESS.fullmatch(text.strip())]
        if len(addresses) == 1:
            book.setdefault(addresses[0], set()).update(
                text.strip().lower().lstrip("@") for text in texts
                if not ADDRESS.fullmatch(text.strip()) and _is_name(text))
        for key, item in value.items():
            if isinstance(item, str) and ADDRESS.fullmatch(item.strip()) and _is_name(str(key)):
                book.setdefault(item.strip().lower(), set()).add(str(key).lower())  # (jonas: jonas@…)
            if isinstance(item, Mapping) and _is_name(str(key)) and len(held := _addresses_of(item)) == 1:
                book.setdefault(held[0], set()).add(str(key).lower())  # (secondary: {email: priya@…})
            if isinstance(item, list | Mapping):
                _from_structure(item, book)


def _addresses_of(value: Mapping[Any, Any]) -> list[str]:
    """The addresses among an object's own text values."""
    return [item.strip().lower() for item in value.values()
            if isinstance(item, str) and ADDRESS.fullmatch(item.strip())]


def _from_lines(text: str, book: dict[str, set[str]]) -> None:
    """The words just before an address on its line ("@rafael (rafael.quintero@example.com)",
    "Luis Ortega <luis@example.com>") are its name; a label before them, ended by a colon, is
    its role ("Facilitator: Hana Yoon (hana.yoon@example.org)": "facilitator")."""
    for line in text.splitlines():
        start = 0
        for match in ADDRESS.finditer(line):
            before = line[start:match.start()]
            lead = _LEAD.search(before)
            names = book.setdefault(match.group(0).lower(), set())
            if lead and _is_name(lead.group(1)):
                names.add(lead.group(1).strip().lower().lstrip("@"))
            if (role := _ROLE.search(before)) and _is_name(role.group(1)):
                names.add(role.group(1).strip().lower())
            start = match.end()


def _is_name(text: str) -> bool:
    """Whether ``text`` reads as a person's name or handle: one to four words, letters first."""
    words = text.strip().lstrip("@").split()
    return 0 < len(words) <= 4 and len(text.strip()) <= _LONGEST_NAME and all(_NAME_WORD.fullmatch(w)
                                                                             for w in words) \
        and len(text.strip().lstrip("@")) >= _SHORTEST_WORD
