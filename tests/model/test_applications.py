"""Applications and the flavours serving them: capabilities from steps, the stack check, the output."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from components.model.applications import (
    ApplicationsFile,
    check_applications,
    export,
    serving,
    summary_lines,
)
from components.model.capabilities import check_catalogue, expand, flavour_capabilities, providers
from components.model.errors import ValidationFailed
from components.model.flavour import Flavour, LoadedFlavour
from components.model.loader import load_flavours, load_inputs
from components.model.steps import Catalogue, Parameter, PerOs, Step, StepSpec, load_catalogue
from components.plan import ROOT, UserError, stack_config

APPS = "image_flavours/applications.yaml"
SEED = {"financial-app", "company-site", "financial-data-processing", "jump-host"}


def shipped_flavour(name: str) -> LoadedFlavour:
    """A shipped flavour as the program sees it: a layered one built on its base."""
    loaded, problems, _ = load_flavours(ROOT / "image_flavours", ROOT, load_catalogue())
    assert problems == []
    return next(item for item in loaded if item.flavour.name == name)


def step(name, capabilities, parameters=None, os=("windows", "linux"), clouds=("aws", "azure")) -> Step:
    spec = StepSpec(
        name=name,
        category="software",
        description=name,
        os=list(os),
        clouds=list(clouds),
        parameters={k: Parameter(type=t, description=k, default=d) for k, (t, d) in (parameters or {}).items()},
        scripts=PerOs(windows="install.ps1", linux="install.sh"),
        checks=PerOs(windows="check.ps1", linux="check.sh"),
        capabilities=list(capabilities),
    )
    return Step(spec=spec, scripts={}, checks={}, folder=Path(name))


def flavour(os="windows", steps=(), clouds=None) -> Flavour:
    return Flavour.model_validate(
        {
            "name": "test-flavour",
            "description": "test",
            "version": "1.0.0",
            "os": os,
            "base_image": {"aws": "ami-0123456789abcdef0"},
            "steps": list(steps) or ["plain"],
            **({"clouds": clouds} if clouds else {}),
        }
    )


CATALOGUE = Catalogue(
    steps={
        s.name: s
        for s in (
            step("plain", []),
            step("feature", ["windows-feature:{features}"], {"features": ("list", None)}, os=("windows",)),
            step("runtime", ["dotnet-runtime:{version}", "dotnet-{kind}:{version}"],
                 {"version": ("string", "10.0"), "kind": ("string", "hosting-bundle")}, os=("windows",)),
            step("packages", ["package:{packages}"], {"packages": ("list", [])}, os=("linux",)),
            step("aws-agent", ["agent:cloudwatch"], clouds=("aws",)),
            step("switch", ["tls13:{enabled}"], {"enabled": ("boolean", True)}),
        )
    },
    pins={},
)


# --- capabilities from steps and parameters -------------------------------------------------


def test_placeholders_take_the_step_parameters():
    assert expand("windows-feature:{features}", {"features": ["Web-Server", "Web-Asp-Net45"]}) == [
        "windows-feature:web-server",
        "windows-feature:web-asp-net45",
    ]
    assert expand("dotnet-{kind}:{version}", {"kind": "runtime", "version": "10.0"}) == ["dotnet-runtime:10.0"]
    assert sorted(expand("{a}-{b}", {"a": ["x", "y"], "b": ["1", "2"]})) == ["x-1", "x-2", "y-1", "y-2"]
    assert expand("tls13:{enabled}", {"enabled": False}) == ["tls13:false"]
    assert expand("package:{packages}", {"packages": []}) == []
    assert expand("installer:{name}", {"name": None}) == []
    assert expand("  IIS ", {}) == ["iis"]
    # A pinned package also serves whoever needs the package at any version.
    assert expand("package:{packages}", {"packages": ["nginx=1.24.0-2ubuntu7"]}) == [
        "package:nginx=1.24.0-2ubuntu7",
        "package:nginx",
    ]


def test_flavour_capabilities_follow_its_steps_and_parameters():
    base = flavour(steps=["plain", {"feature": {"features": ["Web-Server"]}}, {"runtime": {"kind": "runtime"}}])
    assert flavour_capabilities(base, CATALOGUE) == {
        "os:windows",
        "windows-feature:web-server",
        "dotnet-runtime:10.0",  # the default channel
    }
    changed = flavour(steps=["plain", {"feature": {"features": ["Web-Server", "Web-Ftp-Server"]}}, "runtime"])
    assert flavour_capabilities(changed, CATALOGUE) == {
        "os:windows",
        "windows-feature:web-server",
        "windows-feature:web-ftp-server",
        "dotnet-runtime:10.0",
        "dotnet-hosting-bundle:10.0",
    }
    linux = flavour(os="linux", steps=[{"packages": {"packages": ["curl", "jq"]}}, "switch"])
    assert flavour_capabilities(linux, CATALOGUE) == {"os:linux", "package:curl", "package:jq", "tls13:true"}


def test_a_step_counts_only_where_it_runs():
    """An application must find its capabilities on whichever cloud's image it starts from."""
    both = flavour(steps=["plain", "aws-agent"])
    assert "agent:cloudwatch" not in flavour_capabilities(both, CATALOGUE)
    assert "agent:cloudwatch" in flavour_capabilities(both, CATALOGUE, clouds=["aws"])
    assert "agent:cloudwatch" in flavour_capabilities(flavour(steps=["aws-agent"], clouds=["aws"]), CATALOGUE)
    only_on = flavour(steps=[{"feature": {"features": ["Web-Server"]}, "options": {"only_on": "azure"}}])
    assert "windows-feature:web-server" not in flavour_capabilities(only_on, CATALOGUE)
    assert "windows-feature:web-server" in flavour_capabilities(only_on, CATALOGUE, clouds=["azure"])


def test_shipped_flavours_capabilities():
    catalogue = load_catalogue()
    iis = flavour_capabilities(shipped_flavour("windows-2022-core-dotnet-iis"), catalogue)
    plain = flavour_capabilities(shipped_flavour("windows-2022-core-dotnet"), catalogue)
    linux = flavour_capabilities(shipped_flavour("ubuntu-2404"), catalogue)
    assert {"os:windows", "windows-feature:web-server", "dotnet-runtime:10.0", "dotnet-framework:4.8"} <= iis
    assert {"os:windows", "dotnet-runtime:10.0", "dotnet-framework:4.8"} <= plain
    assert iis - plain == {"windows-feature:web-server", "windows-feature:web-asp-net45"}
    assert {"os:linux", "package:curl", "package:jq"} <= linux and not any(c.startswith("dotnet") for c in linux)
    assert all(c == c.lower() for c in iis | plain | linux)


def test_step_capabilities_are_checked():
    assert check_catalogue(load_catalogue()) == []
    broken = Catalogue(steps={"bad": step("bad", ["x:{missing}", "two words"], {"given": ("string", "a")})}, pins={})
    found = [str(p) for p in check_catalogue(broken)]
    assert "components/steps/bad/step.yaml: capabilities[0]: placeholder '{missing}' names no parameter of 'bad' (parameters: given)" in found
    assert any(p.startswith("components/steps/bad/step.yaml: capabilities[1]: 'two words' is not a capability") for p in found)
    assert providers("dotnet-runtime:10.0", load_catalogue()) == ["dotnet-runtime"]
    assert providers("package:nginx", load_catalogue()) == ["linux-packages"]
    assert providers("iis", load_catalogue()) == []
    # Parameters with allowed values give exactly those: the catalogue offers the 10.0 channel only.
    assert providers("dotnet-hosting-bundle:10.0", load_catalogue()) == ["dotnet-runtime"]
    assert providers("dotnet-runtime:8.0", load_catalogue()) == []
    assert providers("dotnet-framwork:4.8", load_catalogue()) == []


# --- the shipped applications and the stack check ----------------------------------------------


def inputs(stack="dev", folder: Path | None = None, root: Path = ROOT, config=None):
    return load_inputs(config or stack_config(stack)[0], f"Pulumi.{stack}.yaml", folder or root / "image_flavours", root)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_shipped_applications_are_all_served(stack):
    result = inputs(stack)
    mapping = {name: info["served_by"] for name, info in result.applications.items()}
    assert SEED <= set(mapping)
    assert mapping["financial-app"] == ["windows-2022-core-dotnet-iis"]
    assert mapping["company-site"] == ["windows-2022-core-dotnet-iis"]
    # Best fit first: the flavour without IIS for applications that do not need a web server.
    assert mapping["financial-data-processing"] == ["windows-2022-core-dotnet", "windows-2022-app-server", "windows-2022-core-dotnet-iis"]
    # A jump host needs nothing beyond Windows: the AVD session host image (no .NET) fits best.
    assert mapping["jump-host"] == ["win11-avd", "windows-2022-core-dotnet", "windows-2022-app-server",
                                    "windows-2022-core-dotnet-iis"]
    assert mapping["report-exporter"] == ["ubuntu-2404"]
    # The hardened, audited host: only the STIG flavour carries auditd, AIDE and OpenSCAP.
    assert mapping["case-records-service"] == ["rhel-9-stig"]
    assert all(mapping.values())
    assert result.warnings == []
    assert result.applications["financial-app"]["owner"] == "finance-engineering"
    assert result.applications["financial-app"]["os"] == "windows"


def test_the_seed_applications_are_in_the_shipped_file():
    data = yaml.safe_load((ROOT / APPS).read_text())
    apps = {a["name"]: a for a in data["applications"]}
    assert {a["os"] for n, a in apps.items() if n in SEED} == {"windows"}
    assert {"windows-feature:web-server", "dotnet-runtime:10.0"} <= set(apps["financial-app"]["needs"])
    assert {"windows-feature:web-server", "dotnet-framework:4.8"} <= set(apps["company-site"]["needs"])
    assert "dotnet-runtime:10.0" in apps["financial-data-processing"]["needs"]
    assert not apps["jump-host"]["needs"]
    assert any(a["os"] == "linux" for a in apps.values())


def write_apps(project, text: str) -> None:
    (project.flavours / "applications.yaml").write_text(text)


UNSERVED = """\
applications:
  - name: jump-host
    owner: platform-team
    os: windows
  - name: legacy-portal
    owner: web-team
    os: windows
    needs: [windows-feature:web-server, dotnet-framework:4.8, windows-feature:web-windows-auth]
  - name: queue-worker
    owner: data-team
    os: linux
    needs: [package:rabbitmq-server]
"""


def test_an_unserved_application_stops_the_plan_naming_what_it_misses(project):
    write_apps(project, UNSERVED)
    with pytest.raises(UserError) as caught:
        project.plan("dev")
    report = str(caught.value)
    assert report.startswith("2 problems found; nothing was created:")
    assert (
        f"{APPS}: applications[1]: application 'legacy-portal' (owner web-team) is not served by any flavour "
        "enabled in this stack: missing windows-feature:web-windows-auth on the closest flavour, "
        "'windows-2022-core-dotnet-iis'"
    ) in report
    assert (
        f"{APPS}: applications[2]: application 'queue-worker' (owner data-team) is not served by any flavour "
        "enabled in this stack: missing package:rabbitmq-server on the closest flavour, 'rhel-9-stig'"
    ) in report
    assert "jump-host" not in report


def test_validation_fails_before_anything_is_registered(tmp_path):
    """The check is part of load_inputs, which resolve_stack runs before __main__.py creates any resource."""
    folder = tmp_path / "image_flavours"
    shutil.copytree(ROOT / "image_flavours", folder)
    (folder / "applications.yaml").write_text(UNSERVED)
    with pytest.raises(ValidationFailed) as caught:
        inputs(folder=folder, root=tmp_path)
    assert [p.path for p in caught.value.problems] == ["applications[1]", "applications[2]"]
    main = (ROOT / "__main__.py").read_text()
    assert main.index("resolve_stack(") < main.index("create_shared(") < main.index("GoldenImage(")
    assert "load_inputs(" in (ROOT / "components" / "builds.py").read_text()


def test_only_flavours_built_in_the_stack_count(project):
    config = project.config("dev")
    config["golden-images:flavours"] = ["ubuntu-2404", "windows-2022-core-dotnet"]
    with pytest.raises(UserError) as caught:
        project.plan("dev", config=config)
    report = str(caught.value)
    assert "application 'financial-app' (owner finance-engineering) is not served" in report
    assert "missing windows-feature:web-server on the closest flavour, 'windows-2022-core-dotnet'" in report
    assert "application 'company-site'" in report
    assert "jump-host" not in report and "report-exporter" not in report


def test_no_flavour_for_the_os(tmp_path):
    config = stack_config("dev")[0] | {"golden-images:flavours": ["ubuntu-2404"]}
    with pytest.raises(ValidationFailed) as caught:
        inputs(config=config)
    assert (
        "application 'jump-host' (owner platform-team) is not served by any flavour enabled in this stack: "
        "missing os:windows (no flavour runs windows); it needs nothing beyond the OS"
    ) in caught.value.report()


def test_a_flavour_serving_no_application_is_a_warning(project):
    text = (project.flavours / "applications.yaml").read_text()
    data = yaml.safe_load(text)
    data["applications"] = [a for a in data["applications"] if a["os"] == "windows"]
    write_apps(project, yaml.safe_dump(data))
    result = inputs(folder=project.flavours, root=project.root)
    assert [str(w) for w in result.warnings] == [
        f"image_flavours/{name}.yaml: flavour '{name}' serves no application listed in "
        "applications.yaml; list the applications that use it or retire it"
        for name in ("rhel-9-stig", "ubuntu-2404")
    ]
    assert "ubuntu-2404" in [item.flavour.name for item in result.flavours]
    plan = project.plan("dev")  # a warning never stops the plan
    assert plan.of_type("golden-images:index:GoldenImage")


def test_unneeded_web_server_is_a_warning(tmp_path):
    # The IIS flavour on its own (not layered), so a stack can build it without the plain one.
    folder = tmp_path / "image_flavours"
    shutil.copytree(ROOT / "image_flavours", folder)
    apps = folder / "applications.yaml"  # without the app server's application, which this stack cannot serve
    apps.write_text(apps.read_text().split("\n  - name: contoso-orders\n")[0] + "\n")
    iis = folder / "windows-2022-core-dotnet-iis.yaml"
    base = yaml.safe_load((folder / "windows-2022-core-dotnet.yaml").read_text())
    data = yaml.safe_load(iis.read_text())
    data["base_image"] = base["base_image"]
    data["steps"] = base["steps"][:1] + data["steps"][:1] + base["steps"][1:]
    iis.write_text(yaml.safe_dump(data, sort_keys=False))
    config = stack_config("dev")[0] | {"golden-images:flavours": ["rhel-9-stig", "ubuntu-2404",
                                                                 "windows-2022-core-dotnet-iis"]}
    result = inputs(config=config, folder=folder)
    warned = {w.path: w.message for w in result.warnings}
    assert set(warned) == {"applications[2]", "applications[3]"}
    assert warned["applications[3]"] == (
        "application 'jump-host' runs only on flavours with capabilities it does not need and "
        "rules.only_where_needed keeps off such images: 'windows-2022-core-dotnet-iis' has windows-feature:web-server"
    )


BAD_FILES = {
    "unknown field": (
        "applications:\n  - {name: app, owners: team, os: linux}\n",
        f"{APPS}: applications[0].owners: unknown field (did you mean 'owner'? allowed: clouds, description, name, needs, os, owner, stacks)",
    ),
    "wrong os": (
        "applications:\n  - {name: app, owner: team, os: windows2022}\n",
        f"{APPS}: applications[0].os: Input should be 'windows' or 'linux'",
    ),
    "missing owner": ("applications:\n  - {name: app, os: linux}\n", f"{APPS}: applications[0].owner: required field is missing"),
    "bad name": (
        "applications:\n  - {name: Company Site, owner: web, os: windows}\n",
        f"{APPS}: applications[0].name: 'Company Site' is not a valid name; use 2-63 lower-case letters, digits and hyphens, starting with a letter (e.g. 'company-site')",
    ),
    "duplicate": (
        "applications:\n  - {name: app, owner: a, os: linux}\n  - {name: app, owner: b, os: linux}\n",
        f"{APPS}: application 'app' is listed twice",
    ),
    "os in needs": (
        "applications:\n  - {name: app, owner: a, os: linux, needs: ['os:linux']}\n",
        f"{APPS}: applications[0].needs: 'os:linux': the os field says which OS the application runs on; leave os: out of needs",
    ),
    "blank in capability": (
        "applications:\n  - {name: app, owner: a, os: linux, needs: ['package: curl']}\n",
        f"{APPS}: applications[0].needs: 'package: curl' is not a capability",
    ),
    "needs not a list": (
        "applications:\n  - {name: app, owner: a, os: linux, needs: curl}\n",
        f"{APPS}: applications[0].needs: Input should be a valid list",
    ),
    "unknown top-level key": ("application: []\n", f"{APPS}: application: unknown field (did you mean 'applications'?"),
    "no applications": ("applications: []\n", f"{APPS}: applications: List should have at least 1 item"),
    "not a mapping": ("- app\n", f"{APPS}: an applications file is a mapping with an 'applications' list, not a list"),
    "empty": ("", f"{APPS}: an applications file is a mapping with an 'applications' list, not nothing"),
    "yaml syntax": ("applications: [\n", f"{APPS}: line 2, column 1: YAML syntax error"),
    "unknown rule": ("rules: {only_when_needed: [iis]}\napplications:\n  - {name: app, owner: a, os: linux}\n",
                     f"{APPS}: rules.only_when_needed: unknown field (did you mean 'only_where_needed'?"),
    "typo in a capability": (
        "applications:\n  - {name: app, owner: a, os: windows, needs: [dotnet-framwork:4.8]}\n",
        f"{APPS}: applications[0].needs[0]: no step in the catalogue gives 'dotnet-framwork:4.8' (did you mean 'dotnet-framework:4.8'?)",
    ),
    "exclusive needs": (
        "rules: {exclusive: [['dotnet-framework:*']]}\napplications:\n"
        "  - {name: app, owner: a, os: windows, needs: [dotnet-framework:4.8, dotnet-framework:4.7.2]}\n",
        f"{APPS}: applications[0].needs: dotnet-framework:4.7.2, dotnet-framework:4.8 cannot share an image (rules.exclusive[0]); split the application",
    ),
}


@pytest.mark.parametrize("kind", sorted(BAD_FILES))
def test_bad_applications_files_are_reported_like_flavour_errors(project, kind):
    text, expected = BAD_FILES[kind]
    write_apps(project, text)
    with pytest.raises(UserError) as caught:
        project.plan("dev")
    report = str(caught.value)
    assert "nothing was created" in report
    assert expected in report, report


def test_applications_file_errors_come_with_flavour_errors(project):
    write_apps(project, "applications:\n  - {name: app, owner: a, os: macos}\n")
    project.write_flavour("ubuntu-2404.yaml", project.flavour_text("ubuntu-2404.yaml") + "colour: blue\n")
    with pytest.raises(UserError) as caught:
        project.plan("dev")
    report = str(caught.value)
    assert f"{APPS}: applications[0].os: Input should be 'windows' or 'linux'" in report
    assert "image_flavours/ubuntu-2404.yaml: colour: unknown field" in report
    assert "is not served" not in report  # broken flavours are not judged


def test_without_an_applications_file_nothing_is_checked(project):
    (project.flavours / "applications.yaml").unlink()
    result = inputs(folder=project.flavours, root=project.root)
    assert result.applications == {} and result.warnings == []
    report = check_applications(project.flavours, project.root, [], load_catalogue(), ["aws"])
    assert (report.applications, report.problems, report.warnings) == ({}, [], [])


def test_capabilities_compare_lower_case():
    apps = ApplicationsFile.model_validate(
        {"applications": [{"name": "site", "owner": "web", "os": "windows", "needs": ["Windows-Feature:Web-Server"]}]}
    )
    assert apps.applications[0].needs == ["windows-feature:web-server"]
    loaded, problems, _ = load_flavours(ROOT / "image_flavours", ROOT, load_catalogue())
    assert problems == []
    from components.model.applications import offerings_of

    served = serving(apps, offerings_of(loaded, load_catalogue(), ["aws", "azure"]))
    assert served == {"site": ["windows-2022-core-dotnet-iis"]}


def test_flavours_built_nowhere_and_clashing_flavours():
    from components.model.applications import Offering, check, offerings_of
    from components.model.loader import LoadedFlavour

    azure_only = LoadedFlavour(flavour(steps=["plain"], clouds=["azure"]), "image_flavours/azure-only.yaml")
    assert offerings_of([azure_only], CATALOGUE, ["aws"]) == []  # built on none of the stack's clouds
    assert [o.name for o in offerings_of([azure_only], CATALOGUE, ["aws", "azure"])] == ["test-flavour"]

    apps = ApplicationsFile.model_validate(
        {
            "rules": {"exclusive": [["dotnet-framework:*"]]},
            "applications": [{"name": "jump", "owner": "ops", "os": "windows"}],
        }
    )
    both = Offering("both", "windows", frozenset({"os:windows", "dotnet-framework:4.8", "dotnet-framework:4.7.2"}), "image_flavours/both.yaml")
    errors, warnings = check(apps, APPS, [both], load_catalogue())
    assert errors == []
    assert [str(w) for w in warnings] == [
        "image_flavours/both.yaml: steps: carries dotnet-framework:4.7.2, dotnet-framework:4.8, which cannot share an image (rules.exclusive[0])"
    ]


def test_summary_lines_show_the_mapping_and_idle_flavours():
    apps = ApplicationsFile.model_validate(
        {"applications": [{"name": "site", "owner": "web", "os": "windows", "needs": ["windows-feature:web-server"]}]}
    )
    lines = summary_lines(export(apps, {"site": ["windows-2022-core-dotnet-iis"]}), ["windows-2022-core-dotnet-iis", "ubuntu-2404"])
    assert lines == [
        "Applications (1):",
        "  site (windows, owner web) needs windows-feature:web-server",
        "    served by: windows-2022-core-dotnet-iis",
        "  warning: flavour ubuntu-2404 serves no application",
        "",
    ]
    assert summary_lines({}, ["ubuntu-2404"]) == []


def test_the_plan_exports_the_mapping_and_the_summary_shows_it(plans):
    """Needs __main__.py to export inputs.applications and summary() to print summary_lines."""
    from components.plan import summary

    exported = plans["dev"].outputs["applications"]
    assert exported == inputs("dev").applications
    text = summary(plans["dev"])
    assert "Applications (7):" in text
    assert "  jump-host (windows, owner platform-team) needs nothing beyond the OS" in text
    assert "    served by: windows-2022-core-dotnet, windows-2022-app-server, windows-2022-core-dotnet-iis" in text
    assert "output applications:" not in text
