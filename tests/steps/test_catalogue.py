"""The catalogue: every step loads, is documented, declares what it ships, and pins resolve."""
from __future__ import annotations

import re
import shutil

import pytest

from components.model.errors import ValidationFailed
from components.model.prepared import prepare_step
from components.model.steps import STEPS_DIR, load_catalogue, pin_alias, substitute
from tests.steps.conftest import sample_use

CATEGORIES_NEEDED = {"updates", "software", "agent", "hardening", "cleanup", "test"}


def test_catalogue_loads_every_step_folder(catalogue):
    folders = sorted(p.name for p in STEPS_DIR.iterdir() if (p / "step.yaml").is_file())
    assert catalogue.names() == folders
    assert {s.spec.category for s in catalogue.steps.values()} >= CATEGORIES_NEEDED
    assert len(folders) >= 14


@pytest.mark.parametrize("name", sorted(p.name for p in STEPS_DIR.iterdir() if (p / "step.yaml").is_file()))
def test_every_step_has_a_readme_naming_each_parameter(catalogue, name):
    step = catalogue.steps[name]
    readme = step.folder / "README.md"
    assert readme.is_file(), f"{name}: README.md is missing"
    text = readme.read_text()
    assert text.startswith(f"# {name}\n"), f"{name}: README.md must start with '# {name}'"
    for param in step.spec.parameters:
        assert re.search(rf"^\| `{re.escape(param)}` \|", text, re.M), f"{name}: README.md has no table row for parameter '{param}'"
    for section in ("Reboot:", "Capabilities:", "check"):
        assert section in text, f"{name}: README.md does not say '{section}'"


@pytest.mark.parametrize("name", sorted(p.name for p in STEPS_DIR.iterdir() if (p / "step.yaml").is_file()))
def test_scripts_match_the_os_families_declared(catalogue, name):
    step = catalogue.steps[name]
    # A natively rendered step (script, reboot, pause, aws-managed-component) ships no scripts:
    # its check, if any, comes from the flavour's parameters.
    for os in step.spec.os if step.spec.render == "scripts" else ():
        assert os in step.checks, f"{name}: no check for {os}"
        assert step.checks[os].strip(), f"{name}: empty check for {os}"
    for os in ("windows", "linux"):
        if os not in step.spec.os:
            assert step.spec.scripts.get(os) is None and step.spec.checks.get(os) is None, f"{name}: ships a {os} script but does not support {os}"
    for os, script in {**step.scripts, **step.checks}.items():
        if os == "windows":
            assert "$ErrorActionPreference = 'Stop'" in script, f"{name}: a PowerShell script must stop on errors"
        else:
            assert script.startswith("#!/usr/bin/env bash\n") and "set -euo pipefail" in script, f"{name}: bash must fail loudly"
    shipped = {p.name for p in step.folder.iterdir() if p.suffix in (".ps1", ".sh")}
    used = {v for v in [*step.spec.scripts.model_dump().values(), *step.spec.checks.model_dump().values()] if v}
    used |= set(step.spec.includes)
    assert shipped == used, f"{name}: scripts in the folder {sorted(shipped)} != scripts step.yaml uses {sorted(used)}"


def test_every_step_prepares_for_each_os_with_sample_parameters(catalogue):
    for step in catalogue.steps.values():
        for os in step.spec.os:
            use = sample_use(step)
            if step.spec.render == "script":
                use = use.model_copy(update={"params": {"inline": "echo sample", "check": "true"}})
            prepared = prepare_step(use, step, os, catalogue)
            if step.spec.render in ("scripts", "script"):
                assert "GI_STEP" in prepared.check, f"{step.name} ({os})"
                # No install script where AWS's managed component does the work (aws-stig, os-updates on Windows).
                assert prepared.script is None or "GI_STEP" in prepared.script, f"{step.name} ({os})"
            else:
                # Rendered by each cloud from its parameters: no script of ours, and a reboot's check
                # is part of the restart itself (AWSTOE wait loop, AIB restartCheckCommand).
                assert prepared.script is None and prepared.check is None, f"{step.name} ({os})"


def test_downloads_are_verified_https_files(catalogue):
    for name, pin in catalogue.pins.items():
        assert re.fullmatch(r"\d+(\.\d+)+", pin.version), f"{name}: version '{pin.version}'"
        for os, download in pin.downloads.items():
            assert download["url"].startswith("https://")
            assert re.fullmatch(r"[0-9a-f]{64}", download["sha256"]), f"{name}.{os}: sha256 must be lower-case hex"
            assert pin.version in download["url"], f"{name}.{os}: the URL does not name version {pin.version}"
            assert download["file"] == download["url"].rsplit("/", 1)[-1]


def test_every_pin_is_used_by_a_step(catalogue):
    used = set()
    for step in catalogue.steps.values():
        for template in [*step.spec.pins, *step.spec.downloads, *(p for c in step.spec.conditions for p in c.downloads)]:
            params = {k: p.allowed for k, p in step.spec.parameters.items() if p.allowed}
            used.update(substitute(template, params))
    assert set(catalogue.pins) <= used, f"unused pins: {sorted(set(catalogue.pins) - used)}"


def test_templated_pin_selects_by_parameters_and_exports_its_fixed_part(catalogue):
    from components.model.flavour import StepUse

    step = catalogue.steps["dotnet-runtime"]
    bundle = prepare_step(StepUse(name=step.name, params={"kind": "hosting-bundle"}), step, "windows", catalogue)
    runtime = prepare_step(StepUse(name=step.name, params={"kind": "runtime"}), step, "windows", catalogue)
    assert [d.pin for d in bundle.downloads] == ["dotnet-hosting-bundle-10.0"]
    assert [d.pin for d in runtime.downloads] == ["dotnet-runtime-10.0"]
    assert bundle.environment["GI_DOWNLOAD_DOTNET"].endswith("dotnet-hosting-10.0.12-win.exe")
    assert runtime.environment["GI_DOWNLOAD_DOTNET"].endswith("dotnet-runtime-10.0.12-win-x64.exe")
    assert bundle.environment["GI_PIN_DOTNET_VERSION"] == "10.0.12"
    assert pin_alias("dotnet-{kind}-{version}") == "dotnet"


def _copy_steps(tmp_path):
    target = tmp_path / "components" / "steps"
    shutil.copytree(STEPS_DIR, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def test_a_templated_pin_with_a_missing_combination_is_refused(tmp_path):
    steps = _copy_steps(tmp_path)
    meta = steps / "dotnet-runtime" / "step.yaml"
    meta.write_text(meta.read_text().replace('allowed: ["10.0"]', 'allowed: ["10.0", "8.0"]'))
    with pytest.raises(ValidationFailed) as caught:
        load_catalogue(steps)
    messages = [str(p) for p in caught.value.problems]
    assert "components/steps/dotnet-runtime/step.yaml: downloads: unknown pin 'dotnet-hosting-bundle-8.0' (see versions.yaml)" in messages
    assert "components/steps/dotnet-runtime/step.yaml: downloads: unknown pin 'dotnet-runtime-8.0' (see versions.yaml)" in messages


def test_a_placeholder_without_allowed_values_is_refused(tmp_path):
    steps = _copy_steps(tmp_path)
    meta = steps / "linux-packages" / "step.yaml"
    meta.write_text(meta.read_text().replace("scripts:", "pins: [\"tool-{packages}\"]\nscripts:", 1))
    with pytest.raises(ValidationFailed) as caught:
        load_catalogue(steps)
    assert any("placeholder {packages} must name a string parameter with 'allowed' values" in str(p) for p in caught.value.problems)


def test_a_download_pin_without_checksum_is_refused(tmp_path):
    steps = _copy_steps(tmp_path)
    versions = steps / "versions.yaml"
    versions.write_text(versions.read_text().replace("sha256: 64ab616793a87820ecf02e1fb1b5200754c6013bfcb11ccdfc5225f19af67145", "sha256: latest"))
    with pytest.raises(ValidationFailed) as caught:
        load_catalogue(steps)
    assert [str(p) for p in caught.value.problems] == ["versions.yaml: octopus-tentacle.windows.sha256: must be a sha256 hex digest"]


def _ids(pattern: str, text: str) -> list[str]:
    return re.findall(pattern, text, re.M)


def test_windows_baseline_tables_agree_with_the_readme(catalogue):
    step = catalogue.steps["windows-baseline"]
    # What the build runs: the scripts with settings.ps1 inserted into both.
    prepared = prepare_step(sample_use(step), step, "windows", catalogue)
    install, check = prepared.script, prepared.check
    readme = (step.folder / "README.md").read_text()
    table = readme.split("## Settings", 1)[1].split("## Left out", 1)[0]
    documented = _ids(r"^\| (\d+(?:\.\d+)+) \|", table)
    applied = _ids(r"@\('(\d+(?:\.\d+)+)'", install)
    proven = _ids(r"@\('(\d+(?:\.\d+)+)'", check)
    assert len(applied) >= 60 and len(set(applied)) == len(applied)
    assert applied == proven, "install.ps1 and check.ps1 must hold the same tables"
    assert sorted(documented) == sorted(applied), (
        f"README only: {sorted(set(documented) - set(applied))}; scripts only: {sorted(set(applied) - set(documented))}"
    )
    tables = lambda text: text.split("\n$firewall = @(", 1)[0].split("$systemAccess = @(", 1)[1]  # noqa: E731
    assert tables(install) == tables(check), "the setting tables differ between install.ps1 and check.ps1"
    # One copy in the repository: the scripts themselves hold no table.
    assert "$systemAccess = @(" not in step.scripts["windows"] + step.checks["windows"]


def test_includes_must_be_files_of_the_step(tmp_path):
    steps = _copy_steps(tmp_path)
    meta = steps / "windows-baseline" / "step.yaml"
    meta.write_text(meta.read_text().replace("includes: [settings.ps1]", "includes: [settings.ps1, ../lib/retry.sh, gone.ps1]"))
    with pytest.raises(ValidationFailed) as caught:
        load_catalogue(steps)
    assert [str(p) for p in caught.value.problems] == [
        "components/steps/windows-baseline/step.yaml: includes: '../lib/retry.sh' is not a .ps1 or .sh file in windows-baseline/",
        "components/steps/windows-baseline/step.yaml: includes: 'gone.ps1' is not a .ps1 or .sh file in windows-baseline/",
    ]


def test_linux_baseline_items_are_applied_and_checked(catalogue):
    step = catalogue.steps["linux-baseline"]
    install, check = step.scripts["linux"], step.checks["linux"]
    readme = (step.folder / "README.md").read_text()
    table = readme.split("## Settings", 1)[1].split("## Left out", 1)[0]
    documented = _ids(r"^\| (\d+(?:\.\d+)+) \|", table)
    assert len(documented) >= 45
    for item in documented:
        pattern = rf"(?<![\d.]){re.escape(item)}(?![\d])"
        assert re.search(pattern, install), f"CIS {item} is documented but install.sh does not name it"
        assert re.search(pattern, check), f"CIS {item} is documented but check.sh does not name it"
    left_out = readme.split("## Left out", 1)[1]
    for item in _ids(r"(\d+\.\d+(?:\.\d+)+)", left_out):
        assert item not in documented, f"CIS {item} is both applied and left out"


def test_shared_library_is_inserted_once_after_the_environment(catalogue):
    from components.model.flavour import StepUse

    script = prepare_step(StepUse.model_validate("os-updates"), catalogue.steps["os-updates"], "linux", catalogue).script
    assert script.count("retry() {") == 1
    assert script.index("export GI_STEP=") < script.index("retry() {") < script.index("retry apt-get")
    assert "retry() {" not in (STEPS_DIR / "os-updates" / "install.sh").read_text()


def test_unknown_library_is_a_catalogue_problem(tmp_path):
    import shutil

    shutil.copytree(STEPS_DIR / "os-updates", tmp_path / "os-updates")
    meta = tmp_path / "os-updates" / "step.yaml"
    meta.write_text(meta.read_text().replace("libraries: [retry]", "libraries: [retyr]"))
    with pytest.raises(ValidationFailed, match="libraries: no library 'retyr' in components/steps/lib/"):
        load_catalogue(tmp_path)
