"""Hand-made plans in the shape `make plan` writes, and reading their diffs: what the plan-diff tests share."""
from __future__ import annotations

import copy
from typing import Optional

PROJECT = "golden-images"
STACK = "dev"
STACK_TYPE = "pulumi:pulumi:Stack"
STACK_URN = f"urn:pulumi:{STACK}::{PROJECT}::{STACK_TYPE}::{PROJECT}-{STACK}"
ACCOUNT = "123456789012"
SUBSCRIPTION = "/subscriptions/8f2c6a1e-4b7d-4c3e-9a51-2d6f0b9e7c48/resourceGroups/golden-images-dev"

OS_UPDATES_V1 = """\
name: os-updates
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: InstallUpdates
        action: ExecuteBash
        inputs:
          commands:
            - |
              set -euo pipefail
              apt-get update
              apt-get -y upgrade
"""
OS_UPDATES_V2 = OS_UPDATES_V1.replace("apt-get -y upgrade", "apt-get -y dist-upgrade\n              apt-get -y autoremove")


class PlanBuilder:
    """Builds resources with URNs as the Pulumi engine forms them (parent type chain + type + name)."""

    def __init__(self) -> None:
        self.resources: list[dict] = []
        self.outputs: dict = {"flavours": {}}
        self._chains: dict[str, str] = {}

    def add(self, typ: str, name: str, parent: Optional[dict] = None, custom: bool = True,
            inputs: Optional[dict] = None, **options) -> dict:
        chain = f"{self._chains[parent['urn']]}${typ}" if parent else f"{STACK_TYPE}${typ}"
        urn = f"urn:pulumi:{STACK}::{PROJECT}::{chain}::{name}"
        # Children of a top-level component carry the component's own type first.
        self._chains[urn] = chain.split("$", 1)[1] if not parent else chain
        res = {
            "urn": urn,
            "type": typ,
            "name": name,
            "parent": parent["urn"] if parent else STACK_URN,
            "custom": custom,
            "inputs": inputs or {},
            "options": {"protect": False, "dependsOn": [], "deleteBeforeReplace": False,
                        "replaceOnChanges": [], "ignoreChanges": [], "retainOnDelete": False,
                        "provider": "", **options},
        }
        self.resources.append(res)
        return res

    def plan(self) -> dict:
        return copy.deepcopy({"project": PROJECT, "stack": STACK, "resources": self.resources, "outputs": self.outputs})


def component_arn(name: str) -> str:
    return f"arn:aws:imagebuilder:eu-west-1:{ACCOUNT}:component/{name}/1.0.0/1"


def recipe_arn(name: str) -> str:
    return f"arn:aws:imagebuilder:eu-west-1:{ACCOUNT}:image-recipe/{name}/1.0.0"


def factory(*, script: str = OS_UPDATES_V1, component_hash: str = "1a2b3c4d", recipe_hash: str = "5e6f7a8b",
            template_hash: str = "0c0ffee1", aws_regions: tuple = ("eu-west-1",),
            azure_regions: tuple = ("westeurope",), flavours: tuple = ("ubuntu-2404", "windows-2022-core"),
            target_accounts: tuple = ("210987654321",), protect_shared: bool = False) -> dict:
    """A plan of the golden-image factories: shared infrastructure plus, per flavour, an AWS
    pipeline (component, recipe, distribution, pipeline, SSM parameter per region) and an Azure
    template whose names carry content hashes like the real program's."""
    b = PlanBuilder()
    aws_shared = b.add("golden-images:aws:SharedInfrastructure", "aws", custom=False)
    b.add("aws:iam/role:Role", "golden-images-build", aws_shared, protect=protect_shared,
          inputs={"assumeRolePolicy": '{"Version":"2012-10-17","Statement":[{"Effect":"Allow",'
                  '"Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}'})
    for flavour in flavours:
        image = b.add("golden-images:index:GoldenImage", flavour, custom=False)
        pipeline = b.add("golden-images:aws:ImagePipeline", flavour, image, custom=False)
        component = f"{flavour}-os-updates-{component_hash}"
        recipe = f"{flavour}-{recipe_hash}"
        b.add("aws:imagebuilder/component:Component", component, pipeline,
              inputs={"name": component, "version": "1.0.0", "platform": "Linux", "data": script})
        b.add("aws:imagebuilder/imageRecipe:ImageRecipe", recipe, pipeline,
              inputs={"name": recipe, "version": "1.0.0",
                      "parentImage": "ssm:/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id",
                      "components": [{"componentArn": component_arn(component)}]})
        b.add("aws:imagebuilder/distributionConfiguration:DistributionConfiguration", flavour, pipeline,
              inputs={"name": flavour, "distributions": [
                  {"region": region,
                   "amiDistributionConfiguration": {"name": f"{flavour}-{{{{ imagebuilder:buildDate }}}}",
                                                    "targetAccountIds": list(target_accounts)},
                   "ssmParameterConfigurations": [{"parameterName": f"/golden-images/{flavour}/latest",
                                                   "dataType": "aws:ec2:image"}]}
                  for region in aws_regions]})
        b.add("aws:imagebuilder/imagePipeline:ImagePipeline", flavour, pipeline,
              inputs={"name": flavour, "imageRecipeArn": recipe_arn(recipe),
                      "schedule": {"scheduleExpression": "cron(0 2 ? * SUN *)",
                                   "pipelineExecutionStartCondition": "EXPRESSION_MATCH_ONLY"}})
        for region in aws_regions:
            b.add("aws:ssm/parameter:Parameter", f"{flavour}-latest-{region}", pipeline,
                  inputs={"name": f"/golden-images/{flavour}/latest", "type": "String", "region": region})
        template = b.add("golden-images:azure:ImageTemplate", flavour, image, custom=False)
        name = f"{flavour}-{template_hash}"
        b.add("azure-native:virtualmachineimages:VirtualMachineImageTemplate", name, template,
              inputs={"imageTemplateName": name, "location": "westeurope",
                      "customize": [{"type": "Shell", "name": "os-updates",
                                     "inline": ["set -euo pipefail", "apt-get update",
                                                script.splitlines()[-1].strip()]}],
                      "distribute": [{"type": "SharedImage", "runOutputName": flavour,
                                      "galleryImageId": f"{SUBSCRIPTION}/providers/Microsoft.Compute/galleries/goldenimages/images/{flavour}",
                                      "targetRegions": [{"name": r, "replicaCount": 1,
                                                         "storageAccountType": "Standard_LRS"}
                                                        for r in azure_regions]}]})
        b.outputs["flavours"][flavour] = {
            "version": "1.0.0", "os": "linux", "clouds": ["aws", "azure"],
            "aws": {"regions": list(aws_regions)}, "azure": {"regions": list(azure_regions)},
        }
    return b.plan()


def find(plan: dict, typ: str, name_prefix: str) -> dict:
    matches = [r for r in plan["resources"] if r["type"] == typ and r["name"].startswith(name_prefix)]
    assert len(matches) == 1, matches
    return matches[0]


def _b64(text: str) -> str:
    import base64

    return base64.b64encode(text.encode()).decode()


INSTALL_V1 = "#!/usr/bin/env bash\nset -euo pipefail\napt-get update\napt-get -y upgrade\n"
INSTALL_V2 = "#!/usr/bin/env bash\nset -euo pipefail\napt-get update\napt-get -y dist-upgrade\napt-get -y autoremove --purge\n"


def stable_factory(*, install: str = INSTALL_V1, component_hash: str = "209b713c8e", recipe_hash: str = "9002f35fd9",
                   recipe_tags: Optional[dict] = None) -> dict:
    """The shape the program registers: step components once per stack under the shared
    infrastructure (content hash in their Pulumi names), a recipe per flavour with a stable
    Pulumi name and the hash in its cloud name, and an Azure template with a stable name that
    `replaceOnChanges: ["*"]` replaces, its scripts embedded base64-encoded in inline commands."""
    b = PlanBuilder()
    shared = b.add("golden-images:aws:SharedInfrastructure", "aws", custom=False)
    component = f"golden-images-dev-os-updates-linux-{component_hash}"
    component_res = b.add("aws:imagebuilder/component:Component", component, shared,
                          inputs={"name": component, "version": "1.0.0", "platform": "Linux",
                                  "data": "name: os-updates\nphases:\n- name: build\n  steps:\n  - name: Install\n"
                                          "    action: ExecuteBash\n    inputs:\n      commands:\n      - |\n"
                                          + "".join(f"        {line}\n" for line in install.splitlines())})
    image = b.add("golden-images:index:GoldenImage", "ubuntu-2404", custom=False)
    pipeline = b.add("golden-images:aws:ImagePipeline", "ubuntu-2404", image, custom=False)
    recipe = f"golden-images-dev-ubuntu-2404-{recipe_hash}"
    recipe_res = b.add("aws:imagebuilder/imageRecipe:ImageRecipe", "ubuntu-2404-recipe", pipeline,
                       inputs={"name": recipe, "version": "1.0.0", "tags": recipe_tags or {"environment": "dev"},
                               "components": [{"componentArn": component_arn(component)}]},
                       dependsOn=[component_res["urn"]])
    b.add("aws:imagebuilder/imagePipeline:ImagePipeline", "ubuntu-2404-pipeline", pipeline,
          inputs={"name": "golden-images-dev-ubuntu-2404", "imageRecipeArn": recipe_arn(recipe)},
          dependsOn=[recipe_res["urn"]])
    template = b.add("golden-images:azure:ImageTemplate", "ubuntu-2404", image, custom=False)
    b.add("azure-native:virtualmachineimages:VirtualMachineImageTemplate", "ubuntu-2404-template", template,
          replaceOnChanges=["*"],
          inputs={"imageTemplateName": "ubuntu-2404-template", "location": "westeurope",
                  "customize": [{"type": "Shell", "name": "01-os-updates", "inline": [
                      "set -eu",
                      f"printf '%s' '{_b64(install)}' | base64 -d > '/tmp/golden-images-01-os-updates-install.sh'",
                      "sudo bash /tmp/golden-images-01-os-updates-install.sh",
                  ]}]})
    b.outputs["flavours"]["ubuntu-2404"] = {"version": "1.0.0", "clouds": ["aws", "azure"],
                                            "aws": {"regions": ["eu-west-1"]}, "azure": {"regions": ["westeurope"]}}
    return b.plan()


COMPONENT = "aws:imagebuilder/component:Component"
RECIPE = "aws:imagebuilder/imageRecipe:ImageRecipe"
PIPELINE = "aws:imagebuilder/imagePipeline:ImagePipeline"
DISTRIBUTION = "aws:imagebuilder/distributionConfiguration:DistributionConfiguration"
SSM = "aws:ssm/parameter:Parameter"
TEMPLATE = "azure-native:virtualmachineimages:VirtualMachineImageTemplate"


def changes_of(diff, action, typ=None, group=None):
    return [
        c for c in diff.changes
        if c.action == action and (typ is None or c.type == typ) and (group is None or c.group == group)
    ]


def encoded_scripts(data: str) -> list[str]:
    """The scripts an AWSTOE document ships base64-encoded (a CreateFile `*ScriptEncoded`), decoded."""
    import base64

    import yaml

    document = yaml.safe_load(data)
    return [base64.b64decode(item["content"]).decode("utf-8") for phase in document["phases"]
            for step in phase["steps"] if step["action"] == "CreateFile" and step["name"].endswith("ScriptEncoded")
            for item in step["inputs"]]
