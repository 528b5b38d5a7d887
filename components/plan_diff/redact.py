"""No secret in a plan diff: values the secret scanner flags are replaced before anything is shown.

A plan can carry a secret that a flavour should never have held (the guardrails flag it, and
the plan is still written so that the diff can show the rest). The terminal report and the PR
comment then must not repeat it. The scanner and its judgement are the guardrails'
(policy/secret_scan.py: detect-secrets via components/model/secrets.py, checksums, secret
references and commit ids not counted), so what plan-diff hides is what GI-SECRET-001 flags:

- a one-line value is judged with its key (`tags.aws_secret_access_key`), as the guardrails
  judge tags and parameters; a flagged value becomes `«redacted: looks like a secret (kind)»`.
  ARNs and Azure resource ids are not judged (the guardrails do not read them either: an
  ARN's `account:name` passes for a Telegram bot token);
- a script or document is judged line by line, and so are the scripts it carries
  base64-encoded (re-encoded with the line masked, so the text diff shows the mask); a
  flagged line keeps its indentation and nothing else.

Every distinct value and line is scanned once, in one batch per diff.
"""
from __future__ import annotations

import base64
import binascii
import dataclasses
import re
from pathlib import Path
from typing import Any, Callable, Optional

from .diff import MISSING, PlanDiff, ValueChange, texty

CACHE = Path(__file__).resolve().parents[2] / "build" / "cache" / "secret-scan.json"
# Cloud identifiers are not judged: an ARN's account and name pass for a Telegram bot token.
_IDENTIFIER = re.compile(r"^(?:arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:(?:\d{12})?:\S+|/subscriptions/[0-9a-fA-F-]{36}(?:/\S*)?)$")
_BASE64 = re.compile(r"(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{80,}={0,2}(?![A-Za-z0-9+/=])")


def mark(kinds) -> str:
    return f"«redacted: looks like a secret ({', '.join(sorted(set(kinds)))})»"


def _outer(line: str) -> str:
    """A line as judged: the scripts it embeds base64-encoded are judged as scripts, on their own
    lines, not as one high-entropy blob (as the guardrails do)."""
    return _BASE64.sub(lambda m: "embedded-script" if _decoded(m.group(0)) is not None else m.group(0), line)


def _decoded(blob: str) -> Optional[str]:
    try:
        text = base64.b64decode(blob, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return text if "\n" in text.strip() else None


class Redactor:
    """Masks what the guardrails' scanner flags; `cache` is a policy.secret_scan.ScanCache
    (by default the findings `make plan` keeps in build/cache/secret-scan.json, read only)."""

    def __init__(self, cache: Any = None):
        self._cache = cache

    @property
    def cache(self) -> Any:
        if self._cache is None:
            try:
                from policy.secret_scan import ScanCache
            except ImportError:  # a copy without the policy pack: the model's scanner, unrefined
                self._cache = _ModelScanner()
            else:
                self._cache = ScanCache.load(CACHE)
        return self._cache

    def redact(self, diff: PlanDiff) -> PlanDiff:
        """A copy of `diff` whose shown values hold no flagged secret."""
        if diff.redacted:
            return diff
        entries: set = set()
        lines: set = set()

        def collect_value(key: str, value: str) -> str:
            if not _IDENTIFIER.match(value):
                entries.add((key, value))
            return value

        def collect_text(text: str) -> str:
            for line in self._lines(text):
                lines.add(line)
            return text

        walk = _Walk(collect_value, collect_text)
        for value in _values(diff):
            walk.value(value)
        flagged_values, flagged_lines = self._scan(entries, lines)
        if not flagged_values and not flagged_lines:
            return dataclasses.replace(diff, redacted=True)

        def mask_value(key: str, value: str) -> str:
            kinds = flagged_values.get((key, value))
            return mark(kinds) if kinds else value

        def mask_text(text: str) -> str:
            return self._masked_text(text, flagged_lines)

        masking = _Walk(mask_value, mask_text)
        changes = [
            dataclasses.replace(c, inputs=[masking.value(v) for v in c.inputs],
                                options=[masking.value(v) for v in c.options])
            for c in diff.changes
        ]
        return dataclasses.replace(diff, changes=changes, outputs=[masking.value(v) for v in diff.outputs],
                                   redacted=True)

    def _lines(self, text: str) -> list:
        found = []
        for line in text.splitlines():
            found.append(_outer(line).strip())
            for blob in _BASE64.findall(line):
                decoded = _decoded(blob)
                if decoded is not None:
                    found.extend(self._lines(decoded))
        return [line for line in found if line]

    def _scan(self, entries: set, lines: set) -> tuple:
        entry_list = sorted(entries)
        found = self.cache.scan_entries([(str(i), key, value) for i, (key, value) in enumerate(entry_list)]) \
            if entry_list else {}
        flagged_values = {entry_list[int(loc)]: kinds for loc, kinds in found.items()}
        line_list = sorted(lines)
        kinds = self.cache.scan_lines([self.cache.masked(line) for line in line_list], ".txt") if line_list else []
        flagged_lines = {line: k for line, k in zip(line_list, kinds) if k}
        return flagged_values, flagged_lines

    def _masked_text(self, text: str, flagged: dict) -> str:
        out = []
        for line in text.splitlines(keepends=True):
            body = line.rstrip("\r\n")
            ending = line[len(body):]
            kinds = flagged.get(_outer(body).strip())
            if kinds:
                out.append(body[: len(body) - len(body.lstrip())] + mark(kinds) + ending)
                continue

            def reencode(match: re.Match) -> str:
                decoded = _decoded(match.group(0))
                if decoded is None:
                    return match.group(0)
                masked = self._masked_text(decoded, flagged)
                return match.group(0) if masked == decoded else base64.b64encode(masked.encode()).decode()

            out.append(_BASE64.sub(reencode, body) + ending)
        return "".join(out)


class _ModelScanner:
    """The part of ScanCache's interface redaction uses, on components/model/secrets.py alone."""

    def scan_entries(self, entries: list) -> dict:
        from components.model.secrets import find_secret_values

        return {loc: tuple(kinds) for loc, kinds in find_secret_values(entries).items()}

    def scan_lines(self, lines: list, suffix: str) -> list:
        from components.model.secrets import scan_text

        found: dict = {}
        for number, kind in scan_text("\n".join(lines) + "\n", suffix=suffix):
            found.setdefault(number - 1, set()).add(kind)
        return [tuple(sorted(found.get(i, ()))) for i in range(len(lines))]

    def masked(self, line: str) -> str:
        return line


class _Walk:
    """Applies `on_value(key, string)` to one-line strings and `on_text(string)` to scripts and
    documents, through dicts and lists, keeping the structure."""

    def __init__(self, on_value: Callable[[str, str], str], on_text: Callable[[str], str]):
        self.on_value, self.on_text = on_value, on_text

    def value(self, change: ValueChange) -> ValueChange:
        key = re.sub(r"\[[^\]]*\]", "", change.path).rsplit(".", 1)[-1] or "value"
        before, after = self.any(key, change.before), self.any(key, change.after)
        if before is change.before and after is change.after:
            return change
        return dataclasses.replace(change, before=before, after=after)

    def any(self, key: str, value: Any) -> Any:
        if value is MISSING or value is None or isinstance(value, (bool, int, float)):
            return value
        if isinstance(value, str):
            new = self.on_text(value) if texty(value) else self.on_value(key, value)
            return value if new == value else new
        if isinstance(value, dict):
            items = {k: self.any(str(k), v) for k, v in value.items()}
            return value if all(items[k] is value[k] for k in value) else items
        if isinstance(value, list):
            if value and texty(value):  # a list of script lines: scanned as lines, judged as a text
                new_lines = [self.on_text(v) if isinstance(v, str) else v for v in value]
            else:
                new_lines = [self.any(key, v) for v in value]
            return value if all(a is b for a, b in zip(new_lines, value)) else new_lines
        return value


def _values(diff: PlanDiff) -> list:
    return [v for c in diff.changes for v in c.inputs + c.options] + list(diff.outputs)
