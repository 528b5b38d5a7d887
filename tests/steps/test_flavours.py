"""The shipped flavours use the catalogue; misuse of steps is refused with a clear error."""
from __future__ import annotations

from pathlib import Path

import pytest

from components.model.errors import ValidationFailed
from components.model.flavour import Flavour
from components.model.loader import LoadedFlavour, check_steps, load_inputs
from components.model.steps import Catalogue, Parameter, Step, StepSpec
from components.plan import stack_config
from tests.builds import builds_of
from tests.samples import ubuntu_flavour
from tests.steps.conftest import FLAVOURS_DIR, ROOT

LINUX = ubuntu_flavour()


def shipped():
    config, source = stack_config("dev")
    return builds_of(load_inputs(config, source, FLAVOURS_DIR, ROOT))


def load_problems(tmp_path: Path, steps: str, files: dict | None = None) -> list[str]:
    folder = tmp_path / "image_flavours"
    folder.mkdir(exist_ok=True)
    (folder / "web.yaml").write_text(LINUX + steps)
    for name, text in (files or {}).items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    config, source = stack_config("dev")
    config = {k: v for k, v in config.items() if k != "golden-images:flavours"}
    with pytest.raises(ValidationFailed) as caught:
        load_inputs(config, source, folder, tmp_path)
    return [str(p) for p in caught.value.problems]


def test_the_three_flavours_use_every_kind_of_step():
    flavours = shipped()
    assert set(flavours) >= {"windows-2022-core-dotnet", "windows-2022-core-dotnet-iis", "ubuntu-2404"}
    from components.model.steps import load_catalogue

    catalogue = load_catalogue()
    for name in ("windows-2022-core-dotnet", "windows-2022-core-dotnet-iis", "ubuntu-2404"):
        flavour = flavours[name]
        # What the image holds: a layer's base chain and its own build.
        held = [use.name for layer in flavour.chain for use in layer.declared_steps]
        assert {"updates", "software", "agent", "hardening", "cleanup"} <= {catalogue.steps[s].spec.category for s in held}, name
        categories = [catalogue.steps[use.name].spec.category for use in flavour.build_steps]  # this build
        assert categories[0] == "updates", f"{name}: updates come first"
        assert categories[-1] == "cleanup", f"{name}: cleanup comes last"


def test_the_windows_flavours_carry_what_the_article_asks():
    flavours = shipped()
    for name in ("windows-2022-core-dotnet", "windows-2022-core-dotnet-iis"):
        uses = {use.name: use for layer in flavours[name].chain for use in layer.declared_steps}
        assert {"dotnet-runtime", "dotnet-framework-48", "datadog-agent", "octopus-tentacle", "windows-baseline"} <= set(uses)
        assert uses["dotnet-runtime"].params["version"] == "10.0"
    iis = [use.name for use in flavours["windows-2022-core-dotnet-iis"].build_steps]
    assert iis.index("windows-feature") < iis.index("dotnet-runtime"), "IIS must be in place before the Hosting Bundle"
    features = next(u for u in flavours["windows-2022-core-dotnet-iis"].build_steps if u.name == "windows-feature").params["features"]
    assert "Web-Server" in features
    assert "windows-feature" not in [use.name for use in flavours["windows-2022-core-dotnet"].build_steps]
    # The IIS flavour is layered on the plain one: it adds IIS and repairs the Hosting Bundle (so the
    # ASP.NET Core Module reaches IIS) instead of repeating runtimes, agents and hardening.
    assert flavours["windows-2022-core-dotnet-iis"].base is flavours["windows-2022-core-dotnet"]
    assert iis == ["os-updates", "windows-feature", "dotnet-runtime", "image-tests", "cleanup"]


def test_a_windows_only_step_in_a_linux_flavour_is_refused(tmp_path):
    problems = load_problems(tmp_path, "  - os-updates\n  - dotnet-framework-48\n  - windows-baseline\n")
    assert "image_flavours/web.yaml: steps[1]: step 'dotnet-framework-48' does not support linux (supports: windows)" in problems
    assert "image_flavours/web.yaml: steps[2]: step 'windows-baseline' does not support linux (supports: windows)" in problems


def test_an_aws_only_step_cannot_be_limited_to_azure(tmp_path):
    problems = load_problems(tmp_path, "  - cloudwatch-agent: {}\n    options: {only_on: azure}\n")
    assert "image_flavours/web.yaml: steps[0].options.only_on: step 'cloudwatch-agent' does not run on azure" in problems


def test_parameters_are_validated_against_the_step(tmp_path):
    problems = load_problems(
        tmp_path,
        "  - linux-packages: {packages: curl}\n"
        "  - generic-installer: {name: tool, url: 'https://x.example.com/t.deb?sig=abc', sha256: nothex, type: deb, creates: /opt/t}\n"
        "  - linux-baseline: {ip_forwarding: 'yes'}\n",
    )
    assert "image_flavours/web.yaml: steps[0].linux-packages.packages: must be a list, got str 'curl'" in problems
    assert any(p.startswith("image_flavours/web.yaml: steps[1].generic-installer.url: 'https://x.example.com/t.deb?sig=abc' does not match") for p in problems)
    assert any(p.startswith("image_flavours/web.yaml: steps[1].generic-installer.sha256: 'nothex' does not match") for p in problems)
    assert "image_flavours/web.yaml: steps[2].linux-baseline.ip_forwarding: must be a boolean, got str 'yes'" in problems


def _catalogue_with_reference_step() -> Catalogue:
    spec = StepSpec(
        name="vendor-agent",
        category="agent",
        description="An installer that needs a licence key at build time.",
        os=["linux"],
        parameters={
            "licence": Parameter(type="string", description="licence key reference", required=True, secret_reference=True)
        },
        scripts={"linux": "install.sh"},
        checks={"linux": "check.sh"},
    )
    step = Step(spec=spec, scripts={"linux": "#!/usr/bin/env bash\n"}, checks={"linux": "#!/usr/bin/env bash\n"}, folder=Path("."))
    return Catalogue(steps={"vendor-agent": step}, pins={})


def _reference_problems(value) -> list[str]:
    flavour = Flavour.model_validate(
        {
            "name": "web",
            "description": "d",
            "version": "1.0.0",
            "os": "linux",
            "base_image": {"aws": "ssm:/aws/service/x"},
            "steps": [{"vendor-agent": {"licence": value}}],
        }
    )
    return [str(p) for p in check_steps(LoadedFlavour(flavour, "image_flavours/web.yaml"), _catalogue_with_reference_step())]


@pytest.mark.parametrize("literal", ["ABCD-1234-EFGH-5678", "s3cr3t-l1cence", "arn:aws:s3:::bucket/licence"])
def test_a_secret_reference_parameter_refuses_literal_values(literal):
    problems = _reference_problems(literal)
    assert len(problems) == 1
    assert problems[0].startswith("image_flavours/web.yaml: steps[0].vendor-agent.licence: takes a reference, not a value")


@pytest.mark.parametrize(
    "reference",
    [
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:vendor/licence-AbCdEf",
        "ssm:/golden-images/vendor/licence",
        "secretsmanager:vendor/licence",
        "https://goldenimageskv.vault.azure.net/secrets/vendor-licence",
    ],
)
def test_a_secret_reference_parameter_accepts_references(reference):
    assert _reference_problems(reference) == []


def test_a_suite_is_embedded_into_the_step(tmp_path):
    folder = tmp_path / "image_flavours"
    (folder / "tests").mkdir(parents=True)
    (folder / "web.yaml").write_text(LINUX + "  - image-tests: {suite: tests/web.sh}\n")
    (folder / "tests" / "web.sh").write_text("test_true() { true; }\n")
    config, source = stack_config("dev")
    config = {k: v for k, v in config.items() if k != "golden-images:flavours"}
    inputs = load_inputs(config, source, folder, tmp_path)
    assert inputs.flavours[0].flavour.steps[0].params["suite"] == "test_true() { true; }\n"


def test_a_suite_that_is_missing_outside_or_too_large_is_refused(tmp_path):
    problems = load_problems(tmp_path, "  - image-tests: {suite: tests/missing.sh}\n")
    assert problems == ["image_flavours/web.yaml: steps[0].image-tests.suite: no file 'tests/missing.sh' in image_flavours/"]
    problems = load_problems(tmp_path, "  - image-tests: {suite: ../Pulumi.yaml}\n")
    assert problems[0].startswith("image_flavours/web.yaml: steps[0].image-tests.suite: '../Pulumi.yaml' is not a path inside image_flavours/")
    problems = load_problems(tmp_path, "  - image-tests: {suite: tests/big.sh}\n", {"tests/big.sh": "# x\n" * 2000})
    assert problems == ["image_flavours/web.yaml: steps[0].image-tests.suite: 'tests/big.sh' has 8000 characters; at most 4000 travel inside a build step"]


def test_a_suite_with_a_secret_is_refused(tmp_path):
    suite = 'test_api() {\n  curl -H "Authorization: token" https://x\n}\naws_secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY"\n'
    problems = load_problems(tmp_path, "  - image-tests: {suite: tests/leak.sh}\n", {"tests/leak.sh": suite})
    assert problems and all("'tests/leak.sh' line 4 looks like a secret" in p for p in problems)
