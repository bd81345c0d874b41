"""The settings of a read configuration file that the request names, each with its whole key.

A small joiner shown a manifest whose ``memory`` is set twice (``resources.limits.memory: 3Gi``
and ``resources.requests.memory: 1Gi``), or an INI file with a ``port`` in two sections, picks
one of them by position, and any pick is a value the file holds: no check against the results
can tell it from the right one. When the request names a setting by its key ("how much memory
may it use", "which port does the relay use"), dagbot finds every setting of that name in the
files the plan read (a YAML, JSON or TOML document's nested keys, an INI file's sections, a
``.env`` file's lines) and shows them to the joiner beside the results, each under its whole
key (``relay.port``), so what tells them apart is in sight (:func:`named_keys_section`).
Lists of records are :mod:`agent.model.named_rows`'s.
"""

from __future__ import annotations

import configparser
import json
import re
import tomllib
from collections.abc import Iterator, Mapping
from typing import Any

import yaml

from agent.model.named_rows import Results, cell_text, names_column, reads

_MOST_KEYS = 8
"""Past this many settings of the names asked, the request names a kind of setting, not one."""


def named_keys(request: str, plan: Mapping[str, Any], results: Results) -> list[tuple[str, str, str]]:
    """The settings ``request`` names by key in the files the plan read: (path, whole key, value)."""
    found: list[tuple[str, str, str]] = []
    for path, content in reads(plan, results):
        settings = [(key, value) for key, value in _settings(path, content)
                    if names_column(key.rsplit(".", 1)[-1], request)]
        if len(settings) <= _MOST_KEYS:
            found += [(path, key, value) for key, value in settings]
    return _closest(request, found)


def _closest(request: str, found: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """The one of ``found`` whose whole key the request names most of, where one does (the rest
    of its key's parts: "the memory limit on the worker pods" names ``worker`` and ``limits`` of
    ``worker.resources.limits.memory``, one each of ``worker.resources.requests.memory`` and
    ``api.resources.limits.memory``; shown all four, the joiner answered the worker's request,
    tuesday worker-memory-limit); all of them otherwise (two named alike: both are asked). Each
    name the request asks for apart (``memory`` and ``port`` in one request: one of each)."""
    kept = []
    for leaf in dict.fromkeys(key.rsplit(".", 1)[-1].lower() for _, key, _ in found):  # (each name asked)
        alike = [setting for setting in found if setting[1].rsplit(".", 1)[-1].lower() == leaf]
        scores = [sum(_names_part(part, request) for part in key.split(".")[:-1]) for _, key, _ in alike]
        best = max(scores, default=0)
        kept += alike if best == 0 or scores.count(best) > 1 else [alike[scores.index(best)]]
    return [setting for setting in found if setting in kept]


def named_keys_section(request: str, plan: Mapping[str, Any], results: Results) -> str:
    """The joiner's prompt section for the settings ``request`` names ("" when it names none)."""
    found = named_keys(request, plan, results)
    if not found:
        return ""
    return ("## Settings of the results the request names (each under its whole key)\n"
            + "\n".join(f"- {path}: {key} = {value}" for path, key, value in found))


def _names_part(part: str, request: str) -> bool:
    """Whether ``request`` says a part of a key, in the singular or the plural ("limit": ``limits``)."""
    word = part.lower().removesuffix("s")
    return len(word) > 1 and re.search(rf"(?<![\w-]){re.escape(word)}s?(?![\w-])", request, re.I) is not None


def _settings(path: str, content: str) -> list[tuple[str, str]]:
    """Every setting of a configuration file: its whole key and its value as text."""
    name = path.rsplit("/", 1)[-1].lower()
    suffix = name.rsplit(".", 1)[-1] if "." in name else ""
    try:
        if suffix in ("yaml", "yml", "json"):
            return list(_leaves(yaml.safe_load(content), ""))
        if suffix == "toml":
            return list(_leaves(tomllib.loads(content), ""))
        if suffix in ("ini", "cfg", "conf"):
            parser = configparser.ConfigParser(interpolation=None)
            parser.read_string(content)
            return [(f"{section}.{key}", value) for section in parser.sections()
                    for key, value in parser[section].items()]
        if name == ".env" or name.endswith(".env") or suffix == "env":
            return [(key.strip().removeprefix("export "), value.strip().strip("\"'"))
                    for line in content.splitlines()
                    if "=" in line and not line.lstrip().startswith("#")
                    for key, _, value in [line.partition("=")]]
    except (ValueError, yaml.YAMLError, configparser.Error, RecursionError):
        return []
    return []


def _leaves(value: Any, where: str, seen: set[int] | None = None) -> Iterator[tuple[str, str]]:
    """The scalar settings of a document's mappings (not of its lists: rows are named_rows'),
    each mapping once (YAML aliases share one)."""
    seen = set() if seen is None else seen
    if isinstance(value, dict) and id(value) not in seen:
        seen.add(id(value))
        for key, item in value.items():
            whole = f"{where}.{key}" if where else str(key)
            if isinstance(item, dict):
                yield from _leaves(item, whole, seen)
            elif not isinstance(item, list):
                yield whole, cell_text(item) if not isinstance(item, float) else json.dumps(item)
