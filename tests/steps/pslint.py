"""A tokenizer-level PowerShell check for machines without PowerShell.

It proves a script is well formed as far as tokens go: strings, here-strings and
comments are closed; (), {} and [] balance outside them, also inside `$( )`
subexpressions of double-quoted strings; no bash-isms or PowerShell 7-only operators
(Windows Server runs scripts with Windows PowerShell 5.1). It does not know cmdlets,
parameters or types: see components/steps/README.md for what is not checked.
"""
from __future__ import annotations

import re

OPENERS = {"(": ")", "{": "}", "[": "]"}
CLOSERS = {v: k for k, v in OPENERS.items()}

# Lines that are shell, not PowerShell (checked on code with strings and comments blanked).
BASHISMS = (
    (re.compile(r"^\s*(fi|done|esac|then)\s*$"), "bash keyword"),
    (re.compile(r"^\s*export\s+\w+="), "bash export"),
    (re.compile(r"^\s*(if|while)?\s*\[\[?\s+-[a-z]\s"), "bash test bracket"),
    (re.compile(r"\$\{\w+:[-?=+]"), "bash parameter expansion"),
    (re.compile(r"&&|\|\|"), "'&&'/'||' need PowerShell 7; use if/throw"),
    (re.compile(r"\?\?"), "'??' needs PowerShell 7"),
)


class PsSyntaxError(Exception):
    def __init__(self, line: int, message: str):
        super().__init__(f"line {line}: {message}")
        self.line = line


def code_only(text: str) -> str:
    """The script with every string, here-string and comment replaced by spaces (newlines kept),
    after checking that each is closed and that brackets balance. Raises PsSyntaxError."""
    out = list(text)
    stack: list[tuple[str, int]] = []  # (opener, line)
    i, n = 0, len(text)
    line = 1

    def blank(start: int, end: int) -> None:
        for k in range(start, end):
            if out[k] != "\n":
                out[k] = " "

    def skip_double(pos: int, start_line: int) -> int:
        """pos is after the opening quote; returns the index after the closing quote."""
        nonlocal line
        k = pos
        while k < n:
            c = text[k]
            if c == "\n":
                line += 1
            if c == "`":
                if k + 1 < n and text[k + 1] == "\n":
                    line += 1
                k += 2
                continue
            if c == "$" and k + 1 < n and text[k + 1] == "(":
                k = skip_subexpression(k + 2, line)
                continue
            if c == '"':
                if k + 1 < n and text[k + 1] == '"':  # "" is an escaped quote
                    k += 2
                    continue
                return k + 1
            k += 1
        raise PsSyntaxError(start_line, 'unterminated "string"')

    def skip_single(pos: int, start_line: int) -> int:
        nonlocal line
        k = pos
        while k < n:
            c = text[k]
            if c == "\n":
                line += 1
            if c == "'":
                if k + 1 < n and text[k + 1] == "'":
                    k += 2
                    continue
                return k + 1
            k += 1
        raise PsSyntaxError(start_line, "unterminated 'string'")

    def skip_subexpression(pos: int, start_line: int) -> int:
        """Code inside $( ... ) of a double-quoted string; returns the index after ')'."""
        nonlocal line
        depth = 1
        k = pos
        while k < n:
            c = text[k]
            if c == "\n":
                line += 1
            if c == "'":
                k = skip_single(k + 1, line)
                continue
            if c == '"':
                k = skip_double(k + 1, line)
                continue
            if c == "(":
                depth += 1
            elif c == ")":
                depth -= 1
                if depth == 0:
                    return k + 1
            k += 1
        raise PsSyntaxError(start_line, "unterminated $( ) in a string")

    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
            i += 1
            continue
        if c == "`":  # escape / line continuation outside strings
            if i + 1 < n and text[i + 1] == "\n":
                line += 1
            i += 2
            continue
        if text.startswith("<#", i):
            end = text.find("#>", i + 2)
            if end < 0:
                raise PsSyntaxError(line, "unterminated <# block comment #>")
            line += text.count("\n", i, end)
            blank(i, end + 2)
            i = end + 2
            continue
        if c == "#":
            end = text.find("\n", i)
            end = n if end < 0 else end
            blank(i, end)
            i = end
            continue
        if c == "@" and i + 1 < n and text[i + 1] in "'\"":
            quote = text[i + 1]
            rest = text[i + 2:].split("\n", 1)[0]
            if rest.strip():
                raise PsSyntaxError(line, f"here-string @{quote} must end its line")
            match = re.compile(r"^" + re.escape(quote) + "@", re.M).search(text, i + 2)
            if not match:
                raise PsSyntaxError(line, f"unterminated here-string @{quote}")
            line += text.count("\n", i, match.end())
            blank(i, match.end())
            i = match.end()
            continue
        if c == "'" or c in "\u2018\u2019":
            start = line
            end = skip_single(i + 1, start) if c == "'" else None
            if end is None:
                raise PsSyntaxError(line, "typographic quote; use ' or \"")
            blank(i, end)
            i = end
            continue
        if c == '"' or c in "\u201c\u201d":
            if c != '"':
                raise PsSyntaxError(line, "typographic quote; use ' or \"")
            start = line
            end = skip_double(i + 1, start)
            blank(i, end)
            i = end
            continue
        if c in OPENERS:
            stack.append((c, line))
        elif c in CLOSERS:
            if not stack or stack[-1][0] != CLOSERS[c]:
                expected = OPENERS[stack[-1][0]] if stack else "nothing"
                raise PsSyntaxError(line, f"unexpected '{c}' (expected {expected})")
            stack.pop()
        i += 1
    if stack:
        opener, at = stack[-1]
        raise PsSyntaxError(at, f"'{opener}' is never closed")
    return "".join(out)


def lint(text: str) -> list[str]:
    """Every problem found, one string each (empty list: well formed as far as tokens go)."""
    try:
        code = code_only(text)
    except PsSyntaxError as err:
        return [str(err)]
    problems = []
    for number, source in enumerate(code.splitlines(), 1):
        for pattern, why in BASHISMS:
            if pattern.search(source):
                problems.append(f"line {number}: {why}: {source.strip()}")
    return problems


NATIVE_CALL = re.compile(r"(^|[=(@]\s*|^\s*)&\s*(?!\{)(\S+\.exe\b|\$\w+)")


def unchecked_native_calls(text: str, window: int = 3) -> list[str]:
    """Native command calls (`& x.exe ...`, `& $tool ...`) not followed by a $LASTEXITCODE test."""
    code = code_only(text).splitlines()
    problems = []
    for index, source in enumerate(code):
        if NATIVE_CALL.search(source):
            following = "\n".join(code[index: index + 1 + window])
            if "$LASTEXITCODE" not in following:
                problems.append(f"line {index + 1}: native command without a $LASTEXITCODE check: {source.strip()}")
    return problems
