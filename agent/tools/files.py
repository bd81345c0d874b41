"""Workspace file tools: read_file, list_files, search_files (green), write_file (red).

Every path is relative to one workspace directory. A path is resolved (following
symlinks) before use and refused unless the result is still inside the workspace,
so '..', absolute paths and symlinks that point out all fail the same way.

search_files runs the requester's regex, which may backtrack for ever. It runs on the
``regex`` module (mrab-regex), which releases the GIL while matching and stops a match at
a deadline, on a small executor of its own: a hostile pattern costs at most
``search_seconds`` of one of its threads and never holds the threads that read_file,
write_file, mail and the Docker SDK share.
"""

from __future__ import annotations

import asyncio
import csv
import difflib
import functools
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import regex
from langchain_core.tools import BaseTool, StructuredTool
from pydantic import BaseModel, Field

from agent.errors import ToolError
from agent.tools.file_syntax import syntax_note
from agent.tools.registry import Risk

_MAX_LINE_CHARS = 300
_BINARY_SNIFF_BYTES = 8192
_SEARCH_WORKERS = 4
"""Searches running at once, process-wide; more wait their turn (each ends by its deadline)."""
_OVERVIEW_FILES = 12
"""Files read_file's description names (the rest: "and N more")."""
_OVERVIEW_WALK = 2_000
"""Entries looked at to name them, at most: a large workspace costs no more than this."""
_HEADER_BYTES = 300
DELIMITERS = {".csv": ",", ".tsv": "\t"}
"""A delimited text file's separator, by its suffix (:func:`delimiter_of` finds a CSV's other one)."""
_OTHER_DELIMITERS = (";", "\t", "|")
_SNIFFED_LINES = 50


def delimiter_of(content: str, suffix: str) -> str:
    """The character ``content``'s fields are split by: its suffix's (:data:`DELIMITERS`), unless
    that splits the header into one field while another (``;``, a tab, ``|``) splits the header
    and every one of the first lines alike into two or more. A CSV exported where the decimal
    mark is a comma is split by semicolons (``period;project;amount_eur`` … ``24,90``): read by
    commas, it was one column, and no query or package could sum it (weekend hosting-total)."""
    default = DELIMITERS.get(suffix.lower(), ",")
    lines = [line for line in content.splitlines()[:_SNIFFED_LINES] if line.strip()]

    def fields(delimiter: str) -> int:
        try:
            counts = {len(row) for row in csv.reader(lines, delimiter=delimiter)}
        except csv.Error:
            return 0
        return counts.pop() if len(counts) == 1 else 0

    try:
        if not lines or len(next(csv.reader(lines[:1], delimiter=default), [])) >= 2 \
                or not any(other in lines[0] for other in _OTHER_DELIMITERS):
            return default
    except csv.Error:  # (a first line longer than csv's field limit: no table to split)
        return default
    best = max(_OTHER_DELIMITERS, key=fields)
    return best if fields(best) >= 2 else default

_UNSAFE_IN_DESCRIPTION = re.compile(r"[^\w\- ]+")
_search_pool: ThreadPoolExecutor | None = None
_search_pool_lock = threading.Lock()


def is_binary(data: bytes) -> bool:
    """Whether a file's bytes are not text (a NUL byte near its start)."""
    return b"\x00" in data[:_BINARY_SNIFF_BYTES]


def _search_executor() -> ThreadPoolExecutor:
    global _search_pool
    with _search_pool_lock:
        if _search_pool is None:
            _search_pool = ThreadPoolExecutor(_SEARCH_WORKERS, thread_name_prefix="dagbot-search")
        return _search_pool


@dataclass(frozen=True)
class FileToolConfig:
    workspace: Path
    max_read_bytes: int = 1_000_000
    max_results: int = 200
    search_seconds: float = 10.0
    """How long one search_files call may match and read before it gives up."""


class Workspace:
    """Path checks and the file operations themselves (blocking; run in a thread)."""

    def __init__(self, config: FileToolConfig) -> None:
        self.config = config
        self.root = Path(config.workspace).expanduser().resolve()

    def resolve(self, path: str) -> Path:
        if not path or not path.strip():
            raise ToolError("give a file path relative to the workspace")
        if os.path.isabs(path) or path.startswith("~"):
            raise ToolError(
                f"'{path}' is outside the workspace, and only files inside it can be used "
                "(give a path relative to the workspace)"
            )
        try:
            resolved = (self.root / path).resolve()
        except (OSError, ValueError, RuntimeError) as exc:
            raise ToolError(f"'{path}' is not a usable path: {exc}") from None
        if not resolved.is_relative_to(self.root):
            raise ToolError(f"'{path}' points outside the workspace; that is not allowed")
        return resolved

    def rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def _check_pattern(self, pattern: str) -> None:
        if os.path.isabs(pattern) or ".." in Path(pattern).parts:
            raise ToolError(
                f"pattern '{pattern}' must stay inside the workspace (no absolute paths or '..')"
            )

    def iter_files(self, pattern: str) -> Iterator[Path]:
        """Files matching ``pattern`` whose real location is inside the workspace."""
        self._check_pattern(pattern)
        try:
            candidates = sorted(self.root.glob(pattern))
        except ValueError as exc:
            raise ToolError(f"bad file pattern '{pattern}': {exc}") from None
        for candidate in candidates:
            real = candidate.resolve()
            if real.is_file() and real.is_relative_to(self.root):
                yield candidate

    def _visible_folders(self) -> Iterator[tuple[str, list[str]]]:
        """Each folder of the workspace with its files, sorted, hidden files and folders left out."""
        for folder, dirs, files in os.walk(self.root):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            yield folder, sorted(f for f in files if not f.startswith("."))

    def near_names(self, path: str, most: int = 2) -> list[str]:
        """Workspace files named most like ``path`` (``logs/app.log`` for ``logs/application.log``),
        best first: what a person who mistyped a name meant, looked for among at most
        :data:`_OVERVIEW_WALK` entries, hidden ones left out."""
        names: list[str] = []
        for folder, files in self._visible_folders():
            names.extend(self.rel(Path(folder, f)) for f in files)
            if len(names) >= _OVERVIEW_WALK:
                break
        wanted = path.strip().lstrip("./")
        by_name = {n.rsplit("/", 1)[-1]: n for n in names}
        close = difflib.get_close_matches(wanted, names, n=most, cutoff=0.6)
        close += [by_name[n] for n in difflib.get_close_matches(wanted.rsplit("/", 1)[-1], list(by_name),
                                                               n=most, cutoff=0.6)]
        return list(dict.fromkeys(close))[:most]

    def existing_file(self, path: str) -> Path:
        """``path`` resolved, or the error that says what to do: a directory, or no such file
        (with the names most like it)."""
        target = self.resolve(path)
        if target.is_dir():
            raise ToolError(f"'{path}' is a directory; use list_files to see what is in it")
        if not target.is_file():
            near = self.near_names(path)
            raise ToolError(f"there is no file '{path}' in the workspace; "
                            + (f"did you mean {' or '.join(repr(n) for n in near)}?" if near
                               else "list_files shows what exists"))
        return target

    def read(self, path: str) -> dict[str, Any]:
        target = self.existing_file(path)
        size = target.stat().st_size
        with target.open("rb") as fh:
            data = fh.read(self.config.max_read_bytes)
        if is_binary(data):
            raise ToolError(f"'{path}' is a binary file ({size} bytes); only text can be read")
        content = data.decode("utf-8", errors="replace")
        read: dict[str, Any] = {"path": self.rel(target), "content": content, "size": size,
                                "truncated": size > len(data)}
        if not read["truncated"] and (note := syntax_note(target.name, content)) is not None:
            read["note"] = note
        return read

    def overview(self) -> str:
        """The files there are, as read_file's description names them: paths, and a table's
        columns (a CSV or TSV file's first line), as the SQL tools name tables and columns, so
        that a planner reads the right file and writes code for the columns it has (a model
        not shown them counted a CSV's rows for "how many orders", where a column holds them).
        Hidden files and folders are left out; nothing else of a file's content is shown."""
        named: list[str] = []
        more = 0
        seen = 0
        for folder, files in self._visible_folders():
            for name in files:
                seen += 1
                path = Path(folder, name)
                real = path.resolve()
                if not (real.is_file() and real.is_relative_to(self.root)):
                    continue  # a link pointing out: the tools refuse it, so it is not named
                if len(named) < _OVERVIEW_FILES:
                    named.append(self.rel(path) + self._columns(real))
                else:
                    more += 1
            if seen >= _OVERVIEW_WALK:
                return ", ".join(named) + ", and more"
        if not named:
            return "no files yet"
        return ", ".join(named) + (f", and {more} more" if more else "")

    @staticmethod
    def _columns(path: Path) -> str:
        if path.suffix.lower() not in DELIMITERS:
            return ""
        try:
            with path.open("rb") as fh:
                head = fh.read(_HEADER_BYTES).decode("utf-8", errors="replace")
        except OSError:
            return ""
        whole = head.rsplit("\n", 1)[0] if "\n" in head else head  # (its last line may be cut)
        first, delimiter = head.split("\n", 1)[0], delimiter_of(whole, path.suffix)
        columns = [_UNSAFE_IN_DESCRIPTION.sub("", c).strip() for c in first.split(delimiter)]
        shown = [c for c in columns if c]
        return f" (columns {', '.join(shown)})" if shown else ""

    def listing(self, pattern: str) -> dict[str, Any]:
        files: list[dict[str, Any]] = []
        truncated = False
        for path in self.iter_files(pattern):
            if len(files) >= self.config.max_results:
                truncated = True
                break
            files.append({"path": path.relative_to(self.root).as_posix(),
                          "size": path.stat().st_size})
        return {"files": files, "truncated": truncated}

    def search(self, query: str, pattern: str, regex_query: bool,
               stop: threading.Event | None = None) -> dict[str, Any]:
        """Blocking; gives up ``search_seconds`` after it starts, or soon after ``stop`` is set."""
        if not query:
            raise ToolError("give a non-empty search query")
        limit = self.config.search_seconds
        deadline = time.monotonic() + limit
        found: Callable[[str, float], bool]
        if regex_query:
            try:
                matcher = regex.compile(query, flags=regex.VERSION0)
            except (regex.error, ValueError, OverflowError) as exc:
                raise ToolError(f"'{query}' is not a valid regular expression: {exc}") from None

            def found(line: str, seconds: float) -> bool:
                return matcher.search(line, timeout=seconds) is not None
        elif query != query.lower():
            def found(line: str, seconds: float) -> bool:
                return query in line
        else:  # smart case, as ripgrep's: a query in lower case finds SEARCH_CACHE_TTL for "cache"
            def found(line: str, seconds: float) -> bool:
                return query in line.lower()

        matches: list[dict[str, Any]] = []
        searched = 0

        def time_left(name: str) -> float:
            left = deadline - time.monotonic()
            if left <= 0 or (stop is not None and stop.is_set()):
                raise ToolError(
                    f"search_files stopped after {limit:g} s, at {name} ({searched} files "
                    "searched); narrow the file pattern or the query")
            return left

        for path in self.iter_files(pattern):
            name = self.rel(path)
            time_left(name)
            if path.stat().st_size > self.config.max_read_bytes:
                continue  # too big to scan quickly; read_file can still show its start
            data = path.read_bytes()
            if is_binary(data):
                continue
            searched += 1
            lines = data.decode("utf-8", errors="replace").splitlines()
            for number, line in enumerate(lines, start=1):
                left = time_left(name)
                try:
                    hit = found(line, left)
                except TimeoutError:
                    raise ToolError(
                        f"the pattern took too long on {name}; simplify it (a search stops "
                        f"after {limit:g} s)") from None
                if hit:
                    if len(matches) >= self.config.max_results:
                        return {"matches": matches, "truncated": True, "files_searched": searched}
                    matches.append({"path": name, "line_number": number, "text": line[:_MAX_LINE_CHARS]})
        searched_all: dict[str, Any] = {"matches": matches, "truncated": False, "files_searched": searched}
        if not matches:
            searched_all["note"] = self._nothing_found(query, pattern, regex_query, searched)
        return searched_all

    def _nothing_found(self, query: str, pattern: str, regex_query: bool, searched: int) -> str:
        """What to do when a search found nothing: said in its result, so that a plan that
        searched a file it could have read (the 1.5B model searched notes/oncall.md for "oncall",
        a word the file writes "On-call") goes on with read_file instead of answering "not listed"."""
        how = "the regex" if regex_query else (
            "the text (in any case)" if query == query.lower() else "the text (case-sensitive)")
        where = f"'{pattern}'" if pattern != "**/*" else "the workspace"
        return (f"no line in {searched} file(s) of {where} contains {how} {query!r}: that is not "
                "proof the file does not say it; read_file shows a file's whole text")

    def write(self, path: str, content: str, append: bool) -> dict[str, Any]:
        target = self.resolve(path)
        if target.is_dir():
            raise ToolError(f"'{path}' is a directory; give a file path")
        target.parent.mkdir(parents=True, exist_ok=True)
        data = content.encode("utf-8")
        # O_NOFOLLOW: a symlink planted after the check above must not redirect the write.
        flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | (os.O_APPEND if append else os.O_TRUNC)
        try:
            fd = os.open(target, flags, 0o644)
        except OSError as exc:
            raise ToolError(f"cannot write '{path}': {exc.strerror}") from None
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        return {"path": self.rel(target), "bytes_written": len(data), "appended": append}


_SCOPE = ("Paths are relative to the bot's workspace directory; paths outside it "
          "(absolute, '..', symlinks pointing out) are refused.")


def _read_description(overview: str, config: FileToolConfig) -> str:
    """read_file's description; its first sentence names the files there are (after a
    write_file, the files there are then)."""
    return (f"Read a text file from the workspace, which holds {overview}. Returns {{path, content, "
            f"size, truncated}}; only the first {config.max_read_bytes:,} bytes are returned "
            f"(truncated=true when cut), and a note when a .json, .yaml or .toml file does not parse. "
            f"Binary files are refused. {_SCOPE}")


class ReadFileArgs(BaseModel):
    path: str = Field(description="File path relative to the workspace, e.g. 'notes/todo.md'.")


class ListFilesArgs(BaseModel):
    pattern: str = Field("**/*", description="Glob relative to the workspace, e.g. '**/*.py'.")


class SearchFilesArgs(BaseModel):
    query: str = Field(description="Text to look for (or a Python regex when regex=true).")
    pattern: str = Field("**/*", description="Glob selecting which files to search.")
    regex: bool = Field(False, description="Treat query as a regular expression.")


class WriteFileArgs(BaseModel):
    path: str = Field(description="File path relative to the workspace.")
    content: str = Field(description="Text to write (UTF-8).",
                         json_schema_extra={"contentMediaType": "text/plain"})  # a document: Edit's text box
    append: bool = Field(False, description="Append instead of replacing the file.")


def file_tools(config: FileToolConfig) -> list[tuple[BaseTool, Risk]]:
    ws = Workspace(config)
    ws.root.mkdir(parents=True, exist_ok=True)
    cap = config.max_results

    async def read_file(path: str) -> dict[str, Any]:
        return await asyncio.to_thread(ws.read, path)

    async def list_files(pattern: str = "**/*") -> dict[str, Any]:
        return await asyncio.to_thread(ws.listing, pattern)

    async def search_files(query: str, pattern: str = "**/*", regex: bool = False) -> dict[str, Any]:
        # Not the default executor: a search may hold its thread up to its deadline. A call
        # abandoned while it waits for a thread never starts (the future is cancelled); one
        # abandoned while it runs stops at its next line.
        stop = threading.Event()
        job = functools.partial(ws.search, query, pattern, regex, stop)
        try:
            return await asyncio.get_running_loop().run_in_executor(_search_executor(), job)
        except asyncio.CancelledError:
            stop.set()
            raise

    async def write_file(path: str, content: str, append: bool = False) -> dict[str, Any]:
        written = await asyncio.to_thread(ws.write, path, content, append)
        read_tool.description = _read_description(await asyncio.to_thread(ws.overview), config)
        return written

    read_tool = StructuredTool.from_function(
        coroutine=read_file, name="read_file", args_schema=ReadFileArgs,
        description=_read_description(ws.overview(), config))
    return [
        (read_tool, Risk.GREEN),
        (StructuredTool.from_function(
            coroutine=list_files, name="list_files", args_schema=ListFilesArgs,
            description=(
                "List files in the workspace matching a glob ('**/*' = everything, "
                "'*.md' = top level markdown). Returns {files: [{path, size}], truncated}, "
                f"sorted by path, at most {cap} files. " + _SCOPE)),
         Risk.GREEN),
        (StructuredTool.from_function(
            coroutine=search_files, name="search_files", args_schema=SearchFilesArgs,
            description=(
                "Search text files in the workspace for a string (in any case when written all in lower "
                "case, else case-sensitive) or a regex "
                "(regex=true; use (?i) for case-insensitive). Returns {matches: [{path, line_number, "
                f"text}}], truncated, files_searched}}, at most {cap} matches; lines are cut at "
                f"{_MAX_LINE_CHARS} characters; binary files and files over "
                f"{config.max_read_bytes:,} bytes are skipped. A search stops after "
                f"{config.search_seconds:g} s (simplify a regex that backtracks). " + _SCOPE)),
         Risk.GREEN),
        (StructuredTool.from_function(
            coroutine=write_file, name="write_file", args_schema=WriteFileArgs,
            description=(
                "Write a text file in the workspace (changes files, so it needs approval): "
                "replaces the file, or appends with append=true; missing folders are created. "
                "Returns {path, bytes_written, appended}. " + _SCOPE)),
         Risk.RED),
    ]
