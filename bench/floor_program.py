"""The floor: the plan's resources, with the same inputs, registered by a bare program.

No project logic: no YAML, no validation, no rendering, no Outputs wired between
resources, no guardrails. run_once.py hands this module the plan (read before its
clock starts, so reading the plan file is not counted) and runs `register()` as the
program under the same mock engine `make plan` uses (components.plan.run_program
with PlanMocks). The program imports Pulumi and the provider SDK modules the plan
imported, then registers every resource, each under its recorded parent:

- typed floor (the default, what the targets compare against): what a bare Pulumi
  program does, one provider SDK class per resource (`aws.imagebuilder.ImageRecipe`)
  given the recorded inputs as plain values. It pays the provider SDKs' own
  per-resource work (argument classes, aliases, output types), as the project must.
- generic floor: `pulumi.CustomResource(type, name, inputs)`, Pulumi's core alone,
  below anything a program that uses the provider SDKs can reach.

Components are `pulumi.ComponentResource`s of the recorded types in both.
"""
import importlib
import inspect
import re

PLAN: dict = {}  # set by run_once.py: the plan file's content
MODULES: list = []  # set by run_once.py: the provider SDK modules the plan imported
MODE = "typed"  # or "generic"


def _typed_class(type_token: str):
    """The provider SDK class of a type token and its wire-name -> argument-name map."""
    from pulumi import _types
    from pulumi.runtime.rpc import get_resource_module

    pkg, mod = type_token.split(":")[:2]
    module = get_resource_module(pkg, mod, "")
    if module is None:
        return None, {}
    python_module = importlib.import_module(module.mod_info["fqn"])
    name = module.mod_info["classes"][type_token]
    cls = getattr(python_module, name, None)
    if cls is None:  # a class the package loads lazily from its own module (storage.BlobContainer)
        python_module = importlib.import_module(f"{module.mod_info['fqn']}.{re.sub(r'(?<!^)(?=[A-Z])', '_', name).lower()}")
        cls = getattr(python_module, name)
    args = getattr(python_module, f"{cls.__name__}Args")
    # An argument whose name the constructor itself uses (resource_name, opts) takes a trailing _.
    parameters = inspect.signature(cls._internal_init).parameters
    return cls, {wire: f"{py}_" if f"{py}_" in parameters else py
                 for py, wire in _types.input_type_py_to_pulumi_names(args).items()}


def register() -> None:
    import pulumi

    # What the plan imported, imported where the plan imports it: inside the program.
    for module in MODULES:
        importlib.import_module(module)
    by_urn = {r["urn"]: r for r in PLAN["resources"]}
    created: dict = {}
    classes: dict = {}

    def create(resource: dict):
        if resource["urn"] in created:
            return created[resource["urn"]]
        parent = by_urn.get(resource["parent"])
        options = resource["options"]
        opts = pulumi.ResourceOptions(
            parent=create(parent) if parent else None,
            protect=options["protect"],
            retain_on_delete=options["retainOnDelete"],
            delete_before_replace=options["deleteBeforeReplace"],
            replace_on_changes=options["replaceOnChanges"] or None,
            ignore_changes=options["ignoreChanges"] or None,
        )
        if not resource["custom"]:
            obj = pulumi.ComponentResource(resource["type"], resource["name"], None, opts)
            obj.register_outputs({})
        else:
            if resource["type"] not in classes:
                classes[resource["type"]] = _typed_class(resource["type"]) if MODE == "typed" else (None, {})
            cls, names = classes[resource["type"]]
            if cls is None:
                obj = pulumi.CustomResource(resource["type"], resource["name"], dict(resource["inputs"]), opts)
            else:
                # Nested values keep their wire names: the SDK passes names it does not know through.
                obj = cls(resource["name"], opts, **{names.get(k, k): v for k, v in resource["inputs"].items()})
        created[resource["urn"]] = obj
        return obj

    for item in PLAN["resources"]:
        create(item)
    for key, value in PLAN["outputs"].items():
        pulumi.export(key, value)
