"""Numbers in an answer written the way a person reads them.

A metrics file states its bytes in scientific notation (``node_memory_MemTotal_bytes
6.8719476736e+10``), and the joiner's model copies it: "RAM: 6.8719476736e+10 bytes" is right and
unreadable (evening memory-and-relay). Before an answer is posted, a number in scientific notation
is written out (``68,719,476,736``), and a count of bytes (or of kB, MB) of a mebibyte or more gets
its size in the largest binary unit beside it (``68,719,476,736 bytes (64 GiB)``, ``8148324 kB
(7.77 GiB)``). Both are the value a result holds, converted by dagbot, never by a model. Code
and quoted text (in backticks or double quotes) stay as written: they show what a file, a query
or a mail says.
"""

from __future__ import annotations

import re
from decimal import Decimal

_SCIENTIFIC = re.compile(r"(?<![\w.\-/:#])(-?\d+(?:\.\d+)?[eE][+-]\d+)(?![\w\-/:#]|\.\d)")
"""A number in scientific notation as Prometheus, Go and Python write it (a signed exponent:
``6.8719476736e+10``), not an ID or a hash with an e in it (``12345e6``, ``4521e10``)."""
_BYTES = re.compile(r"(?<![\w.,\-/:#])(\d{1,3}(?:,\d{3})+|\d+)(?:\.0+)?\s*(bytes?|B|KiB|kB|KB|MiB|MB)\b"
                    r"(?!\s*\(|/)")
_SCALE = {"byte": 1, "bytes": 1, "B": 1, "KiB": 2**10, "kB": 2**10, "KB": 2**10, "MiB": 2**20, "MB": 2**20}
"""What a count of each unit is in bytes: kB as Linux writes it (``/proc/meminfo``'s kB are KiB)."""
_CODE = re.compile(r"```.*?(?:```|$)|`[^`\n]*`|\"[^\"\n]*\"", re.DOTALL)
"""Code, and text in quotes: what a file, a query or a mail said, shown as it was."""
_UNITS = ("KiB", "MiB", "GiB", "TiB", "PiB")
_LARGEST = 1e18
"""Past this, a number written out is no easier to read."""


def readable_numbers(answer: str) -> str:
    """``answer`` with its numbers in scientific notation written out, and each count of bytes of
    a mebibyte or more followed by its size in binary units; code and quotes left as they are."""
    pieces, last = [], 0
    for code in _CODE.finditer(answer):
        pieces += [_readable(answer[last:code.start()]), code.group()]
        last = code.end()
    pieces.append(_readable(answer[last:]))
    return "".join(pieces)


def _readable(text: str) -> str:
    text = _SCIENTIFIC.sub(lambda m: _written_out(m.group(1)), text)
    return _BYTES.sub(_with_size, text)


def _written_out(scientific: str) -> str:
    value = Decimal(scientific)  # (exact: a float invents digits past its sixteenth)
    if not Decimal("1e-4") <= abs(value) < Decimal(_LARGEST):
        return scientific
    written = f"{value:,f}"
    return written.rstrip("0").rstrip(".") if "." in written else written


def _with_size(match: re.Match[str]) -> str:
    scale = _SCALE.get(match.group(2)) or _SCALE.get(match.group(2).lower(), 1)
    count = int(match.group(1).replace(",", "")) * scale
    return f"{match.group(0)} ({size(count)})" if count >= 2**20 and count >= scale * 1024 else match.group(0)


def size(count: int) -> str:
    """``count`` bytes in the largest binary unit it holds one of, to two decimals at most
    (``64 GiB``, ``1.5 TiB``, ``250 GiB``)."""
    value, unit = float(count), "bytes"
    for name in _UNITS:
        if value < 1024:
            break
        value, unit = value / 1024, name
    return f"{value:.2f}".rstrip("0").rstrip(".") + f" {unit}"
