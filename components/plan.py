"""The offline plan: the real __main__.py under Pulumi's mock runtime.

`python -m components.plan --stack dev` loads the stack's config from
Pulumi.dev.yaml, runs the program against PlanMocks, prints a summary and writes
build/plan/dev.json: every resource registered with the inputs exactly as the
engine receives them. No Pulumi CLI and no credentials are needed.
"""
from __future__ import annotations

import argparse
import gc
import json
import re
import runpy
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

# Re-exported: callers read a stack's settings and catch its mistakes from here as before.
from .model.errors import visible
from .stack_file import UserError, stack_config  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent
PROJECT = "golden-images"
# Exit codes of `make plan` (README): a mistake in the inputs, or a plan the guardrails refuse.
USER_ERROR = 2
GUARDRAIL_REFUSED = 1


@dataclass
class Registration:
    urn: str
    type: str
    name: str
    parent: str
    custom: bool
    inputs: dict
    options: dict

    def as_json(self) -> dict:
        return {
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "parent": self.parent,
            "custom": self.custom,
            "inputs": self.inputs,
            "options": self.options,
        }


@dataclass
class Plan:
    """What the program registered, in registration order, and its stack outputs."""

    project: str
    stack: str
    resources: list = field(default_factory=list)
    outputs: dict = field(default_factory=dict)

    def as_json(self) -> dict:
        return {
            "project": self.project,
            "stack": self.stack,
            "resources": [r.as_json() for r in self.resources],
            "outputs": self.outputs,
        }

    def of_type(self, typ: str) -> list:
        return [r for r in self.resources if r.type == typ]

    def children(self, urn: str) -> list:
        """Every resource below a component, at any depth."""
        below: dict = {}
        for res in self.resources:
            below.setdefault(res.parent, []).append(res)
        found, frontier = [], [urn]
        while frontier:
            for res in below.get(frontier.pop(), []):
                found.append(res)
                frontier.append(res.urn)
        return sorted(found, key=lambda r: r.urn)


def run_program(
    stack: str,
    config: dict,
    root: Path = ROOT,
    preview: bool = False,
    env: Optional[dict] = None,
) -> Plan:
    """Run __main__.py under mocks with this config; raise UserError for user mistakes."""
    with _collector_paused():
        return _run_program(stack, config, root, preview, env)


@contextmanager
def _collector_paused():
    """The cyclic garbage collector off for a while, then as it was.

    The provider SDKs leave a few hundred thousand objects behind on import and the program
    and the engine add more per resource, nearly all alive until the plan is complete and
    almost none in reference cycles. The collector walks all of them on every full collection:
    about half the run time at 100 flavours, to save a few per cent of memory (bench/README.md).
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def _run_program(stack: str, config: dict, root: Path, preview: bool, env: Optional[dict]) -> Plan:
    import os

    import pulumi
    from pulumi.runtime import settings as psettings
    from pulumi.runtime.stack import run_pulumi_func
    from pulumi.runtime.sync_await import _sync_await

    from .mocks import PlanMocks

    aws = config.get(f"{PROJECT}:aws") or {}
    monitor = _RecordingMonitor(PlanMocks(aws_region=aws.get("region", "eu-west-1") if isinstance(aws, dict) else "eu-west-1"))
    psettings.ROOT.set(None)
    pulumi.runtime.set_all_config({k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()})
    pulumi.runtime.set_mocks(monitor.mocks, project=PROJECT, stack=stack, preview=preview, monitor=monitor)
    psettings.SETTINGS.rpc_manager.clear()
    psettings.SETTINGS.outputs.clear()

    saved_env = {k: os.environ.get(k) for k in (env or {})}
    os.environ.update(env or {})
    sys.path.insert(0, str(root))
    outputs: dict = {}

    def program():
        runpy.run_path(str(root / "__main__.py"), run_name="__main__")
        stack_resource = psettings.get_root_resource()
        return pulumi.Output.from_input(dict(stack_resource.outputs)).apply(outputs.update)

    try:
        _sync_await(run_pulumi_func(lambda: _sync_await(pulumi.Output.from_input(program()).future())))
    except pulumi.RunError as err:
        raise UserError(str(err), registered=monitor.registrations) from None
    except Exception:
        if not monitor.duplicates:
            raise
    finally:
        sys.path.remove(str(root))
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    if monitor.duplicates:
        raise UserError(f"duplicate resource URN {monitor.duplicates[0]}: two resources of one type have one name, "
                        "which the Pulumi engine refuses", registered=monitor.registrations)
    # Registrations arrive in asynchronous order; sorting keeps plan files diffable.
    resources = sorted(monitor.registrations, key=lambda r: r.urn)
    return Plan(project=PROJECT, stack=stack, resources=resources, outputs=_plain(outputs))


def _plain(value: Any) -> Any:
    """Outputs as JSON data (unknowns under preview become None)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    import pulumi

    if isinstance(value, pulumi.FileAsset):  # a build asset: the file the deployment uploads
        return {"asset": {"path": value.path}}
    return str(value)


class DuplicateUrn(Exception):
    """A second registration of a URN: the real engine refuses it, and so does the plan."""


def _recording_monitor_class():
    from pulumi.runtime import rpc
    from pulumi.runtime.mocks import MockMonitor

    class RecordingMonitor(MockMonitor):
        """MockMonitor that also keeps every registration request, in order."""

        def __init__(self, mocks):
            super().__init__(mocks)
            self.registrations: list[Registration] = []
            self.urns: set = set()
            self.duplicates: list = []

        def RegisterResource(self, request):
            response = super().RegisterResource(request)
            # The real engine refuses a second resource with one URN ("Duplicate resource URN"),
            # so the offline plan does too: it would otherwise list one resource where two were meant.
            if response.urn in self.urns:
                self.duplicates.append(response.urn)
                raise DuplicateUrn(response.urn)
            self.urns.add(response.urn)
            if request.type != "pulumi:pulumi:Stack":
                inputs = _strip_secrets(rpc.deserialize_properties(request.object, keep_unknowns=True))
                options = {
                    "protect": bool(request.protect) if request.HasField("protect") else False,
                    "dependsOn": sorted(request.dependencies),
                    "deleteBeforeReplace": bool(request.deleteBeforeReplace),
                    "replaceOnChanges": list(request.replaceOnChanges),
                    "ignoreChanges": list(request.ignoreChanges),
                    "retainOnDelete": bool(request.retainOnDelete) if request.HasField("retainOnDelete") else False,
                    "provider": request.provider.split("::")[-2] if request.provider else "",
                }
                if request.importId:
                    # Only when set, so plans without imports keep their shape: this resource is
                    # adopted (read from the cloud by this id), not created.
                    options["import"] = request.importId
                self.registrations.append(
                    Registration(
                        urn=response.urn,
                        type=request.type,
                        name=request.name,
                        parent=request.parent,
                        custom=bool(request.custom),
                        inputs=_plain(inputs),
                        options=options,
                    )
                )
            return response

    return RecordingMonitor


def _strip_secrets(value: Any) -> Any:
    from pulumi.runtime import rpc

    if isinstance(value, dict):
        if value.get(rpc._special_sig_key) == rpc._special_secret_sig:
            return _strip_secrets(value.get("value"))
        return {k: _strip_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_strip_secrets(v) for v in value]
    if value == rpc.UNKNOWN:
        return None
    return value


def _RecordingMonitor(mocks):
    return _recording_monitor_class()(mocks)


def summary(plan: Plan) -> str:
    """A reviewer's view: per flavour its clouds, regions, schedule, steps and resources."""
    lines = [f"Offline plan of stack '{plan.stack}' ({len(plan.resources)} resources, mock runtime, nothing deployed)", ""]
    flavours = plan.outputs.get("flavours", {})
    components = {r.name: r for r in plan.resources if r.type == "golden-images:index:GoldenImage"}
    lines.extend(layer_tree(flavours))
    for name, info in flavours.items():
        lines.append(f"Flavour {name} {info.get('version', '')} ({info.get('os', '')})")
        lines.append(f"  clouds:   {', '.join(info.get('clouds', [])) or 'none in this stack'}")
        if info.get("built_on"):
            lines.append(f"  built on: {info['built_on']} (its newest image)")
        lines.append(f"  schedule: {info.get('schedule', '')}")
        lines.append(f"  steps:    {', '.join(info.get('steps', []))}")
        for note in info.get("layer_notes", []):
            lines.append(f"    {note}")
        if info.get("skipped_steps"):
            lines.append(f"  skipped:  {', '.join(info['skipped_steps'])} (their 'when' does not hold in this stack)")
        if info.get("versions"):
            lines.append("  versions: " + ", ".join(f"{k}={v}" for k, v in sorted(info["versions"].items())))
        if info.get("image_tests"):
            lines.append(f"  tests:    {info['image_tests']}")
        for cloud in info.get("clouds", []):
            details = info.get(cloud) or {}
            lines.append(f"  {cloud}:")
            for key, value in details.items():
                if isinstance(value, (list, dict)):
                    value = json.dumps(value)
                lines.append(f"    {key}: {value}")
        component = components.get(name)
        if component is not None:
            counts: dict = {}
            for res in plan.children(component.urn):
                if res.custom:
                    counts[res.type] = counts.get(res.type, 0) + 1
            lines.append(f"  resources ({sum(counts.values())}):")
            for typ, count in sorted(counts.items()):
                lines.append(f"    {count} x {typ}")
        lines.append("")
    shared = [r for r in plan.resources if r.custom and not _under_flavour(plan, r, components)]
    if shared:
        counts = {}
        for res in shared:
            counts[res.type] = counts.get(res.type, 0) + 1
        lines.append(f"Shared per stack ({len(shared)}):")
        lines.extend(f"  {count} x {typ}" for typ, count in sorted(counts.items()))
        lines.append("")
    from .model.applications import summary_lines

    lines.extend(summary_lines(plan.outputs.get("applications"), flavours))
    lines.extend(retired_lines(plan.outputs.get("retired")))
    for key, value in plan.outputs.items():
        if key not in ("flavours", "applications", "retired"):
            lines.append(f"output {key}: {json.dumps(value)}")
    return "\n".join(lines).rstrip() + "\n"


def retired_lines(retired: Any) -> list:
    """The stack's retired flavours (golden-images:retired) and what becomes of what they left."""
    if not isinstance(retired, dict) or not retired:
        return []
    lines = [f"Retired flavours ({len(retired)}):"]
    for name, info in retired.items():
        instead = f"; replaced by {info['replaced_by']}" if info.get("replaced_by") else ""
        lines.append(f"  {name}: {info.get('reason', '')}{instead}")
        aws = info.get("aws") or {}
        fate = ("deleted" if aws.get("ssm_parameter") == "delete" else
                "taken over and marked deprecated, its value (the last image) kept")
        for region, parameter in (aws.get("ssm_parameters") or {}).items():
            lines.append(f"    aws {region}: SSM parameter {parameter} {fate}")
        if info.get("azure"):
            lines.append("    azure: gallery image definition retained; list the flavour in golden-images:azure.adopt "
                         "when it comes back")
    lines.append("")
    return lines


def layer_tree(flavours: dict) -> list:
    """The flavours as a tree of layers: marketplace-based flavours at the roots."""
    children: dict = {}
    for name, info in flavours.items():
        children.setdefault(info.get("built_on"), []).append(name)
    if len(children) == 1:  # no layered flavour: nothing a tree would add
        return []
    lines = ["Layers (each built on the newest image of the one above it):"]

    def walk(name: str, prefix: str, last: bool, top: bool) -> None:
        info = flavours[name]
        label = f"{name} ({info.get('schedule', '')})"
        lines.append(f"  {label}" if top else f"  {prefix}{'└─ ' if last else '├─ '}{label}")
        below = children.get(name, [])
        for index, child in enumerate(below):
            walk(child, "" if top else prefix + ("   " if last else "│  "), index == len(below) - 1, False)

    for root in children.get(None, []):
        walk(root, "", True, True)
    lines.append("")
    return lines


def _under_flavour(plan: Plan, res: Registration, components: dict) -> bool:
    urns = {c.urn for c in components.values()}
    parents = {r.urn: r.parent for r in plan.resources}
    current = res.parent
    while current:
        if current in urns:
            return True
        current = parents.get(current, "")
    return False


def main(argv: Optional[list] = None) -> int:
    with _collector_paused():
        return _main(argv)


def _main(argv: Optional[list]) -> int:
    parser = argparse.ArgumentParser(prog="make plan", description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default="dev")
    parser.add_argument("--out", default=None, help="plan file (default build/plan/<stack>.json)")
    parser.add_argument("--quiet", action="store_true", help="write the plan file without the summary")
    parser.add_argument("--root", default=str(ROOT), help="project folder (default: this checkout)")
    args = parser.parse_args(argv)
    root = Path(args.root).resolve()
    out = Path(args.out) if args.out else root / "build" / "plan" / f"{args.stack}.json"
    scan_cache_file = root / "build" / "cache" / "secret-scan.json"
    scan_cache = None
    try:
        from policy.secret_scan import ScanCache
    except ImportError:
        pass  # no policy pack in this copy: the plan file is still written before the guardrails fail
    else:
        # The secret findings of earlier runs serve the flavour checks too: with nothing new
        # to scan, detect-secrets is not even imported.
        scan_cache = ScanCache.load(scan_cache_file)
    from .model.secrets import SecretCache, using

    config: Optional[dict] = None
    try:
        config, source = stack_config(args.stack, root)
        with using(scan_cache.model if scan_cache is not None else SecretCache()):
            plan = run_program(args.stack, config, root=root)
    except UserError as err:
        # A stale plan of an earlier run must never pass for this one's.
        _remove(out)
        print(f"error: {visible(str(err))}", file=sys.stderr)
        if config is not None:
            with using(scan_cache.model if scan_cache is not None else SecretCache()):
                _report_guardrails_of_sound(args.stack, config, source, root, scan_cache)
        return USER_ERROR
    except RecursionError:
        _remove(out)
        print("error: the flavours are nested too deeply to plan (Python's recursion limit); "
              "flatten the layers or the values", file=sys.stderr)
        return USER_ERROR
    try:
        write_atomically(out, json.dumps(plan.as_json(), indent=2, sort_keys=True) + "\n")
    except OSError as err:
        _remove(out)
        print(f"error: {out}: cannot write the plan file ({err.strerror or err}); nothing else was written",
              file=sys.stderr)
        return USER_ERROR
    if not args.quiet:
        print(visible(summary(plan)))
    print(f"plan written to {out.relative_to(root) if out.is_relative_to(root) else out}")
    # Guardrails run on the offline plan too, so a violation fails before anyone has credentials.
    from policy.offline import enforce

    errors, warnings = enforce(plan, config, scan_cache=scan_cache)
    errors = _with_flavour_steps(errors, args.stack, config, source, root)
    try:
        scan_cache.save(scan_cache_file)
    except OSError as err:  # only a cache: the next run scans again
        print(f"warning: {scan_cache_file}: secret scan cache not saved ({err.strerror or err})", file=sys.stderr)
    for line in warnings:
        print(f"warning: {visible(str(line))}", file=sys.stderr)
    for line in errors:
        print(f"error: {visible(str(line))}", file=sys.stderr)
    if errors:
        print(f"{len(errors)} guardrail violation(s), see docs/policy.md; the plan file was written for review",
              file=sys.stderr)
        return GUARDRAIL_REFUSED
    return 0


def _report_guardrails_of_sound(stack: str, config: dict, source: str, root: Path, scan_cache: Any) -> None:
    """After input problems: the guardrails on the flavours that had none, printed in the same run.

    Their plan is made in a scratch copy of the project holding only those flavours' files, and
    is not written: the run stays a user error (exit 2, no plan file) while a new flavour's
    guardrail violations show beside its other mistakes, instead of one run later.
    """
    import shutil
    import tempfile

    from .builds import resolve_stack
    from .model.errors import ValidationFailed
    from .model.loader import NON_FLAVOUR_FILES

    try:
        resolve_stack(config, source, stack, root)
    except ValidationFailed as failed:
        partial = failed.partial
    except Exception:  # noqa: BLE001  # the input problems are printed already; this is only an extra
        return
    else:
        return  # the program failed after the inputs were checked
    if partial is None or not partial.builds:
        return
    sound = {build.source for build in partial.builds}
    names = [build.name for build in partial.builds]
    with tempfile.TemporaryDirectory(prefix="golden-images-guardrails-") as scratch:
        copy = Path(scratch)
        shutil.copy(root / "__main__.py", copy / "__main__.py")
        for stack_file in root.glob("Pulumi*.yaml"):
            shutil.copy(stack_file, copy / stack_file.name)

        def left_out(folder: str, entries: list[str]) -> list[str]:
            if Path(folder).resolve() != (root / "image_flavours").resolve():
                return []
            return [entry for entry in entries if entry.endswith((".yaml", ".yml")) and entry not in NON_FLAVOUR_FILES
                    and f"image_flavours/{entry}" not in sound]

        shutil.copytree(root / "image_flavours", copy / "image_flavours", ignore=left_out, symlinks=True)
        (copy / "components").symlink_to(root / "components")
        narrowed = dict(config)
        selection = narrowed.get(f"{PROJECT}:flavours")
        if isinstance(selection, list):
            narrowed[f"{PROJECT}:flavours"] = [name for name in selection if name in names]
        import logging

        # The scratch run's own warnings (the program's pulumi.log.warn) are not this run's report.
        logging.disable(logging.WARNING)
        try:
            plan = run_program(stack, narrowed, root=copy)
        except Exception:  # noqa: BLE001  # what is left does not plan on its own (an application no
            return  # sound flavour serves, say): the input problems printed already are the answer
        finally:
            logging.disable(logging.NOTSET)
        from policy.offline import enforce

        errors, _ = enforce(plan, narrowed, scan_cache=scan_cache)
    if errors:
        print(f"error: {len(errors)} guardrail violation(s) on the flavours without problems "
              f"({', '.join(names)}), see docs/policy.md:", file=sys.stderr)
        sources = {build.name: build.source for build in partial.builds}
        for line in errors:
            print(f"  {visible(_with_source(str(line), sources))}", file=sys.stderr)


# The flavour field a guardrail is about, for the file + field a user reads first.
_RULE_FIELDS = {"GI-FLAV-001": "steps", "GI-FLAV-002": "steps", "GI-PIPE-001": "schedule", "GI-PIPE-002": "tests",
                "GI-SHARE-001": "distribution", "GI-SHARE-002": "distribution", "GI-SECRET-001": "steps"}


def _with_source(line: str, sources: dict) -> str:
    """'<rule> <resource>: ...' prefixed with the flavour file (and field) of the resource's flavour."""
    rule, _, rest = line.partition(" ")
    resource = rest.split(":", 1)[0]
    owners = [name for name in sources if resource == name or resource.startswith(f"{name}-")]
    if not owners:
        return line
    owner = max(owners, key=len)
    where = f"{sources[owner]}: {_RULE_FIELDS[rule]}" if rule in _RULE_FIELDS else sources[owner]
    return f"{where}: {line}"


_CUSTOMIZER_LABEL = re.compile(r"\((\d+)-")


def _with_flavour_steps(errors: list, stack: str, config: dict, source: str, root: Path) -> list:
    """Secret findings prefixed with the flavour file(s) and step(s) they come from.

    A component is shared by every flavour whose recipe runs the same step the same way, and a
    template is named after its flavour: both names say little to the one who wrote the step.
    The stack is resolved again only when there is such a finding to place.
    """
    if not any(line.startswith("GI-SECRET-001 ") for line in errors):
        return errors
    from .builds import resolve_stack

    try:
        resolved = resolve_stack(config, source, stack, root)
    except Exception:  # noqa: BLE001  # only an extra: the finding is printed as it was
        return errors

    def steps_named(build: Any, step: str) -> str:
        paths = [f"steps[{i}]" for i, use in enumerate(build.declared_steps) if use.name == step]
        return f"{' or '.join(paths) or 'steps'} ({step})"

    components: dict = {}
    for build in resolved.builds:
        recipe = resolved.aws_plan.recipes.get(build.name) if resolved.aws_plan else None
        for entry in recipe.entries if recipe else ():
            if entry.component is not None:
                places = components.setdefault(entry.component.name, [])
                place = f"{build.source}: {steps_named(build, entry.component.step)}"
                if place not in places:
                    places.append(place)
    placed = []
    for line in errors:
        rule, _, rest = line.partition(" ")
        resource, _, message = rest.partition(":")
        where: list = []
        if rule == "GI-SECRET-001":
            where = components.get(resource, [])
            for build in resolved.builds if not where else ():
                if resource == f"{build.name}-template":
                    found = _CUSTOMIZER_LABEL.search(message.split(" looks like", 1)[0])
                    azure_steps = build.steps_on("azure")
                    if found and 0 < int(found.group(1)) <= len(azure_steps):
                        where = [f"{build.source}: {steps_named(build, azure_steps[int(found.group(1)) - 1].name)}"]
                    else:
                        where = [f"{build.source}: steps"]
        placed.append(f"{'; '.join(where)}: {line}" if where else line)
    return placed


def write_atomically(path: Path, text: str) -> None:
    """Write a file whole or not at all: a reader never sees half a plan (a full disk, a kill)."""
    import os
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise


def _remove(path: Path) -> None:
    try:
        path.unlink()
    except (FileNotFoundError, NotADirectoryError):
        pass
    except OSError as err:
        print(f"warning: {path}: the plan of an earlier run could not be removed ({err.strerror or err})",
              file=sys.stderr)


if __name__ == "__main__":
    # One plan, then exit: the collector stays off (see _collector_paused), and what is alive at
    # the end is frozen so that shutdown does not walk it either (over a second with the
    # provider SDKs loaded).
    gc.disable()
    status = main()
    gc.freeze()
    sys.exit(status)
