"""Retired and adopted flavours: a stack's decisions about what removed flavours leave behind.

A flavour removed from a stack leaves its SSM parameters (written by Image Builder, outside the
state) and its Azure gallery image definition (retained on delete). `golden-images:retired`
says what becomes of the parameters; `golden-images:azure.adopt` brings a retained definition
back under the state when its flavour returns. These checks tie both lists to the flavours
the stack builds.
"""
from __future__ import annotations

from collections.abc import Sequence

from .build import FlavourBuild
from .errors import Problem
from .settings import NAMESPACE, StackSettings
from .vocabulary import did_you_mean


def retirement_problems(builds: Sequence[FlavourBuild], settings: StackSettings, source: str) -> list[Problem]:
    """Every retired entry names a flavour that is gone and a replacement that is built here;
    every adopted flavour is built here on Azure."""
    built = {build.name: build for build in builds}
    names = sorted(built)
    known = ", ".join(names) or "none"
    problems: list[Problem] = []
    for index, entry in enumerate(settings.retired):
        at = f"{NAMESPACE}:retired[{index}]"
        back = built.get(entry.flavour)
        if back is not None:
            adopt = (f"; list it in {NAMESPACE}:azure.adopt so its retained gallery image definition is imported "
                     "instead of created" if back.builds_on("azure") else "")
            problems.append(Problem(source, f"{at}.flavour",
                                    f"flavour '{entry.flavour}' is built in this stack ({back.source}), so it is "
                                    f"not retired: remove this entry{adopt}"))
        if entry.replaced_by is not None and entry.replaced_by not in built:
            problems.append(Problem(source, f"{at}.replaced_by",
                                    f"no flavour named '{entry.replaced_by}' is built in this stack"
                                    f"{did_you_mean(entry.replaced_by, names)} (built: {known})"))
        if entry.regions and "aws" not in settings.clouds:
            problems.append(Problem(source, f"{at}.regions",
                                    "the stack does not build on AWS: regions say where the flavour's SSM "
                                    "parameter is, which exists on AWS only"))
    azure = settings.azure if "azure" in settings.clouds else None
    for index, name in enumerate(azure.adopt if azure is not None else []):
        build = built.get(name)
        if build is None or not build.builds_on("azure"):
            on_azure = sorted(n for n, b in built.items() if b.builds_on("azure"))
            problems.append(Problem(source, f"{NAMESPACE}:azure.adopt[{index}]",
                                    f"no flavour named '{name}' is built on Azure in this stack"
                                    f"{did_you_mean(name, on_azure)} (built on Azure: {', '.join(on_azure) or 'none'}); "
                                    "adopt a retained definition when its flavour comes back"))
    return problems
