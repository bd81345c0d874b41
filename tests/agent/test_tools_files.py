"""Workspace file tools on a real temporary directory."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import pytest

from agent.errors import ToolError
from agent.model.prompting import essentials
from agent.tools.files import FileToolConfig, file_tools
from agent.tools.registry import Risk, ToolRegistry


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    (ws / "docs").mkdir(parents=True)
    (ws / "docs" / "readme.md").write_text("# Title\nDAG runner\nnothing here\n")
    (ws / "docs" / "notes.txt").write_text("todo: ship the dag\nTODO: tests\n")
    (ws / "main.py").write_text("print('dag')\n")
    (ws / "blob.bin").write_bytes(b"\x00\x01dag\x00")
    (tmp_path / "secret.txt").write_text("password=hunter2\n")
    return ws


def _registry(workspace: Path, **kw: Any) -> ToolRegistry:
    registry = ToolRegistry()
    for tool, risk in file_tools(FileToolConfig(workspace=workspace, **kw)):
        registry.add(tool, risk)
    return registry


async def _call(registry: ToolRegistry, name: str, **args: Any) -> Any:
    return await registry.get(name).tool.ainvoke(args)


def test_risks(workspace: Path) -> None:
    registry = _registry(workspace)
    assert registry.names(Risk.GREEN) == ["list_files", "read_file", "search_files"]
    assert registry.names(Risk.RED) == ["write_file"]


async def test_read_file(workspace: Path) -> None:
    result = await _call(_registry(workspace), "read_file", path="docs/readme.md")
    assert result == {"path": "docs/readme.md", "content": "# Title\nDAG runner\nnothing here\n",
                      "size": 32, "truncated": False}
    json.dumps(result)


async def test_read_file_is_capped_and_refuses_binary_and_missing(workspace: Path) -> None:
    registry = _registry(workspace, max_read_bytes=8)
    result = await _call(registry, "read_file", path="docs/readme.md")
    assert result["content"] == "# Title\n" and result["truncated"] is True
    with pytest.raises(ToolError, match="binary file"):
        await _call(registry, "read_file", path="blob.bin")
    with pytest.raises(ToolError, match=r"no file 'nope\.txt'"):
        await _call(registry, "read_file", path="nope.txt")
    with pytest.raises(ToolError, match="is a directory"):
        await _call(registry, "read_file", path="docs")


@pytest.mark.parametrize(("path", "meant"), [
    ("docs/read-me.md", "did you mean 'docs/readme.md'?"),  # bench.quality missing-file: a name mistyped
    ("docs/notes.text", "did you mean 'docs/notes.txt'?"),
    ("readme.md", "did you mean 'docs/readme.md'?"),  # the right name in another folder
    ("zzzz.xyz", "list_files shows what exists"),  # nothing like it
    (".env2", "list_files shows what exists"),  # a hidden file is never offered
])
async def test_a_missing_file_is_answered_with_the_files_named_like_it(workspace: Path, path: str, meant: str) -> None:
    (workspace / ".env").write_text("API_TOKEN=x\n")
    with pytest.raises(ToolError) as refused:
        await _call(_registry(workspace), "read_file", path=path)
    assert str(refused.value) == f"there is no file '{path}' in the workspace; {meant}"


@pytest.mark.parametrize("path", ["../secret.txt", "docs/../../secret.txt", "..", "../ws2/x"])
async def test_dotdot_escapes_are_refused(workspace: Path, path: str) -> None:
    registry = _registry(workspace)
    with pytest.raises(ToolError, match="outside the workspace"):
        await _call(registry, "read_file", path=path)
    with pytest.raises(ToolError, match="outside the workspace"):
        await _call(registry, "write_file", path=path, content="x")
    assert (workspace.parent / "secret.txt").read_text() == "password=hunter2\n"


async def test_absolute_paths_are_refused(workspace: Path) -> None:
    registry = _registry(workspace)
    absolute = str(workspace.parent / "secret.txt")
    with pytest.raises(ToolError, match="outside the workspace, and only files inside it"):
        await _call(registry, "read_file", path=absolute)
    with pytest.raises(ToolError, match="outside the workspace, and only files inside it"):
        await _call(registry, "write_file", path=str(workspace / "main.py"), content="x")
    with pytest.raises(ToolError, match="inside the workspace"):
        await _call(registry, "list_files", pattern="/etc/*")


async def test_symlinks_pointing_out_are_refused(workspace: Path) -> None:
    outside = workspace.parent
    (workspace / "leak.txt").symlink_to(outside / "secret.txt")
    (workspace / "outdir").symlink_to(outside, target_is_directory=True)
    (workspace / "inside.md").symlink_to(workspace / "docs" / "readme.md")
    registry = _registry(workspace)
    for path in ("leak.txt", "outdir/secret.txt"):
        with pytest.raises(ToolError, match="outside the workspace"):
            await _call(registry, "read_file", path=path)
    with pytest.raises(ToolError, match="outside the workspace"):
        await _call(registry, "write_file", path="leak.txt", content="overwritten")
    with pytest.raises(ToolError, match="outside the workspace"):
        await _call(registry, "write_file", path="outdir/new.txt", content="x")
    assert (outside / "secret.txt").read_text() == "password=hunter2\n"
    assert not (outside / "new.txt").exists()

    listed = await _call(registry, "list_files", pattern="**/*")
    paths = [f["path"] for f in listed["files"]]
    assert "leak.txt" not in paths and not any(p.startswith("outdir") for p in paths)
    assert "inside.md" in paths  # a link that stays inside is fine
    via_dir = await _call(registry, "list_files", pattern="outdir/*")
    assert via_dir["files"] == []
    found = await _call(registry, "search_files", query="hunter2", pattern="**/*")
    assert found["matches"] == []
    found = await _call(registry, "search_files", query="hunter2", pattern="outdir/*")
    assert found["matches"] == []


async def test_list_files(workspace: Path) -> None:
    registry = _registry(workspace)
    result = await _call(registry, "list_files")
    assert [f["path"] for f in result["files"]] == [
        "blob.bin", "docs/notes.txt", "docs/readme.md", "main.py"]
    assert result["truncated"] is False
    assert (await _call(registry, "list_files", pattern="*.py"))["files"] == [
        {"path": "main.py", "size": 13}]
    capped = await _call(_registry(workspace, max_results=2), "list_files")
    assert len(capped["files"]) == 2 and capped["truncated"] is True


async def test_search_files(workspace: Path) -> None:
    registry = _registry(workspace)
    plain = await _call(registry, "search_files", query="dag")  # (all in lower case: in any case)
    assert plain["matches"] == [
        {"path": "docs/notes.txt", "line_number": 1, "text": "todo: ship the dag"},
        {"path": "docs/readme.md", "line_number": 2, "text": "DAG runner"},
        {"path": "main.py", "line_number": 1, "text": "print('dag')"},
    ]
    exact = await _call(registry, "search_files", query="DAG")
    assert [m["path"] for m in exact["matches"]] == ["docs/readme.md"]
    assert plain["truncated"] is False and plain["files_searched"] == 3  # blob.bin skipped
    regex = await _call(registry, "search_files", query=r"(?i)^todo:", regex=True,
                        pattern="docs/*.txt")
    assert [(m["line_number"], m["text"]) for m in regex["matches"]] == [
        (1, "todo: ship the dag"), (2, "TODO: tests")]
    literal = await _call(registry, "search_files", query="(?i)dag")
    assert literal["matches"] == []  # without regex=true the query is literal text
    assert literal["note"].startswith("no line in 3 file(s) of the workspace contains the text (in any case)")
    assert "read_file shows a file's whole text" in literal["note"] and "note" not in plain
    one_file = await _call(registry, "search_files", query="DAG", pattern="docs/notes.txt")
    assert "of 'docs/notes.txt'" in one_file["note"]  # (a capital in it: case-sensitive)
    # smart case, as ripgrep's: all in lower case, it finds the text in any case
    either = await _call(registry, "search_files", query="todo", pattern="docs/*.txt")
    assert [m["text"] for m in either["matches"]] == ["todo: ship the dag", "TODO: tests"]
    nothing = await _call(registry, "search_files", query="nowhere")
    assert "contains the text (in any case) 'nowhere'" in nothing["note"]
    capped = await _call(_registry(workspace, max_results=1), "search_files", query="dag")
    assert len(capped["matches"]) == 1 and capped["truncated"] is True
    with pytest.raises(ToolError, match="not a valid regular expression"):
        await _call(registry, "search_files", query="(", regex=True)


HOSTILE = r"^(a|aa)+$"
"""Backtracks exponentially on a line of a's that ends otherwise (in re and in regex)."""


async def test_a_backtracking_regex_stops_with_a_clear_error(workspace: Path) -> None:
    (workspace / "log.txt").write_text(("a" * 26 + "b\n") * 100)  # many seconds of matching
    registry = _registry(workspace, search_seconds=0.3)
    with pytest.raises(ToolError, match=r"the pattern took too long on log\.txt; simplify it|search_files stopped after 0\.3 s, at log\.txt"):
        await _call(registry, "search_files", query=HOSTILE, regex=True)
    fine = await _call(registry, "search_files", query=r"a+b$", regex=True, pattern="log.txt")
    assert len(fine["matches"]) == 100  # the same file, a sane pattern: every line


async def test_hostile_searches_do_not_starve_the_other_file_tools(workspace: Path) -> None:
    """More hostile searches at once than asyncio's default executor has threads (what
    read_file and write_file, mail and the Docker SDK use): the other calls complete, a sane
    search queued behind them completes, and every hostile search fails with a clear error."""
    (workspace / "log.txt").write_text(("a" * 26 + "b\n") * 100)
    registry = _registry(workspace, search_seconds=0.5)
    default_workers = min(32, (os.cpu_count() or 1) + 4)
    hostile = [_call(registry, "search_files", query=HOSTILE, regex=True, pattern="log.txt")
               for _ in range(default_workers + 2)]
    others = [
        _call(registry, "read_file", path="docs/readme.md"),
        _call(registry, "write_file", path="out.txt", content="written"),
        _call(registry, "list_files", pattern="*.py"),
        _call(registry, "search_files", query="ship", pattern="docs/*"),
    ]
    # The guard only turns a starved pool into a failure instead of a hang.
    outcomes = await asyncio.wait_for(asyncio.gather(*hostile, *others, return_exceptions=True), 120)
    searches, (read, written, listed, sane) = outcomes[:len(hostile)], outcomes[len(hostile):]
    assert read["content"].startswith("# Title")
    assert written["bytes_written"] == 7 and (workspace / "out.txt").read_text() == "written"
    assert listed["files"] == [{"path": "main.py", "size": 13}]
    assert [m["path"] for m in sane["matches"]] == ["docs/notes.txt"]
    for outcome in searches:
        assert isinstance(outcome, ToolError), outcome
        # the file's own limit, or the search's, whichever a loaded machine reaches first
        assert "the pattern took too long on log.txt; simplify it" in str(outcome) or \
            "search_files stopped after 0.5 s, at log.txt" in str(outcome), outcome


async def test_write_file(workspace: Path) -> None:
    registry = _registry(workspace)
    result = await _call(registry, "write_file", path="out/report.md", content="héllo\n")
    assert result == {"path": "out/report.md", "bytes_written": 7, "appended": False}
    await _call(registry, "write_file", path="out/report.md", content="more\n", append=True)
    assert (workspace / "out" / "report.md").read_text() == "héllo\nmore\n"
    await _call(registry, "write_file", path="out/report.md", content="new")
    assert (workspace / "out" / "report.md").read_text() == "new"
    with pytest.raises(ToolError, match="is a directory"):
        await _call(registry, "write_file", path="docs", content="x")


def test_missing_workspace_is_created(tmp_path: Path) -> None:
    _registry(tmp_path / "fresh" / "ws")
    assert (tmp_path / "fresh" / "ws").is_dir()


async def test_read_files_description_names_the_files_and_a_tables_columns(workspace: Path) -> None:
    """What the planner is shown (the description's first sentence): the files there are, a
    CSV's columns, and after a write the files there are then; hidden files and any other
    content stay out."""
    (workspace / "data").mkdir()
    (workspace / "data" / "orders.csv").write_text("region,orders,revenue_eur\nnorth,120,15400\n")
    (workspace / ".env").write_text("API_TOKEN=do-not-show\n")
    registry = _registry(workspace)
    shown = essentials(registry.get("read_file").description)
    assert shown.startswith("Read a text file from the workspace, which holds blob.bin, main.py, "
                            "data/orders.csv (columns region, orders, revenue_eur), docs/notes.txt")
    assert ".env" not in shown and "do-not-show" not in shown and "DAG runner" not in shown
    (workspace.parent / "outside.csv").write_text("password,hunter2\n")
    (workspace / "leak.csv").symlink_to(workspace.parent / "outside.csv")
    registry = _registry(workspace)
    assert "leak.csv" not in registry.get("read_file").description
    assert "hunter2" not in registry.get("read_file").description
    await _call(registry, "write_file", path="reports/errors.tsv", content="service\tcount\ncheckout\t4\n")
    assert "reports/errors.tsv (columns service, count)" in registry.get("read_file").description
    await _call(registry, "write_file", path="billing/nov.csv", content="project;amount_eur\nshop;24,90\n")
    assert "billing/nov.csv (columns project, amount_eur)" in registry.get("read_file").description


def test_read_files_description_names_a_large_workspaces_first_files_only(tmp_path: Path) -> None:
    for i in range(30):
        (tmp_path / f"f{i:02}.txt").write_text("x")
    shown = essentials(_registry(tmp_path).get("read_file").description)
    assert "f00.txt, f01.txt" in shown and "f11.txt, and 18 more." in shown and "f12.txt" not in shown
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "which holds no files yet." in _registry(empty).get("read_file").description


@pytest.mark.parametrize(("name", "text", "kind"), [
    ("silences.json", '[{"id": 1},\n]\n', "JSON"),  # morning broken-silences: a trailing comma
    ("oncall.yaml", "weeks:\n  - primary: a\n     secondary: b\n", "YAML"),
    ("app.toml", "[server\nport = 1\n", "TOML"),
])
async def test_a_structured_file_that_does_not_parse_is_read_with_a_note_saying_so(
        workspace: Path, name: str, text: str, kind: str) -> None:
    (workspace / name).write_text(text)
    read = await _call(_registry(workspace), "read_file", path=name)
    assert read["content"] == text
    assert read["note"].startswith(f"this file is not valid {kind}: ") and f"loads it as {kind} fails" in read["note"]


async def test_files_that_parse_or_say_no_format_are_read_with_no_note(workspace: Path) -> None:
    (workspace / "ok.json").write_text('{"a": [1, 2]}')
    (workspace / "ok.yml").write_text("a: 1\n---\nb: 2\n")  # (two documents: YAML all the same)
    (workspace / "notes.txt").write_text("{not json")
    registry = _registry(workspace)
    for name in ("ok.json", "ok.yml", "notes.txt"):
        assert "note" not in await _call(registry, "read_file", path=name)
