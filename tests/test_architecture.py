"""The dependency rule (README, "Layout"): ``agent`` imports no other package of ours, ``sandbox``
and ``bot`` stand on it and import neither each other nor ``infra``, which wires them together;
``bench`` stands on them all but not on the tests. Checked by walking every module's imports."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from agent.plan.package_code import parse_python

ROOT = Path(__file__).resolve().parents[1]
NOT_THE_PRODUCT = {"tests", "bench"}
"""No package of the product imports test or benchmark code (the stand-ins the playground, the
benchmarks and the tests share live in infra/emulators/)."""
FORBIDDEN = {
    "agent": {"slack_bolt", "slack_sdk", "docker", "sqlalchemy", "psycopg", "aiosqlite", "alembic",
              "sandbox", "bot", "infra", *NOT_THE_PRODUCT},
    "sandbox": {"slack_bolt", "slack_sdk", "sqlalchemy", "bot", "infra", *NOT_THE_PRODUCT},
    "bot": {"docker", "sqlalchemy", "sandbox", "infra", *NOT_THE_PRODUCT},
    "infra": NOT_THE_PRODUCT,
    "bench": {"tests"},
}


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(parse_python(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_respect_the_dependency_rule(package: str) -> None:
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"{package}/ has no modules"
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_roots(path) & FORBIDDEN[package])
        for path in files
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_importing_the_packages_touches_no_network_or_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib
    import socket

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("network access at import time")

    monkeypatch.setattr(socket, "create_connection", refuse)
    for name in ("agent.engine.graph", "agent.engine.engine", "infra.wiring", "infra.cli.app"):
        importlib.import_module(name)


@pytest.mark.parametrize("package", ["agent", "bot"])
def test_the_bot_and_the_engine_do_not_know_about_the_playground(package: str) -> None:
    """The playground drives the real bot from outside (issue 8): nothing inside may special-case it."""
    import re

    # (whole words: "standin", the playground's stand-in module, is not "standing", as in standing approvals)
    playground = re.compile(r"playground|\bstandin\b")
    mentions = [str(path.relative_to(ROOT)) for path in sorted((ROOT / package).rglob("*.py"))
                if playground.search(path.read_text().lower())]
    assert mentions == []


def test_cited_documents_are_in_the_repository() -> None:
    """A docstring citing a section of a Markdown file (its name, then the section sign) must
    point at a file a reader of this repository has: the design notes that once lived beside
    it are not here, the README holds those facts."""
    import re
    import subprocess

    tracked = [path for path in subprocess.run(["git", "ls-files", "*.py", "*.md"], cwd=ROOT, capture_output=True,
                                               text=True, check=True).stdout.split()
               if (ROOT / path).exists()]  # (not those deleted but not yet committed)
    names = {Path(path).name for path in tracked} | set(tracked)
    cited = {(path, name) for path in tracked
             for name in re.findall(r"([\w./-]+\.md)\s*§", (ROOT / path).read_text())}
    assert sorted((path, name) for path, name in cited if name not in names) == []


# agent/'s rooms, lowest first: a room imports only from rooms below it (and from itself). The
# modules directly in agent/ (errors, events, state, urgency, run_identity) are the vocabulary
# every room shares, and import no room.
AGENT_ROOMS = ["tools", "ports", "plan", "model", "execution", "answer", "engine"]


def agent_room(module: str) -> str | None:
    """``agent.plan.format`` (or ``agent.plan``) → ``plan``; a module directly in agent/ → None."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in AGENT_ROOMS else None


def package_imports(path: Path, package: str) -> set[str]:
    """The modules of ``package`` that a file imports (``from bot.views import wording``: ``bot.views``)."""
    modules = set()
    for node in ast.walk(parse_python(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module == package:
            modules.update(f"{package}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(f"{package}."):
            modules.add(node.module)
        elif isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names if alias.name.startswith(f"{package}."))
    return modules


def test_agent_is_in_rooms_and_each_imports_only_the_rooms_below_it() -> None:
    loose = sorted(path.name for path in (ROOT / "agent").glob("*.py"))
    assert loose == ["__init__.py", "errors.py", "events.py", "run_identity.py", "state.py", "urgency.py"]
    assert sorted(path.name for path in (ROOT / "agent").iterdir()
                  if path.is_dir() and path.name not in {"__pycache__", "prompts"}) == sorted(AGENT_ROOMS)
    upward = []
    for path in sorted((ROOT / "agent").rglob("*.py")):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        here = agent_room(module)
        for target in package_imports(path, "agent"):
            there = agent_room(target)
            if there == here:
                continue
            if (here is None and there is not None) or (
                    here is not None and there is not None and AGENT_ROOMS.index(there) > AGENT_ROOMS.index(here)):
                upward.append(f"{module} -> {target}")
    assert upward == []


# bot/'s rooms, lowest first: a room imports only from rooms below it (and from itself), so no two
# rooms import each other, even through a third. A name ending in .py is a module left directly in
# bot/, which stands in the order as a room of its own: the ports infra implements (store, ops), the
# configuration infra hands down (config: it carries the access policy, and the listeners read it),
# and the wiring (app, server) on top.
BOT_ROOMS = ["ground", "store.py", "ops.py", "access", "config.py", "views", "outbound", "inbound",
             "app.py", "server.py"]


def bot_room(module: str) -> str:
    """``bot.views.status_view`` (or ``bot.views``) → ``views``; ``bot.store`` → ``store.py``."""
    name = module.split(".")[1]
    return f"{name}.py" if (ROOT / "bot" / f"{name}.py").is_file() else name


def test_bot_is_in_rooms_and_each_imports_only_the_rooms_below_it() -> None:
    loose = sorted(path.name for path in (ROOT / "bot").glob("*.py"))
    assert loose == sorted(["__init__.py", *(room for room in BOT_ROOMS if room.endswith(".py"))])
    assert sorted(path.name for path in (ROOT / "bot").iterdir() if path.is_dir() and path.name != "__pycache__") \
        == sorted(room for room in BOT_ROOMS if not room.endswith(".py"))
    upward = []
    for path in sorted((ROOT / "bot").rglob("*.py")):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        if module == "bot.__init__":
            continue
        here = bot_room(module)
        upward += [f"{module} -> {target}" for target in sorted(package_imports(path, "bot"))
                   if BOT_ROOMS.index(bot_room(target)) > BOT_ROOMS.index(here)]
    assert upward == []


def test_the_bots_action_and_callback_ids_are_named_in_one_module() -> None:
    """What Slack names back when a button is clicked or a modal submitted (an ``action_id``, a
    ``callback_id``) is defined in bot/ground/action_ids.py alone, which the views that give the
    ids and the listeners that route on them both import: no other module defines an ``*_ACTION``
    or ``*_CALLBACK``, nor writes such an id as a literal."""
    found = []
    for path in sorted((ROOT / "bot").rglob("*.py")):
        if path == ROOT / "bot" / "ground" / "action_ids.py":
            continue
        where = str(path.relative_to(ROOT))
        for node in ast.walk(parse_python(path.read_text(), str(path))):
            if isinstance(node, ast.Assign | ast.AnnAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                found += [f"{where}: {target.id}" for target in targets if isinstance(target, ast.Name)
                          and target.id.endswith(("_ACTION", "_CALLBACK"))]
            elif isinstance(node, ast.Dict):
                found += [f"{where}: {key.value} {value.value!r}"
                          for key, value in zip(node.keys, node.values, strict=True)
                          if isinstance(key, ast.Constant) and key.value in ("action_id", "callback_id")
                          and isinstance(value, ast.Constant)]
    assert found == []


def _module_graph() -> dict[str, set[str]]:
    """Our modules (not tests, not benchmarks) → the modules of ours they import at import time
    (module level; an import inside a function or under TYPE_CHECKING is no circle at start)."""
    paths = {}
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[0] in {"agent", "bot", "infra", "sandbox"} and "__pycache__" not in parts:
            paths[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    graph: dict[str, set[str]] = {module: set() for module in paths}
    for module, path in paths.items():
        for node in parse_python(path.read_text(), str(path)).body:
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
            graph[module].update(name for name in names if name in paths and name != module)
    return graph


def test_no_two_modules_import_each_other_even_through_others() -> None:
    graph = _module_graph()
    circles = []
    for start in sorted(graph):
        seen, stack = set(), [(start, [start])]
        while stack:
            module, path = stack.pop()
            for target in graph[module]:
                if target == start:
                    circles.append(" -> ".join([*path, start]))
                elif target not in seen and target > start:  # each circle once, from its least module
                    seen.add(target)
                    stack.append((target, [*path, target]))
    assert circles == []
