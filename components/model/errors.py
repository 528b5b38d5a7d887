"""Problems found while loading flavours and stack settings, reported together."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Optional

if TYPE_CHECKING:
    from pydantic import BaseModel, ValidationError

# Every control character but the line feed, and the bidirectional overrides and isolates.
_SHOWN = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def visible(text: str) -> str:
    """The text with every control character (but the line feed) written as an escape: safe
    to print on a reviewer's terminal or in a CI log (an ESC would rewrite the screen)."""
    return _SHOWN.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


@dataclass(frozen=True)
class Problem:
    """One user mistake: where it is, what is wrong, and what would be right."""

    source: str
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.source}: {self.path}" if self.path else self.source
        return visible(f"{where}: {self.message}")


class ValidationFailed(Exception):
    """Raised with every problem at once; the program stops before creating anything."""

    def __init__(self, problems: list[Problem], partial: Any = None):
        self.problems = sorted(set(problems), key=lambda p: (p.source, p.path, p.message))
        # What the checks after this one can still run on (the loader's Inputs of the sound
        # flavours), so that one run reports their problems too; None when nothing is sound.
        self.partial = partial
        super().__init__(self.report())

    def report(self) -> str:
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} found; nothing was created:"
        return "\n".join([head, *(f"  {p}" for p in self.problems)])


class EntryErrors(ValueError):
    """Several entries of one list or map are wrong: each becomes its own problem, at its own path.

    A validator raises it with (where, message) pairs, `where` relative to the field (`[2]`,
    `regions.us-east-1`, `steps[0].when.os`), so every bad entry is named, not only the first.
    """

    def __init__(self, entries: list[tuple[str, str]]):
        self.entries = [(str(where), message) for where, message in entries]
        super().__init__("; ".join(f"{where}: {message}" for where, message in self.entries))


def entry_path(path: str, where: str) -> str:
    """A field path with an entry's relative path appended (`accounts` + `[1]` = `accounts[1]`)."""
    if not path:
        return where
    return f"{path}{where}" if where.startswith("[") else f"{path}.{where}"


class RenderError(ValueError):
    """Valid model input that a cloud's API would still refuse (its limits, its names).

    Renderers raise it; the up-front pass (components/builds.py) turns each into a
    Problem naming the flavour file and field, before anything is created.
    """


def format_location(loc: tuple[int | str, ...]) -> str:
    """Render a pydantic error location as a field path like steps[2].version."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


# What a pattern-checked field takes, in words, by field name (a raw regex tells a user little).
_PATTERN_WORDS = {
    "bucket": "an S3 bucket name: 3-63 characters of lowercase letters, digits, dots and hyphens, starting "
              "and ending with a letter or digit (e.g. example-platform-artefacts)",
}


# Bounds said as "must be at least 1, got 0" (fields whose raw wording users reported; others keep pydantic's).
_BOUNDED_IN_WORDS = {"replica_count"}


def problems_from_pydantic(
    source: str, error: ValidationError, model: Optional[type[BaseModel]] = None, prefix: str = ""
) -> list[Problem]:
    """Translate a pydantic ValidationError into one Problem per failing field."""
    problems: list[Problem] = []
    for item in error.errors(include_url=False):
        loc = [p for p in item["loc"] if not (isinstance(p, str) and p.startswith("function-"))]
        # Discriminated/tagged unions add the tag to the path; drop it.
        loc = [p for p in loc if p not in ("str", "dict[str,...]", "StepUse", "mapping")]
        path = format_location(tuple(loc))
        if prefix:
            path = f"{prefix}.{path}" if path else prefix
        kind = item["type"]
        msg = item["msg"]
        raised = (item.get("ctx") or {}).get("error")
        if isinstance(raised, EntryErrors):
            problems.extend(Problem(source, entry_path(path, where), message) for where, message in raised.entries)
            continue
        if kind == "extra_forbidden":
            msg = "unknown field"
            problems.append(Problem(source, path, msg + _suggest(model, loc)))
            continue
        if kind == "missing":
            msg = "required field is missing"
        elif msg.startswith("Value error, "):
            msg = msg[len("Value error, "):]
        elif kind == "string_type" and isinstance(item.get("input"), (int, float)) and not isinstance(item.get("input"), bool):
            # YAML reads unquoted digits (an account id, a checksum, a version) as a number.
            got = item.get("input")
            msg = (f"must be text, got the number {got!r}; quote it in YAML (\"{got}\"): unquoted, digits become "
                   "a number and leading zeros are lost")
        elif kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than") and _BOUNDED_IN_WORDS & set(loc):
            bound = {"greater_than_equal": "at least", "less_than_equal": "at most",
                     "greater_than": "more than", "less_than": "less than"}[kind]
            limit = next(iter((item.get("ctx") or {}).values()), "?")
            msg = f"must be {bound} {limit}, got {item.get('input')!r}"
        elif kind == "string_pattern_mismatch":
            field_name = next((p for p in reversed(loc) if isinstance(p, str)), "")
            expected = _PATTERN_WORDS.get(field_name)
            got = item.get("input")
            msg = (f"{got!r} is not {expected}" if expected else
                   f"{got!r} is not in the form this field takes (pattern {(item.get('ctx') or {}).get('pattern')})")
        elif kind.endswith("_type") or kind.endswith("_parsing"):
            got = item.get("input")
            msg = f"{msg} (got {type(got).__name__} {got!r})"
        problems.append(Problem(source, path, msg))
    return problems


def _suggest(model: Optional[type[BaseModel]], loc: list[int | str]) -> str:
    """Name the allowed fields next to an unknown one, closest match first."""
    from .vocabulary import closest

    fields = _fields_at(model, loc[:-1]) if model is not None else []
    if not fields:
        return ""
    close = closest(str(loc[-1]), fields)
    hint = f"did you mean '{close}'? " if close else ""
    return f" ({hint}allowed: {', '.join(sorted(fields))})"


def _fields_at(model: type[BaseModel], loc: list[int | str]) -> list[str]:
    """The field names of the sub-model that a location points into."""
    import typing

    from pydantic import BaseModel

    current: Optional[type[BaseModel]] = model
    for part in loc:
        if isinstance(part, int) or current is None:
            continue
        field = current.model_fields.get(part) if hasattr(current, "model_fields") else None
        if field is None:
            return []
        current = None
        for candidate in [field.annotation, *typing.get_args(field.annotation)]:
            for inner in [candidate, *typing.get_args(candidate)]:
                if isinstance(inner, type) and issubclass(inner, BaseModel):
                    current = inner
    return list(current.model_fields) if current is not None else []
