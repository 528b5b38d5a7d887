"""Reading the project's YAML files: flavours, applications and stack files, one way."""
from __future__ import annotations

import re
from collections.abc import Hashable
from pathlib import Path
from typing import Any, Optional

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode

from .errors import Problem
from .files import MAX_TEXT_BYTES, FileRefused, read_text
from .steps import parse_yaml

# Deeper than any real flavour (about 6) and far below the parser's recursion limit.
MAX_YAML_DEPTH = 32
ALIASES_REFUSED = ("YAML anchors and aliases are not accepted (a few hundred bytes of nested aliases "
                   "expand to gigabytes); write the value out, or share it through a base flavour")


class _UniqueKeys(SafeConstructor):
    """Duplicate keys refused instead of silently keeping the last one.

    (Both loaders derive from SafeConstructor after this mixin, so their method order is unchanged.)
    """

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        seen: dict[Hashable, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key '{key}' (first on line {seen[key] + 1})", key_node.start_mark
                )
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


class YamlLoader(_UniqueKeys, yaml.SafeLoader):
    """YAML 1.2 booleans (only true/false, as the Pulumi CLI reads them: `on:` stays a
    string), and duplicate keys refused instead of silently keeping the last one."""


YamlLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
YamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


try:
    from yaml import CSafeLoader as _SafeLoaderOnLibyaml
except ImportError:  # PyYAML built without libyaml: the pure-Python parser does
    from yaml import SafeLoader as _SafeLoaderOnLibyaml  # type: ignore[assignment]  # same role, other class


class _FastYamlLoader(_UniqueKeys, _SafeLoaderOnLibyaml):
    """YamlLoader on libyaml's parser (see parse_yaml)."""

    yaml_implicit_resolvers = YamlLoader.yaml_implicit_resolvers


class YamlRefused(ValueError):
    """A well-formed document this project does not read: aliases, anchors, or too deep."""

    def __init__(self, message: str, mark: Any):
        super().__init__(message)
        self.mark = mark


def check_events(text: str) -> None:
    """Refuse anchors, aliases and deep nesting before anything is built from the text.

    PyYAML expands aliases into shared objects; whatever walks or serialises them later
    (pydantic, json.dumps, the plan) pays for every expansion: the "billion laughs". The
    event stream is read in constant memory per event, without building anything.
    Syntax errors are left to the loader, which reports them with their line.
    """
    # libyaml first (fast); what it refuses (its own nesting limit, say) again on PyYAML's
    # parser, which is iterative too and stops at the first refusal.
    for loader in (_FastYamlLoader, YamlLoader):
        depth = 0
        try:
            for event in yaml.parse(text, Loader=loader):
                if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                    raise YamlRefused(ALIASES_REFUSED, event.start_mark)
                if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                    depth += 1
                    if depth > MAX_YAML_DEPTH:
                        raise YamlRefused(f"nested more than {MAX_YAML_DEPTH} levels deep", event.start_mark)
                elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                    depth -= 1
            return
        except yaml.YAMLError:
            continue  # a syntax error: the loader reports it with its line


def load_text(text: str) -> Any:
    """One document of text, checked (check_events) and parsed; YamlRefused or yaml.YAMLError."""
    check_events(text)
    return parse_yaml(text, YamlLoader, _FastYamlLoader)


def read_yaml(path: Path, source: str, root: Optional[Path] = None) -> tuple[Any, list[Problem]]:
    """Parse one YAML file; every refusal (not a regular file inside the repository, over
    1 MB, not UTF-8, aliases, nesting, syntax) becomes one Problem with the line and column."""
    try:
        text = read_text(path, root if root is not None else path.parent, MAX_TEXT_BYTES)
    except FileRefused as err:
        return None, [Problem(source, "", str(err))]
    try:
        return load_text(text), []
    except YamlRefused as err:
        mark = err.mark
        return None, [Problem(source, f"line {mark.line + 1}, column {mark.column + 1}", str(err))]
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        reason = getattr(err, "problem", None) or str(err)
        return None, [Problem(source, where, f"YAML syntax error: {reason}{_indent_hint(text, mark)}")]
    except RecursionError:
        return None, [Problem(source, "", f"nested more than {MAX_YAML_DEPTH} levels deep")]


# Keys of a step use beside its name; written one indentation off they break the list.
STEP_KEYS = ("options", "when")


def _indent_hint(text: str, mark: Any) -> str:
    """A hint when the parser stops at a step's `options:` or `when:` written at the wrong indentation."""
    if mark is None:
        return ""
    lines = text.splitlines()
    line = lines[mark.line] if mark.line < len(lines) else ""
    key = line.strip().split(":", 1)[0]
    if key not in STEP_KEYS or not line.strip().startswith(f"{key}:"):
        return ""
    return (f"; `{key}:` belongs to the step above it: indent it level with the step's name, two spaces past "
            f"the `- ` (`  - script:` ... `    {key}:`), not under the step's parameters")
