"""Reading the project's YAML files: flavours, applications and stack files, one way."""
from __future__ import annotations

import re
from collections.abc import Hashable
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode

from .errors import Problem
from .steps import parse_yaml


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


def read_yaml(path: Path, source: str) -> tuple[Any, list[Problem]]:
    """Parse one YAML file; syntax errors become a Problem with the line and column."""
    try:
        return parse_yaml(path.read_text(encoding="utf-8"), YamlLoader, _FastYamlLoader), []
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        reason = getattr(err, "problem", None) or str(err)
        return None, [Problem(source, where, f"YAML syntax error: {reason}")]
    except UnicodeDecodeError:
        return None, [Problem(source, "", "file is not UTF-8 text")]
