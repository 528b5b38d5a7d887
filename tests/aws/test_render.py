"""The EC2 Image Builder renderer: plain function calls on plain data, no Pulumi."""
from __future__ import annotations

import gzip
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from components.aws import render
from components.model.assets import Asset
from components.model.build import FlavourBuild
from components.model.flavour import Flavour, StepUse
from components.model.prepared import DOWNLOAD_DIRS, Download, PreparedStep, prepare_flavour, prepare_step
from components.model.settings import StackSettings
from components.model.steps import STEPS_DIR, Catalogue, Pin, Step, StepSpec, load_catalogue
from tests.builds import build_of

FULL_CATALOGUE = load_catalogue()
PREFIX = "golden-images-dev"
KEY = render.KmsKey(identity="stack-key", arns={
    "eu-west-1": "arn:aws:kms:eu-west-1:123456789012:key/mrk-0123456789abcdef0123456789abcdef",
    "us-east-1": "arn:aws:kms:us-east-1:123456789012:key/mrk-0123456789abcdef0123456789abcdef",
})
UBUNTU_SSM = "ssm:/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id"
WINDOWS_SSM = "ssm:/aws/service/ami-windows-latest/Windows_Server-2022-English-Core-Base"


def api_shapes() -> dict:
    """The Image Builder API model botocore ships: the limits AWS enforces."""
    import botocore

    path = next(Path(botocore.__file__).parent.glob("data/imagebuilder/*/service-2.json.gz"))
    return json.loads(gzip.decompress(path.read_bytes()))["shapes"]


SHAPES = api_shapes()
RESOURCE_NAME = re.compile(SHAPES["ResourceName"]["pattern"])
AMI_NAME = re.compile(SHAPES["AmiNameString"]["pattern"])
COMPONENT_ARN = re.compile(SHAPES["ComponentVersionArnOrBuildVersionArn"]["pattern"])


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory) -> Catalogue:
    """os-updates on its own, so this module tests the renderer, not the rest of the catalogue."""
    folder = tmp_path_factory.mktemp("steps")
    shutil.copytree(STEPS_DIR / "os-updates", folder / "os-updates")
    shutil.copytree(STEPS_DIR / "lib", folder / "lib")
    return load_catalogue(folder)


def make_flavour(source_commit=None, settings=None, **fields) -> FlavourBuild:
    data = {
        "name": "ubuntu-2404",
        "description": "Ubuntu Server 24.04 LTS",
        "version": "1.2.3",
        "os": "linux",
        "base_image": {"aws": UBUNTU_SSM},
        "steps": ["os-updates"],
        "tags": {"team": "platform"},
    }
    data.update(fields)
    return build_of(Flavour.model_validate(data), settings or make_settings(), FULL_CATALOGUE, source_commit=source_commit)


def make_settings(**aws) -> StackSettings:
    return StackSettings.model_validate({
        "clouds": ["aws"],
        "schedule": {"every": "week", "on": "sunday", "at": "02:00", "timezone": "Europe/Amsterdam"},
        "tags": {"environment": "dev"},
        "aws": {"region": "eu-west-1", **aws},
    })


def prepared(flavour: FlavourBuild, catalogue: Catalogue) -> list:
    return prepare_flavour(flavour.os, flavour.declared_steps, catalogue, "aws")


def plan_of(flavour: FlavourBuild, entries: list, key: render.KmsKey = KEY) -> render.RecipePlan:
    """A recipe plan with these entries, as plan_aws would make it."""
    parent = render.parent_image(flavour, None, region="eu-west-1")
    return render.RecipePlan(entries=tuple(entries), parent=parent,
                             name=render.recipe_name(flavour, entries, prefix=PREFIX, key=key, parent=parent))


def single(step: PreparedStep, key: render.KmsKey = KEY) -> render.ComponentSpec:
    specs = render.component_specs(step, prefix=PREFIX, key=key)
    assert len(specs) == 1
    return specs[0]


def document(step: PreparedStep) -> dict:
    return yaml.safe_load(single(step).data)


def phase(doc: dict, name: str) -> list:
    return next(p["steps"] for p in doc["phases"] if p["name"] == name)


def hand_step(**fields) -> PreparedStep:
    values = {
        "name": "agent",
        "category": "agent",
        "os": "linux",
        "params": {},
        "environment": {"GI_STEP": "agent"},
        "script": "#!/usr/bin/env bash\nexport GI_STEP='agent'\necho install\n",
        "check": "#!/usr/bin/env bash\nexport GI_STEP='agent'\necho check\n",
    }
    values.update(fields)
    return PreparedStep(**values)


class TestComponentDocument:
    def test_linux_step_installs_restarts_and_checks(self, catalogue):
        step = prepared(make_flavour(), catalogue)[0]
        doc = document(step)
        assert doc["schemaVersion"] == 1.0
        # os-updates' "nothing pending" holds at build time only: no test phase on the fresh instance.
        assert [p["name"] for p in doc["phases"]] == ["build", "validate"]
        build = phase(doc, "build")
        assert [s["action"] for s in build] == ["CreateFile", "ExecuteBash", "Reboot"]
        written = build[0]["inputs"][0]
        # The build instance runs the catalogue's script with its environment prologue, byte for byte.
        assert written["content"] == step.script
        assert "export GI_PARAM_EXCLUDE=''" in written["content"]
        assert f"bash '{written['path']}'" in build[1]["inputs"]["commands"][0]
        for name in ("validate",):
            check = phase(doc, name)
            assert [s["action"] for s in check] == ["CreateFile", "ExecuteBash"]
            assert check[0]["inputs"][0]["content"] == step.check

    def test_aws_managed_step_is_the_managed_arn_then_our_check(self, catalogue):
        flavour = make_flavour(name="win", os="windows", base_image={"aws": WINDOWS_SSM})
        steps = prepared(flavour, catalogue)
        entries = render.recipe_entries(steps, prefix=PREFIX, region="eu-west-1", key=KEY)
        assert entries[0].managed_arn == "arn:aws:imagebuilder:eu-west-1:aws:component/update-windows/x.x.x"
        assert COMPONENT_ARN.search(entries[0].managed_arn)
        check = entries[1].component
        assert check.platform == "Windows" and "windows-check" in check.name
        doc = yaml.safe_load(check.data)
        # No install script of ours: the managed component updates, we restart and prove it.
        assert [s["action"] for s in phase(doc, "build")] == ["Reboot"]
        assert [p["name"] for p in doc["phases"]] == ["build", "validate"]
        for name in ("validate",):
            write, run = phase(doc, name)
            # With a BOM: Windows PowerShell 5.1 reads a .ps1 without one as ANSI (REFERENCE.md).
            assert write["inputs"][0]["content"] == "\ufeff" + steps[0].check
            assert write["inputs"][0]["encoding"] == "utf8"
            assert write["inputs"][0]["path"] == "C:\\Windows\\Temp\\golden-images-steps\\os-updates-check.ps1"
            assert run["action"] == "ExecutePowerShell"
            assert f"-File '{write['inputs'][0]['path']}'" in run["inputs"]["commands"][0]

    def test_downloads_are_verified_and_options_become_step_settings(self):
        step = hand_step(
            downloads=(Download(pin="agent", url="https://example.com/agent.deb", sha256="a" * 64,
                                destination="/var/tmp/golden-images/downloads/agent.deb"),),
            valid_exit_codes=(0, 3010), retries=2, timeout_minutes=30, reboot_after=True,
        )
        build = phase(document(step), "build")
        assert [s["name"] for s in build] == ["Download", "WriteInstallScript", "Install", "Reboot"]
        assert build[0]["action"] == "WebDownload"
        assert build[0]["inputs"] == [{"source": "https://example.com/agent.deb",
                                       "destination": "/var/tmp/golden-images/downloads/agent.deb",
                                       "checksum": "a" * 64, "algorithm": "SHA256", "overwrite": True}]
        install = build[2]
        assert install["maxAttempts"] == 3
        assert install["timeoutSeconds"] == 1800
        assert "0|3010)" in install["inputs"]["commands"][0]
        assert "timeoutSeconds" not in build[3]  # AWSTOE's Reboot takes no timeout

    def test_no_restart_unless_asked(self):
        build = phase(document(hand_step()), "build")
        assert [s["action"] for s in build] == ["CreateFile", "ExecuteBash"]
        assert "maxAttempts" not in build[1] and "timeoutSeconds" not in build[1]

    def test_steps_from_a_hand_built_catalogue(self):
        """Any catalogue step renders through the same path: no step is known by name."""
        spec = StepSpec.model_validate({
            "name": "agent", "category": "agent", "description": "An agent", "os": ["windows"],
            "reboot": "after", "downloads": ["agent-msi"],
            "parameters": {"site": {"type": "string", "description": "Site", "default": "eu"}},
            "scripts": {"windows": "install.ps1"}, "checks": {"windows": "check.ps1"},
        })
        step = Step(spec=spec, scripts={"windows": "Write-Output install\n"},
                    checks={"windows": "Write-Output check\n"}, folder=Path("."))
        pins = {"agent-msi": Pin(name="agent-msi", version="7.1", downloads={"windows": {
            "url": "https://example.com/agent-7.1.msi", "sha256": "b" * 64, "file": "agent.msi"}})}
        catalogue = Catalogue(steps={"agent": step}, pins=pins)
        use = StepUse.model_validate({"agent": {"site": "us"}, "options": {"reboot_after": False,
                                                                             "valid_exit_codes": [0, 3010]}})
        prepared_step = prepare_step(use, step, "windows", catalogue)
        doc = document(prepared_step)
        build = phase(doc, "build")
        assert [s["action"] for s in build] == ["WebDownload", "CreateFile", "ExecutePowerShell"]
        assert build[0]["inputs"][0]["destination"] == "C:\\golden-images\\downloads\\agent.msi"
        script = build[1]["inputs"][0]["content"]
        assert script.startswith("\ufeff$env:GI_STEP = 'agent'\n")  # a BOM first: PowerShell 5.1 reads UTF-8 then
        assert "$env:GI_PARAM_SITE = 'us'\n" in script
        assert "$env:GI_DOWNLOAD_AGENT_MSI = 'C:\\golden-images\\downloads\\agent.msi'\n" in script
        assert "if (@(0, 3010) -contains $status)" in build[2]["inputs"]["commands"][0]

    def test_a_large_step_is_split_by_phase_in_order(self):
        install = "#!/usr/bin/env bash\n" + "echo installing a large piece of software\n" * 250
        check = "#!/usr/bin/env bash\n" + "test -e /opt/agent/bin/agent-$((1 + 1))\n" * 250
        step = hand_step(script=install, check=check, reboot_after=True)
        specs = render.component_specs(step, prefix=PREFIX, key=KEY)
        docs = [yaml.safe_load(spec.data) for spec in specs]
        assert [[p["name"] for p in doc["phases"]] for doc in docs] == [["build"], ["validate"], ["test"]]
        assert [s["action"] for s in docs[0]["phases"][0]["steps"]] == ["CreateFile", "ExecuteBash", "Reboot"]
        assert docs[0]["phases"][0]["steps"][0]["inputs"][0]["content"] == install
        assert docs[1]["phases"][0]["steps"][0]["inputs"][0]["content"] == check
        assert all(len(spec.data) <= 16000 for spec in specs)
        assert [spec.name.rsplit("-", 1)[0] for spec in specs] == [
            f"{PREFIX}-agent-linux-build", f"{PREFIX}-agent-linux-validate", f"{PREFIX}-agent-linux-test"]
        entries = render.recipe_entries([step], prefix=PREFIX, region="eu-west-1", key=KEY)
        assert [e.component for e in entries] == specs

    def test_small_phases_stay_together(self):
        check = "#!/usr/bin/env bash\n" + "test -e /opt/agent\n" * 400
        specs = render.component_specs(hand_step(check=check), prefix=PREFIX, key=KEY)
        assert [[p["name"] for p in yaml.safe_load(spec.data)["phases"]] for spec in specs] == [
            ["build", "validate"], ["test"]]

    def test_a_document_too_long_with_literal_blocks_is_written_compactly(self):
        # 300 lines twice: over the limit once every line is indented in a literal block.
        check = "#!/usr/bin/env bash\n" + "test -e /opt/agent\n" * 300
        step = hand_step(check=check)
        document = render.component_document(step)
        assert len(render.dump_document(document)) > render.INLINE_DOCUMENT_LIMIT
        (spec,) = render.component_specs(step, prefix=PREFIX, key=KEY)
        assert len(spec.data) <= render.INLINE_DOCUMENT_LIMIT
        assert spec.data == render.dump_document(document, compact=True)
        assert yaml.safe_load(spec.data) == document  # the same document, only spelled differently
        # Small documents keep their scripts readable in the console.
        assert "|" in single(hand_step()).data

    def test_a_phase_over_the_inline_limit_is_refused(self):
        big = hand_step(script="#!/usr/bin/env bash\n" + "echo padding\n" * 2000)
        with pytest.raises(render.RenderError, match=r"step 'agent' \(linux\): its build phase alone .*16000"):
            render.component_specs(big, prefix=PREFIX, key=KEY)

    def test_awstoe_variables_in_scripts_travel_encoded(self, tmp_path):
        # AWSTOE substitutes {{ ... }} anywhere in a document: the check is shipped as base64.
        data = single(hand_step(check="docker ps --format '{{.Names}}'\n")).data
        assert "{{" not in data
        write, decode = yaml.safe_load(data)["phases"][-1]["steps"][:2]
        encoded = tmp_path / "check.sh.b64"
        encoded.write_text(write["inputs"][0]["content"])
        target = tmp_path / "check.sh"
        commands = [c.replace(write["inputs"][0]["path"][:-4], str(target)) for c in decode["inputs"]["commands"]]
        subprocess.run(["bash", "-c", "\n".join(commands)], check=True)
        assert target.read_text() == "docker ps --format '{{.Names}}'\n" and not encoded.exists()

    def test_no_yaml_aliases(self):
        data = single(hand_step()).data
        assert "&id" not in data and "*id" not in data


def run_bash_wrapper(tmp_path: Path, exit_code: int, accepted: tuple) -> subprocess.CompletedProcess:
    """The wrapper exactly as rendered, with the script folder moved into tmp_path."""
    folder = tmp_path / "steps"
    step = hand_step(valid_exit_codes=accepted,
                     script=f"#!/usr/bin/env bash\necho working\nexit {exit_code}\n")
    build = phase(yaml.safe_load(single(step).data), "build")
    written, wrapper = build[0]["inputs"][0], build[1]["inputs"]["commands"][0]
    script = Path(written["path"].replace(render.SCRIPT_DIRS["linux"], str(folder)))
    folder.mkdir()
    script.write_text(written["content"])
    return subprocess.run(["bash", "-c", wrapper.replace(render.SCRIPT_DIRS["linux"], str(folder))],
                          capture_output=True, text=True)


@pytest.mark.parametrize("code, accepted, expected", [
    (0, (0,), 0),
    (100, (0, 100), 0),
    (100, (0,), 1),
    # 194 from a bare step would make AWSTOE restart the instance and run the step again.
    (194, (0,), 1),
    (2, (0, 100), 1),
])
def test_bash_wrapper_maps_exit_codes(tmp_path, code, accepted, expected):
    result = run_bash_wrapper(tmp_path, code, accepted)
    assert result.returncode == expected
    if expected:
        assert f"failed with exit code {code}" in result.stderr
        assert (tmp_path / "steps" / "agent-install.sh").exists()  # kept for the next attempt
    else:
        assert not (tmp_path / "steps").exists()  # nothing left in the image


def test_scripts_are_written_outside_the_download_folder(catalogue):
    """A cleanup step may remove the download folder and check that it is gone; checks run after it."""
    for os in ("linux", "windows"):
        flavour = make_flavour(name=f"f-{os}", os=os, base_image={"aws": UBUNTU_SSM if os == "linux" else WINDOWS_SSM})
        doc = document(prepared(flavour, catalogue)[0])
        paths = [i["path"] for p in doc["phases"] for s in p["steps"] if s["action"] == "CreateFile"
                 for i in s["inputs"]]
        assert paths and all(p.startswith(render.SCRIPT_DIRS[os]) for p in paths)
        assert not [p for p in paths if p.startswith(DOWNLOAD_DIRS[os])]


class TestNames:
    def test_component_name_follows_content(self, catalogue):
        first = single(prepared(make_flavour(), catalogue)[0])
        again = single(prepared(make_flavour(name="other", version="9.9.9"), catalogue)[0])
        changed = single(
            prepared(make_flavour(steps=[{"os-updates": {"exclude": ["vim"]}}]), catalogue)[0])
        other_key = single(prepared(make_flavour(), catalogue)[0],
                           key=render.KmsKey(identity="arn:aws:kms:eu-west-1:1:key/x"))
        assert first.name == again.name  # shared by every flavour that uses the same step
        assert first.version == again.version == "1.0.0"
        assert changed.name != first.name and other_key.name != first.name
        assert first.name.startswith(f"{PREFIX}-os-updates-linux-")
        assert RESOURCE_NAME.match(first.name) and len(first.name) <= 128

    def test_long_names_are_cut_to_the_api_limit(self):
        spec = single(hand_step(name="a" * 200))
        assert len(spec.name) == 128 and RESOURCE_NAME.match(spec.name)

    def test_prefix_is_a_valid_name_part(self):
        assert render.name_prefix("Prod.EU_West 1") == "golden-images-prod-eu-west-1"
        assert len(render.name_prefix("x" * 100)) == len("golden-images-") + 16

    def test_recipe_name_follows_content_not_version(self, catalogue):
        flavour = make_flavour()
        entries = render.recipe_entries(prepared(flavour, catalogue), prefix=PREFIX, region="eu-west-1", key=KEY)
        name = render.recipe_name(flavour, entries, prefix=PREFIX, key=KEY)
        bumped = make_flavour(version="1.2.4")
        assert render.recipe_name(bumped, entries, prefix=PREFIX, key=KEY) == name
        bigger = make_flavour(build={"disk_size_gb": 64})
        assert render.recipe_name(bigger, entries, prefix=PREFIX, key=KEY) != name
        described = make_flavour(description="another description")
        assert render.recipe_name(described, entries, prefix=PREFIX, key=KEY) != name
        other_key = render.KmsKey(identity="arn:aws:kms:eu-west-1:123456789012:key/mrk-other", arns=KEY.arns)
        assert render.recipe_name(flavour, entries, prefix=PREFIX, key=other_key) != name
        other = render.recipe_entries(prepared(make_flavour(steps=[{"os-updates": {"exclude": ["vim"]}}]), catalogue),
                                      prefix=PREFIX, region="eu-west-1", key=KEY)
        assert render.recipe_name(flavour, other, prefix=PREFIX, key=KEY) != name
        assert RESOURCE_NAME.match(name)


class TestRecipe:
    def test_recipe_request(self, catalogue):
        flavour = make_flavour()
        entries = render.recipe_entries(prepared(flavour, catalogue), prefix=PREFIX, region="eu-west-1", key=KEY)
        args = render.recipe_args(flavour, plan_of(flavour, entries), ["arn:component"], region="eu-west-1", key=KEY,
                                  tags={"a": "b"})
        assert args["version"] == "1.2.3"
        assert args["parent_image"] == UBUNTU_SSM
        assert args["components"] == [{"component_arn": "arn:component"}]
        assert args["working_directory"] == "/var/tmp"
        assert args["block_device_mappings"] == [{"device_name": "/dev/sda1", "ebs": {
            "encrypted": "true", "delete_on_termination": "true", "volume_type": "gp3", "volume_size": 30,
            "kms_key_id": KEY.arns["eu-west-1"]}}]

    def test_at_most_twenty_components(self):
        entries = [render.RecipeEntry(managed_arn=f"arn:{i}") for i in range(21)]
        with pytest.raises(render.RenderError, match="21 Image Builder components, a recipe takes at most 20"):
            flavour = make_flavour()
            render.recipe_args(flavour, plan_of(flavour, entries), [e.managed_arn for e in entries],
                               region="eu-west-1", key=KEY, tags={})

    def test_root_volume_size_and_device_follow_the_flavour(self):
        windows = make_flavour(os="windows", base_image={"aws": WINDOWS_SSM})
        assert windows.machine.disk_size("windows") == 128
        assert render.root_device_name(windows) == "/dev/sda1"
        amazon = make_flavour(base_image={"aws": "ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"},
                              build={"disk_size_gb": 50})
        args = render.recipe_args(amazon, plan_of(amazon, [render.RecipeEntry(managed_arn="arn:m")]), ["arn:m"],
                                  region="eu-west-1", key=KEY, tags={})
        assert args["block_device_mappings"][0]["device_name"] == "/dev/xvda"
        assert args["block_device_mappings"][0]["ebs"]["volume_size"] == 50


class TestSchedule:
    @pytest.mark.parametrize("schedule, expected", [
        ({"every": "week", "on": "sunday", "at": "02:00"}, "cron(0 2 ? * SUN *)"),
        ({"every": "month", "on": 15, "at": "03:00"}, "cron(0 3 15 * ? *)"),
        ({"every": "day", "at": "23:45"}, "cron(45 23 * * ? *)"),
        ({"every": "week", "on": "Wednesday", "at": "00:05"}, "cron(5 0 ? * WED *)"),
    ])
    def test_six_field_cron(self, schedule, expected):
        settings = StackSettings.model_validate({"clouds": ["aws"], "schedule": schedule,
                                                 "aws": {"region": "eu-west-1"}})
        cron = render.schedule_expression(settings.schedule)
        assert cron == expected
        fields = cron[len("cron("):-1].split(" ")
        assert len(fields) == 6 and (fields[2] == "?") != (fields[4] == "?")

    def test_pipeline_runs_on_schedule_with_tests_and_scanning(self):
        settings = make_settings()
        flavour = make_flavour(tests={"timeout_minutes": 120}, build={"timeout_minutes": 90})
        args = render.pipeline_args(flavour, settings.aws, prefix=PREFIX, recipe_arn="r", infrastructure_arn="i",
                                    distribution_arn="d", tags={})
        assert args["schedule"] == {"schedule_expression": "cron(0 2 ? * SUN *)", "timezone": "Europe/Amsterdam",
                                    "pipeline_execution_start_condition": "EXPRESSION_MATCH_ONLY"}
        # The build timeout caps the test timeout; both stay within the API's 60..1440.
        assert args["image_tests_configuration"] == {"image_tests_enabled": True, "timeout_minutes": 90}
        assert args["image_scanning_configuration"] == {"image_scanning_enabled": True}
        assert args["enhanced_image_metadata_enabled"] is True
        assert (args["image_recipe_arn"], args["infrastructure_configuration_arn"],
                args["distribution_configuration_arn"]) == ("r", "i", "d")
        assert args["name"] == f"{PREFIX}-ubuntu-2404"


class TestInfrastructure:
    def test_defaults(self):
        settings = make_settings()
        args = render.infrastructure_args(make_flavour(), settings.aws, prefix=PREFIX, instance_profile_name="p",
                                          log_bucket="logs", topic_arn="t", tags={"k": "v"})
        assert args["instance_types"] == ["m6i.large"]
        assert args["instance_metadata_options"] == {"http_tokens": "required"}
        assert args["terminate_instance_on_failure"] is True
        assert args["logging"] == {"s3_logs": {"s3_bucket_name": "logs", "s3_key_prefix": "image-builder/ubuntu-2404"}}
        assert args["sns_topic_arn"] == "t" and args["instance_profile_name"] == "p"
        assert args["resource_tags"] == args["tags"] == {"k": "v"}
        assert "subnet_id" not in args and "security_group_ids" not in args

    def test_overrides(self):
        settings = make_settings(subnet_id="subnet-0123456789abcdef0", security_group_ids=["sg-0123456789abcdef0"],
                                 instance_types={"windows": ["m6i.xlarge"], "linux": ["t3.large"]})
        windows = make_flavour(os="windows", base_image={"aws": WINDOWS_SSM})
        args = render.infrastructure_args(windows, settings.aws, prefix=PREFIX, instance_profile_name="p",
                                          log_bucket="l", topic_arn="t", tags={})
        assert args["instance_types"] == ["m6i.xlarge"]
        assert args["subnet_id"] == "subnet-0123456789abcdef0"
        assert args["security_group_ids"] == ["sg-0123456789abcdef0"]
        own = make_flavour(build={"aws_instance_types": ["c7i.2xlarge"]})
        assert render.infrastructure_args(own, settings.aws, prefix=PREFIX, instance_profile_name="p",
                                          log_bucket="l", topic_arn="t", tags={})["instance_types"] == ["c7i.2xlarge"]

    def test_too_many_instance_tags(self):
        tags = {f"k{i}": "v" for i in range(31)}
        with pytest.raises(render.RenderError, match="at most 30"):
            render.infrastructure_args(make_flavour(), make_settings().aws, prefix=PREFIX, instance_profile_name="p",
                                       log_bucket="l", topic_arn="t", tags=tags)


class TestDistribution:
    def test_one_entry_per_region_encrypted_and_private(self):
        settings = make_settings(
            distribution_regions=["eu-west-1", "us-east-1"], target_account_ids=["210987654321"],
            launch_permissions={"account_ids": ["345678901234"],
                                "organization_arns": ["arn:aws:organizations::123456789012:organization/o-a1b2c3d4e5"]},
            ssm_parameter_prefix="/images/dev")
        args = render.distribution_args(make_flavour(), settings.aws, prefix=PREFIX, key=KEY, account_id="123456789012",
                                        tags={"t": "v"})
        assert [d["region"] for d in args["distributions"]] == ["eu-west-1", "us-east-1"]
        for entry in args["distributions"]:
            ami = entry["ami_distribution_configuration"]
            assert ami["kms_key_id"] == KEY.arns[entry["region"]]
            assert ami["name"] == f"{PREFIX}-ubuntu-2404-1.2.3-{{{{ imagebuilder:buildDate }}}}"
            assert AMI_NAME.match(ami["name"]) and len(ami["name"]) <= 127
            assert ami["target_account_ids"] == ["210987654321"]
            assert ami["launch_permission"] == {
                "user_ids": ["345678901234"],
                "organization_arns": ["arn:aws:organizations::123456789012:organization/o-a1b2c3d4e5"]}
            assert {k: v for k, v in ami["ami_tags"].items() if not k.startswith("golden-images:")} == {"t": "v"}
            assert entry["ssm_parameter_configurations"] == [
                {"parameter_name": "/images/dev/ubuntu-2404/latest", "data_type": "aws:ec2:image"}]
            assert "fast_launch_configurations" not in entry  # Linux

    def test_ami_description_fits_ec2(self):
        flavour = make_flavour(description="x" * 1000)
        args = render.distribution_args(flavour, make_settings().aws, prefix=PREFIX, key=KEY, account_id="1", tags={})
        assert args["distributions"][0]["ami_distribution_configuration"]["description"] == "x" * 255

    def test_never_public(self):
        args = render.distribution_args(make_flavour(), make_settings().aws, prefix=PREFIX, key=KEY, account_id="1",
                                        tags={})
        ami = args["distributions"][0]["ami_distribution_configuration"]
        assert "launch_permission" not in ami and "target_account_ids" not in ami
        assert "user_groups" not in json.dumps(args)

    def test_fast_launch_for_windows_when_enabled(self):
        windows = make_flavour(os="windows", base_image={"aws": WINDOWS_SSM})
        off = render.distribution_args(windows, make_settings().aws, prefix=PREFIX, key=KEY, account_id="1", tags={})
        assert "fast_launch_configurations" not in off["distributions"][0]
        on = render.distribution_args(windows, make_settings(fast_launch=True, fast_launch_snapshots=8).aws,
                                      prefix=PREFIX, key=KEY, account_id="123456789012", tags={})
        assert on["distributions"][0]["fast_launch_configurations"] == [{
            "enabled": True, "account_id": "123456789012", "max_parallel_launches": 6,
            "snapshot_configuration": {"target_resource_count": 8}}]

    def test_configured_key_per_region(self):
        mrk = "arn:aws:kms:eu-west-1:123456789012:key/mrk-1234abcd1234abcd1234abcd1234abcd"
        key = render.configured_key(mrk, ["eu-west-1", "us-east-1"])
        assert key.arn("us-east-1") == mrk.replace("eu-west-1", "us-east-1")
        assert key.identity == mrk
        single = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
        assert render.configured_key(single, ["eu-west-1"]).arn("eu-west-1") == single
        with pytest.raises(render.RenderError, match="single-Region key in eu-west-1 .* us-east-1"):
            render.configured_key(single, ["eu-west-1", "us-east-1"])


class TestLifecycle:
    def args(self, **lifecycle):
        settings = make_settings(lifecycle=lifecycle)
        return render.lifecycle_policy_args(make_flavour(), settings.aws, prefix=PREFIX, recipe="recipe-abc",
                                            execution_role_arn="arn:aws:iam::123456789012:role/lifecycle", tags={})

    def test_deprecate_by_age_then_delete_beyond_count(self):
        args = self.args(keep_images=12, deprecate_after_days=90)
        assert args["resource_type"] == "AMI_IMAGE"
        assert args["policy_details"] == [
            {"action": {"type": "DEPRECATE", "include_resources": {"amis": True}},
             "filter": {"type": "AGE", "value": 90, "unit": "DAYS"}},
            {"action": {"type": "DELETE", "include_resources": {"amis": True, "snapshots": True}},
             "filter": {"type": "COUNT", "value": 12},
             # An image launched within 30 days (the default) is in use: never deleted for its rank.
             "exclusion_rules": {"amis": {"last_launched": {"unit": "DAYS", "value": 30}}}},
        ]
        assert args["resource_selection"] == {"recipes": [{"name": "recipe-abc", "semantic_version": "x.x.x"}]}
        assert args["execution_role"] == "arn:aws:iam::123456789012:role/lifecycle"

    def test_without_age_old_images_are_only_deleted(self):
        # Image Builder accepts a COUNT filter only with DELETE, so there is no count-based deprecation.
        assert self.args(keep_images=3)["policy_details"] == [
            {"action": {"type": "DELETE", "include_resources": {"amis": True, "snapshots": True}},
             "filter": {"type": "COUNT", "value": 3},
             # An image launched within 30 days (the default) is in use: never deleted for its rank.
             "exclusion_rules": {"amis": {"last_launched": {"unit": "DAYS", "value": 30}}}},
        ]


class TestPolicies:
    def test_build_instances_write_only_their_log_prefix(self):
        policy = render.log_write_policy("arn:aws:s3:::logs")
        assert policy["Statement"] == [{"Sid": "WriteBuildLogs", "Effect": "Allow", "Action": "s3:PutObject",
                                        "Resource": "arn:aws:s3:::logs/image-builder/*"}]

    def test_key_policy_grants(self):
        settings = make_settings(
            target_account_ids=["210987654321"],
            launch_permissions={
                "account_ids": ["345678901234"],
                "organization_arns": ["arn:aws:organizations::123456789012:organization/o-a1b2c3d4e5"],
                "organizational_unit_arns": ["arn:aws:organizations::123456789012:ou/o-a1b2c3d4e5/ou-ab12-cdef3456"]})
        statements = {s["Sid"]: s for s in render.kms_key_policy(settings.aws, account_id="123456789012")["Statement"]}
        assert statements["AccountAdministers"]["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}
        # Only the owning account administers the key.
        assert [sid for sid, s in statements.items() if s["Action"] == "kms:*"] == ["AccountAdministers"]
        shared = statements["SharedAccountsUseKey"]
        assert shared["Principal"]["AWS"] == ["arn:aws:iam::210987654321:root", "arn:aws:iam::345678901234:root"]
        assert "kms:ReEncrypt*" in shared["Action"] and "kms:Decrypt" in shared["Action"]
        grant = statements["SharedAccountsGrantToEbs"]
        assert grant["Action"] == "kms:CreateGrant"
        assert grant["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": "true"}}
        # Use only through EC2 (AMI copies and launches, EBS volumes): kms:ViaService.
        via_ec2 = {"StringLike": {"kms:ViaService": "ec2.*.amazonaws.com"}}
        assert shared["Condition"] == via_ec2
        assert statements["OrganizationsUseKey"]["Condition"] == {
            "StringEquals": {"aws:PrincipalOrgID": ["o-a1b2c3d4e5"]}, **via_ec2}
        assert statements["OrganizationalUnitsUseKey"]["Condition"] == {
            "ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": ["o-a1b2c3d4e5/*/ou-ab12-cdef3456/*"]}, **via_ec2}
        notify = statements["ImageBuilderNotifications"]
        assert notify["Condition"]["ArnEquals"] == {"aws:PrincipalArn": (
            "arn:aws:iam::123456789012:role/aws-service-role/imagebuilder.amazonaws.com/AWSServiceRoleForImageBuilder")}
        assert notify["Condition"]["StringEquals"]["kms:ViaService"] == "sns.eu-west-1.amazonaws.com"

    def test_key_policy_without_sharing(self):
        sids = [s["Sid"] for s in render.kms_key_policy(make_settings().aws, account_id="1")["Statement"]]
        assert sids == ["AccountAdministers", "ImageBuilderNotifications"]

    def test_partition_follows_the_region(self):
        assert render.managed_component_arn("update-linux", "cn-north-1").startswith("arn:aws-cn:imagebuilder:cn-north-1:aws:")
        assert render.managed_policy_arn("AmazonSSMManagedInstanceCore", "us-gov-west-1") == (
            "arn:aws-us-gov:iam::aws:policy/AmazonSSMManagedInstanceCore")


class TestTags:
    def test_flavour_tags(self):
        assert render.flavour_tags(make_flavour()) == {
            "environment": "dev", "team": "platform", "golden-images:flavour": "ubuntu-2404",
            "golden-images:version": "1.2.3"}
        assert render.flavour_tags(make_flavour(source_commit="abc123"))["golden-images:source-commit"] == "abc123"

    def test_tag_limit(self):
        flavour = make_flavour(tags={f"k{i}": "v" for i in range(48)})
        with pytest.raises(render.RenderError, match="51 tags, AWS takes at most 50"):
            render.flavour_tags(flavour)


def test_renderer_imports_no_pulumi():
    code = "import sys, components.aws.render; sys.exit('pulumi' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[2]).returncode == 0


def _sample_params(step: Step) -> dict:
    """A value for every parameter the catalogue needs one for; defaults stay as they are."""
    dummies = {"string": "sample", "integer": 1, "boolean": True, "list": ["sample"], "file": "sample\n",
               "mapping": {"sample": "value"},
               "directory": Asset(path="sample", sha256="ab" * 32, files=1, data=b"")}
    values = {}
    for name, param in step.spec.parameters.items():
        if param.allowed:
            values[name] = param.default if param.default in param.allowed else param.allowed[0]
        elif param.default is None:
            values[name] = "ssm:/sample" if param.secret_reference else dummies[param.type]
    if step.spec.fetch is not None:  # a file in the cloud's own store, as the step's pattern admits
        values[step.spec.fetch.source] = "s3://sample-bucket/sample.bin"
        values[step.spec.fetch.destination] = "/var/tmp/sample.bin"
    return values


def test_every_catalogue_step_renders_for_every_os_it_supports():
    """New catalogue steps need no renderer code: each one becomes a valid, verified document."""
    catalogue = load_catalogue()
    rendered = 0
    for step in catalogue.steps.values():
        if "aws" not in step.spec.clouds:
            continue
        for os in step.spec.os:
            use = StepUse(name=step.name, params=_sample_params(step))
            unit = prepare_step(use, step, os, catalogue)
            phases: list = []
            for spec in render.component_specs(unit, prefix=PREFIX, key=KEY):
                doc = yaml.safe_load(spec.data)
                where = f"{step.name} ({os}) {spec.name}"
                assert len(spec.data) <= 16000, where
                assert RESOURCE_NAME.match(spec.name), where
                assert spec.platform == {"linux": "Linux", "windows": "Windows"}[os], where
                actions = [s["action"] for p in doc["phases"] for s in p["steps"]]
                assert ("ExecutePowerShell" if os == "linux" else "ExecuteBash") not in actions, where
                for item in (i for p in doc["phases"] for s in p["steps"] if s["action"] == "WebDownload"
                             for i in s["inputs"]):
                    assert item["algorithm"] == "SHA256" and re.fullmatch(r"[0-9a-f]{64}", item["checksum"]), where
                phases += [p["name"] for p in doc["phases"]]
            where = f"{step.name} ({os})"
            if step.spec.render == "scripts":
                expected = ["validate", "test"] if step.spec.image_test else ["build", "validate"]
                assert phases[-2:] == expected, where
            elif step.spec.render == "script":
                # The sample gives the team's script a check: proven after the build and on the image.
                assert phases == ["build", "validate", "test"], where
            elif step.spec.render in ("reboot", "pause"):
                # A restart (waiting for its check) or a sleep: all in the build phase, nothing left to prove.
                assert phases == ["build"], where
            else:
                # An AWS-managed component alone: the recipe names AWS's component, nothing of ours runs.
                assert step.spec.render == "aws-managed-component" and phases == [], where
            rendered += 1
    assert rendered >= 2


class TestLineage:
    """Every AMI says what it was built from (flavour, version, commit, parent), so any consumer can trace it."""

    def test_amis_carry_flavour_version_commit_and_parent(self):
        flavour = make_flavour(source_commit="0123456789abcdef0123456789abcdef01234567")
        args = render.distribution_args(flavour, make_settings().aws, prefix=PREFIX, key=KEY, account_id="1",
                                        tags=render.flavour_tags(flavour))
        tags = args["distributions"][0]["ami_distribution_configuration"]["ami_tags"]
        assert tags["golden-images:flavour"] == "ubuntu-2404" and tags["golden-images:version"] == "1.2.3"
        assert tags["golden-images:source-commit"] == "0123456789abcdef0123456789abcdef01234567"
        assert tags["golden-images:built-from"] == UBUNTU_SSM
        assert "golden-images:base-flavour" not in tags

    def test_a_layers_amis_name_the_base_flavour(self):
        base = make_flavour()
        layer = build_of(Flavour.model_validate({
            "name": "web", "description": "web on ubuntu", "version": "2.0.0", "os": "linux",
            "base_image": {"flavour": "ubuntu-2404"}, "steps": ["os-updates"]}), make_settings(), FULL_CATALOGUE, base=base)
        args = render.distribution_args(layer, make_settings().aws, prefix=PREFIX, key=KEY, account_id="1", tags={})
        tags = args["distributions"][0]["ami_distribution_configuration"]["ami_tags"]
        assert tags["golden-images:built-from"] == "flavour:ubuntu-2404"
        assert tags["golden-images:base-flavour"] == "ubuntu-2404"
