"""The versions map: image_flavours/versions.yaml, pins many flavours share.

A flavour field or step parameter says `${versions.docker}`; the loader puts in
the pinned value before the flavour is checked, so one pin serves every
flavour that reads it and a bump is one line. `$${` keeps a literal `${`.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from .errors import Problem
from .vocabulary import did_you_mean
from .yaml_files import read_yaml

VERSIONS_FILE = "versions.yaml"
KEY_PATTERN = r"[a-z][a-z0-9_.-]{0,63}"
REFERENCE = re.compile(r"(\$?)\$\{versions\.([^}]*)\}")


def load_versions(folder: Path, source: str) -> tuple[dict[str, str], list[Problem]]:
    """The map of pins ({} without a file); each value a string (quote numbers: 8.10 is not 8.1)."""
    path = folder / VERSIONS_FILE
    if not path.is_file():
        return {}, []
    data, problems = read_yaml(path, source)
    if problems:
        return {}, problems
    if data is None:
        return {}, []
    if not isinstance(data, dict) or set(data) - {"versions"} or not isinstance(data.get("versions"), dict):
        return {}, [Problem(source, "", "a versions file is 'versions:' mapping names to pinned versions")]
    versions: dict[str, str] = {}
    for key, value in data["versions"].items():
        if not isinstance(key, str) or not re.fullmatch(KEY_PATTERN, key):
            problems.append(Problem(source, f"versions.{key}", "a name is lower-case letters, digits, '_', '-', '.'"))
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            problems.append(Problem(source, f"versions.{key}",
                                    f"{value!r} is read as a number; quote it (\"{value}\") so that 8.10 stays 8.10"))
        elif not isinstance(value, str) or not value.strip():
            problems.append(Problem(source, f"versions.{key}", "must be a non-empty string"))
        else:
            versions[key] = value
    return versions, problems


def substitute(value: Any, versions: dict[str, str], at: str = "") -> tuple[Any, list[tuple[str, str]], set[str]]:
    """(value with every ${versions.x} replaced, [(field path, problem)], the names used)."""
    problems: list[tuple[str, str]] = []
    used: set[str] = set()
    if isinstance(value, str):
        def replace(match: re.Match[str]) -> str:
            if match.group(1):  # $${versions.x}: a literal ${versions.x}
                return str(match.group(0))[1:]
            name = match.group(2)
            if name not in versions:
                known = ", ".join(sorted(versions)) or "none: add image_flavours/versions.yaml"
                problems.append((at, f"unknown version '{name}'{did_you_mean(name, list(versions))} "
                                     f"(versions.yaml knows: {known})"))
                return str(match.group(0))
            used.add(name)
            return versions[name]
        return REFERENCE.sub(replace, value), problems, used
    if isinstance(value, list):
        out = []
        for index, item in enumerate(value):
            new, found, names = substitute(item, versions, f"{at}[{index}]")
            out.append(new)
            problems.extend(found)
            used |= names
        return out, problems, used
    if isinstance(value, dict):
        mapping = {}
        for key, item in value.items():
            new, found, names = substitute(item, versions, f"{at}.{key}" if at else str(key))
            mapping[key] = new
            problems.extend(found)
            used |= names
        return mapping, problems, used
    return value, problems, used
