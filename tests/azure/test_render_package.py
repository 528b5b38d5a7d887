"""The Azure renderer package: pure modules without import circles, and arguments the provider takes."""
from __future__ import annotations

import ast
import inspect
import json
from pathlib import Path

import pytest
from pulumi_azure_native import compute, logic, virtualmachineimages

from components.azure import render
from components.azure.render import runners
from components.builds import resolve_stack
from components.plan import ROOT, stack_config

PACKAGE = Path(render.__file__).parent
MODULES = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__")
STACKS = ["dev", "prod"]


def _tree(module: str) -> ast.Module:
    return ast.parse((PACKAGE / f"{module}.py").read_text())


def _sibling_imports(module: str) -> set[str]:
    return {n.module for n in ast.walk(_tree(module))
            if isinstance(n, ast.ImportFrom) and n.level == 1 and n.module in MODULES}


def _public_names(module: str) -> set[str]:
    names: set[str] = set()
    for node in _tree(module).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return {n for n in names if not n.startswith("_")}


def _arguments(resource: type) -> set[str]:
    """The keyword arguments a pulumi-azure-native resource accepts besides name and options."""
    return set(inspect.signature(resource._internal_init).parameters) - {"__self__", "resource_name", "opts", "__props__"}


@pytest.fixture(scope="module", params=STACKS)
def stack(request):
    config = stack_config(request.param, ROOT)[0]
    built = resolve_stack({k: v for k, v in config.items() if k.startswith("golden-images:")},
                          f"Pulumi.{request.param}.yaml", request.param, ROOT)
    assert built.azure is not None and built.azure_plan is not None
    return built


def _azure_builds(stack):
    builds = [b for b in stack.builds if b.builds_on("azure")]
    assert builds
    return builds


def test_no_module_imports_pulumi():
    for module in ["__init__", *MODULES]:
        tree = _tree(module)
        imported = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
        imported += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
        assert not [m for m in imported if m.split(".")[0].startswith("pulumi")], module


def test_modules_import_each_other_without_circles():
    graph = {module: _sibling_imports(module) for module in MODULES}
    done: set[str] = set()

    def visit(module: str, path: tuple[str, ...]) -> None:
        assert module not in path, " -> ".join([*path, module])
        if module in done:
            return
        for imported in graph[module]:
            visit(imported, (*path, module))
        done.add(module)

    for module in MODULES:
        visit(module, ())
    assert graph["names"] == set() and graph["runners"] == set()


def test_the_package_re_exports_every_public_name():
    public = set().union(*(_public_names(m) for m in MODULES))
    assert set(render.__all__) == public
    for name in public:
        assert hasattr(render, name), name


def test_windows_time_zones_come_from_the_data_file():
    data = json.loads((PACKAGE / "windows_time_zones.json").read_text())
    assert render.WINDOWS_TIME_ZONES == data
    assert data["UTC"] == "UTC" and data["Europe/Amsterdam"] == "W. Europe Standard Time"
    assert all(isinstance(k, str) and isinstance(v, str) and v for k, v in data.items())


def test_retry_delay_set_on_the_package_reaches_the_runners(monkeypatch):
    monkeypatch.setattr(render, "RETRY_DELAY_SECONDS", 0)
    assert runners.RETRY_DELAY_SECONDS == 0
    assert "  sleep 0" in render.shell_runner("t", "exit 1\n", (0,), 1, None)
    monkeypatch.undo()
    assert runners.RETRY_DELAY_SECONDS == render.RETRY_DELAY_SECONDS == 30


def test_template_args_are_the_hashed_body_as_provider_arguments(stack):
    names = stack.azure_plan.names
    for build in _azure_builds(stack):
        refs = render.symbolic_refs(names, build)
        name = stack.azure_plan.templates[build.name]
        args = render.template_args(build, stack.azure, refs, name=name)
        body = render.render_template(build, stack.azure, refs)
        assert args.pop("image_template_name") == name
        assert {k: args.pop(k) for k in render.TOP_LEVEL_ARGUMENTS} == {k: v for k, v in body.items() if k != "properties"}
        assert {render.wire_name(k): v for k, v in args.items()} == body["properties"]
        assert name == render.template_name(build, render.template_digest(body))


def test_template_args_are_arguments_of_the_resource(stack):
    accepted = _arguments(virtualmachineimages.VirtualMachineImageTemplate)
    for build in _azure_builds(stack):
        args = render.template_args(build, stack.azure, render.symbolic_refs(stack.azure_plan.names, build), name="t")
        assert set(args) <= accepted - {"resource_group_name"}


def test_image_definition_args_are_arguments_of_the_resource(stack):
    accepted = _arguments(compute.GalleryImage)
    for build in _azure_builds(stack):
        args = render.image_definition_args(build, stack.azure, stack.azure_plan.names)
        assert set(args) <= accepted - {"resource_group_name", "gallery_name"}
        assert render.render_image_definition(build, stack.azure, stack.azure_plan.names) == {
            render.wire_name(k): v for k, v in args.items()}


def test_workflow_args_are_arguments_of_the_resource(stack):
    accepted = _arguments(logic.Workflow)
    for build in _azure_builds(stack):
        args = render.workflow_args(build, stack.azure_plan.names, run_uri="uri", identity_id="id")
        assert set(args) <= accepted - {"resource_group_name"}
        assert args["definition"] == render.render_schedule_workflow(build.schedule, run_uri="uri", identity_id="id")


@pytest.mark.parametrize("argument, wire", [
    ("vm_profile", "vmProfile"),
    ("build_timeout_in_minutes", "buildTimeoutInMinutes"),
    ("hyper_v_generation", "hyperVGeneration"),
    ("location", "location"),
])
def test_wire_name(argument, wire):
    assert render.wire_name(argument) == wire


def test_renderer_imports_no_pulumi():
    import ast

    tree = ast.parse(Path(render.__file__).read_text())
    modules = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    modules += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    assert not [m for m in modules if m.split(".")[0].startswith("pulumi")]


