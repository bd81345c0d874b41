"""What Slack refuses in a message, a modal, a Home tab or a stream's chunks, with Slack's error
codes (pure functions).

The emulated Web API runs every post, edit, stream and view through these checks, so what
real Slack would refuse is refused here too, with the same error code (``invalid_blocks``,
``invalid_chunks``, ``msg_too_long``, ``no_text``…) and a ``[ERROR] … [json-pointer:…]`` line like Slack's
``response_metadata.messages``. The rules are a subset of Slack's Block Kit reference: every
limit dagbot could reach, and every type it emits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MESSAGE_TEXT_LIMIT = 40_000
MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
SECTION_TEXT_LIMIT = 3000
FIELD_TEXT_LIMIT = 2000
MAX_FIELDS = 10
HEADER_TEXT_LIMIT = 150
CONTEXT_ELEMENTS = 10
CONTEXT_TEXT_LIMIT = 3000
ACTIONS_ELEMENTS = 25
BUTTON_TEXT_LIMIT = 75
BUTTON_VALUE_LIMIT = 2000
ID_LIMIT = 255
MARKDOWN_TEXT_LIMIT = 12_000
VIEW_TITLE_LIMIT = 24
PRIVATE_METADATA_LIMIT = 3000

TASK_TEXT_LIMIT = 256
"""A streamed task's ``details`` and ``output``."""

MESSAGE_BLOCKS = frozenset({"section", "divider", "image", "actions", "context", "header", "rich_text",
                            "markdown", "input", "file", "video", "context_actions", "plan", "task_card"})
VIEW_BLOCKS = MESSAGE_BLOCKS - {"markdown", "file", "context_actions", "plan", "task_card"}
TASK_STATUSES = frozenset({"pending", "in_progress", "complete", "error"})
CHUNK_TYPES = frozenset({"markdown_text", "plan_update", "task_update", "blocks"})
TASK_DISPLAY_MODES = ("timeline", "plan")
CONTEXT_ACTIONS_ELEMENTS = 5
BUTTON_STYLES = frozenset({"primary", "danger"})
TEXT_TYPES = frozenset({"mrkdwn", "plain_text"})


@dataclass(frozen=True)
class Refusal:
    """Why Slack would refuse the call: its error code and the detail lines it sends."""

    error: str
    messages: tuple[str, ...] = ()

    def as_response(self) -> dict[str, Any]:
        response: dict[str, Any] = {"ok": False, "error": self.error}
        if self.messages:
            response["response_metadata"] = {"messages": list(self.messages)}
        return response


class _Problems:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, pointer: str, message: str) -> None:
        self.lines.append(f"[ERROR] {message} [json-pointer:{pointer}]")

    def text(self, obj: Any, pointer: str, limit: int, *, types: frozenset[str] = TEXT_TYPES) -> None:
        if not isinstance(obj, dict):
            self.add(pointer, "must be a text object")
            return
        if obj.get("type") not in types:
            self.add(f"{pointer}/type", f"must be one of {sorted(types)}")
        value = obj.get("text")
        if not isinstance(value, str) or not value:
            self.add(f"{pointer}/text", "must be a non-empty string")
        elif len(value) > limit:
            self.add(f"{pointer}/text", f"must be less than {limit + 1} characters")

    def element_id(self, element: dict[str, Any], pointer: str) -> None:
        action_id = element.get("action_id")
        if not isinstance(action_id, str) or not action_id:
            # Slack would make one up, so no listener could ever match the click.
            self.add(f"{pointer}/action_id", "a button needs an action_id to be handled")
        elif len(action_id) > ID_LIMIT:
            self.add(f"{pointer}/action_id", f"must be less than {ID_LIMIT + 1} characters")


def message_refusal(text: Any, blocks: Any, *, max_blocks: int = MAX_MESSAGE_BLOCKS) -> Refusal | None:
    """Why ``chat.postMessage``/``chat.update`` would be refused, or None (``max_blocks``: a
    view's limit, to check a view's blocks as a message's)."""
    if blocks in (None, "", []):
        blocks = []
    if not isinstance(blocks, list):
        return Refusal("invalid_blocks_format", ("[ERROR] blocks must be an array [json-pointer:/blocks]",))
    text = text or ""
    if not isinstance(text, str):
        return Refusal("invalid_arguments", ("[ERROR] text must be a string [json-pointer:/text]",))
    if len(text) > MESSAGE_TEXT_LIMIT:
        return Refusal("msg_too_long")
    if not text.strip() and not blocks:
        return Refusal("no_text")
    problems = _Problems()
    _blocks(blocks, max_blocks, MESSAGE_BLOCKS, problems)
    return Refusal("invalid_blocks", tuple(problems.lines)) if problems.lines else None


def chunks_refusal(chunks: Any) -> Refusal | None:
    """Why a stream's ``chunks`` would be refused (``invalid_chunks``), or None: each is a
    ``markdown_text`` (its text), a ``plan_update`` (the plan's title), a ``task_update`` (a
    task whole: id, title and status, with details, output and url sources if any) or
    ``blocks``."""
    if chunks is None:
        return None
    problems = _Problems()
    if not isinstance(chunks, list):
        problems.add("/chunks", "must be an array")
        return Refusal("invalid_chunks", tuple(problems.lines))
    for index, chunk in enumerate(chunks):
        _chunk(chunk, f"/chunks/{index}", problems)
    return Refusal("invalid_chunks", tuple(problems.lines)) if problems.lines else None


def _chunk(chunk: Any, where: str, problems: _Problems) -> None:
    kind = chunk.get("type") if isinstance(chunk, dict) else None
    if kind not in CHUNK_TYPES:
        problems.add(f"{where}/type", f"unsupported type: {kind}")
        return
    assert isinstance(chunk, dict)
    if kind == "markdown_text":
        text = chunk.get("text")
        if not isinstance(text, str) or not text:
            problems.add(f"{where}/text", "must be a non-empty string")
    elif kind == "plan_update":
        _required_string(chunk, "title", where, problems)
    elif kind == "task_update":
        _task(chunk, where, problems, id_field="id")
    elif not isinstance(chunk.get("blocks"), list) or not chunk["blocks"]:
        problems.add(f"{where}/blocks", "must be a non-empty array")
    else:
        _blocks(chunk["blocks"], MAX_MESSAGE_BLOCKS, MESSAGE_BLOCKS - {"plan", "task_card"}, problems,
                pointer=f"{where}/blocks")


def _required_string(obj: dict[str, Any], key: str, where: str, problems: _Problems) -> None:
    value = obj.get(key)
    if not isinstance(value, str) or not value.strip():
        problems.add(f"{where}/{key}", f"missing required field: {key}")


def _task(task: dict[str, Any], where: str, problems: _Problems, *, id_field: str) -> None:
    """A task: of a ``task_update`` chunk (``id``, plain strings) or a ``task_card`` block
    (``task_id``, rich text)."""
    _required_string(task, id_field, where, problems)
    _required_string(task, "title", where, problems)
    if task.get("status") not in TASK_STATUSES:
        problems.add(f"{where}/status", f"must be one of {sorted(TASK_STATUSES)}")
    for key in ("details", "output"):
        value = task.get(key)
        if value is None:
            continue
        if id_field == "task_id":
            if not isinstance(value, dict) or value.get("type") != "rich_text":
                problems.add(f"{where}/{key}", "must be a rich_text object")
        elif not isinstance(value, str):
            problems.add(f"{where}/{key}", "must be a string")
        elif len(value) > TASK_TEXT_LIMIT:
            problems.add(f"{where}/{key}", f"must be less than {TASK_TEXT_LIMIT + 1} characters")
    sources = task.get("sources")
    if sources is not None and (not isinstance(sources, list) or not all(
            isinstance(s, dict) and s.get("type") == "url" and isinstance(s.get("url"), str)
            and isinstance(s.get("text"), str) for s in sources)):
        problems.add(f"{where}/sources", "must be an array of url elements (type, url, text)")


def view_refusal(view: Any, kind: str = "modal") -> Refusal | None:
    """Why ``views.open`` (a ``modal``) or ``views.publish`` (a ``home`` tab) would be refused, or None."""
    if not isinstance(view, dict):
        return Refusal("invalid_arguments", ("[ERROR] view must be an object [json-pointer:/view]",))
    problems = _Problems()
    if view.get("type") != kind:
        problems.add("/view/type", f"must be {kind!r} here")
    if kind == "modal":  # a Home tab has no title or buttons of its own
        problems.text(view.get("title"), "/view/title", VIEW_TITLE_LIMIT, types=frozenset({"plain_text"}))
        for key in ("submit", "close"):
            if key in view:
                problems.text(view[key], f"/view/{key}", VIEW_TITLE_LIMIT, types=frozenset({"plain_text"}))
    if len(str(view.get("private_metadata", ""))) > PRIVATE_METADATA_LIMIT:
        problems.add("/view/private_metadata", f"must be less than {PRIVATE_METADATA_LIMIT + 1} characters")
    blocks = view.get("blocks")
    if not isinstance(blocks, list):
        problems.add("/view/blocks", "must be an array")
    else:
        _blocks(blocks, MAX_VIEW_BLOCKS, VIEW_BLOCKS, problems, pointer="/view/blocks")
        if any(isinstance(b, dict) and b.get("type") == "input" for b in blocks) and "submit" not in view:
            problems.add("/view/submit", "a view with input blocks needs a submit button")
    return Refusal("invalid_arguments", tuple(problems.lines)) if problems.lines else None


def _blocks(blocks: list[Any], limit: int, allowed: frozenset[str], problems: _Problems,
            pointer: str = "/blocks") -> None:
    if len(blocks) > limit:
        problems.add(pointer, f"no more than {limit} items allowed")
    seen: set[str] = set()
    markdown_chars = 0
    for index, block in enumerate(blocks):
        where = f"{pointer}/{index}"
        if not isinstance(block, dict):
            problems.add(where, "must be an object")
            continue
        kind = block.get("type")
        if kind not in allowed:
            problems.add(f"{where}/type", f"unsupported type: {kind}")
            continue
        block_id = block.get("block_id")
        if block_id is not None:
            if not isinstance(block_id, str) or len(block_id) > ID_LIMIT:
                problems.add(f"{where}/block_id", f"must be a string of at most {ID_LIMIT} characters")
            elif block_id in seen:
                problems.add(f"{where}/block_id", f"duplicate block_id: {block_id}")
            seen.add(str(block_id))
        if kind == "markdown":
            markdown_chars += len(str(block.get("text", "")))
        _CHECKS.get(kind, _no_check)(block, where, problems)
    if markdown_chars > MARKDOWN_TEXT_LIMIT:
        problems.add(pointer, f"markdown blocks may hold at most {MARKDOWN_TEXT_LIMIT} characters in all")


def _no_check(block: dict[str, Any], where: str, problems: _Problems) -> None:
    return None


def _section(block: dict[str, Any], where: str, problems: _Problems) -> None:
    if "text" not in block and "fields" not in block:
        problems.add(where, "a section needs text or fields")
    if "text" in block:
        problems.text(block["text"], f"{where}/text", SECTION_TEXT_LIMIT)
    fields = block.get("fields")
    if fields is not None:
        if not isinstance(fields, list) or len(fields) > MAX_FIELDS:
            problems.add(f"{where}/fields", f"must be an array of at most {MAX_FIELDS} items")
        else:
            for i, field in enumerate(fields):
                problems.text(field, f"{where}/fields/{i}", FIELD_TEXT_LIMIT)
    accessory = block.get("accessory")
    if isinstance(accessory, dict) and accessory.get("type") == "button":
        _button(accessory, f"{where}/accessory", problems)


def _header(block: dict[str, Any], where: str, problems: _Problems) -> None:
    problems.text(block.get("text"), f"{where}/text", HEADER_TEXT_LIMIT, types=frozenset({"plain_text"}))


def _elements(block: dict[str, Any], where: str, limit: int, problems: _Problems) -> list[Any]:
    """A block's ``elements``: a non-empty array of at most ``limit`` (else [] to check)."""
    elements = block.get("elements")
    if not isinstance(elements, list) or not elements:
        problems.add(f"{where}/elements", "must be a non-empty array")
        return []
    if len(elements) > limit:
        problems.add(f"{where}/elements", f"no more than {limit} items allowed")
    return elements


def _context(block: dict[str, Any], where: str, problems: _Problems) -> None:
    for i, element in enumerate(_elements(block, where, CONTEXT_ELEMENTS, problems)):
        if isinstance(element, dict) and element.get("type") == "image":
            continue
        problems.text(element, f"{where}/elements/{i}", CONTEXT_TEXT_LIMIT)


def _actions(block: dict[str, Any], where: str, problems: _Problems) -> None:
    for i, element in enumerate(_elements(block, where, ACTIONS_ELEMENTS, problems)):
        if isinstance(element, dict) and element.get("type") == "button":
            _button(element, f"{where}/elements/{i}", problems)
        elif isinstance(element, dict):
            problems.element_id(element, f"{where}/elements/{i}")


def _context_actions(block: dict[str, Any], where: str, problems: _Problems) -> None:
    """Slack's AI-reply actions: feedback buttons (👍/👎) and icon buttons."""
    for i, element in enumerate(_elements(block, where, CONTEXT_ACTIONS_ELEMENTS, problems)):
        at = f"{where}/elements/{i}"
        kind = element.get("type") if isinstance(element, dict) else None
        if kind not in ("feedback_buttons", "icon_button"):
            problems.add(f"{at}/type", f"unsupported type: {kind}")
            continue
        problems.element_id(element, at)
        if kind == "feedback_buttons":
            for side in ("positive_button", "negative_button"):
                button = element.get(side)
                if not isinstance(button, dict):
                    problems.add(f"{at}/{side}", "must be an object with text and value")
                    continue
                problems.text(button.get("text"), f"{at}/{side}/text", BUTTON_TEXT_LIMIT,
                              types=frozenset({"plain_text"}))
                if not isinstance(button.get("value"), str) or len(button["value"]) > BUTTON_VALUE_LIMIT:
                    problems.add(f"{at}/{side}/value",
                                 f"must be a string of at most {BUTTON_VALUE_LIMIT} characters")


def _button(element: dict[str, Any], where: str, problems: _Problems) -> None:
    problems.text(element.get("text"), f"{where}/text", BUTTON_TEXT_LIMIT, types=frozenset({"plain_text"}))
    problems.element_id(element, where)
    if len(str(element.get("value", ""))) > BUTTON_VALUE_LIMIT:
        problems.add(f"{where}/value", f"must be less than {BUTTON_VALUE_LIMIT + 1} characters")
    style = element.get("style")
    if style is not None and style not in BUTTON_STYLES:
        problems.add(f"{where}/style", f"must be one of {sorted(BUTTON_STYLES)}")


def _rich_text(block: dict[str, Any], where: str, problems: _Problems) -> None:
    if not isinstance(block.get("elements"), list):
        problems.add(f"{where}/elements", "must be an array")


def _markdown(block: dict[str, Any], where: str, problems: _Problems) -> None:
    if not isinstance(block.get("text"), str) or not block["text"]:
        problems.add(f"{where}/text", "must be a non-empty string")


def _plan(block: dict[str, Any], where: str, problems: _Problems) -> None:
    _required_string(block, "title", where, problems)
    tasks = block.get("tasks", [])
    if not isinstance(tasks, list):
        problems.add(f"{where}/tasks", "must be an array")
        return
    for index, task in enumerate(tasks):
        if not isinstance(task, dict) or task.get("type") != "task_card":
            problems.add(f"{where}/tasks/{index}/type", "must be task_card")
        else:
            _task(task, f"{where}/tasks/{index}", problems, id_field="task_id")


def _task_card(block: dict[str, Any], where: str, problems: _Problems) -> None:
    _task(block, where, problems, id_field="task_id")


def _input(block: dict[str, Any], where: str, problems: _Problems) -> None:
    problems.text(block.get("label"), f"{where}/label", 2000, types=frozenset({"plain_text"}))
    element = block.get("element")
    if not isinstance(element, dict):
        problems.add(f"{where}/element", "must be an object")
    else:
        problems.element_id(element, f"{where}/element")
        if element.get("type") in CHOICE_OPTIONS:
            _choices(element, f"{where}/element", problems)


CHOICE_OPTIONS = {"radio_buttons": 10, "checkboxes": 10, "static_select": 100}
"""The elements that offer options, and how many each may offer."""
OPTION_TEXT_LIMIT = 75
OPTION_VALUE_LIMIT = 150


def _choices(element: dict[str, Any], where: str, problems: _Problems) -> None:
    """An element's options, and the initially chosen ones, which must be among them exactly."""
    options = element.get("options")
    limit = CHOICE_OPTIONS[element["type"]]
    if not isinstance(options, list) or not options:
        problems.add(f"{where}/options", "must be a non-empty array")
        return
    if len(options) > limit:
        problems.add(f"{where}/options", f"no more than {limit} items allowed")
    text_types = frozenset({"plain_text"}) if element["type"] == "static_select" else TEXT_TYPES
    for i, option in enumerate(options):
        if not isinstance(option, dict):
            problems.add(f"{where}/options/{i}", "must be an object")
            continue
        problems.text(option.get("text"), f"{where}/options/{i}/text", OPTION_TEXT_LIMIT, types=text_types)
        value = option.get("value")
        if not isinstance(value, str) or not value or len(value) > OPTION_VALUE_LIMIT:
            problems.add(f"{where}/options/{i}/value",
                         f"must be a string of 1 to {OPTION_VALUE_LIMIT} characters")
    chosen = element.get("initial_options", []) if element["type"] == "checkboxes" else (
        [element["initial_option"]] if "initial_option" in element else [])
    for option in chosen if isinstance(chosen, list) else [chosen]:
        if option not in options:
            key = "initial_options" if element["type"] == "checkboxes" else "initial_option"
            problems.add(f"{where}/{key}", "must exactly match one of the options")


def _image(block: dict[str, Any], where: str, problems: _Problems) -> None:
    if not block.get("image_url") and not block.get("slack_file"):
        problems.add(f"{where}/image_url", "an image needs image_url")
    if not block.get("alt_text"):
        problems.add(f"{where}/alt_text", "an image needs alt_text")


_CHECKS = {"section": _section, "header": _header, "context": _context, "actions": _actions,
           "rich_text": _rich_text, "markdown": _markdown, "input": _input, "image": _image,
           "context_actions": _context_actions, "plan": _plan, "task_card": _task_card}
