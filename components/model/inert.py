"""Text that stays text: control characters refused in input, never echoed to a terminal.

A flavour or stack value reaches scripts, tags, descriptions, plan files and the reviewer's
terminal. An ESC in a value would rewrite the reviewer's screen (or the CI log), a NUL or
carriage return would cut a value differently in each consumer, and the bidirectional
overrides would make a value read differently from what runs ("trojan source"). Line feeds
and tabs are ordinary in multi-line values; every other control character is refused.
"""
from __future__ import annotations

import re
from typing import Any

from .errors import Problem, visible

# C0 and C1 controls but tab and line feed, DEL, and the bidirectional embeddings,
# overrides and isolates (U+202A-U+202E, U+2066-U+2069).
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_CONTROL_IN_KEY = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def control_problems(data: Any, source: str, at: str = "") -> list[Problem]:
    """One Problem per field whose key or string value holds a control character."""
    problems: list[Problem] = []
    if isinstance(data, dict):
        for key, value in data.items():
            name = str(key)
            where = f"{at}.{name}" if at else name
            if _CONTROL_IN_KEY.search(name):
                problems.append(Problem(source, visible(where), f"key holds the control character {_first(name, _CONTROL_IN_KEY)}"))
                continue
            problems.extend(control_problems(value, source, where))
    elif isinstance(data, list):
        for index, item in enumerate(data):
            problems.extend(control_problems(item, source, f"{at}[{index}]"))
    elif isinstance(data, str) and _CONTROL.search(data):
        problems.append(Problem(source, at, f"holds the control character {_first(data, _CONTROL)}; "
                                            "only line feeds and tabs are accepted in a value"))
    return problems


def _first(text: str, pattern: "re.Pattern[str]") -> str:
    match = pattern.search(text)
    return visible(match.group()) if match else ""
