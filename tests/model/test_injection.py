"""No injection: every value that reaches a script or a command stays one inert value.

The facts (REFERENCE.md, "PowerShell quoting"): inside a single-quoted string PowerShell
ends the string at ' and at U+2018, U+2019, U+201A and U+201B, and a quote character is
escaped by doubling it; Windows PowerShell 5.1 reads a .ps1 without a BOM in the ANSI code
page. A resource group name may hold ( and ), which a POSIX shell reads as syntax.
"""
from __future__ import annotations

import base64
import shlex
import subprocess

import pytest

from components.aws import render as aws_render
from components.azure import render as azure_render
from components.azure.render.runners import powershell_runner
from components.model.prepared import prologue

QUOTES = ["'", "\u2018", "\u2019", "\u201a", "\u201b"]
HOSTILE = [f"/quiet {q}; Remove-Item -Recurse C:\\; {q}" for q in QUOTES] + ["a\u2019\u2018b'c", "$(whoami) `n \"x\""]


def powershell_single_quoted(text: str) -> tuple[str, str]:
    """Read one single-quoted string at the start of `text` as PowerShell's tokenizer does:
    any of the five quote characters ends it, unless the next character is one too (then the
    pair is one literal quote). Returns (the string's value, what follows it)."""
    assert text[0] in QUOTES
    value, index = [], 1
    while index < len(text):
        char = text[index]
        if char in QUOTES:
            if index + 1 < len(text) and text[index + 1] in QUOTES:
                value.append(char)
                index += 2
                continue
            return "".join(value), text[index + 1:]
        value.append(char)
        index += 1
    raise AssertionError("unterminated string")


@pytest.mark.parametrize("value", HOSTILE)
def test_a_windows_value_is_one_powershell_string_whatever_quote_it_holds(value):
    line = prologue("windows", {"GI_PARAM_ARGUMENTS": value})
    assert line.startswith("$env:GI_PARAM_ARGUMENTS = ")
    parsed, rest = powershell_single_quoted(line[len("$env:GI_PARAM_ARGUMENTS = "):])
    assert parsed == value and rest == "\n"  # nothing after the string: nothing runs


@pytest.mark.parametrize("value", HOSTILE + ["it's", "a\nb", "$(id)"])
def test_a_linux_value_is_one_shell_word(value, tmp_path):
    script = prologue("linux", {"GI_X": value}) + 'printf %s "$GI_X"\n'
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True)
    assert result.stdout == value


def test_powershell_scripts_carry_a_bom_on_both_clouds():
    from tests.aws.samples import document, hand_step

    step = hand_step(os="windows", script="$env:GI_STEP = 'agent'\nWrite-Output caf\u00e9\n",
                     check="$env:GI_STEP = 'agent'\nexit 0\n")
    doc = document(step)
    writes = [s for p in doc["phases"] for s in p["steps"] if s["action"] == "CreateFile"]
    assert writes and all(w["inputs"][0]["content"].startswith("\ufeff") for w in writes)
    assert all(w["inputs"][0]["encoding"] == "utf8" for w in writes)
    # Azure: the script travels base64-encoded and is written byte for byte.
    lines = powershell_runner("agent", step.script, (0,), 0, None)
    encoded = next(line for line in lines if "FromBase64String" in line).split("'")[1]
    assert base64.b64decode(encoded).startswith(b"\xef\xbb\xbf")


def test_linux_scripts_have_an_explicit_encoding_and_no_bom():
    from tests.aws.samples import document, hand_step

    doc = document(hand_step())
    writes = [s for p in doc["phases"] for s in p["steps"] if s["action"] == "CreateFile"]
    assert writes and all(w["inputs"][0]["encoding"] == "utf8" for w in writes)
    assert not any(w["inputs"][0]["content"].startswith("\ufeff") for w in writes)


def test_generated_commands_quote_a_resource_group_with_parentheses():
    command = azure_render.run_command("web-1a2b", "golden(images)-rg")
    assert shlex.split(command) == ["az", "image", "builder", "run", "-n", "web-1a2b", "-g", "golden(images)-rg", "--no-wait"]
    result = subprocess.run(["bash", "-n", "-c", command], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    arn = "arn:aws:imagebuilder:eu-west-1:123456789012:image-pipeline/web"
    assert shlex.split(aws_render.start_build_command(arn, "eu-west-1"))[-3:] == [arn, "--region", "eu-west-1"]
