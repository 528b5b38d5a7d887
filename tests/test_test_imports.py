"""No test module imports another test module: what tests share lives in helper modules
(tests/builds.py, tests/samples.py, tests/*/samples.py, ...), so moving or splitting a test
file never breaks another one, and no test module runs another's module-level code."""
from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent


def _is_test_module(dotted: str) -> bool:
    parts = dotted.split(".")
    return parts[-1].startswith("test_") and ROOT.joinpath(*parts).with_suffix(".py").is_file()


def imported_test_modules(source: str, package: tuple[str, ...]) -> set[str]:
    """The test modules a module of `package` imports: absolute or relative, at module level or in a function."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if _is_test_module(alias.name)}
        elif isinstance(node, ast.ImportFrom):
            base = list(package[:len(package) - node.level + 1]) if node.level else []
            module = ".".join(base + (node.module.split(".") if node.module else []))
            if _is_test_module(module):
                found.add(module)
            found |= {f"{module}.{a.name}" for a in node.names if _is_test_module(f"{module}.{a.name}")}
    return found


def test_no_test_module_imports_another():
    offenders = {}
    for path in sorted(TESTS.rglob("*.py")):
        package = path.relative_to(ROOT).parts[:-1]
        if imported := imported_test_modules(path.read_text(), package):
            offenders[str(path.relative_to(ROOT))] = sorted(imported)
    assert offenders == {}


def test_the_check_finds_every_way_of_importing_a_test_module():
    source = (
        "import tests.aws.test_reach\n"
        "from tests.steps.test_open_steps import actions\n"
        "from . import test_aws_contract, aws_samples\n"
        "from .test_azure_contract import broken\n"
        "from ..model.test_injection import HOSTILE\n"
        "from tests.builds import build_of\n"
        "from tests.contract import azure_api\n"
        "def later():\n"
        "    from tests.model import test_loader\n"
    )
    assert imported_test_modules(source, ("tests", "contract")) == {
        "tests.aws.test_reach", "tests.steps.test_open_steps", "tests.contract.test_aws_contract",
        "tests.contract.test_azure_contract", "tests.model.test_injection", "tests.model.test_loader"}
