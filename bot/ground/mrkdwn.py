"""Text the bot did not write, made safe for Slack; Markdown to mrkdwn; splitting long text.

Text from tools, errors, the model (plans, answers) or people (a reject reason) is untrusted:
it must never ping (``<!channel>``, ``<!here>``, ``<!everyone>``, ``<!subteam^…>``) nor show a
link whose label hides its address. Slack reads ``&``, ``<`` and ``>`` as control characters
wherever they are not sent as HTML entities (its "Formatting message text" reference), so
text not meant as a control sequence must have them escaped. Hence:

- mrkdwn (status and approval messages, App Home): :func:`escape` turns every ``&``, ``<``
  and ``>`` into an entity, so the text shows as it was written and nothing in it is parsed
  (but a plain mention of one of the run's people, see below). The bot's own mentions (who
  asked, who approved, the approvers) are added around the escaped text, never inside it.
- Markdown (answers, in ``markdown`` blocks and streamed as ``markdown_text``):
  :func:`safe_markdown` shows Slack's angle-bracket syntax as what it stands for, in plain
  text: ``<!here>`` is "@here" (no ping), ``<!subteam^S1|@sre>`` "@sre", ``<url|label>``
  "label (url)", ``<@U…>`` "@U…" — except that a mention of one of the run's own people (who
  asked, who decided, whom the access policy names) stays a mention, as the model may name
  them from the conversation, and so does a channel link ``<#C…>`` (it notifies nobody).
  A Markdown link whose label is not its address shows both (``[label](url)`` → "label
  (url)"). :func:`streamable_markdown` is the part of a growing answer that is safe to stream:
  nothing already sent can change when more text comes.
- Both: a bare ``@here``, ``@channel`` or ``@everyone`` gets an invisible word joiner after
  its ``@``, so that no automatic parsing can make it a ping.
"""

from __future__ import annotations

import re
from collections.abc import Collection

WORD_JOINER = "\u2060"
"""Invisible and unbreakable: "@⁠here" looks like "@here" but is no mention."""
_FENCE = "```"

# ------------------------------------------------------------------ mentions and escaping

_BARE_BROADCAST = re.compile(r"(?<!\w)@(?=(?:here|channel|everyone)\b)", re.IGNORECASE)
_ESCAPED_USER = re.compile(r"&lt;@([UW][A-Z0-9]+)&gt;")
_ESCAPED_CHANNEL = re.compile(r"&lt;#([CG][A-Z0-9]+)&gt;")


def quiet(text: str) -> str:
    """Bare @here, @channel and @everyone made unable to ping (they look the same)."""
    return _BARE_BROADCAST.sub("@" + WORD_JOINER, text)


def unescape(text: str) -> str:
    """Message text as typed: Slack sends (and the bot stores) it with &, < and > escaped.
    Text shown again through :func:`escape` is unescaped first, or it shows "&amp;lt;"."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def escape(text: str, people: Collection[str] = ()) -> str:
    """Untrusted text as mrkdwn that shows it as written: ``&``, ``<`` and ``>`` escaped, so no
    mention, special mention or link in it is parsed; a plain ``<@U…>`` of one of ``people``
    stays a mention, and a plain channel link ``<#C…>`` (it notifies nobody) a link."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if people:
        escaped = _ESCAPED_USER.sub(lambda m: f"<@{m[1]}>" if m[1] in people else m[0], escaped)
    return quiet(_ESCAPED_CHANNEL.sub(r"<#\1>", escaped))


# Slack's <…> syntax, also written with entities (a renderer may decode them): special
# mentions <!…>, user and channel mentions <@…> <#…>, and links with a label <target|label>.
_OPEN = r"(?:<|&lt;|&#0*60;|&#x0*3c;)"
_CLOSE = r"(?:>|&gt;|&#0*62;|&#x0*3e;)"
_SLACK_SYNTAX = re.compile(
    rf"(?P<open>{_OPEN})(?P<body>[!@#][^<>\n]{{0,500}}?|[^\s<>|]{{1,500}}\|[^<>\n]{{0,500}}?){_CLOSE}",
    re.IGNORECASE)
_LEFT_OVER = re.compile(rf"<[@#][A-Z0-9]+>|(?P<open>{_OPEN})(?!{WORD_JOINER})"
                        rf"(?=[!@#]|[^\s<>|]{{0,2000}}[:./][^\s<>|]*\|)", re.IGNORECASE)
"""Openers of Slack syntax too long to read (or not closed): broken (once), not read."""
_OPENER = re.compile(_OPEN, re.IGNORECASE)
_UNFINISHED = re.compile(rf"{_OPEN}(?:[!@#][^<>\n]*|[^\s<>|]*(?:\|[^<>\n]*)?)", re.IGNORECASE)
"""Slack syntax that more text may still close."""
_CLOSER = re.compile(_CLOSE, re.IGNORECASE)
_USER_ID = re.compile(r"[UW][A-Z0-9]+")
_CHANNEL_ID = re.compile(r"[CG][A-Z0-9]+")
_BROADCASTS = frozenset({"here", "channel", "everyone", "group"})


def _plain(match: re.Match[str], people: Collection[str]) -> str:
    target, _, label = match["body"].partition("|")
    label = label.strip()
    if target.startswith("!"):  # <!here>, <!subteam^S1|@sre>, <!date^…|fallback>
        command, _, rest = target[1:].partition("^")
        if command.lower() in _BROADCASTS:
            return "@" + command
        if command.lower() == "subteam":
            return "@" + (label.lstrip("@") or rest or "group")
        return label or command
    if target.startswith("@"):
        user = target[1:]
        if user in people and _USER_ID.fullmatch(user):
            return f"<@{user}>"  # Slack shows the person's name, whatever the label said
        return "@" + (label.lstrip("@") or user)
    if target.startswith("#"):
        if _CHANNEL_ID.fullmatch(target[1:]):
            return f"<#{target[1:]}>"  # notifies nobody; Slack shows the channel's own name
        return "#" + (label.lstrip("#") or target[1:])
    if not any(c in target for c in ":./"):
        return match[0]  # no address: TypeScript's Array<string|number>, not a link
    return f"{label} ({target})" if label and label != target else target


_SPECIAL_MENTION = re.compile(r"<!(?P<command>[a-z]+)(?:\^(?P<id>[^<>|]*))?(?:\|(?P<label>[^<>]*))?>",
                              re.IGNORECASE)


def plain_special_mentions(text: str) -> str:
    """Slack-escaped text (what a person typed) with its special mentions, @here, @channel,
    @everyone and user groups, as plain text; mentions of people, dates and links stay."""
    def plain(match: re.Match[str]) -> str:
        command = match["command"]
        if command.lower() in _BROADCASTS:
            return "@" + command
        if command.lower() == "subteam":
            return "@" + ((match["label"] or "").lstrip("@") or match["id"] or "group")
        return match[0]

    return _SPECIAL_MENTION.sub(plain, text)


def _plain_slack_syntax(text: str, people: Collection[str] = ()) -> str:
    """Slack's angle-bracket syntax in ``text`` as the plain text it stands for (everywhere,
    code included: Slack's parser does not know Markdown's code)."""
    for _ in range(8):  # a replacement can meet the text before it (``&`` + ``lt;…``)
        replaced = _SLACK_SYNTAX.sub(lambda m: _plain(m, people), text)
        if replaced == text:
            break
        text = replaced
    # what is left (too long to be read above, or not closed) can no longer be read by Slack
    return _LEFT_OVER.sub(lambda m: _left_over(m, people), text)


def _left_over(match: re.Match[str], people: Collection[str]) -> str:
    if match["open"] is not None:
        return match[0] + WORD_JOINER
    if match[0][1] == "#" or match[0][2:-1] in people:
        return match[0]  # a channel link, a mention of the run's people: kept above
    return "<" + WORD_JOINER + match[0][1:]


# --------------------------------------------------------------------- Markdown answers

_FENCE_OPEN = re.compile(r" {0,3}(`{3,})[^`\n]*")
_MD_LINK = re.compile(r'(?P<bang>!?)\[(?P<label>[^\[\]\n]+)\]\(\s*(?P<url>[^()\s]+)(?:\s+"[^"\n]*")?\s*\)'
                      r"|\]\(")
_DEFINITION = re.compile(r"^( {0,3})\[(?=[^\[\]\n]+\]:)", re.MULTILINE)
_LINK_TAIL = re.compile(r"!?\[[^\[\]\n]*(?:\](?:\([^()\n]*)?)?")
"""What may still become a Markdown link when more text comes."""
_LINE = re.compile(r"[^\n]*\n|[^\n]+\Z")
"""A line and its line break (only ``\n`` ends a line, as for Markdown)."""


def _honest_link(match: re.Match[str]) -> str:
    if match["label"] is None:
        return "] ("  # a "](" left over (nested brackets): no link may form there
    label, url = match["label"], match["url"]
    if not match["bang"] and label.strip() in (url, url.split("://", 1)[-1]):
        return match[0]  # the label is the address
    return f"{label} ({url})"


def _code_spans(line: str) -> tuple[list[tuple[int, int]], int | None]:
    """CommonMark's code spans on one line (backtick runs of equal length; a backslash escapes
    an opening backtick), and where the first run without a closing one starts."""
    spans: list[tuple[int, int]] = []
    unmatched: int | None = None
    i = 0
    while i < len(line):
        if line[i] == "\\":
            i += 2
            continue
        if line[i] != "`":
            i += 1
            continue
        end = _run_end(line, i)
        close = _closing_run(line, end, end - i)
        if close is None:
            unmatched = i if unmatched is None else unmatched
            i = end
        else:
            spans.append((i, close))
            i = close
    return spans, unmatched


def _closing_run(line: str, start: int, length: int) -> int | None:
    i = start
    while i < len(line):
        if line[i] != "`":
            i += 1
            continue
        end = _run_end(line, i)
        if end - i == length:
            return end
        i = end
    return None


def _run_end(line: str, start: int) -> int:
    """Where the run of backticks starting at ``start`` ends."""
    return len(line) - len(line[start:].lstrip("`"))



def _lines(text: str) -> list[tuple[bool, str]]:
    """The text's lines (with their line breaks), each marked True when inside a fenced code
    block. A fence still open at the end is not code: nothing proves a renderer thinks so."""
    marked: list[tuple[bool, str]] = []
    fence: str | None = None
    opened = 0
    for line in _LINE.findall(text):
        body = line.rstrip("\r\n")
        if fence is not None:
            marked.append((True, line))
            if re.fullmatch(rf" {{0,3}}{fence}`*\s*", body):
                fence = None
        elif match := _FENCE_OPEN.fullmatch(body):
            fence, opened = match[1], len(marked)
            marked.append((True, line))
        else:
            marked.append((False, line))
    if fence is not None:
        marked[opened:] = [(False, line) for _, line in marked[opened:]]
    return marked


def _honest_links(text: str) -> str:
    """Markdown links (outside code) that show their address; no reference definitions."""
    out: list[str] = []
    for code, line in _lines(text):
        if code:
            out.append(line)
            continue
        line = _DEFINITION.sub(r"\1\\[", line)  # no reference definitions: a link shows its address
        spans, _ = _code_spans(line)
        last = 0
        for start, end in spans:
            out.append(_MD_LINK.sub(_honest_link, line[last:start]))
            out.append(line[start:end])
            last = end
        out.append(_MD_LINK.sub(_honest_link, line[last:]))
    return "".join(out)


def safe_markdown(text: str, people: Collection[str] = ()) -> str:
    """The model's Markdown (an answer) made safe to send to Slack: no ping, no special or
    foreign mention, no link hiding its address (see the module's docstring); ``people`` are
    the user ids whose plain ``<@U…>`` mentions stay."""
    return quiet(_honest_links(_plain_slack_syntax(text, people)))


def streamable_markdown(text: str, people: Collection[str] = ()) -> str:
    """The start of ``safe_markdown(text + more)`` that no ``more`` can change: what may be
    streamed now. Held back: the last word (it may be "@here" before "sy"), Slack syntax not
    closed yet, a Markdown link or a code span still open, and a code block not closed yet."""
    cut = len(text)
    while cut and not text[cut - 1].isspace():  # the last word
        cut -= 1
    last_line = text.rfind("\n") + 1
    for opener in _OPENER.finditer(text, last_line, cut):
        if _SLACK_SYNTAX.match(text, opener.start(), cut):
            continue  # closed
        if (not _CLOSER.search(text, opener.end(), cut) or _UNFINISHED.fullmatch(text, opener.start(), cut)
                or _OPENER.search(text, opener.end(), cut)):
            # (a "&gt;" before the "|" of ``<a&gt;| >`` closes nothing yet; in ``<<#> >`` the
            # first "<" opens syntax once the "<#>" after it is read)
            cut = opener.start()
            break
    plain = _plain_slack_syntax(text[:cut], people)
    return quiet(_honest_links(plain[:_markdown_cut(plain)]))


def _markdown_cut(text: str) -> int:
    lines = _lines(text)
    if not lines:
        return 0
    start = len(text) - len(lines[-1][1])
    if lines[-1][1].endswith("\n"):
        start = len(text)  # the text ends with a complete line
    fence_opened = next((i for i, (code, line) in enumerate(lines)
                         if not code and _FENCE_OPEN.fullmatch(line.rstrip("\r\n"))), None)
    if fence_opened is not None:  # an open code block: sent once it is closed
        return sum(len(line) for _, line in lines[:fence_opened])
    if lines[-1][0] or start == len(text):
        return len(text)
    line = text[start:]
    spans, unmatched = _code_spans(line)
    cut = len(line) if unmatched is None else unmatched
    # An open link's "[" is the line's last "[", or the "[" of a "](" at its last parenthesis
    # (a label holds no bracket, an address no parenthesis): two places to look, not every "[".
    candidates = {line.rfind("[")}
    paren = max(line.rfind("("), line.rfind(")"))
    if paren > 0 and line[paren] == "(" and line[paren - 1] == "]":
        candidates.add(line.rfind("[", 0, paren - 1))
    for bracket in sorted(b for b in candidates if 0 <= b < cut):
        if any(a <= bracket < b for a, b in spans):
            continue
        begin = bracket - (bracket > 0 and line[bracket - 1] == "!")
        if _LINK_TAIL.fullmatch(line, begin):
            return start + begin
    return start + cut


# ----------------------------------------------------------------------- to mrkdwn

_LINK = re.compile(r"\[([^\]\n]+)\]\((https?://[^)\s]+)\)")
_BOLD = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_ITALIC = re.compile(r"(?<![*\w])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![*\w])")
_STRIKE = re.compile(r"~~(?=\S)(.+?)(?<=\S)~~")
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
_BULLET = re.compile(r"^(\s*)[-*+]\s+", re.MULTILINE)
_INLINE_CODE = re.compile(r"(`[^`\n]+`)")


def markdown_to_mrkdwn(text: str, people: Collection[str] = ()) -> str:
    """Convert common Markdown (made safe first: :func:`safe_markdown`) to mrkdwn; code spans
    and fenced blocks are left as they are, escaped."""
    parts = safe_markdown(text, people).split(_FENCE)
    for i in range(0, len(parts), 2):  # even parts are outside fenced code
        parts[i] = _convert_prose(parts[i], people)
    for i in range(1, len(parts), 2):
        parts[i] = escape(parts[i], people)
    return _FENCE.join(parts)


def _convert_prose(text: str, people: Collection[str]) -> str:
    pieces = _INLINE_CODE.split(text)
    for i, piece in enumerate(pieces):
        if i % 2:
            pieces[i] = escape(piece, people)
            continue
        piece = _LINK.sub(_mrkdwn_link, piece)
        piece = escape(piece, people).replace("\x02", "<").replace("\x03", ">")
        piece = _HEADING.sub(lambda m: f"\x01{m.group(1)}\x01", piece)
        piece = _BULLET.sub(lambda m: f"{m.group(1)}• ", piece)
        piece = _BOLD.sub(lambda m: f"\x01{m.group(2)}\x01", piece)
        piece = _ITALIC.sub(lambda m: f"_{m.group(1)}_", piece)
        piece = _STRIKE.sub(lambda m: f"~{m.group(1)}~", piece)
        pieces[i] = piece.replace("\x01", "*")
    return "".join(pieces)


def _mrkdwn_link(match: re.Match[str]) -> str:
    label, url = match.group(1), match.group(2)
    if label.strip() in (url, url.split("://", 1)[-1]):
        return f"\x02{url}|{label}\x03"
    return f"{label} ({url})"


def split_text(text: str, limit: int) -> list[str]:
    """Split into chunks of at most ``limit`` characters, at paragraph or line breaks when
    possible, closing and reopening a fenced code block that straddles a split."""
    if limit < 32:
        raise ValueError("limit too small to split text sensibly")
    budget = limit - len(_FENCE) * 2 - 2  # room to close and reopen a fence
    chunks: list[str] = []
    rest = text.strip("\n")
    while len(rest) > limit:
        cut = _cut_point(rest, budget)
        chunk, rest = rest[:cut].rstrip("\n"), rest[cut:].lstrip("\n")
        if chunk.count(_FENCE) % 2:  # the cut falls inside a fenced block
            chunk += "\n" + _FENCE
            rest = _FENCE + "\n" + rest
        chunks.append(chunk)
    if rest:
        chunks.append(rest)
    return chunks or [""]


def whole_cut(text: str, budget: int) -> int:
    """Where to cut ``text`` so that its first part (at most ``budget`` characters) ends at a
    paragraph, line or word break and outside any code block; 0 where no such place is."""
    fences = [m.start() for m in re.finditer(re.escape(_FENCE), text)]

    def outside(cut: int) -> bool:  # an even number of fences before the cut
        return sum(1 for f in fences if f + len(_FENCE) <= cut) % 2 == 0

    if len(text) <= budget and outside(len(text)):
        return len(text)
    for separator in ("\n\n", "\n", " "):
        cut = text.rfind(separator, 0, budget - len(separator) + 1)
        while cut > 0:
            if outside(cut):
                return cut + len(separator)
            inside = max((f for f in fences if f < cut), default=0)  # skip the rest of that block
            cut = text.rfind(separator, 0, inside)
    return 0


def whole_parts(text: str, limit: int) -> list[str]:
    """``text`` in parts of at most ``limit`` characters that add up to it exactly, each cut at
    a break outside code blocks (:func:`whole_cut`); where there is none (a code block longer
    than ``limit``), the rest is split as :func:`split_text` splits it."""
    parts: list[str] = []
    while text:
        cut = whole_cut(text, limit)
        if not cut:
            return parts + split_text(text, limit)
        parts.append(text[:cut])
        text = text[cut:]
    return parts


def _cut_point(text: str, budget: int) -> int:
    for separator in ("\n\n", "\n", " "):
        cut = text.rfind(separator, budget // 2, budget)
        if cut > 0:
            return cut + len(separator)
    return budget
