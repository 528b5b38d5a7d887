"""The AWS renderer package: one module per thing rendered, all re-exported, none importing Pulumi."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from components.aws import render
from components.model.errors import RenderError

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = Path(render.__file__).parent
MODULES = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__")


@pytest.mark.parametrize("module", MODULES)
def test_each_module_imports_alone_without_pulumi(module):
    """A module imported first still imports (no circle) and pulls in no Pulumi."""
    code = f"import sys, components.aws.render.{module}; sys.exit('pulumi' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0


@pytest.mark.parametrize("module", MODULES)
def test_every_public_name_is_re_exported(module):
    tree = ast.parse((PACKAGE / f"{module}.py").read_text())
    defined = [node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))]
    defined += [target.id for node in tree.body if isinstance(node, ast.Assign) for target in node.targets
                if isinstance(target, ast.Name)]
    internal = {"hashed_name", "needs_asset_bucket"}  # shared between the package's modules only
    missing = [name for name in defined if not name.startswith("_") and name not in internal
               and name not in render.__all__]
    assert missing == []
    assert all(hasattr(render, name) for name in render.__all__)


def test_one_render_error():
    assert render.RenderError is RenderError


def test_renderer_imports_no_pulumi():
    code = "import sys, components.aws.render; sys.exit('pulumi' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[2]).returncode == 0

