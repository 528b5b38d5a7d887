"""The floor: the plan's resources, with the same inputs, registered by a bare program.

No project logic: no YAML, no validation, no rendering. The runner imports the
same provider SDK modules the project imported, so both sides pay the same
import cost; this program then registers every resource from a plan file with Pulumi's generic resource
classes under the same mock engine `make plan` uses.
"""
import json
import os

import pulumi

plan = json.loads(open(os.environ["GOLDEN_IMAGES_FLOOR_PLAN"]).read())
by_urn = {r["urn"]: r for r in plan["resources"]}
created: dict = {}


def create(resource: dict):
    if resource["urn"] in created:
        return created[resource["urn"]]
    parent = by_urn.get(resource["parent"])
    opts = pulumi.ResourceOptions(parent=create(parent) if parent else None)
    if resource["custom"]:
        obj = pulumi.CustomResource(resource["type"], resource["name"], dict(resource["inputs"]), opts)
    else:
        obj = pulumi.ComponentResource(resource["type"], resource["name"], None, opts)
        obj.register_outputs({})
    created[resource["urn"]] = obj
    return obj


for item in plan["resources"]:
    create(item)
pulumi.export("flavours", plan["outputs"].get("flavours", {}))
