"""The terminal report of a plan diff, and the value renderings the Markdown report shares.

Scripts that a renderer embeds base64-encoded (Azure inline customizers) are decoded for
their text diff.
"""
from __future__ import annotations

import base64
import binascii
import difflib
import json
import re
from typing import Any, Optional

from .diff import MISSING, SHARED, TEXT_THRESHOLD, PlanDiff, ResourceChange, ValueChange, canonical, scalars, texty
from .redact import Redactor

# A payload of a script embedded in a command line, e.g. `printf '%s' '<base64>' | base64 -d > f`.
_BASE64 = re.compile(r"(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{80,}={0,2}(?![A-Za-z0-9+/=])")
# Inputs listed for a new resource in the text report.
ADDED_INPUTS_SHOWN = 12


def as_lines(value: Any) -> list:
    """A value as text lines: scripts as they are (embedded base64 payloads decoded), JSON
    documents pretty-printed, lists one item a line."""
    if value is MISSING or value is None:
        return []
    if isinstance(value, str):
        stripped = value.strip()
        if stripped[:1] in ("{", "[") and "\n" not in stripped:
            try:
                return json.dumps(json.loads(value), indent=2, sort_keys=True).splitlines()
            except ValueError:
                pass
        return [out for line in value.splitlines() for out in _decoded(line)]
    if isinstance(value, list) and scalars(value):
        lines = []
        for item in value:
            lines.extend(as_lines(item) if isinstance(item, str) else [json.dumps(item)])
        return lines
    return json.dumps(value, indent=2, sort_keys=True, default=str).splitlines()


def _decoded(line: str) -> list:
    """A line with its base64-encoded script payloads replaced by a marker and the decoded text
    below it, so a changed embedded script diffs line by line instead of as one opaque blob."""
    decoded: list = []

    def replace(match: re.Match) -> str:
        try:
            text = base64.b64decode(match.group(0), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return match.group(0)
        if "\n" not in text.strip() or any(ord(ch) < 32 and ch not in "\n\r\t" for ch in text):
            return match.group(0)
        lines = text.splitlines()
        decoded.extend(f"    | {text_line}" for text_line in lines)
        return f"<base64 of {len(lines)} lines, decoded below>"

    head = _BASE64.sub(replace, line)
    return [head, *decoded]


def text_diff(change: ValueChange, max_lines: Optional[int] = None) -> list:
    """Unified diff of a long string or list of script lines (base -> head)."""
    lines = list(
        difflib.unified_diff(
            as_lines(change.before), as_lines(change.after), fromfile=f"base {change.path}",
            tofile=f"head {change.path}", lineterm="", n=3,
        )
    )
    if max_lines is not None and len(lines) > max_lines:
        hidden = len(lines) - max_lines
        lines = lines[:max_lines] + [f"... {hidden} more diff lines (run `make plan-diff` locally for all)"]
    return lines


def shortened(value: Any, limit: int = 120) -> str:
    if value is MISSING:
        return "(none)"
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _name(change: ResourceChange) -> str:
    if change.action == "replace" and change.old_name and change.old_name != change.name:
        return f"{change.old_name} -> {change.name}"
    return change.name


def _count_line(counts: dict) -> str:
    line = ", ".join(
        f"{counts[k]} to {label}" for k, label in (("add", "add"), ("replace", "replace"), ("update", "update in place"), ("remove", "remove"))
    )
    if counts.get("adopt"):
        line += f", {counts['adopt']} to adopt (existing, imported)"
    return line


_SIGN = {"add": "+", "adopt": "+=", "replace": "+-", "update": "~", "remove": "-"}


def render_text(diff: PlanDiff, max_diff_lines: Optional[int] = None, redactor: Optional[Redactor] = None) -> str:
    """The terminal report: per flavour, what changes and why; scripts as unified diffs. Values
    the secret scanner flags are masked (redact.py)."""
    diff = (redactor or Redactor()).redact(diff)
    out = [f"Plan diff of stack '{diff.stack}': {diff.base_label} -> {diff.head_label} (offline, mock runtime)"]
    out.append(f"  cloud resources: {_count_line(diff.counts())}; {diff.unchanged} unchanged")
    out.extend(f"  note: {note}" for note in diff.notes)
    if diff.risks:
        out.append(f"  data at risk: {len(diff.risks)} (below, read these first)")
        out += ["", "== data at risk =="]
        out.extend(f" ! {risk.title}: {risk.subject}: {risk.detail}" for risk in diff.risks)
    if diff.empty:
        out.append("")
        out.append("No changes: both revisions plan the same resources, inputs and outputs.")
        return "\n".join(out) + "\n"
    for group in diff.groups():
        counts = diff.counts(group)
        title = "shared (once per stack)" if group == SHARED else f"flavour {group}"
        out += ["", f"== {title}: {_count_line(counts)} =="]
        for change in (c for c in diff.changes if c.group == group):
            kind = "" if change.custom else " (component)"
            out.append(f"{_SIGN[change.action]:>2} {change.action} {change.type}{kind} {_name(change)}")
            if change.reason:
                out.append(f"      why: {change.reason}")
            if change.action in ("replace", "update"):
                for value in change.inputs + change.options:
                    out.extend("      " + line for line in _text_value(value, max_diff_lines))
            elif change.action in ("add", "adopt") and change.custom:
                for value in change.inputs[:ADDED_INPUTS_SHOWN]:
                    lines = len(as_lines(value.after)) if texty(value.after) else 1
                    if lines > 1:
                        out.append(f"      {value.path}: ({lines} lines)")
                    else:
                        out.append(f"      {value.path} = {shortened(value.after)}")
                if len(change.inputs) > ADDED_INPUTS_SHOWN:
                    out.append(f"      ... and {len(change.inputs) - ADDED_INPUTS_SHOWN} more inputs")
    if diff.outputs:
        out += ["", "== stack outputs =="]
        for value in diff.outputs:
            out.extend("  " + line for line in _text_value(value, max_diff_lines))
    return "\n".join(out) + "\n"


def is_block(value: ValueChange) -> bool:
    """Shown as a block of its own: a text diff, or a whole structure added or removed."""
    if value.kind == "changed":
        return value.is_text and not value.derived
    whole = value.after if value.kind == "added" else value.before
    return isinstance(whole, (dict, list)) and len(canonical(whole)) > TEXT_THRESHOLD


def pretty(value: Any) -> list:
    return json.dumps(value, indent=2, sort_keys=True, default=str).splitlines()


def _text_value(value: ValueChange, max_diff_lines: Optional[int]) -> list:
    tag = " (follows a new name)" if value.derived else ""
    if value.kind == "added":
        if is_block(value):
            return [f"+ {value.path} ="] + ["    " + line for line in pretty(value.after)]
        return [f"+ {value.path} = {shortened(value.after)}"]
    if value.kind == "removed":
        if is_block(value):
            return [f"- {value.path}, was:"] + ["    " + line for line in pretty(value.before)]
        return [f"- {value.path} (was {shortened(value.before)})"]
    if value.is_text and not value.derived:
        return [f"~ {value.path}:"] + ["    " + line for line in text_diff(value, max_diff_lines)]
    return [f"~ {value.path}: {shortened(value.before, 60)} -> {shortened(value.after, 60)}{tag}"]
