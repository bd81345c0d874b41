"""What can be told of package code before it runs: names it uses but never defines, a
``result`` it never sets, workspace files it opens. Each is a certain failure in the sandbox
(a ``NameError``, a null output, a ``FileNotFoundError``), cheaper to send back to the planner
with the plan than to find one attempt at a time; the reasons name what a package does have.
Found with the standard library's :mod:`symtable`, which knows Python's scoping rules.

Apart from those faults of the code, :func:`outward_actions` finds a package meant to act on
the world (to run a program, to open a connection): the sandbox has neither programs to run
nor a network, so this is a fault of the plan, which needs a tool for that or a plain "I can't"
(a small model asked to "restart the checkout service" packaged ``systemctl restart``)."""

from __future__ import annotations

import ast
import builtins
import functools
import gc
import re
import symtable
import sys
from collections.abc import Iterable

from agent.plan.early_reads import read_before_set

PACKAGE_GLOBALS = frozenset({
    "inputs", "input_files", "tools", "result",
    "ToolError", "ToolNotAllowed", "ToolArgumentError", "ToolBudgetExceeded", "ToolTimeout",
})
"""The names the sandbox defines for package code (``sandbox/runner.py``; a test keeps the two
the same)."""
_BUILTINS = frozenset(dir(builtins))
SCRATCH = "/scratch"
"""The sandbox's one writable directory: package code may open what it writes there."""


def parse_python(code: str, filename: str = "<package>") -> ast.Module:
    """:func:`ast.parse` with the cyclic garbage collector held off meanwhile. On CPython 3.11 a
    finalizer run mid-parse that formats a traceback (asyncio's "Task exception was never
    retrieved") parses too, and the outer parse fails with ``SystemError: AST constructor
    recursion depth mismatch`` (python/cpython#106905; seen in this suite)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return ast.parse(code, filename)
    finally:
        if enabled:
            gc.enable()


def parses(code: str) -> bool:
    """Whether ``code`` is Python that parses."""
    try:
        parse_python(code)
    except SyntaxError:
        return False
    return True


def key_read(node: ast.AST) -> tuple[ast.expr, ast.expr] | None:
    """``(x, k)`` when ``node`` reads key ``k`` of ``x``: ``x[k]`` or ``x.get(k, …)``."""
    if isinstance(node, ast.Subscript):
        return node.value, node.slice
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get"
            and node.args):
        return node.func.value, node.args[0]
    return None


def source_span(code: str, node: ast.expr | ast.stmt) -> tuple[int, int]:
    """Where ``node`` (parsed from ``code``) is in it, as UTF-8 byte offsets."""
    assert node.end_lineno is not None and node.end_col_offset is not None
    starts = [0]
    for line in code.encode().splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    return starts[node.lineno - 1] + node.col_offset, starts[node.end_lineno - 1] + node.end_col_offset


def spliced(code: str, edits: Iterable[tuple[int, int, str]]) -> str:
    """``code`` with each UTF-8 byte range ``(start, end)`` replaced by its text (the ranges
    apart; an empty one inserts)."""
    raw = code.encode()
    for start, end, text in sorted(edits, reverse=True):
        raw = raw[:start] + text.encode() + raw[end:]
    return raw.decode()


NO_RESULT = "never sets `result`: its output would be null; assign what it computes to result"


def package_code_problems(code: str, tree: ast.Module) -> list[str]:
    """Why code that parses cannot work, one sentence each (none: an empty list)."""
    undefined = undefined_names(code, tree)
    problems = [
        f"uses '{name}', which it never defines: a package runs alone and sees only its inputs "
        "(inputs['id'] is node id's output: read another node's value from there) and tools.NAME"
        for name in sorted(undefined)]
    problems.extend(
        f"reads '{name}' on line {line} before it sets it ({'None' if name == 'result' else 'a NameError'} "
        "then): a package starts with only its inputs (inputs['id'] is node id's output: read another "
        "node's value from there) and tools.NAME"
        for name, line in read_before_set(tree)
        if name not in undefined and (name == "result" or name not in PACKAGE_GLOBALS | _BUILTINS))
    if not _sets_result(code):
        problems.append(NO_RESULT)
    if _rebinds_inputs(code):
        problems.append(
            "assigns inputs, which holds the real inputs: read them as they are (inputs['x']); "
            "inputs written out in the code are made up")
    for read in _environment_reads(tree):
        problems.append(
            f"reads the sandbox's environment ({read}), where no variable of dagbot's, the request's or "
            "a tool's is set: read values from inputs['id'], the results of the nodes it depends on")
    for opened in sorted(_opened_files(tree)):
        problems.append(
            f"opens {opened}, which is not on the sandbox's disk: read a workspace file with a "
            "read_file node and use its text, inputs['id']['content']")
    problems.extend(
        f"imports {name}, which the sandbox does not have: only Python's standard library is there "
        "(statistics.mean, json, csv, re, collections.Counter…) and the parsers bs4, lxml, yaml, dateutil"
        for name in missing_modules(tree))
    return problems


PACKAGE_MODULES = frozenset(sys.stdlib_module_names) | {"bs4", "lxml", "yaml", "dateutil"}
"""The modules package code may import: Python's standard library and the parsers the sandbox
image carries (``sandbox/image.py``'s ``IMAGE_PACKAGES``; a test holds the two together)."""


def missing_modules(tree: ast.Module) -> list[str]:
    """The top-level modules the code imports that the sandbox lacks (numpy, pandas…), sorted;
    those meant for acting on the world are :func:`outward_uses`' to name."""
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module and not node.level}
    return sorted({name.split(".")[0] for name in imported
                   if name.split(".")[0] not in PACKAGE_MODULES and not _outward_module(name)})


_OUTWARD_MODULES = frozenset({
    "subprocess", "socket", "ssl", "http", "urllib", "requests", "httpx", "aiohttp", "smtplib", "ftplib",
    "telnetlib", "paramiko", "pty", "multiprocessing", "webbrowser",
})
"""Modules for running programs or talking over a network (``urllib.parse`` aside)."""
_OUTWARD_OS = ("system", "popen", "exec", "spawn", "posix_spawn", "fork", "kill")
"""``os`` functions that run or signal programs (as prefixes: ``execvp``, ``spawnl``…)."""
_FILE_CHANGES = frozenset({
    "os.remove", "os.unlink", "os.rmdir", "os.removedirs", "os.rename", "os.renames", "os.replace",
    "os.truncate", "os.chmod", "os.chown", "shutil.rmtree", "shutil.move", "shutil.copy", "shutil.copy2",
    "shutil.copyfile", "shutil.copytree", "shutil.chown",
})
"""Calls that delete, move or change files (the sandbox has no workspace files, and no tool
deletes or moves one: a small model asked to delete logs/app.log packaged ``os.remove``)."""
_PATH_CHANGES = frozenset({"unlink", "rmdir", "rename", "touch", "write_text", "write_bytes", "chmod"})
"""``pathlib.Path`` methods that change files, called on any value (``Path(p).unlink()``)."""
_DATABASE_MODULES = frozenset({
    "sqlite3", "dbm", "shelve", "psycopg", "psycopg2", "asyncpg", "pymysql", "MySQLdb", "sqlalchemy",
    "redis", "pymongo",
})
"""Modules for opening a database: the sandbox has none (a small model asked to record a row
packaged ``sqlite3.connect('config.db')`` and an INSERT)."""


def outward_actions(tree: ast.Module) -> list[str]:
    """Why the code acts on the world rather than compute, one sentence per way it tries."""
    return [outward_why(name) for name in outward_uses(tree)]


def outward_uses(tree: ast.Module) -> list[str]:
    """The modules and ``os`` functions the code would run programs, open connections or open a
    database with, sorted."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if _outward_module(alias.name))
        elif isinstance(node, ast.ImportFrom) and node.module and _outward_module(node.module):
            found.add(node.module)
        elif (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "os"
              and node.attr.startswith(_OUTWARD_OS)):
            found.add(f"os.{node.attr}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and not _in_scratch(node):
            found.update(_file_change(node.func))
    return sorted(found)


def _in_scratch(call: ast.Call) -> bool:
    """Whether the call's first argument is a path written out under /scratch, the sandbox's
    own scratch space (``os.remove('/scratch/part.csv')`` tidies up; it changes nothing)."""
    first = call.args[0] if call.args else None
    return (isinstance(first, ast.Constant) and isinstance(first.value, str)
            and first.value.startswith(SCRATCH))


def _file_change(func: ast.Attribute) -> list[str]:
    """The file change a call's function names, if it is one (``os.remove``, ``shutil.move``,
    ``path.unlink``)."""
    if isinstance(func.value, ast.Name) and f"{func.value.id}.{func.attr}" in _FILE_CHANGES:
        return [f"{func.value.id}.{func.attr}"]
    on_module = isinstance(func.value, ast.Name) and func.value.id in {"os", "shutil"}
    in_scratch = isinstance(func.value, ast.Call) and _in_scratch(func.value)  # Path('/scratch/x').touch()
    if func.attr in _PATH_CHANGES and not on_module and not in_scratch:
        return [f"Path.{func.attr}"]
    return []


def changes_files(name: str) -> bool:
    """Whether ``name``, one of :func:`outward_uses`, deletes, moves or changes files."""
    return name in _FILE_CHANGES or name.startswith("Path.")


def opens_database(name: str) -> bool:
    """Whether ``name``, one of :func:`outward_uses`, opens a database (a query or a red tool
    may do what was meant) rather than run a program or open a connection (no tool may)."""
    return name.split(".")[0] in _DATABASE_MODULES


def runs_programs(name: str) -> bool:
    """Whether ``name``, one of :func:`outward_uses`, runs or signals programs (``subprocess``,
    ``os.system``…), which no tool does, rather than reach a network (``http_get`` reads a page,
    ``send_email`` sends mail) or a database."""
    return ((name.startswith("os.") and not changes_files(name))
            or name.split(".")[0] in {"subprocess", "pty", "multiprocessing"})


def beyond_tools(name: str) -> str | None:
    """What code using ``name`` (one of :func:`outward_uses`) needs that no tool does, if it
    is a sign of that: running programs, or deleting and moving files (``write_file`` writes
    one, and a file emptied is not deleted). Reaching a network or a database is no such sign:
    ``http_get`` reads a page, ``send_email`` sends mail, a query tool reads rows."""
    if runs_programs(name):
        return "running a program"
    if changes_files(name) and name.rsplit(".", 1)[-1] not in {"write_text", "write_bytes", "touch"}:
        return "deleting, moving or renaming files"
    return None


def outward_why(name: str) -> str:
    """Why code using ``name`` (one of :func:`outward_uses`) cannot be a package."""
    if changes_files(name):
        return (f"uses {name}: a package has no workspace files and changes none; to write a file "
                "plan write_file's red node, and if no tool can do it (deleting, moving, renaming "
                "files), plan no node for it and say so in the answer")
    if opens_database(name):
        return (f"uses {name}: a package has no database to open; read one with a query tool's node "
                "and give its result to the package, and change one with its red tool's node, never in "
                "a package")
    return (f"uses {name}: a package only computes from its inputs, with no programs to run and no "
            "network; to change something plan a red tool node for it, and if no tool can do it, plan "
            "no node for it and say so in the answer")


def _outward_module(name: str) -> bool:
    return name.split(".")[0] in _OUTWARD_MODULES | _DATABASE_MODULES and name != "urllib.parse"


def undefined_names(code: str, tree: ast.Module) -> set[str]:
    """Global names the code reads that nothing defines: not assigned or imported anywhere at
    module level (nor declared global and assigned in a function), not a builtin, not given
    by the sandbox. Empty when the code uses ``from … import *``, which could define anything."""
    if any(isinstance(node, ast.ImportFrom) and any(a.name == "*" for a in node.names)
           for node in ast.walk(tree)):
        return set()
    module = _module_table(code)
    defined = {s.get_name() for s in module.get_symbols() if s.is_assigned() or s.is_imported()}
    read: set[str] = set()
    tables = [module]
    while tables:
        table = tables.pop()
        tables.extend(table.get_children())
        for symbol in table.get_symbols():
            if table is module:
                if symbol.is_referenced():
                    read.add(symbol.get_name())
            elif symbol.is_declared_global() and symbol.is_assigned():
                defined.add(symbol.get_name())
            elif symbol.is_global() and symbol.is_referenced():
                read.add(symbol.get_name())
    return read - defined - _BUILTINS - PACKAGE_GLOBALS


def _rebinds_inputs(code: str) -> bool:
    """Whether the code assigns ``inputs`` at module level (a 1.5B reflexion model wrote an
    "example usage" with ``inputs = {…}`` of its own making, then computed the result from it)."""
    symbols = {s.get_name(): s for s in _module_table(code).get_symbols()}
    return "inputs" in symbols and symbols["inputs"].is_assigned()


def acts_only_beyond_tools(code: str) -> bool:
    """Whether package code is there only for an effect no tool has: it runs a program or
    deletes, moves or changes files (:func:`beyond_tools`), and computes nothing: it sets no
    ``result``, prints nothing, reads no input and calls no tool ("Delete logs/app.log" packaged as
    ``os.remove('logs/app.log')``; "Restart the checkout service" as ``subprocess.run(['systemctl',
    …])``). Code that counts with ``grep`` sets a result or prints it: a repair may still make
    it a package that works."""
    try:
        tree = parse_python(code)
    except SyntaxError:
        return False
    if not any(beyond_tools(name) for name in outward_uses(tree)) or _sets_result(code):
        return False
    return not any(
        (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print")
        or (isinstance(node, ast.Name) and node.id in ("inputs", "tools"))
        for node in ast.walk(tree))


def _sets_result(code: str) -> bool:
    """Whether the code binds ``result`` where the sandbox reads it: at module level (a ``for``
    target, a walrus in a comprehension), or in a function declaring it ``global``; not only
    inside a function (a 1.5B reflexion model wrote ``def find(): … result = …`` and never
    called it)."""
    module = _module_table(code)
    tables = [module]
    while tables:
        table = tables.pop()
        tables.extend(table.get_children())
        symbols = {s.get_name(): s for s in table.get_symbols()}
        symbol = symbols.get("result")
        if symbol is not None and symbol.is_assigned() and (table is module or symbol.is_declared_global()):
            return True
    return False


@functools.lru_cache(maxsize=64)
def _module_table(code: str) -> symtable.SymbolTable:
    return symtable.symtable(code, "<package>", "exec")


def _environment_reads(tree: ast.Module) -> list[str]:
    """Reads of one named variable of the environment as the code writes them
    (``os.getenv('X')``, ``os.environ['X']``, ``os.environ.get('X')``, and the same of a name
    imported from ``os``): a follow-up's package read ``os.getenv('dagbot_kicked_off')`` for "who
    kicked it off?", and the answer gave its None (monday follow-up-deploy-failer). A sandbox runs
    with no variable of the run's (secrets never reach it); a look at the whole environment
    (``dict(os.environ)``) is a look at the sandbox, and left alone."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) \
                and _names_environment(node.value, "environ"):
            found.append(f"{ast.unparse(node.value)}[{node.slice.value!r}]")
        elif isinstance(node, ast.Call) and node.args and isinstance(first := node.args[0], ast.Constant):
            func = node.func
            if _names_environment(func, "getenv"):
                found.append(f"{ast.unparse(func)}({first.value!r})")
            elif isinstance(func, ast.Attribute) and func.attr == "get" \
                    and _names_environment(func.value, "environ"):
                found.append(f"{ast.unparse(func.value)}.get({first.value!r})")
    return sorted(set(found))


def _names_environment(expr: ast.expr, name: str) -> bool:
    """Whether ``expr`` is ``os.<name>``, or ``<name>`` alone (imported from os)."""
    return (isinstance(expr, ast.Attribute) and expr.attr == name and isinstance(expr.value, ast.Name)
            and expr.value.id == "os") or (isinstance(expr, ast.Name) and expr.id == name)


def _opened_files(tree: ast.Module) -> set[str]:
    """``open(…)`` of a file that cannot be there: a path written in the code outside
    /scratch, or a value read from inputs (a workspace file's name, never the sandbox's)."""
    opened = set()
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id == "open" and node.args):
            continue
        path = node.args[0]
        if isinstance(path, ast.Constant) and isinstance(path.value, str):
            if not path.value.startswith(SCRATCH):
                opened.add(repr(path.value))
        elif any(isinstance(part, ast.Name) and part.id == "inputs" for part in ast.walk(path)):
            opened.add(ast.unparse(path))
    return opened


_INPUT_READ = re.compile(r"""\binputs\s*(?:\[|\.get\()\s*(?:"([^"\\]+)"|'([^'\\]+)')""")


@functools.lru_cache(maxsize=256)
def package_input_ids(code: str) -> frozenset[str]:
    """The node ids package code reads: ``inputs["id"]`` and ``inputs.get("id")`` (found by
    their text when the code does not parse: that is reported as its own problem, or the
    sandbox's reflexion mends it, and it needs those inputs either way)."""
    try:
        tree = parse_python(code)
    except SyntaxError:
        return frozenset(a or b for a, b in _INPUT_READ.findall(code))
    ids: set[str] = set()
    for item in ast.walk(tree):
        key: ast.AST | None = None
        if isinstance(item, ast.Subscript) and isinstance(item.value, ast.Name) and item.value.id == "inputs":
            key = item.slice
        elif (isinstance(item, ast.Call) and isinstance(item.func, ast.Attribute)
              and isinstance(item.func.value, ast.Name) and item.func.value.id == "inputs"
              and item.func.attr == "get" and item.args):
            key = item.args[0]
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            ids.add(key.value)
    return frozenset(ids)
