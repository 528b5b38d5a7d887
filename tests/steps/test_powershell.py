"""Every PowerShell script is well formed, as far as this machine can tell without PowerShell.

Two independent checks: the tree-sitter PowerShell grammar (a real parser; needs the
tree-sitter packages named in components/steps/README.md) and a tokenizer (tests/steps/pslint.py)
that also refuses bash-isms and PowerShell 7-only syntax. Neither knows cmdlets or types.
"""
from __future__ import annotations

import pytest

from components.model.prepared import prepare_step
from tests.steps.conftest import FLAVOURS_DIR, ROOT, sample_use, step_files
from tests.steps.pslint import lint, unchecked_native_calls

PS_FILES = step_files(".ps1") + sorted((FLAVOURS_DIR / "tests").glob("*.ps1"))
STEP_PS_FILES = step_files(".ps1")


def _parse_errors(text: str) -> list[str]:
    import tree_sitter
    import tree_sitter_powershell as grammar

    parser = tree_sitter.Parser(tree_sitter.Language(grammar.language()))
    tree = parser.parse(text.encode("utf-8"))
    errors, stack = [], [tree.root_node]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            errors.append(f"line {node.start_point[0] + 1}: {'missing ' + node.type if node.is_missing else 'cannot parse'}")
        stack.extend(node.children)
    return sorted(errors)


def test_the_grammar_rejects_a_broken_script():
    assert _parse_errors("if ($a {\n  Write-Output 'x'\n}\n")
    assert _parse_errors("$x = @(1, 2\n") != []


@pytest.mark.parametrize("path", PS_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_powershell_file_parses(path):
    assert _parse_errors(path.read_text()) == []


@pytest.mark.parametrize(
    "text, expected",
    [
        ("if ($a) {\n  Write-Output 'x'\n", "'{' is never closed"),
        ("Write-Output 'oops\n", "unterminated 'string'"),
        ('Write-Output "a $(Get-Item (Join-Path a b) b"\n', 'unterminated "string"'),
        ("$x = @'\nabc\n", "unterminated here-string"),
        ("$a = @(1, 2}\n", "unexpected '}'"),
        ("if [ -f x ]; then\n  echo\nfi\n", "bash test bracket"),
        ("Get-Thing && Write-Output ok\n", "need PowerShell 7"),
        ("$v = $a ?? 'b'\n", "needs PowerShell 7"),
        ("export GI_X=1\n", "bash export"),
    ],
)
def test_the_tokenizer_rejects(text, expected):
    problems = lint(text)
    assert problems and expected in problems[0]


def test_the_tokenizer_accepts_what_powershell_accepts():
    text = (
        "$s = 'it''s' + \"a `\"b`\" $($x.Name) $(Get-Item (Join-Path 'a' \"b)\"))\"\n"
        "$h = @\"\nany ( { [ text\n\"@\n"
        "<# block ( comment #>\n# line { comment\n"
        "$t = @{ A = @(1, 2); B = [int]'3' }\n"
    )
    assert lint(text) == []


@pytest.mark.parametrize("path", PS_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_powershell_file_is_well_formed(path):
    assert lint(path.read_text()) == []


@pytest.mark.parametrize("path", STEP_PS_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_step_scripts_check_native_exit_codes(path):
    text = path.read_text()
    assert "$ErrorActionPreference = 'Stop'" in text
    assert unchecked_native_calls(text) == []


def test_an_unchecked_native_command_is_found():
    assert unchecked_native_calls("& secedit.exe /export /cfg x\nWrite-Output a\nWrite-Output b\nWrite-Output c\n")


def test_prepared_windows_scripts_stay_well_formed(catalogue):
    """The prologue quotes parameter values; a value with quotes must not break the script."""
    from components.model.flavour import StepUse

    for step in catalogue.steps.values():
        if "windows" not in step.spec.os:
            continue
        use = sample_use(step)
        if "arguments" in step.spec.parameters:
            use = StepUse(name=step.name, params={**use.params, "arguments": "INSTALLDIR=\"C:\\Program Files\\It's\" /S"})
        prepared = prepare_step(use, step, "windows", catalogue)
        for text in (prepared.script, prepared.check):
            if text is not None:
                assert lint(text) == [], step.name
                assert _parse_errors(text) == [], step.name


def test_prepared_windows_scripts_of_every_shipped_flavour_stay_well_formed(catalogue):
    """With the real parameters, including the embedded Pester suites."""
    from components.model.loader import load_inputs
    from components.model.prepared import prepare_flavour
    from components.plan import stack_config

    config, source = stack_config("dev")
    inputs = load_inputs(config, source, FLAVOURS_DIR, ROOT)
    windows = [item.flavour for item in inputs.flavours if item.flavour.os == "windows"]
    assert len(windows) >= 2
    problems = []
    for flavour in windows:
        for prepared in prepare_flavour(flavour.os, flavour.steps, catalogue):
            for kind, text in (("script", prepared.script), ("check", prepared.check)):
                if text is not None:
                    problems += [f"{flavour.name} {prepared.name} {kind}: {p}" for p in lint(text) + _parse_errors(text)]
    assert problems == []
