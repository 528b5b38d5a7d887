"""Shared by the Azure renderer tests: stack settings, a flavour build, the rendered template body
and the up-front problems."""
from __future__ import annotations

import re

from components.azure import render
from components.model.build import FlavourBuild
from components.model.flavour import Flavour
from components.model.settings import StackSettings
from components.model.steps import load_catalogue
from tests.builds import build_of

CATALOGUE = load_catalogue()

NAME = re.compile(r"^[A-Za-z0-9-_.]{1,64}$")


def settings(**azure) -> StackSettings:
    return StackSettings.model_validate(
        {
            "clouds": ["azure"],
            "schedule": {"every": "week", "on": "sunday", "at": "02:30", "timezone": "Europe/Amsterdam"},
            "tags": {"environment": "test"},
            "azure": {"location": "westeurope", **azure},
        }
    )


def flavour(os: str = "linux", source: str = "image_flavours/test.yaml", **changes) -> FlavourBuild:
    image = (
        {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server"}
        if os == "linux"
        else {"publisher": "MicrosoftWindowsServer", "offer": "WindowsServer", "sku": "2022-datacenter-core-g2"}
    )
    data = {
        "name": f"test-{os}",
        "description": "test flavour",
        "version": "3.2.1",
        "os": os,
        "base_image": {"azure": image},
        "steps": ["os-updates"],
        "tags": {"team": "platform"},
        **changes,
    }
    return build_of(Flavour.model_validate(data), settings(), CATALOGUE, source=source)



def body(f: FlavourBuild, s: StackSettings) -> dict:
    names = render.FactoryNames.for_stack("dev", s.azure)
    return render.render_template(f, s.azure, render.symbolic_refs(names, f))


def problems_of(s: StackSettings, *builds: FlavourBuild) -> list:
    return render.plan_azure(builds, s.azure, s.schedule, stack="dev", settings_source="Pulumi.dev.yaml")[1]

