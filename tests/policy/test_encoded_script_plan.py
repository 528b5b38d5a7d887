"""`make plan` with a script holding `{{`: planned, not refused by the project's own guardrail;
and a secret finding on a generated resource names the flavour file and step it came from."""
from __future__ import annotations

import json

from components.plan import _with_flavour_steps, main
from tests.plan_samples import encoded_scripts

STEP = "  - script: {inline: \"docker image inspect --format '{{.Id}}' busybox\"}\n"


def test_a_go_template_in_a_script_plans_and_a_finding_on_its_component_names_the_file_and_step(project, capsys):
    text = project.flavour_text("ubuntu-2404.yaml")
    assert "  - cleanup\n" in text
    project.write_flavour("ubuntu-2404.yaml", text.replace("  - cleanup\n", "  - cleanup\n" + STEP, 1))
    status = main(["--stack", "dev", "--root", str(project.root), "--quiet"])
    err = capsys.readouterr().err
    assert status == 0, err
    assert "GI-SECRET-001" not in err

    plan = json.loads((project.root / "build" / "plan" / "dev.json").read_text())
    components = [r for r in plan["resources"] if r["type"] == "aws:imagebuilder/component:Component"]
    assert not [r["name"] for r in components if "{{.Id}}" in r["inputs"]["data"]]  # AWSTOE would substitute it
    scripts = [r for r in components if any("{{.Id}}" in script for script in encoded_scripts(r["inputs"]["data"]))]
    assert len(scripts) == 1  # it travels encoded
    steps = [line for line in project.flavour_text("ubuntu-2404.yaml").splitlines() if line.startswith("  - ")]
    index = steps.index(STEP.rstrip("\n"))

    finding = f"GI-SECRET-001 {scripts[0]['name']}: data line 9 looks like a secret (Secret Keyword); never bake..."
    config = project.config()
    (placed,) = _with_flavour_steps([finding], "dev", config, "Pulumi.dev.yaml", project.root)
    assert placed == f"image_flavours/ubuntu-2404.yaml: steps[{index}] (script): {finding}"

    template = "GI-SECRET-001 ubuntu-2404-template: customize[3] (01-os-updates-run) line 2 looks like a secret (X)"
    (placed,) = _with_flavour_steps([template], "dev", config, "Pulumi.dev.yaml", project.root)
    assert placed == f"image_flavours/ubuntu-2404.yaml: steps[0] (os-updates): {template}"
