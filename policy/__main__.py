"""golden-images-guardrails: the policy pack `pulumi preview --policy-pack policy` runs.

The pack runs from the project checkout: the rules reuse the project's secret scanner and
step catalogue, so the project root goes on the import path. Constructing PolicyPack starts
the analyzer server and never returns; tests use policy.pack.build_policies() instead.
"""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from pulumi_policy import EnforcementLevel, PolicyPack  # noqa: E402

from policy.pack import PACK_NAME, build_policies  # noqa: E402

PolicyPack(
    name=PACK_NAME,
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=build_policies(),
    description="Security guardrails every golden image pipeline must satisfy (docs/policy.md).",
)
